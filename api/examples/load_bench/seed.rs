//! The bench's data: the mirror tables filled inside PostgreSQL at full size, and the editions
//! registered on chain (one licence each) for the cold-cache key-release phase.

use std::time::Instant;

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::Provider;
use anyhow::{Context, Result, ensure};
use tangible_chain::bindings::TangibleMarket;
use tangible_crypto::EditionId;

use super::{Args, PRICE};

/// Fills the mirror tables with synthetic studios, films, editions and licences, generated
/// inside PostgreSQL (`INSERT … SELECT … FROM generate_series`): nothing crosses the socket, so
/// the full size (100,000 films, 1,000,000 licences) loads in seconds. Hex values are built from
/// `md5`, so they are distinct and well spread for the indexes (like real hashes).
pub(crate) async fn bulk_load(db: &sqlx::PgPool, args: &Args) -> Result<()> {
    let started = Instant::now();
    let owners = (args.licences / 20).max(1);
    let as_i64 = |v: u64| i64::try_from(v).context("size out of range");
    let (studios, films, licences, owners) = (
        as_i64(args.studios)?,
        as_i64(args.films)?,
        as_i64(args.licences)?,
        as_i64(owners)?,
    );
    // 40 hex characters (an address) and 64 (a hash) from a seed text.
    const ADDR: &str = "'0x' || left(md5('a' || {s}) || md5('b' || {s}), 40)";
    const HASH: &str = "'0x' || md5('c' || {s}) || md5('d' || {s})";
    let addr = |seed: &str| ADDR.replace("{s}", seed);
    let hash = |seed: &str| HASH.replace("{s}", seed);
    let steps = [
        (
            "studios",
            format!(
                "INSERT INTO studios (studio_id, name, admin_address, royalty_addr, commission_bps, registered_block, registered_tx, updated_block) \
                 SELECT id, 'Studio ' || id, {}, {}, 1000, 1, {}, 1 FROM generate_series(1, $1::bigint) AS id",
                addr("id"),
                addr("(id + 7)"),
                hash("id")
            ),
            studios,
        ),
        (
            "films",
            format!(
                "INSERT INTO films (film_id, studio_id, title, year, master_hash, registered_block, registered_tx) \
                 SELECT id, id % {studios} + 1, \
                   (ARRAY['voyage','lune','train','nuit','mer','ville','soleil','jardin','rouge','bleu','ombre','lumière','rêve','été','hiver','route'])[id % 16 + 1] \
                   || ' ' || (ARRAY['voyage','lune','train','nuit','mer','ville','soleil','jardin','rouge','bleu','ombre','lumière','rêve','été','hiver','route'])[(id / 16) % 16 + 1] \
                   || ' ' || id, \
                   1900 + id % 126, {}, id / 10 + 2, {} FROM generate_series(1, $1::bigint) AS id",
                hash("id"),
                hash("(id + 1000000)")
            ),
            films,
        ),
        (
            "editions",
            format!(
                "INSERT INTO editions (film_id, quality, master_hash, price_cents, active, registered_block, updated_block) \
                 SELECT f, q, {}, 900 + 400 * q, true, 2, 2 \
                 FROM generate_series(1, $1::bigint) AS f CROSS JOIN (VALUES (1::smallint), (2::smallint)) AS e(q)",
                hash("(f * 2 + q)")
            ),
            films,
        ),
        (
            "licences",
            format!(
                "INSERT INTO licences (licence_id, owner_address, film_id, quality, tx_hash, acquired_at, revoked, minted_block, log_index) \
                 SELECT 1000000000000 + i, {}, i % {films} + 1, 1 + i % 2, {}, '2026-01-01T00:00:00Z', false, i / 100 + 3, 0 \
                 FROM generate_series(0, $1::bigint - 1) AS i",
                addr(&format!("(i % {owners})")),
                hash("i")
            ),
            licences,
        ),
    ];
    for (table, sql, n) in steps {
        let t = Instant::now();
        // Built from this function's constants and integers only.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(n)
            .execute(db)
            .await?;
        println!("  loaded {n} {table} in {:.1} s", t.elapsed().as_secs_f64());
    }
    sqlx::query("ANALYZE").execute(db).await?;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM films), (SELECT count(*) FROM editions), (SELECT count(*) FROM licences)",
    )
    .fetch_one(db)
    .await?;
    println!(
        "mirror: {} films, {} editions, {} licences ({} owners) generated in PostgreSQL in {:.1} s (with ANALYZE)",
        counts.0,
        counts.1,
        counts.2,
        owners,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// For the cold-cache key release: `count` new editions (three qualities per new film of the
/// bench studio), each with one licence minted to `owners[i % owners.len()]`. Transactions go
/// out in batches with explicit nonces and are mined by anvil's 1 s blocks.
pub(crate) async fn cold_editions<P: Provider>(
    market: &TangibleMarket::TangibleMarketInstance<P>,
    studio_id: u32,
    studio_admin: Address,
    buyer: Address,
    owners: &[Address],
    count: usize,
) -> Result<Vec<(U256, EditionId)>> {
    async fn receipts(
        pending: Vec<alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>>,
    ) -> Result<Vec<alloy::rpc::types::TransactionReceipt>> {
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            let r = p.get_receipt().await?;
            ensure!(r.status(), "transaction {} reverted", r.transaction_hash);
            out.push(r);
        }
        Ok(out)
    }
    let provider = market.provider();
    let mut nonce = provider.get_transaction_count(studio_admin).await?;
    let mut pending = Vec::new();
    for i in 0..count.div_ceil(3) {
        pending.push(
            market
                .registerFilm(studio_id, format!("Cold {i}"), 2000)
                .from(studio_admin)
                .nonce(nonce)
                .gas(300_000)
                .send()
                .await?,
        );
        nonce += 1;
    }
    let mut films = Vec::new();
    for r in receipts(pending).await? {
        films.push(
            r.decoded_log::<TangibleMarket::FilmRegistered>()
                .context("FilmRegistered")?
                .filmId,
        );
    }
    let editions: Vec<EditionId> = (0..count)
        .map(|i| EditionId::new(films[i / 3], (i % 3) as u8))
        .collect();
    let mut pending = Vec::new();
    for e in &editions {
        pending.push(
            market
                .registerEdition(e.film_id, e.quality, keccak256(e.to_bytes()), PRICE)
                .from(studio_admin)
                .nonce(nonce)
                .gas(300_000)
                .send()
                .await?,
        );
        nonce += 1;
    }
    receipts(pending).await?;
    let mut nonce = provider.get_transaction_count(buyer).await?;
    let mut pending = Vec::new();
    for (i, e) in editions.iter().enumerate() {
        pending.push(
            market
                .buyPrimary(e.film_id, e.quality, PRICE, owners[i % owners.len()])
                .from(buyer)
                .nonce(nonce)
                .gas(400_000)
                .send()
                .await?,
        );
        nonce += 1;
    }
    let mut out = Vec::with_capacity(count);
    for (r, e) in receipts(pending).await?.into_iter().zip(editions) {
        let minted = r
            .decoded_log::<TangibleMarket::LicenceMinted>()
            .context("LicenceMinted")?;
        ensure!(
            (minted.filmId, minted.quality) == (e.film_id, e.quality),
            "licence of the wrong edition"
        );
        out.push((minted.licenceId, e));
    }
    Ok(out)
}
