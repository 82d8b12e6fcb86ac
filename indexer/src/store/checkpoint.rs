//! The checkpoint (last block fully indexed, with the deployment it belongs to) and the window
//! of recent block hashes used to find a reorg's common ancestor.

use alloy::primitives::{Address, B256};
use sqlx::{PgConnection, PgPool, Row};

use super::parse_hash;
use crate::decode::hex0x;
use crate::rpc::BlockRef;
use crate::{IndexerError, Result};

/// The last block fully indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// Which deployment a mirror belongs to (stored with the checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Chain id.
    pub chain_id: u64,
    /// First block of the deployment.
    pub deployment_block: u64,
    /// Address of the registry contract.
    pub registry: Address,
}

/// The stored checkpoint of `chain_id` and the identity it was written for.
pub async fn load_checkpoint(
    pool: &PgPool,
    chain_id: u64,
) -> Result<Option<(Checkpoint, Identity)>> {
    let row = sqlx::query(
        "SELECT block_number, block_hash, deployment_block, registry_address FROM checkpoints WHERE chain_id = $1",
    )
    .bind(chain_id as i64)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let registry: String = row.get(3);
    Ok(Some((
        Checkpoint {
            number: row.get::<i64, _>(0) as u64,
            hash: parse_hash(row.get(1))?,
        },
        Identity {
            chain_id,
            deployment_block: row.get::<i64, _>(2) as u64,
            registry: registry.parse().map_err(|e| {
                IndexerError::DeploymentMismatch(format!("malformed address {registry}: {e}"))
            })?,
        },
    )))
}

/// Chain ids other than `chain_id` that this database already mirrors.
pub async fn other_chains(pool: &PgPool, chain_id: u64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT chain_id FROM checkpoints WHERE chain_id <> $1")
            .bind(chain_id as i64)
            .fetch_all(pool)
            .await?,
    )
}

/// Recent block hashes of `chain_id`, highest first.
pub async fn recent_blocks(pool: &PgPool, chain_id: u64) -> Result<Vec<(u64, B256)>> {
    let rows = sqlx::query("SELECT block_number, block_hash FROM blocks WHERE chain_id = $1 ORDER BY block_number DESC")
        .bind(chain_id as i64)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.get::<i64, _>(0) as u64, parse_hash(r.get(1))?)))
        .collect()
}

/// Checks, under a row lock held until the transaction ends, that the stored checkpoint of
/// `chain_id` is `parent` (`None`: none stored); [`IndexerError::CheckpointMoved`] otherwise.
pub(super) async fn check_parent(
    conn: &mut PgConnection,
    chain_id: u64,
    parent: Option<Checkpoint>,
) -> Result<()> {
    // Locked until the commit: a concurrent writer waits here, then sees the new row.
    let stored: Option<(i64, String)> = sqlx::query_as(
        "SELECT block_number, block_hash FROM checkpoints WHERE chain_id = $1 FOR UPDATE",
    )
    .bind(chain_id as i64)
    .fetch_optional(conn)
    .await?;
    let stored = stored
        .map(|(n, h)| {
            Ok::<_, IndexerError>(Checkpoint {
                number: n as u64,
                hash: parse_hash(&h)?,
            })
        })
        .transpose()?;
    if stored != parent {
        return Err(IndexerError::CheckpointMoved {
            stored: stored.map(|c| c.number),
            expected: parent.map(|c| c.number),
        });
    }
    Ok(())
}

/// Records block headers (replacing any stored hash at the same height).
pub async fn record_blocks(
    conn: &mut PgConnection,
    chain_id: u64,
    blocks: &[BlockRef],
) -> Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i64> = blocks.iter().map(|b| b.number as i64).collect();
    let hashes: Vec<String> = blocks.iter().map(|b| hex0x(b.hash)).collect();
    let parents: Vec<String> = blocks.iter().map(|b| hex0x(b.parent_hash)).collect();
    sqlx::query(
        "INSERT INTO blocks (chain_id, block_number, block_hash, parent_hash)
         SELECT $1, n, h, p FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(n, h, p)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash",
    )
    .bind(chain_id as i64)
    .bind(numbers)
    .bind(hashes)
    .bind(parents)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the block hashes of `chain_id` below `below`.
pub(super) async fn prune_blocks(conn: &mut PgConnection, chain_id: u64, below: u64) -> Result<()> {
    sqlx::query("DELETE FROM blocks WHERE chain_id = $1 AND block_number < $2")
        .bind(chain_id as i64)
        .bind(below as i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores `cp` as the checkpoint of `identity`'s chain.
pub(super) async fn write_checkpoint(
    conn: &mut PgConnection,
    identity: &Identity,
    cp: Checkpoint,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO checkpoints (chain_id, block_number, block_hash, deployment_block, registry_address, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (chain_id) DO UPDATE SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash,
           deployment_block = EXCLUDED.deployment_block, registry_address = EXCLUDED.registry_address, updated_at = now()",
    )
    .bind(identity.chain_id as i64)
    .bind(cp.number as i64)
    .bind(hex0x(cp.hash))
    .bind(identity.deployment_block as i64)
    .bind(hex0x(identity.registry))
    .execute(conn)
    .await?;
    Ok(())
}
