-- Issue 16 items 2 and 3: no charge without a licence or a refund, and the dispute lifecycle
-- (api/src/purchase_state.rs, api/src/jobs/, api/src/routes/webhooks.rs).
--
-- New purchase states after `fulfilled`: `disputed` (charge.dispute.created), `revoked` (its
-- licence revoked on chain: after a dispute, or a refund made outside the API), `reinstated`
-- (dispute closed won: a new licence minted to the same buyer) and `dispute_lost` (dispute
-- closed lost: the licence stays revoked).
--
-- api_purchase_transitions: every state change of a purchase (and its creation), with time,
-- from, to and reason, written by a trigger so that no code path can change a state unaudited.
-- The reason is `state_reason` when the writer set a new one, else a `failure_code` the same
-- UPDATE set, else NULL.
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).

ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS state_reason TEXT;
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS reinstated_licence_id TEXT
    CHECK (reinstated_licence_id ~ '^[0-9]+$');
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS reinstated_tx_hash TEXT;

ALTER TABLE api_purchases DROP CONSTRAINT IF EXISTS api_purchases_state_check;
ALTER TABLE api_purchases ADD CONSTRAINT api_purchases_state_check CHECK (state IN
    ('awaiting_payment', 'paid', 'settling', 'fulfilled', 'failed', 'refunded', 'expired',
     'disputed', 'revoked', 'reinstated', 'dispute_lost'));

ALTER TABLE api_jobs DROP CONSTRAINT IF EXISTS api_jobs_kind_check;
ALTER TABLE api_jobs ADD CONSTRAINT api_jobs_kind_check CHECK (kind IN
    ('settle', 'refund', 'revoke', 'receipt', 'reinstate'));

ALTER TABLE api_settlement_attempts DROP CONSTRAINT IF EXISTS api_settlement_attempts_outcome_check;
ALTER TABLE api_settlement_attempts ADD CONSTRAINT api_settlement_attempts_outcome_check CHECK (outcome IN
    ('fulfilled', 'already_settled', 'retry', 'impossible', 'refunded', 'revoked', 'failed', 'sent',
     'skipped', 'reinstated'));

CREATE TABLE IF NOT EXISTS api_purchase_transitions (
    transition_id BIGSERIAL   PRIMARY KEY,
    purchase_id   UUID        NOT NULL REFERENCES api_purchases (purchase_id),
    from_state    TEXT,                                   -- NULL: the purchase was created
    to_state      TEXT        NOT NULL,
    reason        TEXT,
    at            TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS api_purchase_transitions_purchase
    ON api_purchase_transitions (purchase_id, transition_id);

CREATE OR REPLACE FUNCTION api_purchase_audit_transition() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO api_purchase_transitions (purchase_id, from_state, to_state, reason)
        VALUES (NEW.purchase_id, NULL, NEW.state, NEW.state_reason);
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO api_purchase_transitions (purchase_id, from_state, to_state, reason)
        VALUES (NEW.purchase_id, OLD.state, NEW.state, COALESCE(
            CASE WHEN NEW.state_reason IS DISTINCT FROM OLD.state_reason THEN NEW.state_reason END,
            CASE WHEN NEW.failure_code IS DISTINCT FROM OLD.failure_code THEN NEW.failure_code END));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS api_purchases_audit_transition ON api_purchases;
CREATE TRIGGER api_purchases_audit_transition
    AFTER INSERT OR UPDATE OF state ON api_purchases
    FOR EACH ROW EXECUTE FUNCTION api_purchase_audit_transition();

-- Why the revoke job revokes: `dispute` (revoked on chain as a chargeback) or
-- `refunded_outside_api` (a refund made at Stripe, e.g. from its dashboard; revoked as "other").
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS revoke_reason TEXT
    CHECK (revoke_reason IN ('dispute', 'refunded_outside_api'));
