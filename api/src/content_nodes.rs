//! Several API instances behind one database: each content node's row (`api_content_nodes`:
//! node id, P2P address, last seen) and what it holds (`api_content_holdings`). Content tickets
//! name only live nodes that hold the file; an instance asked for a file it does not hold fetches
//! it from them ([`crate::content::ContentNode::replicate`]) and records that it holds it.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tangible_content::ContentHash;
use tangible_content::p2p::ProviderAddr;
use tokio::sync::watch;

use crate::content::ContentNode;

const TARGET: &str = "tangible::api::content_nodes";
/// How often a node says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A node not seen for this long is not listed.
const LIVE_SECS: f64 = 60.0;

/// Records the node (its current P2P address) and rewrites its holdings from its store.
pub async fn register(db: &PgPool, node: &ContentNode) -> anyhow::Result<()> {
    let held = node.store().list().await?;
    let mut tx = db.begin().await?;
    upsert(&mut *tx, node).await?;
    sqlx::query("DELETE FROM api_content_holdings WHERE node_id = $1")
        .bind(node.node_id())
        .execute(&mut *tx)
        .await?;
    let hashes: Vec<String> = held.iter().map(|b| b.hash.to_hex()).collect();
    sqlx::query(
        "INSERT INTO api_content_holdings (node_id, blob_hash) SELECT $1, h FROM unnest($2::text[]) AS h \
         ON CONFLICT DO NOTHING",
    )
    .bind(node.node_id())
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(target: TARGET, node = %node.node_id(), blobs = hashes.len(), "content node registered");
    Ok(())
}

async fn upsert(
    db: impl sqlx::PgExecutor<'_>,
    node: &ContentNode,
) -> sqlx::Result<sqlx::postgres::PgQueryResult> {
    sqlx::query(
        "INSERT INTO api_content_nodes (node_id, provider, seen_at) VALUES ($1, $2, now()) \
         ON CONFLICT (node_id) DO UPDATE SET provider = EXCLUDED.provider, seen_at = now()",
    )
    .bind(node.node_id())
    .bind(node.provider_addr().map(|a| a.to_string()))
    .execute(db)
    .await
}

/// Says the node is alive (and where it serves) every few seconds until `stop`.
pub async fn heartbeat(db: PgPool, node: Arc<ContentNode>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(HEARTBEAT) => {}
        }
        if let Err(e) = upsert(&db, &node).await {
            tracing::warn!(target: TARGET, error = %e, "content node heartbeat failed");
        }
    }
}

/// Publishes the node's current P2P address now (after an operator's switch).
pub async fn refresh(db: &PgPool, node: &ContentNode) -> sqlx::Result<()> {
    upsert(db, node).await.map(|_| ())
}

/// Records that `node` holds `hash`.
pub async fn record_holding(
    db: &PgPool,
    node: &ContentNode,
    hash: ContentHash,
) -> sqlx::Result<()> {
    upsert(db, node).await?;
    sqlx::query(
        "INSERT INTO api_content_holdings (node_id, blob_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(node.node_id())
    .bind(hash.to_hex())
    .execute(db)
    .await?;
    Ok(())
}

/// Records that `node` no longer holds `hash`.
pub async fn forget_holding(
    db: &PgPool,
    node: &ContentNode,
    hash: ContentHash,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM api_content_holdings WHERE node_id = $1 AND blob_hash = $2")
        .bind(node.node_id())
        .bind(hash.to_hex())
        .execute(db)
        .await?;
    Ok(())
}

/// The P2P addresses of the live nodes other than `node` that hold `hash` and serve P2P, most
/// recently seen first.
pub async fn other_holders(
    db: &PgPool,
    node: &ContentNode,
    hash: ContentHash,
) -> sqlx::Result<Vec<ProviderAddr>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT n.provider FROM api_content_nodes n JOIN api_content_holdings h USING (node_id) \
         WHERE h.blob_hash = $1 AND n.node_id <> $2 AND n.provider IS NOT NULL \
           AND n.seen_at > now() - make_interval(secs => $3) \
         ORDER BY n.seen_at DESC",
    )
    .bind(hash.to_hex())
    .bind(node.node_id())
    .bind(LIVE_SECS)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().filter_map(|p| p.parse().ok()).collect())
}

/// Makes sure `node` holds `hash`: if not, fetches it from the other live instances holding it
/// and from `seeders` (one shared fetch per hash) and records the holding. Returns the size.
pub async fn ensure_held(
    db: &PgPool,
    node: &Arc<ContentNode>,
    hash: ContentHash,
    seeders: Vec<ProviderAddr>,
) -> Result<u64, String> {
    if let Ok(Some(size)) = node.store().size(hash).await {
        return Ok(size);
    }
    let mut sources = other_holders(db, node, hash)
        .await
        .map_err(|e| format!("reading the holders: {e}"))?;
    sources.extend(seeders);
    let size = node.replicate(hash, sources).await?;
    record_holding(db, node, hash)
        .await
        .map_err(|e| format!("recording the holding: {e}"))?;
    Ok(size)
}

/// The edition whose current file is `hash`, as (film id, quality code).
pub async fn edition_of(db: &PgPool, hash: ContentHash) -> sqlx::Result<Option<(i64, i16)>> {
    sqlx::query_as("SELECT film_id, quality FROM api_edition_content WHERE blob_hash = $1 LIMIT 1")
        .bind(hash.to_hex())
        .fetch_optional(db)
        .await
}

/// How long an HTTP request for a file this instance does not hold waits for it to be fetched
/// from the others.
const FETCH_WAIT: Duration = Duration::from_secs(600);

/// Middleware of the encrypted files' router: a published file this instance does not hold is
/// fetched from the other instances (or seeders) before it is served; while none can deliver
/// it, 503 with `Retry-After`.
pub async fn fetch_missing(
    axum::extract::State((db, node)): axum::extract::State<(PgPool, Arc<ContentNode>)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let hash = request
        .uri()
        .path()
        .trim_start_matches('/')
        .parse::<ContentHash>()
        .ok();
    if let Some(hash) = hash
        && !node.store().contains(hash).await.unwrap_or(true)
        && let Ok(Some((film, quality))) = edition_of(&db, hash).await
    {
        let seeders = crate::routes::providers::live_providers(&db, film, quality)
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect();
        let fetched =
            tokio::time::timeout(FETCH_WAIT, ensure_held(&db, &node, hash, seeders)).await;
        let failure = match fetched {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(format!("not fetched within {} s", FETCH_WAIT.as_secs())),
        };
        if let Some(why) = failure {
            tracing::warn!(target: TARGET, %hash, error = %why, "a published file could not be fetched from the other nodes");
            return (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "30")],
                format!(
                    "content {hash} is not on this node yet and no other node delivered it: {why}"
                ),
            )
                .into_response();
        }
    }
    next.run(request).await
}
