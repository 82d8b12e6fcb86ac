//! `sales`: one row per `SaleSettled` (primary or resale), keyed by `(tx_hash, log_index)`,
//! appended by binary `COPY` on the fast path, with the film, quality and studio of the
//! licence sold.

use std::collections::HashMap;

use alloy::primitives::map::U256Map;
use alloy::primitives::{Address, B256, U256};
use sqlx::PgConnection;

use super::licences::NewLicence;
use super::send_copy;
use crate::copy::BinaryCopy;
use crate::decode::{RawEvent, dec, hex0x, i64_of};
use crate::{IndexerError, Result};
use tangible_chain::bindings::TangibleMarket as M;

/// A sale settled in the batch (a `sales` row), its amounts checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewSale<'a> {
    pub(super) raw: &'a RawEvent,
    pub(super) ev: &'a M::SaleSettled,
    pub(super) price_cents: i64,
    pub(super) seller_cents: i64,
    pub(super) studio_cents: i64,
    pub(super) platform_cents: i64,
}

impl<'a> NewSale<'a> {
    pub(super) fn of(raw: &'a RawEvent, ev: &'a M::SaleSettled) -> Result<Self> {
        let cents = |v| i64_of(v, raw, "SaleSettled");
        Ok(Self {
            raw,
            ev,
            price_cents: cents(ev.priceCents)?,
            seller_cents: cents(ev.sellerCents)?,
            studio_cents: cents(ev.studioCents)?,
            platform_cents: cents(ev.platformCents)?,
        })
    }

    pub(super) fn kind(&self) -> &'static str {
        if self.ev.offerId.is_zero() {
            "primary"
        } else {
            "resale"
        }
    }
}

