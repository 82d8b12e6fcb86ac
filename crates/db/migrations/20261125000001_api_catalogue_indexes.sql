-- Catalogue reads of the API (`GET /v1/films?studio_id=…` / `?year=…`, keyset-paginated by
-- film id): one index per filter, ordered by film id, so a page is an index range scan.
CREATE INDEX films_studio_film_idx ON films (studio_id, film_id);
CREATE INDEX films_year_film_idx ON films (year, film_id);
