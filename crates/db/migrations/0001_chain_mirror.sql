-- Tangible chain mirror: written by the indexer (tangible-indexer), read by the API and
-- by marketplace frontends. Conventions:
--   * addresses and hashes are lowercase 0x-prefixed hex text ('0x' || 40 / 64 hex digits);
--   * amounts are EUR cents (BIGINT), as on chain (uint64 cents);
--   * uint256 identifiers (licence and offer ids) are NUMERIC(78, 0); read them as
--     `licence_id::text` or with a decimal type;
--   * every mirrored row records the block / transaction / log it came from.
-- Everything except `users` is a pure function of `events` (the raw log): on a reorg the
-- indexer deletes the orphaned events and recomputes these tables in the same transaction.

-- Raw event log: every log emitted by the deployment's contracts, exactly once.
CREATE TABLE events (
    chain_id        BIGINT   NOT NULL,
    block_number    BIGINT   NOT NULL,
    block_hash      TEXT     NOT NULL,
    block_timestamp TIMESTAMPTZ,
    tx_hash         TEXT     NOT NULL,
    tx_index        INTEGER  NOT NULL,
    log_index       INTEGER  NOT NULL,
    contract        TEXT     NOT NULL,
    -- decoded event name ('LicenceMinted', ...), NULL for a log the indexer does not know
    event_name      TEXT,
    topic0          BYTEA,
    topic1          BYTEA,
    topic2          BYTEA,
    topic3          BYTEA,
    data            BYTEA    NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (chain_id, tx_hash, log_index)
);
CREATE INDEX events_block_idx ON events (chain_id, block_number, log_index);