/// Deletes the sales above block `to`.
pub(super) async fn unwind(conn: &mut PgConnection, to: u64) -> Result<()> {
    sqlx::query("DELETE FROM sales WHERE block_number > $1")
        .bind(to as i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// The sales of a batch (after its new licences, which [`copy_sales`] reads from), by binary
/// `COPY` when `copy`, else skipping those already stored.
pub(super) async fn write(
    conn: &mut PgConnection,
    sales: &[NewSale<'_>],
    minted: &[NewLicence],
    copy: bool,
) -> Result<()> {
    if sales.is_empty() {
        Ok(())
    } else if copy {
        copy_sales(conn, sales, minted).await
    } else {
        insert_sales(conn, sales).await
    }
}

/// Column list of `sales`, in [`copy_sales`]' field order.
const SALE_COLUMNS: &str =
    "tx_hash, log_index, block_number, block_timestamp, kind, licence_id, offer_id, payment_ref,
     payer_address, price_cents, seller_address, seller_cents, studio_address, studio_cents,
     platform_address, platform_cents, film_id, quality, studio_id";

/// New sales by binary `COPY`, encoded straight from the events, with the film, quality and
/// studio of each sold licence filled like [`insert_sales`]' `LEFT JOIN` does (NULL when the
/// licence is unknown). A sale's licence is normally minted in the same transaction, so in the
/// same batch: those come from `minted` (the batch's own new licences, already written) and
/// only the studios of their films are read; the rest (if any) are looked up in `licences`.
async fn copy_sales(
    conn: &mut PgConnection,
    sales: &[NewSale<'_>],
    minted: &[NewLicence],
) -> Result<()> {
    // licence id -> (film, quality), from this batch.
    let in_batch: U256Map<(i64, i16)> =
        minted.iter().map(|l| (l.id, (l.film, l.quality))).collect();
    let mut others: Vec<String> = sales
        .iter()
        .filter(|s| !in_batch.contains_key(&s.ev.licenceId))
        .map(|s| dec(s.ev.licenceId))
        .collect();
    others.sort_unstable();
    others.dedup();
    // licence id -> (film, quality, studio), for licences of earlier batches.
    let mut earlier: U256Map<(i64, i16, Option<i64>)> = U256Map::default();
    if !others.is_empty() {
        let rows: Vec<(String, i64, i16, Option<i64>)> = sqlx::query_as(
            "SELECT l.licence_id::text, l.film_id, l.quality, f.studio_id
             FROM licences l LEFT JOIN films f ON f.film_id = l.film_id
             WHERE l.licence_id = ANY($1::text[]::numeric[])",
        )
        .bind(&others)
        .fetch_all(&mut *conn)
        .await?;
        for (id, f, q, s) in rows {
            let id = id.parse::<U256>().map_err(|e| {
                IndexerError::DeploymentMismatch(format!("malformed licence id {id}: {e}"))
            })?;
            earlier.insert(id, (f, q, s));
        }
    }
    let mut films: Vec<i64> = sales
        .iter()
        .filter_map(|s| in_batch.get(&s.ev.licenceId).map(|(f, _)| *f))
        .collect();
    films.sort_unstable();
    films.dedup();
    let studio_of: HashMap<i64, i64> = if films.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as("SELECT film_id, studio_id FROM films WHERE film_id = ANY($1)")
            .bind(&films)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect()
    };
    let of = |id: &U256| match in_batch.get(id) {
        Some(&(film, quality)) => Some((film, quality, studio_of.get(&film).copied())),
        None => earlier.get(id).copied(),
    };
    let mut c = BinaryCopy::with_capacity(sales.len() * 420);
    for s in sales {
        let (r, ev) = (s.raw, s.ev);
        c.row(19);
        c.hex0x(r.tx_hash.as_slice());
        c.int4(r.log_index as i32);
        c.int8(r.block_number as i64);
        match r.block_timestamp {
            Some(t) => c.timestamptz(t as i64),
            None => c.null(),
        }
        c.text(s.kind());
        c.numeric(ev.licenceId);
        if ev.offerId.is_zero() {
            c.null();
        } else {
            c.numeric(ev.offerId);
        }
        if ev.paymentRef == B256::ZERO {
            c.null();
        } else {
            c.hex0x(ev.paymentRef.as_slice());
        }
        c.hex0x(ev.payer.as_slice());
        c.int8(s.price_cents);
        if ev.seller == Address::ZERO {
            c.null();
        } else {
            c.hex0x(ev.seller.as_slice());
        }
        c.int8(s.seller_cents);
        c.hex0x(ev.studio.as_slice());
        c.int8(s.studio_cents);
        c.hex0x(ev.platform.as_slice());
        c.int8(s.platform_cents);
        match of(&ev.licenceId) {
            Some((film, quality, studio_id)) => {
                c.int8(film);
                c.int2(quality);
                match studio_id {
                    Some(s) => c.int8(s),
                    None => c.null(),
                }
            }
            None => {
                c.null();
                c.null();
                c.null();
            }
        }
    }
    send_copy(
        conn,
        &format!("COPY sales ({SALE_COLUMNS}) FROM STDIN (FORMAT binary)"),
        c.finish(),
    )
    .await
}

/// New sales with an idempotent multi-row insert (a sale already stored is skipped), the
/// film, quality and studio joined from `licences` and `films`.
async fn insert_sales(conn: &mut PgConnection, sales: &[NewSale<'_>]) -> Result<()> {
    let s = sales;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sales ({SALE_COLUMNS})
         SELECT t.txh, t.li, t.blk, CASE WHEN t.ts = '' THEN NULL ELSE to_timestamp(t.ts::bigint) END, t.k, t.lic::numeric,
                t.off::numeric, t.pr, t.payer, t.price, NULLIF(t.seller, ''), t.sc, t.studio, t.stc, t.plat, t.pc,
                l.film_id, l.quality, f.studio_id
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::bigint[])
              AS t(txh, li, blk, ts, k, lic, off, pr, payer, price, seller, sc, studio, stc, plat, pc)
         LEFT JOIN licences l ON l.licence_id = t.lic::numeric
         LEFT JOIN films f ON f.film_id = l.film_id
         ON CONFLICT (tx_hash, log_index) DO NOTHING"
    )))
    .bind(s.iter().map(|s| hex0x(s.raw.tx_hash)).collect::<Vec<_>>())
    .bind(s.iter().map(|s| s.raw.log_index as i64).collect::<Vec<_>>())
    .bind(s.iter().map(|s| s.raw.block_number as i64).collect::<Vec<_>>())
    .bind(
        (s.iter())
            .map(|s| s.raw.block_timestamp.map(|t| t.to_string()).unwrap_or_default())
            .collect::<Vec<_>>(),
    )
    .bind(s.iter().map(|s| s.kind()).collect::<Vec<_>>())
    .bind(s.iter().map(|s| dec(s.ev.licenceId)).collect::<Vec<_>>())
    .bind(
        (s.iter())
            .map(|s| (!s.ev.offerId.is_zero()).then(|| dec(s.ev.offerId)))
            .collect::<Vec<_>>(),
    )
    .bind(
        (s.iter())
            .map(|s| (s.ev.paymentRef != B256::ZERO).then(|| hex0x(s.ev.paymentRef)))
            .collect::<Vec<_>>(),
    )
    .bind(s.iter().map(|s| hex0x(s.ev.payer)).collect::<Vec<_>>())
    .bind(s.iter().map(|s| s.price_cents).collect::<Vec<_>>())
    .bind(
        (s.iter())
            .map(|s| if s.ev.seller == Address::ZERO { String::new() } else { hex0x(s.ev.seller) })
            .collect::<Vec<_>>(),
    )
    .bind(s.iter().map(|s| s.seller_cents).collect::<Vec<_>>())
    .bind(s.iter().map(|s| hex0x(s.ev.studio)).collect::<Vec<_>>())
    .bind(s.iter().map(|s| s.studio_cents).collect::<Vec<_>>())
    .bind(s.iter().map(|s| hex0x(s.ev.platform)).collect::<Vec<_>>())
    .bind(s.iter().map(|s| s.platform_cents).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
