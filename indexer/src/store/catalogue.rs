//! The catalogue: `studios`, `films`, `editions` (created once, then updated in place; the
//! last update of a batch wins), and each film's `master_hash`, that of its best edition.

use std::collections::{BTreeMap, HashSet};

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use sqlx::PgConnection;
use tangible_chain::bindings::TangibleMarket as M;

use super::fold::fold;
use super::rollback::replay_source;
use super::users::Users;
use crate::Result;
use crate::decode::{TangibleEvent, hex0x};

/// A `StudioRegistered`: one `studios` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewStudio {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) admin: Address,
    pub(super) royalty: Address,
    pub(super) commission_bps: i64,
    pub(super) block: i64,
    pub(super) tx: B256,
}

/// The last `StudioUpdated` of a studio in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StudioUpdate {
    pub(super) name: String,
    pub(super) admin: Address,
    pub(super) royalty: Address,
    pub(super) commission_bps: i64,
    pub(super) block: i64,
}

/// A `FilmRegistered`: one `films` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewFilm {
    pub(super) id: i64,
    pub(super) studio: i64,
    pub(super) title: String,
    pub(super) year: i64,
    pub(super) block: i64,
    pub(super) tx: B256,
}

/// An `EditionRegistered`: one `editions` row, active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewEdition {
    pub(super) film: i64,
    pub(super) quality: i64,
    pub(super) master_hash: B256,
    pub(super) price_cents: i64,
    pub(super) block: i64,
}

/// The last `EditionUpdated` of an edition in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EditionUpdate {
    pub(super) master_hash: B256,
    pub(super) price_cents: i64,
    pub(super) block: i64,
}

/// The last `ResaleFloorChanged` of an edition in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EditionFloor {
    pub(super) floor_cents: i64,
    pub(super) block: i64,
}

/// The last `EditionStatusChanged` of an edition in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EditionStatus {
    pub(super) active: bool,
    pub(super) block: i64,
}

/// The catalogue rows of a batch, one field per statement.
#[derive(Debug, Default)]
pub(super) struct Catalogue {
    pub(super) studios: Vec<NewStudio>,
    /// By studio id.
    pub(super) studio_updates: BTreeMap<i64, StudioUpdate>,
    pub(super) films: Vec<NewFilm>,
    pub(super) editions: Vec<NewEdition>,
    /// By (film id, quality).
    pub(super) edition_updates: BTreeMap<(i64, i64), EditionUpdate>,
    /// By (film id, quality).
    pub(super) edition_statuses: BTreeMap<(i64, i64), EditionStatus>,
    /// By (film id, quality).
    pub(super) edition_floors: BTreeMap<(i64, i64), EditionFloor>,
}

impl Catalogue {
    /// Films whose `master_hash` may change: those with an edition registered or updated.
    pub(super) fn touched_films(&self) -> Vec<i64> {
        let mut films: Vec<i64> = (self.editions.iter().map(|e| e.film))
            .chain(self.edition_updates.keys().map(|(f, _)| *f))
            .collect();
        films.sort_unstable();
        films.dedup();
        films
    }

