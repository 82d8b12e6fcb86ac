-- Reconciliation with Stripe and abandoned PaymentIntents (api/src/jobs/reconcile.rs).
--
-- stripe_checked_at: when the API last read the purchase's PaymentIntent from Stripe (NULL:
-- never; creation counts as a read). The sweeper and GET /v1/purchases/{id} claim a re-check
-- with a conditional UPDATE of it, so instances and polling clients ask Stripe at most once per
-- interval per purchase.
--
-- state 'expired': still unpaid after abandon_after_secs, its PaymentIntent cancelled at Stripe
-- (api/src/purchase_state.rs).
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS stripe_checked_at TIMESTAMPTZ;

ALTER TABLE api_purchases DROP CONSTRAINT IF EXISTS api_purchases_state_check;
ALTER TABLE api_purchases ADD CONSTRAINT api_purchases_state_check CHECK (state IN
    ('awaiting_payment', 'paid', 'settling', 'fulfilled', 'failed', 'refunded', 'expired'));

-- The sweeper's scan: purchases still open, oldest first.
CREATE INDEX IF NOT EXISTS api_purchases_open ON api_purchases (created_at) WHERE state IN ('awaiting_payment', 'paid');
