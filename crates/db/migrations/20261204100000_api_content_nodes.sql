-- Several API instances behind one database share their content (issue 17, item 4).
--
-- api_content_nodes: every instance's content node (its iroh node id, stable across restarts),
-- the address it serves P2P at (NULL while an operator paused it) and when it last said it is
-- alive; a node not seen for a minute is not listed.
-- api_content_holdings: which node holds which encrypted file, written when a master is
-- published or a blob replicated, and rewritten from the store when the node starts. Content
-- tickets name only nodes that hold the file; an instance asked for a file it does not hold
-- fetches it from the holders (and seeders) first.

CREATE TABLE IF NOT EXISTS api_content_nodes (
    node_id   TEXT        PRIMARY KEY,
    provider  TEXT,
    seen_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_content_holdings (
    node_id   TEXT        NOT NULL REFERENCES api_content_nodes (node_id) ON DELETE CASCADE,
    blob_hash TEXT        NOT NULL,
    held_since TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (node_id, blob_hash)
);
CREATE INDEX IF NOT EXISTS api_content_holdings_blob ON api_content_holdings (blob_hash);

-- The operator's P2P switch of an instance is an audited console action too.
ALTER TABLE api_operator_actions DROP CONSTRAINT IF EXISTS api_operator_actions_action_check;
ALTER TABLE api_operator_actions ADD CONSTRAINT api_operator_actions_action_check
    CHECK (action IN ('retry_job', 'refund_purchase', 'content_p2p'));
