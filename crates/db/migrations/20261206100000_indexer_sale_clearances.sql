-- Clearance of card money (contracts: `SalePending`, `SaleCleared`, `SaleClawedBack`): one row per
-- event, keyed by `(tx_hash, log_index)` like the money moves, so a reorg only deletes rows. The
-- shares a row is about are those of the `sales` row of the same `licence_id` (the licence the
-- sale minted). A sale is pending while its `pending` row has no later `cleared` or
-- `clawed_back` row.
CREATE TABLE IF NOT EXISTS sale_clearances (
    tx_hash       TEXT           NOT NULL,
    log_index     INTEGER        NOT NULL,
    block_number  BIGINT         NOT NULL,
    licence_id    NUMERIC(78, 0) NOT NULL,
    kind          TEXT           NOT NULL CHECK (kind IN ('pending', 'cleared', 'clawed_back')),
    clear_at      BIGINT,                          -- pending: unix time the shares clear
    tainted       BOOLEAN,                         -- pending: the licence sold was itself uncleared
    refunded_to   TEXT,                            -- clawed_back: who got the pending shares back
    amount_units  NUMERIC(78, 0),                  -- clawed_back: stablecoin units given back
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS sale_clearances_licence_idx ON sale_clearances (licence_id, kind);
