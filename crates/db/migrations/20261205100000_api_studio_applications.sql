-- Studio applications (issue 12 item 4, contracts audit M-3): a wallet that is not a platform
-- admin asks for a studio; a platform admin approves it (the API then registers it on chain with
-- the operator key, who pays the gas) or rejects it. At most one open application per wallet.
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
CREATE TABLE IF NOT EXISTS api_studio_applications (
    application_id  BIGSERIAL PRIMARY KEY,
    -- lower-case 0x address: the applicant, the studio's admin once approved
    applicant       TEXT NOT NULL,
    name            TEXT NOT NULL,
    royalty_address TEXT NOT NULL,
    -- pending -> registering (approved, registration being sent) -> approved; pending -> rejected;
    -- registering -> pending when the registration reverted. A registration that may have been
    -- sent leaves 'registering': approving again first looks on chain for a StudioRegistered of
    -- this applicant since claimed_block (api/src/studio_applications.rs).
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'registering', 'approved', 'rejected')),
    applied_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    reason          TEXT,
    studio_id       BIGINT,
    tx_hash         TEXT,
    claimed_block   BIGINT,
    CHECK ((state = 'approved') = (studio_id IS NOT NULL))
);

CREATE UNIQUE INDEX IF NOT EXISTS api_studio_applications_one_open
    ON api_studio_applications (applicant) WHERE state IN ('pending', 'registering');
CREATE INDEX IF NOT EXISTS api_studio_applications_by_state
    ON api_studio_applications (state, application_id DESC);
CREATE INDEX IF NOT EXISTS api_studio_applications_by_applicant
    ON api_studio_applications (applicant, application_id DESC);
-- A studio is the outcome of one application at most.
CREATE UNIQUE INDEX IF NOT EXISTS api_studio_applications_one_studio
    ON api_studio_applications (studio_id) WHERE studio_id IS NOT NULL;

-- A decision on an application is an audited console action.
ALTER TABLE api_operator_actions DROP CONSTRAINT IF EXISTS api_operator_actions_action_check;
ALTER TABLE api_operator_actions ADD CONSTRAINT api_operator_actions_action_check
    CHECK (action IN ('retry_job', 'refund_purchase', 'content_p2p', 'approve_studio', 'reject_studio'));
