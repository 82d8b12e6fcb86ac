-- Secondary indexes of the mirror tables that the indexer dropped for a cold backfill (index
-- maintenance dominates bulk appends), with their definitions (`pg_get_indexdef`). The drop and
-- the rows are written in one transaction, and so are the re-creation and the deletion of the
-- rows, so a crash in between leaves rows here and the indexer re-creates the indexes once it
-- has caught up. Unique indexes and primary keys are never deferred.
CREATE TABLE indexer_deferred_indexes (
    index_name  TEXT        PRIMARY KEY,
    table_name  TEXT        NOT NULL,
    definition  TEXT        NOT NULL,
    deferred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
