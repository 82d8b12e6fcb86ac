-- Credit spent on a purchase (contracts: `CreditSpent`, a signed credit order relayed by the
-- operator): one row per event, keyed by `(tx_hash, log_index)` like the other money moves, so a
-- reorg only deletes rows. The sale it paid is the `sales` row of the same `licence_id`.
CREATE TABLE IF NOT EXISTS credit_spends (
    tx_hash          TEXT           NOT NULL,
    log_index        INTEGER        NOT NULL,
    block_number     BIGINT         NOT NULL,
    account_address  TEXT           NOT NULL,
    licence_id       NUMERIC(78, 0) NOT NULL,
    amount_units     NUMERIC(78, 0) NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS credit_spends_account_idx ON credit_spends (account_address, block_number);