-- Indexer progress: the last block fully indexed (number AND hash), one row per chain.
CREATE TABLE checkpoints (
    chain_id         BIGINT      PRIMARY KEY,
    block_number     BIGINT      NOT NULL,
    block_hash       TEXT        NOT NULL,
    -- identity of the indexed deployment, so a database is never mixed with another one
    deployment_block BIGINT      NOT NULL,
    registry_address TEXT        NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Recent canonical block hashes (a window below the checkpoint) for reorg detection.
CREATE TABLE blocks (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   TEXT   NOT NULL,
    parent_hash  TEXT   NOT NULL,
    PRIMARY KEY (chain_id, block_number)
);

-- Addresses seen on chain (licence owners, sellers, buyers, payers, studio admins).
-- Not recomputed on reorg: rows first seen above the common ancestor are deleted.
CREATE TABLE users (
    address          TEXT        PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    -- time of the block where the address first appeared (indexing time if the node does
    -- not report block timestamps)
    created_at       TIMESTAMPTZ NOT NULL,
    first_seen_block BIGINT      NOT NULL
);

CREATE TABLE studios (
    studio_id        BIGINT   PRIMARY KEY,          -- uint32 on chain
    name             TEXT     NOT NULL,
    admin_address    TEXT     NOT NULL,
    royalty_addr     TEXT     NOT NULL,
    commission_bps   INTEGER  NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    registered_block BIGINT   NOT NULL,
    registered_tx    TEXT     NOT NULL,
    updated_block    BIGINT   NOT NULL
);

CREATE TABLE films (
    film_id          BIGINT   PRIMARY KEY,          -- uint64 on chain
    studio_id        BIGINT   NOT NULL REFERENCES studios (studio_id),
    title            TEXT     NOT NULL,
    year             INTEGER  NOT NULL,
    -- master hash of the film's best registered edition (highest quality); every edition's
    -- own master hash is in `editions`
    master_hash      TEXT,
    registered_block BIGINT   NOT NULL,
    registered_tx    TEXT     NOT NULL
);
CREATE INDEX films_studio_idx ON films (studio_id);

CREATE TABLE editions (
    film_id          BIGINT   NOT NULL REFERENCES films (film_id),
    quality          SMALLINT NOT NULL CHECK (quality BETWEEN 0 AND 255), -- 0 sd, 1 hd, 2 4k
    master_hash      TEXT     NOT NULL,
    price_cents      BIGINT   NOT NULL,
    active           BOOLEAN  NOT NULL DEFAULT TRUE,
    registered_block BIGINT   NOT NULL,
    updated_block    BIGINT   NOT NULL,
    PRIMARY KEY (film_id, quality)
);

CREATE TABLE licences (
    licence_id     NUMERIC(78, 0) PRIMARY KEY,
    owner_address  TEXT        NOT NULL,
    film_id        BIGINT      NOT NULL,
    quality        SMALLINT    NOT NULL,
    tx_hash        TEXT        NOT NULL,            -- the minting transaction
    acquired_at    TIMESTAMPTZ NOT NULL,
    hold_until     TIMESTAMPTZ,                     -- NULL when the licence has no hold
    revoked        BOOLEAN     NOT NULL DEFAULT FALSE,
    revoked_reason SMALLINT,                        -- 0 resale, 1 chargeback, 2 fraud, 3 other
    replaced_by    NUMERIC(78, 0),                  -- new licence id on resale
    revoked_tx     TEXT,
    revoked_block  BIGINT,
    minted_block   BIGINT      NOT NULL,
    log_index      INTEGER     NOT NULL
);
CREATE INDEX licences_owner_idx ON licences (owner_address);
CREATE INDEX licences_film_idx ON licences (film_id, quality);

CREATE TABLE resale_offers (
    offer_id       NUMERIC(78, 0) PRIMARY KEY,
    licence_id     NUMERIC(78, 0) NOT NULL,
    seller_address TEXT    NOT NULL,
    price          BIGINT  NOT NULL,                -- EUR cents
    status         TEXT    NOT NULL CHECK (status IN ('active', 'cancelled', 'filled')),
    buyer_address  TEXT,                            -- set when filled
    new_licence_id NUMERIC(78, 0),                  -- set when filled
    listed_block   BIGINT  NOT NULL,
    listed_tx      TEXT    NOT NULL,
    updated_block  BIGINT  NOT NULL,
    closed_block   BIGINT,
    closed_tx      TEXT
);
CREATE INDEX resale_offers_licence_idx ON resale_offers (licence_id);
CREATE INDEX resale_offers_status_idx ON resale_offers (status);

-- One row per SaleSettled event (primary and resale), every share with its recipient.
CREATE TABLE sales (
    tx_hash          TEXT        NOT NULL,
    log_index        INTEGER     NOT NULL,
    block_number     BIGINT      NOT NULL,
    block_timestamp  TIMESTAMPTZ,
    kind             TEXT        NOT NULL CHECK (kind IN ('primary', 'resale')),
    licence_id       NUMERIC(78, 0) NOT NULL,       -- licence minted to the buyer
    offer_id         NUMERIC(78, 0),                -- NULL for a primary sale
    payment_ref      TEXT,                          -- NULL for a crypto payment
    payer_address    TEXT        NOT NULL,
    price_cents      BIGINT      NOT NULL,
    seller_address   TEXT,                          -- NULL for a primary sale
    seller_cents     BIGINT      NOT NULL,
    studio_address   TEXT        NOT NULL,
    studio_cents     BIGINT      NOT NULL,
    platform_address TEXT        NOT NULL,
    platform_cents   BIGINT      NOT NULL,
    -- denormalised from the licence and its film, for royalty statements
    film_id          BIGINT,
    quality          SMALLINT,
    studio_id        BIGINT,
    PRIMARY KEY (tx_hash, log_index),
    CONSTRAINT sales_shares_sum CHECK (seller_cents + studio_cents + platform_cents = price_cents)
);
CREATE INDEX sales_studio_idx ON sales (studio_id, block_number);
CREATE INDEX sales_licence_idx ON sales (licence_id);

CREATE TABLE withdrawals (
    tx_hash         TEXT           NOT NULL,
    log_index       INTEGER        NOT NULL,
    block_number    BIGINT         NOT NULL,
    account_address TEXT           NOT NULL,
    to_address      TEXT           NOT NULL,
    amount_units    NUMERIC(78, 0) NOT NULL,       -- stablecoin units, not cents
    PRIMARY KEY (tx_hash, log_index)
);

-- The operator's card float deposited in the market (stablecoin units).
CREATE TABLE deposits (
    tx_hash         TEXT           NOT NULL,
    log_index       INTEGER        NOT NULL,
    block_number    BIGINT         NOT NULL,
    account_address TEXT           NOT NULL,
    amount_units    NUMERIC(78, 0) NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);
