//! The event fold: a batch's decoded events (in chain order) → the rows of each derived
//! table's statements, a pure function ([`fold`]); [`Projection::write`] then runs the
//! statements, one table family after the other.

use sqlx::PgConnection;

use super::catalogue::{
    Catalogue, EditionFloor, EditionStatus, EditionUpdate, NewEdition, NewFilm, NewStudio,
    StudioUpdate,
};
use super::licences::{Licences, NewLicence, Revocation};
use super::money::{Clearance, ClearanceKind, CreditSpend, Deposit, Money, Withdrawal};
use super::offers::{NewOffer, OfferClosed, OfferPrice, Offers};
use super::sales::{self, NewSale};
use super::users::Users;
use crate::Result;
use crate::decode::{Event, TangibleEvent, i64_of};

/// The derived tables' rows of a batch: one typed batch per statement. Creations are kept in
/// chain order; updates by key, the last one of the batch winning (an entity is always created
/// before it is updated, so applying the creations before the updates equals applying the
/// events one by one).
#[derive(Debug, Default)]
pub(super) struct Projection<'a> {
    pub(super) users: Users,
    pub(super) catalogue: Catalogue,
    pub(super) licences: Licences,
    pub(super) offers: Offers,
    pub(super) sales: Vec<NewSale<'a>>,
    pub(super) money: Money,
}

