-- The raw log's primary key over the same columns, in the order (tx_hash, log_index, chain_id):
-- uniqueness on (chain_id, tx_hash, log_index) is unchanged, but a sorted build of the key
-- (the indexer re-creates it after a cold backfill) now compares the transaction hash first,
-- where PostgreSQL's abbreviated keys settle most comparisons; with chain_id first (the same
-- value on every row) each comparison went through all three columns. Measured on 100,000
-- events: 0.10-0.12 s instead of 0.15-0.16 s. Lookups by transaction hash use it directly.
-- On an existing mirror the key is rebuilt once, with `events` locked meanwhile (seconds per
-- million events; readers of the raw log wait).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE conname = 'events_pkey' AND conrelid = 'events'::regclass) THEN
        ALTER TABLE events DROP CONSTRAINT events_pkey;
        ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (tx_hash, log_index, chain_id);
    END IF;
END $$;
-- A key deferred by a backfill in progress is re-created with the new order.
UPDATE indexer_deferred_indexes
SET definition = 'ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (tx_hash, log_index, chain_id)'
WHERE index_name = 'events_pkey';
-- (The header of 20261125500000_indexer_deferred_indexes.sql predates the deferral of primary
-- keys: the raw log's and the sales' keys are deferred during a cold backfill too, see
-- `DEFERRABLE_KEY_TABLES` in tangible-indexer's store.rs; unique keys of the other tables never.)
