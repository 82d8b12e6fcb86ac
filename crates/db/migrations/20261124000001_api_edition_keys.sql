-- Edition keys (one random key per film x quality), sealed under the operator's key-encryption
-- key (envelope encryption, tangible-crypto `envelope`). The KEK comes from the API's
-- configuration, never from the database. Written once per edition, never overwritten.
CREATE TABLE api_edition_keys (
    film_id    BIGINT      NOT NULL,
    quality    SMALLINT    NOT NULL CHECK (quality BETWEEN 0 AND 2),
    kek_id     TEXT        NOT NULL,
    sealed     JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (film_id, quality)
);
