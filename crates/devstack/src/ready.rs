//! The stack's readiness checks once its processes run: the indexer has mirrored the demo film
//! (and later the uploaded masters' hashes) into the database, the API answers `/readyz`, and
//! which routes the API's OpenAPI document lists. Each polls every 100 ms until a deadline and
//! fails early when a component exits.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tangible_db::sqlx;

use crate::DemoEdition;
use crate::process::Managed;

/// Waits until the indexer mirrored both editions of film `film_id`.
pub(crate) async fn wait_mirrored(
    pool: &sqlx::PgPool,
    film_id: u64,
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        let editions: Option<i64> =
            sqlx::query_scalar("SELECT count(*) FROM editions WHERE film_id = $1")
                .bind(film_id as i64)
                .fetch_one(pool)
                .await
                .ok();
        if editions == Some(2) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the indexer did not mirror the demo film in time (see its log)");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the API's OpenAPI document lists a path matching `route` (features landing one
/// after another).
pub(crate) async fn api_has_route(api_url: &str, route: impl Fn(&str) -> bool) -> Result<bool> {
    let doc: serde_json::Value = reqwest::get(format!("{api_url}/v1/openapi.json"))
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(doc["paths"]
        .as_object()
        .is_some_and(|paths| paths.keys().any(|p| route(p))))
}

/// Waits until the indexer mirrored the uploaded masters' hashes.
pub(crate) async fn wait_master_hashes(
    pool: &sqlx::PgPool,
    film_id: u64,
    editions: &[DemoEdition],
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        let rows: Vec<(i16, String)> =
            sqlx::query_as("SELECT quality, master_hash FROM editions WHERE film_id = $1")
                .bind(film_id as i64)
                .fetch_all(pool)
                .await
                .unwrap_or_default();
        let mirrored = editions.iter().all(|e| {
            rows.iter().any(|(q, h)| {
                *q == i16::from(e.quality.code())
                    && h.eq_ignore_ascii_case(&e.master_hash.to_string())
            })
        });
        if mirrored {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the indexer did not mirror the uploaded masters' hashes in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the API (the child named `api`, listening on `port` itself) answers `/readyz`
/// with a success.
pub(crate) async fn wait_ready(
    (api_url, port): (&str, u16),
    children: &[Managed],
    deadline: Instant,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let api = children
        .iter()
        .find(|c| c.name() == "api")
        .context("the API was not started")?;
    loop {
        children.iter().try_for_each(Managed::ensure_running)?;
        // Only our API is asked (another process may have taken a port picked free).
        if !api.listens_on(port) {
            if Instant::now() > deadline {
                bail!("the API did not listen on port {port} in time");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let last = match http.get(format!("{api_url}/readyz")).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            bail!("the API was not ready in time: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
