//! The database write path alone: the decoded events written with the indexer's batch code.

use std::time::{Duration, Instant};

use tangible_db::sqlx;
use tangible_indexer::decode;
use tangible_indexer::rpc::BlockRef;
use tangible_indexer::store::{self, Checkpoint, Identity};

/// The database write path: `events` written as the indexer's cold backfill writes them,
/// 10,000 per batch, each checked against the checkpoint it extends; when `pipelined`, the next
/// batch's raw log staged on a second connection while the current batch is finished and
/// committed, else each batch written whole before the next one (`store::write`).
pub(crate) async fn write_all(
    pool: &sqlx::PgPool,
    identity: &Identity,
    window: u64,
    events: &[decode::Event],
    pipelined: bool,
) -> anyhow::Result<()> {
    let chunks: Vec<&[decode::Event]> = events.chunks(10_000).collect();
    let mut parent: Option<Checkpoint> = None;
    let mut staged = if pipelined {
        Some(store::stage_batch(pool, identity.chain_id, chunks[0]).await?)
    } else {
        None
    };
    for (k, chunk) in chunks.iter().enumerate() {
        let last = &chunk.last().expect("non-empty chunk").raw;
        let b = BlockRef {
            number: last.block_number,
            hash: last.block_hash,
            parent_hash: last.block_hash,
            timestamp: 0,
        };
        let cp = Checkpoint {
            number: b.number,
            hash: b.hash,
        };
        let batch = store::BatchWrite {
            identity,
            events: chunk,
            blocks: &[b],
            checkpoint: cp,
            window,
            parent: Some(parent),
        };
        if !pipelined {
            store::write(pool, &batch).await?;
            parent = Some(cp);
            continue;
        }
        let finish = staged.take().expect("staged").finish(pool, &batch);
        match chunks.get(k + 1) {
            Some(next) => {
                let (finished, next) =
                    tokio::join!(finish, store::stage_batch(pool, identity.chain_id, next));
                finished?;
                staged = Some(next?);
            }
            None => finish.await?,
        }
        parent = Some(cp);
    }
    Ok(())
}

/// Writes `events` in 10,000-event transactions as a batch does (raw log `COPY`, derived
/// tables, commit) and returns the seconds spent in each of the three steps.
pub(crate) async fn batch_breakdown(
    pool: &sqlx::PgPool,
    chain_id: u64,
    events: &[decode::Event],
) -> anyhow::Result<(f64, f64, f64)> {
    let (mut raw, mut derived, mut commit) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for chunk in events.chunks(10_000) {
        let mut tx = pool.begin().await?;
        let t = Instant::now();
        store::copy_events(&mut tx, chain_id, chunk).await?;
        raw += t.elapsed();
        let t = Instant::now();
        store::apply_with(&mut tx, chunk, true).await?;
        derived += t.elapsed();
        let t = Instant::now();
        tx.commit().await?;
        commit += t.elapsed();
    }
    Ok((
        raw.as_secs_f64(),
        derived.as_secs_f64(),
        commit.as_secs_f64(),
    ))
}