    /// The batch's statements: creations first, then updates.
    pub(super) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        self.insert_studios(conn).await?;
        self.update_studios(conn).await?;
        self.insert_films(conn).await?;
        self.insert_editions(conn).await?;
        self.update_editions(conn).await?;
        self.update_edition_statuses(conn).await?;
        self.update_edition_floors(conn).await?;
        let films = self.touched_films();
        if !films.is_empty() {
            update_master_hashes(conn, films).await?;
        }
        Ok(())
    }

    /// Unwinds to block `to`: deletes the editions, films and studios registered above it; an
    /// edition or studio updated above it is re-derived from its events at or below it in the
    /// raw log, and the master hash of each film whose editions changed is recomputed.
    pub(super) async fn unwind(conn: &mut PgConnection, chain_id: u64, to: u64) -> Result<()> {
        let to_block = to as i64;
        let films: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT film_id FROM editions WHERE updated_block > $1")
                .bind(to_block)
                .fetch_all(&mut *conn)
                .await?;
        sqlx::query("DELETE FROM editions WHERE registered_block > $1")
            .bind(to_block)
            .execute(&mut *conn)
            .await?;
        let editions: HashSet<(i64, i64)> = sqlx::query_as(
            "DELETE FROM editions WHERE updated_block > $1 RETURNING film_id, quality::bigint",
        )
        .bind(to_block)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        for table in ["films", "studios"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE registered_block > $1"
            )))
            .bind(to_block)
            .execute(&mut *conn)
            .await?;
        }
        let studios: HashSet<i64> =
            sqlx::query_scalar("SELECT studio_id FROM studios WHERE updated_block > $1")
                .bind(to_block)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        if !editions.is_empty() || !studios.is_empty() {
            let signatures = [
                M::StudioRegistered::SIGNATURE_HASH,
                M::StudioUpdated::SIGNATURE_HASH,
                M::EditionRegistered::SIGNATURE_HASH,
                M::EditionUpdated::SIGNATURE_HASH,
                M::EditionStatusChanged::SIGNATURE_HASH,
                M::ResaleFloorChanged::SIGNATURE_HASH,
            ];
            let mut events = replay_source(conn, chain_id, to, &signatures).await?;
            events.retain(|e| match &e.decoded {
                Some(TangibleEvent::StudioRegistered(ev)) => studios.contains(&ev.studioId.into()),
                Some(TangibleEvent::StudioUpdated(ev)) => studios.contains(&ev.studioId.into()),
                Some(TangibleEvent::EditionRegistered(ev)) => {
                    editions.contains(&(ev.filmId as i64, ev.quality.into()))
                }
                Some(TangibleEvent::EditionUpdated(ev)) => {
                    editions.contains(&(ev.filmId as i64, ev.quality.into()))
                }
                Some(TangibleEvent::EditionStatusChanged(ev)) => {
                    editions.contains(&(ev.filmId as i64, ev.quality.into()))
                }
                Some(TangibleEvent::ResaleFloorChanged(ev)) => {
                    editions.contains(&(ev.filmId as i64, ev.quality.into()))
                }
                _ => false,
            });
            let mut replay = fold(&events)?;
            replay.users = Users::default();
            // A studio's row stays (its films refer to it): its state at `to` is its last
            // update at or below it, else its registration.
            let c = &mut replay.catalogue;
            let mut state: BTreeMap<i64, StudioUpdate> = BTreeMap::new();
            for s in c.studios.drain(..) {
                let registered = StudioUpdate {
                    name: s.name,
                    admin: s.admin,
                    royalty: s.royalty,
                    commission_bps: s.commission_bps,
                    block: s.block,
                };
                state.insert(s.id, registered);
            }
            state.append(&mut c.studio_updates);
            c.studio_updates = state;
            replay.write(conn, false).await?;
        }
        if !films.is_empty() {
            update_master_hashes(conn, films).await?;
        }
        Ok(())
    }

    async fn insert_studios(&self, conn: &mut PgConnection) -> Result<()> {
        if self.studios.is_empty() {
            return Ok(());
        }
        let s = &self.studios;
        sqlx::query(
            "INSERT INTO studios (studio_id, name, admin_address, royalty_addr, commission_bps, registered_block, registered_tx, updated_block)
             SELECT id, nm, adm, roy, bps, blk, txh, blk
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
                  AS t(id, nm, adm, roy, bps, blk, txh)
             ON CONFLICT (studio_id) DO NOTHING",
        )
        .bind(s.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
        .bind(s.iter().map(|r| hex0x(r.admin)).collect::<Vec<_>>())
        .bind(s.iter().map(|r| hex0x(r.royalty)).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.commission_bps).collect::<Vec<_>>())
        .bind(s.iter().map(|r| r.block).collect::<Vec<_>>())
        .bind(s.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_studios(&self, conn: &mut PgConnection) -> Result<()> {
        if self.studio_updates.is_empty() {
            return Ok(());
        }
        let u = &self.studio_updates;
        sqlx::query(
            "UPDATE studios s SET name = t.nm, admin_address = t.adm, royalty_addr = t.roy, commission_bps = t.bps, updated_block = t.blk
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t(id, nm, adm, roy, bps, blk)
             WHERE s.studio_id = t.id",
        )
        .bind(u.keys().copied().collect::<Vec<_>>())
        .bind(u.values().map(|r| r.name.clone()).collect::<Vec<_>>())
        .bind(u.values().map(|r| hex0x(r.admin)).collect::<Vec<_>>())
        .bind(u.values().map(|r| hex0x(r.royalty)).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.commission_bps).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn insert_films(&self, conn: &mut PgConnection) -> Result<()> {
        if self.films.is_empty() {
            return Ok(());
        }
        let f = &self.films;
        sqlx::query(
            "INSERT INTO films (film_id, studio_id, title, year, registered_block, registered_tx)
             SELECT id, st, ti, yr, blk, txh
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(id, st, ti, yr, blk, txh)
             ON CONFLICT (film_id) DO NOTHING",
        )
        .bind(f.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.studio).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.title.clone()).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.year).collect::<Vec<_>>())
        .bind(f.iter().map(|r| r.block).collect::<Vec<_>>())
        .bind(f.iter().map(|r| hex0x(r.tx)).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn insert_editions(&self, conn: &mut PgConnection) -> Result<()> {
        if self.editions.is_empty() {
            return Ok(());
        }
        let e = &self.editions;
        sqlx::query(
            "INSERT INTO editions (film_id, quality, master_hash, price_cents, active, registered_block, updated_block)
             SELECT f, q, h, p, TRUE, blk, blk
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) AS t(f, q, h, p, blk)
             ON CONFLICT (film_id, quality) DO NOTHING",
        )
        .bind(e.iter().map(|r| r.film).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.quality).collect::<Vec<_>>())
        .bind(e.iter().map(|r| hex0x(r.master_hash)).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.price_cents).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_editions(&self, conn: &mut PgConnection) -> Result<()> {
        if self.edition_updates.is_empty() {
            return Ok(());
        }
        let u = &self.edition_updates;
        sqlx::query(
            "UPDATE editions e SET master_hash = t.h, price_cents = t.p, updated_block = GREATEST(e.updated_block, t.blk)
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) AS t(f, q, h, p, blk)
             WHERE e.film_id = t.f AND e.quality = t.q",
        )
        .bind(u.keys().map(|(f, _)| *f).collect::<Vec<_>>())
        .bind(u.keys().map(|(_, q)| *q).collect::<Vec<_>>())
        .bind(u.values().map(|r| hex0x(r.master_hash)).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.price_cents).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_edition_statuses(&self, conn: &mut PgConnection) -> Result<()> {
        if self.edition_statuses.is_empty() {
            return Ok(());
        }
        let u = &self.edition_statuses;
        sqlx::query(
            "UPDATE editions e SET active = t.a, updated_block = GREATEST(e.updated_block, t.blk)
             FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::bigint[]) AS t(f, q, a, blk)
             WHERE e.film_id = t.f AND e.quality = t.q",
        )
        .bind(u.keys().map(|(f, _)| *f).collect::<Vec<_>>())
        .bind(u.keys().map(|(_, q)| *q).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.active).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_edition_floors(&self, conn: &mut PgConnection) -> Result<()> {
        if self.edition_floors.is_empty() {
            return Ok(());
        }
        let u = &self.edition_floors;
        sqlx::query(
            "UPDATE editions e SET resale_floor_cents = t.fl, updated_block = GREATEST(e.updated_block, t.blk)
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(f, q, fl, blk)
             WHERE e.film_id = t.f AND e.quality = t.q",
        )
        .bind(u.keys().map(|(f, _)| *f).collect::<Vec<_>>())
        .bind(u.keys().map(|(_, q)| *q).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.floor_cents).collect::<Vec<_>>())
        .bind(u.values().map(|r| r.block).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Sets the master hash of `films` to that of their best edition (highest quality).
async fn update_master_hashes(conn: &mut PgConnection, films: Vec<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE films f SET master_hash = (SELECT e.master_hash FROM editions e WHERE e.film_id = f.film_id ORDER BY e.quality DESC LIMIT 1)
         WHERE f.film_id = ANY($1)",
    )
    .bind(films)
    .execute(conn)
    .await?;
    Ok(())
}
