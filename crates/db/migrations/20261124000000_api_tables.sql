-- Tables owned by the API (tangible-api): login nonces, card purchases, the Stripe event inbox,
-- the durable job queue, settlement attempts and key releases. The chain mirror (indexer) is
-- in 0001_chain_mirror.sql; the API only reads it.

-- Sign-in nonces (EIP-4361). Single use across restarts and instances: consumed by one
-- conditional UPDATE.
CREATE TABLE api_login_nonces (
    nonce       TEXT        PRIMARY KEY CHECK (nonce ~ '^[A-Za-z0-9]{8,64}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ,
    consumed_by TEXT
);
CREATE INDEX api_login_nonces_expires ON api_login_nonces (expires_at);

-- Card purchases: one Stripe PaymentIntent each. The amount is the on-chain price read when
-- the purchase was created; the licence id is known in advance (cardLicenceId(paymentRef)).
CREATE TABLE api_purchases (
    purchase_id       UUID        PRIMARY KEY,
    kind              TEXT        NOT NULL CHECK (kind IN ('primary', 'resale')),
    film_id           BIGINT      NOT NULL,
    quality           SMALLINT    NOT NULL CHECK (quality BETWEEN 0 AND 2),
    offer_id          TEXT        CHECK (offer_id ~ '^[0-9]+$'),         -- uint256, decimal
    buyer_address     TEXT        NOT NULL CHECK (buyer_address ~ '^0x[0-9a-f]{40}$'),
    amount_cents      BIGINT      NOT NULL CHECK (amount_cents > 0),
    currency          TEXT        NOT NULL,
    payment_intent_id TEXT        UNIQUE,
    payment_ref       TEXT        CHECK (payment_ref ~ '^0x[0-9a-f]{64}$'), -- keccak256(pi id)
    licence_id        TEXT        CHECK (licence_id ~ '^[0-9]+$'),       -- uint256, decimal
    state             TEXT        NOT NULL DEFAULT 'awaiting_payment' CHECK (state IN
                          ('awaiting_payment', 'paid', 'settling', 'fulfilled', 'failed', 'refunded')),
    tx_hash           TEXT,
    failure_code      TEXT,
    failure_message   TEXT,
    refund_id         TEXT,
    revoked_tx_hash   TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'resale') = (offer_id IS NOT NULL))
);
CREATE INDEX api_purchases_buyer ON api_purchases (buyer_address, created_at DESC);
CREATE INDEX api_purchases_state ON api_purchases (state);

-- Every Stripe event received, once (the inbox): a redelivery finds its id and does nothing.
CREATE TABLE api_stripe_events (
    event_id     TEXT        PRIMARY KEY,
    event_type   TEXT        NOT NULL,
    purchase_id  UUID        REFERENCES api_purchases (purchase_id),
    payload      JSONB       NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome      TEXT        NOT NULL
);

-- The durable job queue. Workers claim with FOR UPDATE SKIP LOCKED; a job whose lease ran out
-- (crashed worker) is claimed again. At most one job of a kind per purchase.
CREATE TABLE api_jobs (
    job_id       BIGSERIAL   PRIMARY KEY,
    kind         TEXT        NOT NULL CHECK (kind IN ('settle', 'refund', 'revoke')),
    purchase_id  UUID        NOT NULL REFERENCES api_purchases (purchase_id),
    state        TEXT        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER     NOT NULL DEFAULT 0,
    run_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until TIMESTAMPTZ,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kind, purchase_id)
);
CREATE INDEX api_jobs_ready ON api_jobs (run_at) WHERE state IN ('queued', 'running');

-- Every settlement (and refund/revocation) attempt with its outcome: the audit trail of the
-- card-to-chain bridge.
CREATE TABLE api_settlement_attempts (
    attempt_id   BIGSERIAL   PRIMARY KEY,
    job_id       BIGINT      NOT NULL REFERENCES api_jobs (job_id),
    purchase_id  UUID        NOT NULL REFERENCES api_purchases (purchase_id),
    kind         TEXT        NOT NULL,
    attempt      INTEGER     NOT NULL,
    outcome      TEXT        NOT NULL CHECK (outcome IN ('fulfilled', 'already_settled', 'retry', 'impossible', 'refunded', 'revoked', 'failed')),
    tx_hash      TEXT,
    detail       TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_settlement_attempts_purchase ON api_settlement_attempts (purchase_id, attempt_id);

-- Every key release: who received which edition key for which licence, and when.
CREATE TABLE api_key_releases (
    release_id     BIGSERIAL   PRIMARY KEY,
    licence_id     TEXT        NOT NULL CHECK (licence_id ~ '^[0-9]+$'),
    owner_address  TEXT        NOT NULL,
    film_id        BIGINT      NOT NULL,
    quality        SMALLINT    NOT NULL,
    owner_pubkey   TEXT        NOT NULL,
    released_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_key_releases_licence ON api_key_releases (licence_id, released_at);
