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

-- The sales still pending: a `pending` row with no `cleared` or `clawed_back` row after it (the
-- one definition the API's clearance sweep and account views read).
CREATE OR REPLACE VIEW sales_pending AS
SELECT p.licence_id, p.clear_at, p.tainted, p.tx_hash, p.block_number
FROM sale_clearances p
WHERE p.kind = 'pending'
  AND NOT EXISTS (SELECT 1 FROM sale_clearances c
                  WHERE c.licence_id = p.licence_id AND c.kind <> 'pending');
