//! `resale_offers`: listed once (`OfferListed`), then repriced (`OfferUpdated`) and closed
//! (`OfferCancelled`, or filled by the resale's `SaleSettled`, whose `offerId` is not 0); the
//! last update of a batch wins.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolEvent;
use sqlx::PgConnection;
use tangible_chain::bindings::TangibleMarket as M;

use super::fold::fold;
use super::licences::parse_ids;
use super::rollback::replay_source;
use super::users::Users;
use crate::Result;
use crate::decode::{TangibleEvent, dec, hex0x};

/// An `OfferListed`: one `resale_offers` row, active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewOffer {
    pub(super) id: U256,
    pub(super) licence: U256,
    pub(super) seller: Address,
    pub(super) price: i64,
    pub(super) block: i64,
    pub(super) tx: B256,
}

/// The last `OfferUpdated` of an offer in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OfferPrice {
    pub(super) price: i64,
    pub(super) block: i64,
}

/// An offer closed in the batch: cancelled by its seller, or filled (the licence minted to the
/// buyer; [`Offers::write`] takes the buyer from that licence's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OfferClosed {
    pub(super) tx: B256,
    pub(super) block: i64,
    /// The licence a fill minted.
    pub(super) filled: Option<U256>,
}

/// The resale offer rows of a batch, one field per statement.
#[derive(Debug, Default)]
pub(super) struct Offers {
    pub(super) listed: Vec<NewOffer>,
    /// By offer id.
    pub(super) prices: BTreeMap<U256, OfferPrice>,
    /// By offer id.
    pub(super) cancelled: BTreeMap<U256, OfferClosed>,
    /// By offer id.
    pub(super) filled: BTreeMap<U256, OfferClosed>,
}

impl Offers {
    /// Listings, then price updates, then closures.
    pub(super) async fn write(&self, conn: &mut PgConnection) -> Result<()> {
        let l = &self.listed;
        if !l.is_empty() {
            sqlx::query(
                "INSERT INTO resale_offers (offer_id, licence_id, seller_address, price, status, listed_block, listed_tx, updated_block)
                 SELECT id::numeric, l::numeric, s, p, 'active', blk, txh, blk
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(id, l, s, p, blk, txh)
                 ON CONFLICT (offer_id) DO NOTHING",
            )
            .bind(l.iter().map(|o| dec(o.id)).collect::<Vec<_>>())
            .bind(l.iter().map(|o| dec(o.licence)).collect::<Vec<_>>())
            .bind(l.iter().map(|o| hex0x(o.seller)).collect::<Vec<_>>())
            .bind(l.iter().map(|o| o.price).collect::<Vec<_>>())
            .bind(l.iter().map(|o| o.block).collect::<Vec<_>>())
            .bind(l.iter().map(|o| hex0x(o.tx)).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        let p = &self.prices;
        if !p.is_empty() {
            sqlx::query(
                "UPDATE resale_offers o SET price = t.p, updated_block = GREATEST(o.updated_block, t.blk)
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(id, p, blk) WHERE o.offer_id = t.id::numeric",
            )
            .bind(p.keys().map(|id| dec(*id)).collect::<Vec<_>>())
            .bind(p.values().map(|o| o.price).collect::<Vec<_>>())
            .bind(p.values().map(|o| o.block).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        if self.cancelled.is_empty() && self.filled.is_empty() {
            return Ok(());
        }
        // Cancellations first, then fills, in one statement. A fill's buyer is the owner of the
        // licence it minted: the licences are written before the offers, and that licence's
        // `LicenceMinted` came before the fill's `SaleSettled` (same transaction), in this batch
        // or an earlier one, so the row is there whatever the batch boundaries.
        let closed: Vec<(&U256, &OfferClosed, &str)> = (self.cancelled.iter())
            .map(|(id, c)| (id, c, "cancelled"))
            .chain(self.filled.iter().map(|(id, c)| (id, c, "filled")))
            .collect();
        sqlx::query(
            "UPDATE resale_offers o SET status = t.st,
                    buyer_address = (SELECT l.owner_address FROM licences l WHERE l.licence_id = t.nl::numeric),
                    new_licence_id = t.nl::numeric,
                    closed_block = t.blk, closed_tx = t.txh, updated_block = GREATEST(o.updated_block, t.blk)
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(id, st, txh, nl, blk)
             WHERE o.offer_id = t.id::numeric",
        )
        .bind(closed.iter().map(|(id, ..)| dec(**id)).collect::<Vec<_>>())
        .bind(closed.iter().map(|(.., st)| *st).collect::<Vec<_>>())
        .bind(closed.iter().map(|(_, c, _)| hex0x(c.tx)).collect::<Vec<_>>())
        .bind(
            (closed.iter())
                .map(|(_, c, _)| c.filled.map(dec))
                .collect::<Vec<_>>(),
        )
        .bind(closed.iter().map(|(_, c, _)| c.block).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Unwinds to block `to`: deletes the offers listed above it; an offer updated or closed
    /// above it is re-derived from its events at or below it in the raw log.
    pub(super) async fn unwind(conn: &mut PgConnection, chain_id: u64, to: u64) -> Result<()> {
        sqlx::query("DELETE FROM resale_offers WHERE listed_block > $1")
            .bind(to as i64)
            .execute(&mut *conn)
            .await?;
        let touched: Vec<String> = sqlx::query_scalar(
            "DELETE FROM resale_offers WHERE updated_block > $1 RETURNING offer_id::text",
        )
        .bind(to as i64)
        .fetch_all(&mut *conn)
        .await?;
        if touched.is_empty() {
            return Ok(());
        }
        let touched = parse_ids(&touched)?;
        // No sale: an offer touched above `to` was not filled at or below it (a filled or
        // cancelled offer has no later event: its licence is revoked, or the offer deleted).
        let signatures = [
            M::OfferListed::SIGNATURE_HASH,
            M::OfferUpdated::SIGNATURE_HASH,
            M::OfferCancelled::SIGNATURE_HASH,
        ];
        let mut events = replay_source(conn, chain_id, to, &signatures).await?;
        events.retain(|e| {
            let id = match &e.decoded {
                Some(TangibleEvent::OfferListed(ev)) => ev.offerId,
                Some(TangibleEvent::OfferUpdated(ev)) => ev.offerId,
                Some(TangibleEvent::OfferCancelled(ev)) => ev.offerId,
                _ => return false,
            };
            touched.contains(&id)
        });
        let mut replay = fold(&events)?;
        replay.users = Users::default();
        replay.write(conn, false).await
    }
}
