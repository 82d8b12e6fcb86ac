-- Clients that seed an edition's encrypted file (issue 17): each row is a live announcement
-- "node `node_id`, reachable at `provider` (an iroh endpoint ticket), serves the edition for
-- `wallet` until `expires_at`", signed by the node's key and made by the signed-in wallet that
-- owned `licence_id` on chain when it announced (api/src/routes/providers.rs). `GET
-- /v1/editions/{id}/content` lists the live ones whose licence is not revoked in the indexer's
-- `licences` mirror (resold, charged back), beside the API's own node. A wallet holds at most a few announcements at a time (see the route).
--
-- Re-runnable (IF [NOT] EXISTS), like every latest migration (crates/db/tests/it/schema.rs).
CREATE TABLE IF NOT EXISTS api_content_providers (
    film_id      BIGINT      NOT NULL,
    quality      SMALLINT    NOT NULL CHECK (quality BETWEEN 0 AND 2),
    node_id      TEXT        NOT NULL,
    wallet       TEXT        NOT NULL CHECK (wallet ~ '^0x[0-9a-f]{40}$'),
    licence_id   NUMERIC(78, 0) NOT NULL,                -- the wallet's licence, owned when announced
    provider     TEXT        NOT NULL,
    announced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (film_id, quality, node_id)
);
CREATE INDEX IF NOT EXISTS api_content_providers_wallet ON api_content_providers (wallet, expires_at);
