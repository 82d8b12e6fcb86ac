-- The operator key's nonces, shared by every API instance (api/src/chain/sender.rs).
--
-- api_operator_nonces: one row per chain and operator address; `next_nonce` is the nonce the
-- next operator transaction takes. A sender holds the row (SELECT ... FOR UPDATE) from reading
-- it to the node's acceptance of its signed transaction, so the instances send one at a time
-- and never pick the same nonce.
--
-- api_operator_txs: the signed transaction sent under each nonce (raw EIP-2718 bytes), written
-- in the same transaction as the counter. A nonce the node has lost (below `next_nonce` but not
-- counted by the node's pending nonce) is recovered by re-broadcasting its transaction, or by a
-- no-op self-transfer when the node refuses it; `replaced_tx_hash` keeps the hash it replaced.
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
CREATE TABLE IF NOT EXISTS api_operator_nonces (
    chain_id    BIGINT      NOT NULL,
    operator    TEXT        NOT NULL,
    next_nonce  BIGINT      NOT NULL CHECK (next_nonce >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, operator)
);

CREATE TABLE IF NOT EXISTS api_operator_txs (
    chain_id          BIGINT      NOT NULL,
    operator          TEXT        NOT NULL,
    nonce             BIGINT      NOT NULL CHECK (nonce >= 0),
    tx_hash           TEXT        NOT NULL,
    raw_tx            BYTEA       NOT NULL,
    purpose           TEXT        NOT NULL,
    replaced_tx_hash  TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, operator, nonce)
);
