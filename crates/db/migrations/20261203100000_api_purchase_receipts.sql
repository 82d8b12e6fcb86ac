-- Purchase receipts (api/src/receipts.rs, api/src/jobs/receipt.rs).
--
-- receipt_email: the address the buyer gave for a receipt (optional; never on chain). Erased on
-- request (DELETE /v1/purchases/{id}/email): set to NULL, receipt_email_erased_at records when.
-- receipt_sent_at: when the SMTP server accepted the receipt; a receipt job finding it set sends
-- nothing, so a retried or re-claimed job never mails twice.
--
-- Job kind 'receipt' (queued with the purchase's fulfilment when it has an address) and the
-- attempt outcomes 'sent' and 'skipped' (no address any more, or already sent).
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS receipt_email TEXT;
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS receipt_sent_at TIMESTAMPTZ;
ALTER TABLE api_purchases ADD COLUMN IF NOT EXISTS receipt_email_erased_at TIMESTAMPTZ;

ALTER TABLE api_purchases DROP CONSTRAINT IF EXISTS api_purchases_receipt_email_check;
ALTER TABLE api_purchases ADD CONSTRAINT api_purchases_receipt_email_check
    CHECK (receipt_email IS NULL OR (length(receipt_email) BETWEEN 3 AND 254 AND receipt_email LIKE '%_@_%'));

ALTER TABLE api_jobs DROP CONSTRAINT IF EXISTS api_jobs_kind_check;
ALTER TABLE api_jobs ADD CONSTRAINT api_jobs_kind_check
    CHECK (kind IN ('settle', 'refund', 'revoke', 'receipt'));

ALTER TABLE api_settlement_attempts DROP CONSTRAINT IF EXISTS api_settlement_attempts_outcome_check;
ALTER TABLE api_settlement_attempts ADD CONSTRAINT api_settlement_attempts_outcome_check
    CHECK (outcome IN ('fulfilled', 'already_settled', 'retry', 'impossible', 'refunded', 'revoked', 'failed', 'sent', 'skipped'));

-- Stored Stripe events no longer keep the buyer's address (PaymentIntents and charges carry it
-- as `receipt_email`): the API removes it before storing an event (api/src/routes/webhooks.rs),
-- so an erasure leaves no copy in the inbox; this removes the copies stored before.
UPDATE api_stripe_events
SET payload = payload #- '{data,object,receipt_email}'
WHERE payload #> '{data,object}' ? 'receipt_email';

UPDATE api_stripe_events
SET payload = payload #- '{data,previous_attributes,receipt_email}'
WHERE payload #> '{data,previous_attributes}' ? 'receipt_email';
