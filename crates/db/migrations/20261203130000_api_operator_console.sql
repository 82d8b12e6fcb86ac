-- The operator console (api/src/routes/admin.rs, api/src/operator.rs).
--
-- api_alerts: every operator alert the API raised (a settlement, refund, revocation or receipt
-- given up, a refund Stripe refused, a low float, a signed Stripe event that could not be
-- processed, ...), written in the same database transaction as the change that raised it, so an
-- alert is never lost to a crash and never recorded for a change that rolled back. The console
-- lists the recent ones; the log line and `operator_alerts_total{reason}` stay as before.
--
-- api_operator_actions: what a platform admin did through the console (a dead job retried, a
-- purchase refunded by hand), by whom, why and when — the purchase's own state changes are in
-- api_purchase_transitions as for every other writer.
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
CREATE TABLE IF NOT EXISTS api_alerts (
    alert_id    BIGSERIAL   PRIMARY KEY,
    reason      TEXT        NOT NULL,
    purchase_id UUID        REFERENCES api_purchases (purchase_id),
    detail      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS api_alerts_recent ON api_alerts (alert_id DESC);

CREATE TABLE IF NOT EXISTS api_operator_actions (
    action_id   BIGSERIAL   PRIMARY KEY,
    actor       TEXT        NOT NULL,
    action      TEXT        NOT NULL CHECK (action IN ('retry_job', 'refund_purchase')),
    purchase_id UUID        REFERENCES api_purchases (purchase_id),
    job_id      BIGINT,
    reason      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS api_operator_actions_purchase ON api_operator_actions (purchase_id);