/// Folds decoded events (in chain order) into the rows their statements write. Fails on a
/// value out of the schema's range (a `uint64` above `BIGINT`). Touches no database.
pub(super) fn fold(events: &[Event]) -> Result<Projection<'_>> {
    let mut p = Projection::default();
    for e in events {
        let Some(d) = &e.decoded else { continue };
        let r = &e.raw;
        let block = r.block_number as i64;
        let c = &mut p.catalogue;
        match d {
            TangibleEvent::StudioRegistered(ev) => {
                p.users.see(ev.admin, r);
                c.studios.push(NewStudio {
                    id: ev.studioId.into(),
                    name: ev.name.clone(),
                    admin: ev.admin,
                    royalty: ev.royaltyRecipient,
                    commission_bps: ev.commissionBps.into(),
                    block,
                    tx: r.tx_hash,
                });
            }
            TangibleEvent::StudioUpdated(ev) => {
                p.users.see(ev.admin, r);
                let update = StudioUpdate {
                    name: ev.name.clone(),
                    admin: ev.admin,
                    royalty: ev.royaltyRecipient,
                    commission_bps: ev.commissionBps.into(),
                    block,
                };
                c.studio_updates.insert(ev.studioId.into(), update);
            }
            TangibleEvent::FilmRegistered(ev) => c.films.push(NewFilm {
                id: i64_of(ev.filmId, r, "FilmRegistered")?,
                studio: ev.studioId.into(),
                title: ev.title.clone(),
                year: ev.year.into(),
                block,
                tx: r.tx_hash,
            }),
            TangibleEvent::EditionRegistered(ev) => c.editions.push(NewEdition {
                film: i64_of(ev.filmId, r, "EditionRegistered")?,
                quality: ev.quality.into(),
                master_hash: ev.masterHash,
                price_cents: i64_of(ev.priceCents, r, "EditionRegistered")?,
                block,
            }),
            TangibleEvent::EditionUpdated(ev) => {
                let key = (i64_of(ev.filmId, r, "EditionUpdated")?, ev.quality.into());
                let update = EditionUpdate {
                    master_hash: ev.masterHash,
                    price_cents: i64_of(ev.priceCents, r, "EditionUpdated")?,
                    block,
                };
                c.edition_updates.insert(key, update);
            }
            TangibleEvent::EditionStatusChanged(ev) => {
                let key = (
                    i64_of(ev.filmId, r, "EditionStatusChanged")?,
                    ev.quality.into(),
                );
                let status = EditionStatus {
                    active: ev.active,
                    block,
                };
                c.edition_statuses.insert(key, status);
            }
            TangibleEvent::ResaleFloorChanged(ev) => {
                let key = (
                    i64_of(ev.filmId, r, "ResaleFloorChanged")?,
                    ev.quality.into(),
                );
                let floor = EditionFloor {
                    floor_cents: i64_of(ev.floorCents, r, "ResaleFloorChanged")?,
                    block,
                };
                c.edition_floors.insert(key, floor);
            }
            TangibleEvent::LicenceMinted(ev) => {
                p.users.see(ev.owner, r);
                p.licences.minted.push(NewLicence::of(r, ev)?);
            }
            TangibleEvent::LicenceRevoked(ev) => {
                let revocation = Revocation {
                    reason: ev.reason.into(),
                    replaced_by: (!ev.replacedBy.is_zero()).then_some(ev.replacedBy),
                    tx: r.tx_hash,
                    block,
                };
                p.licences.revoked.insert(ev.licenceId, revocation);
            }
            TangibleEvent::OfferListed(ev) => {
                p.users.see(ev.seller, r);
                p.offers.listed.push(NewOffer {
                    id: ev.offerId,
                    licence: ev.licenceId,
                    seller: ev.seller,
                    price: i64_of(ev.priceCents, r, "OfferListed")?,
                    block,
                    tx: r.tx_hash,
                });
            }
            TangibleEvent::OfferUpdated(ev) => {
                let price = OfferPrice {
                    price: i64_of(ev.priceCents, r, "OfferUpdated")?,
                    block,
                };
                p.offers.prices.insert(ev.offerId, price);
            }
            TangibleEvent::OfferCancelled(ev) => {
                let closed = OfferClosed {
                    tx: r.tx_hash,
                    block,
                    filled: None,
                };
                p.offers.cancelled.insert(ev.offerId, closed);
            }
            TangibleEvent::SaleSettled(ev) => {
                p.users.see(ev.payer, r);
                p.users.see(ev.seller, r);
                p.sales.push(NewSale::of(r, ev)?);
                // A resale's `SaleSettled` is its offer's fill (there is no separate fill
                // event); the buyer is the owner of the licence it minted, read when written.
                if !ev.offerId.is_zero() {
                    let closed = OfferClosed {
                        tx: r.tx_hash,
                        block,
                        filled: Some(ev.licenceId),
                    };
                    p.offers.filled.insert(ev.offerId, closed);
                }
            }
            TangibleEvent::Withdrawn(ev) => p.money.withdrawals.push(Withdrawal {
                tx: r.tx_hash,
                log_index: r.log_index as i64,
                block,
                account: ev.account,
                to: ev.to,
                amount: ev.amount,
            }),
            TangibleEvent::Deposited(ev) => p.money.deposits.push(Deposit {
                tx: r.tx_hash,
                log_index: r.log_index as i64,
                block,
                account: ev.account,
                amount: ev.amount,
            }),
            TangibleEvent::CreditSpent(ev) => p.money.credit_spends.push(CreditSpend {
                tx: r.tx_hash,
                log_index: r.log_index as i64,
                block,
                account: ev.account,
                licence: ev.licenceId,
                amount: ev.amount,
            }),
            TangibleEvent::SalePending(ev) => {
                let kind = ClearanceKind::Pending {
                    clear_at: ev.clearAt.into(),
                    tainted: ev.tainted,
                };
                p.money.clearances.push(Clearance::of(r, ev.licenceId, kind));
            }
            TangibleEvent::SaleCleared(ev) => {
                let kind = ClearanceKind::Cleared;
                p.money.clearances.push(Clearance::of(r, ev.licenceId, kind));
            }
            TangibleEvent::SaleClawedBack(ev) => {
                p.users.see(ev.refundedTo, r);
                let kind = ClearanceKind::ClawedBack {
                    refunded_to: ev.refundedTo,
                    amount: ev.amount,
                };
                p.money.clearances.push(Clearance::of(r, ev.licenceId, kind));
            }
            // Kept in the raw log only.
            TangibleEvent::Transfer(_)
            | TangibleEvent::Approval(_)
            | TangibleEvent::ApprovalForAll(_)
            | TangibleEvent::PlatformChanged(_)
            | TangibleEvent::HoldPeriodChanged(_)
            | TangibleEvent::ClearancePeriodChanged(_)
            // The order's own event (listed, repriced, cancelled) follows it in the same
            // transaction and names the seller.
            | TangibleEvent::OrderExecuted(_)
            | TangibleEvent::BaseURIChanged(_)
            | TangibleEvent::Paused(_)
            | TangibleEvent::Unpaused(_)
            | TangibleEvent::RoleGranted(_)
            | TangibleEvent::RoleRevoked(_)
            | TangibleEvent::RoleAdminChanged(_)
            // A suspension also emits `EditionStatusChanged`, which the catalogue folds.
            | TangibleEvent::EditionSuspended(_)
            | TangibleEvent::MasterReplaced(_)
            | TangibleEvent::StudioFilmQuotaChanged(_)
            | TangibleEvent::EarningsCredited(_)
            | TangibleEvent::TreasuryChanged(_)
            | TangibleEvent::CardSettlementLimitChanged(_)
            // The lowest price only bounds the resale floor on chain; the mirror keeps the floor.
            | TangibleEvent::LowestPriceReset(_) => {}
        }
    }
    Ok(p)
}

impl Projection<'_> {
    /// Runs the batch's statements: users, catalogue, licences, offers, sales (after the
    /// licences they read), money. New licences and sales by binary `COPY` when `copy` (a row
    /// already stored then fails the statement), else with idempotent inserts.
    pub(super) async fn write(&self, conn: &mut PgConnection, copy: bool) -> Result<()> {
        self.users.write(conn).await?;
        self.catalogue.write(conn).await?;
        self.licences.write(conn, copy).await?;
        self.offers.write(conn).await?;
        sales::write(conn, &self.sales, &self.licences.minted, copy).await?;
        self.money.write(conn).await
    }
}

#[cfg(test)]
mod tests;
