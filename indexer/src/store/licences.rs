//! `licences`: one row per purchase (`LicenceMinted`), appended by binary `COPY` on the fast
//! path; revocations update it in place.

use std::collections::{BTreeMap, HashSet};

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolEvent;
use sqlx::PgConnection;
use tangible_chain::bindings::TangibleMarket as M;

use super::fold::fold;
use super::rollback::replay_source;
use super::send_copy;
use super::users::Users;
use crate::copy::BinaryCopy;
use crate::decode::{RawEvent, TangibleEvent, dec, hex0x, i64_of};
use crate::{IndexerError, Result};

/// A licence minted in the batch (a `licences` row), its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewLicence {
    pub(super) id: U256,
    pub(super) owner: Address,
    pub(super) film: i64,
    pub(super) quality: i16,
    pub(super) acquired_at: i64,
    /// `None` when the licence has no hold (0 on chain).
    pub(super) hold_until: Option<i64>,
    pub(super) tx_hash: B256,
    pub(super) block: i64,
    pub(super) log_index: i32,
}

impl NewLicence {
    pub(super) fn of(r: &RawEvent, ev: &M::LicenceMinted) -> Result<Self> {
        Ok(Self {
            id: ev.licenceId,
            owner: ev.owner,
            film: i64_of(ev.filmId, r, "LicenceMinted")?,
            quality: i16::from(ev.quality),
            acquired_at: i64_of(ev.acquiredAt, r, "LicenceMinted")?,
            hold_until: match i64_of(ev.holdUntil, r, "LicenceMinted")? {
                0 => None,
                h => Some(h),
            },
            tx_hash: r.tx_hash,
            block: r.block_number as i64,
            log_index: r.log_index as i32,
        })
    }
}

/// The last `LicenceRevoked` of a licence in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Revocation {
    pub(super) reason: i64,
    /// `None` when no licence replaces it (0 on chain).
    pub(super) replaced_by: Option<U256>,
    pub(super) tx: B256,
    pub(super) block: i64,
}

/// The licence rows of a batch, one field per statement.
#[derive(Debug, Default)]
pub(super) struct Licences {
    pub(super) minted: Vec<NewLicence>,
    /// By licence id.
    pub(super) revoked: BTreeMap<U256, Revocation>,
}

impl Licences {
    /// New licences (by binary `COPY` when `copy`, else skipping those already stored), then
    /// revocations.
    pub(super) async fn write(&self, conn: &mut PgConnection, copy: bool) -> Result<()> {
        if !self.minted.is_empty() && copy {
            copy_licences(&mut *conn, &self.minted).await?;
        } else if !self.minted.is_empty() {
            insert_licences(&mut *conn, &self.minted).await?;
        }
        if self.revoked.is_empty() {
            return Ok(());
        }
        let r = &self.revoked;
        sqlx::query(
            "UPDATE licences l SET revoked = TRUE, revoked_reason = t.r, replaced_by = t.rep::numeric, revoked_tx = t.txh, revoked_block = t.blk
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(id, r, rep, txh, blk)
             WHERE l.licence_id = t.id::numeric",
        )
        .bind(r.keys().map(|id| dec(*id)).collect::<Vec<_>>())
        .bind(r.values().map(|v| v.reason).collect::<Vec<_>>())
        .bind(r.values().map(|v| v.replaced_by.map(dec)).collect::<Vec<_>>())
        .bind(r.values().map(|v| hex0x(v.tx)).collect::<Vec<_>>())
        .bind(r.values().map(|v| v.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Unwinds to block `to`: deletes the licences minted above it; a licence revoked above it
    /// gets the state of its last revocation at or below it from the raw log (none: not
    /// revoked).
    pub(super) async fn unwind(conn: &mut PgConnection, chain_id: u64, to: u64) -> Result<()> {
        sqlx::query("DELETE FROM licences WHERE minted_block > $1")
            .bind(to as i64)
            .execute(&mut *conn)
            .await?;
        let touched: Vec<String> = sqlx::query_scalar(
            "UPDATE licences SET revoked = FALSE, revoked_reason = NULL, replaced_by = NULL, revoked_tx = NULL, revoked_block = NULL
             WHERE revoked_block > $1 RETURNING licence_id::text",
        )
        .bind(to as i64)
        .fetch_all(&mut *conn)
        .await?;
        if touched.is_empty() {
            return Ok(());
        }
        let touched = parse_ids(&touched)?;
        let mut events =
            replay_source(conn, chain_id, to, &[M::LicenceRevoked::SIGNATURE_HASH]).await?;
        events.retain(|e| {
            matches!(&e.decoded, Some(TangibleEvent::LicenceRevoked(ev)) if touched.contains(&ev.licenceId))
        });
        let mut replay = fold(&events)?;
        replay.users = Users::default();
        replay.write(conn, false).await
    }
}

/// Numeric ids read back as text.
pub(super) fn parse_ids(ids: &[String]) -> Result<HashSet<U256>> {
    ids.iter()
        .map(|id| {
            id.parse::<U256>().map_err(|e| {
                IndexerError::DeploymentMismatch(format!("malformed id {id} in the database: {e}"))
            })
        })
        .collect()
}

/// Column list of `licences` written for a new licence, in [`copy_licences`]' field order.
const LICENCE_COLUMNS: &str = "licence_id, owner_address, film_id, quality, tx_hash, acquired_at, hold_until, minted_block, log_index";

/// New licences by binary `COPY`, encoded straight from the events (no intermediate strings:
/// this runs for every purchase of a backfill).
async fn copy_licences(conn: &mut PgConnection, minted: &[NewLicence]) -> Result<()> {
    let mut c = BinaryCopy::with_capacity(minted.len() * 200);
    for l in minted {
        c.row(9);
        c.numeric(l.id);
        c.hex0x(l.owner.as_slice());
        c.int8(l.film);
        c.int2(l.quality);
        c.hex0x(l.tx_hash.as_slice());
        c.timestamptz(l.acquired_at);
        match l.hold_until {
            Some(h) => c.timestamptz(h),
            None => c.null(),
        }
        c.int8(l.block);
        c.int4(l.log_index);
    }
    send_copy(
        conn,
        &format!("COPY licences ({LICENCE_COLUMNS}) FROM STDIN (FORMAT binary)"),
        c.finish(),
    )
    .await
}

/// New licences with an idempotent multi-row insert (a licence already stored is skipped).
async fn insert_licences(conn: &mut PgConnection, minted: &[NewLicence]) -> Result<()> {
    let m = minted;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO licences ({LICENCE_COLUMNS})
         SELECT id::numeric, o, f, q, txh, to_timestamp(acq), CASE WHEN hold = 0 THEN NULL ELSE to_timestamp(hold) END, blk, li
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
              AS t(id, o, f, q, txh, acq, hold, blk, li)
         ON CONFLICT (licence_id) DO NOTHING"
    )))
    .bind(m.iter().map(|l| dec(l.id)).collect::<Vec<_>>())
    .bind(m.iter().map(|l| hex0x(l.owner)).collect::<Vec<_>>())
    .bind(m.iter().map(|l| l.film).collect::<Vec<_>>())
    .bind(m.iter().map(|l| i64::from(l.quality)).collect::<Vec<_>>())
    .bind(m.iter().map(|l| hex0x(l.tx_hash)).collect::<Vec<_>>())
    .bind(m.iter().map(|l| l.acquired_at).collect::<Vec<_>>())
    .bind(m.iter().map(|l| l.hold_until.unwrap_or(0)).collect::<Vec<_>>())
    .bind(m.iter().map(|l| l.block).collect::<Vec<_>>())
    .bind(m.iter().map(|l| i64::from(l.log_index)).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
