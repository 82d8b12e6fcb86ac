//! One attempt of a job: settle a paid purchase on chain, refund it through Stripe, revoke its
//! licence after a dispute (or a refund made at Stripe), or give its buyer a new licence after
//! a dispute closed won (reinstate); the receipt's attempt is in `receipt`. Each returns a
//! [`Step`]; the queue (the parent module) records
//! it and moves the purchase and the job on.

use alloy::primitives::{Address, B256, U256};
use sqlx::{PgPool, Row};
use tangible_chain::bindings::TangibleMarket::TangibleMarketErrors as E;
use uuid::Uuid;

use super::Job;
use crate::chain::{ChainError, card_licence_id, payment_ref, reinstatement_ref};
use crate::purchase_state::PurchaseState;
use crate::state::AppState;
use crate::stripe::GatewayError;

/// Revocation reason for a card chargeback.
const REASON_CHARGEBACK: u8 = 1;
/// Revocation reason "other": a refund made at Stripe outside the API.
const REASON_OTHER: u8 = 3;

/// The result of one attempt.
#[derive(Debug)]
pub(super) enum Step {
    /// The job is done (`outcome`, transaction).
    Done {
        outcome: &'static str,
        tx: Option<B256>,
        detail: Option<String>,
    },
    /// Settlement cannot happen any more: refund.
    Impossible(String),
    /// Try again later.
    Retry(String),
}

#[derive(Debug)]
/// The purchase a job works on.
pub(super) struct Purchase {
    kind: String,
    /// As loaded, then as this job's own writes left it (see `settle`).
    pub(super) state: PurchaseState,
    film_id: u64,
    quality: u8,
    offer_id: Option<U256>,
    buyer: Address,
    amount: u64,
    payment_intent_id: Option<String>,
    pub(super) licence_id: Option<U256>,
    /// The licence minted by a reinstatement, if any (the live one then).
    reinstated_licence_id: Option<U256>,
    /// Why the revoke job revokes (`dispute` or `refunded_outside_api`).
    revoke_reason: Option<String>,
}

/// Reads the purchase of a job.
pub(super) async fn load(db: &PgPool, id: Uuid) -> anyhow::Result<Purchase> {
    let r = sqlx::query(
        "SELECT kind, state, film_id, quality, offer_id, buyer_address, amount_cents, payment_intent_id, licence_id, \
                reinstated_licence_id, revoke_reason \
         FROM api_purchases WHERE purchase_id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    let offer: Option<String> = r.try_get("offer_id")?;
    let licence: Option<String> = r.try_get("licence_id")?;
    let reinstated: Option<String> = r.try_get("reinstated_licence_id")?;
    Ok(Purchase {
        kind: r.try_get("kind")?,
        state: r.try_get("state")?,
        film_id: u64::try_from(r.try_get::<i64, _>("film_id")?)?,
        quality: u8::try_from(r.try_get::<i16, _>("quality")?)?,
        offer_id: offer.map(|o| o.parse()).transpose()?,
        buyer: r.try_get::<String, _>("buyer_address")?.parse()?,
        amount: u64::try_from(r.try_get::<i64, _>("amount_cents")?)?,
        payment_intent_id: r.try_get("payment_intent_id")?,
        licence_id: licence.map(|l| l.parse()).transpose()?,
        reinstated_licence_id: reinstated.map(|l| l.parse()).transpose()?,
        revoke_reason: r.try_get("revoke_reason")?,
    })
}

/// Reads the chain to find out whether `payment_ref` already settled, and its transaction.
async fn already_settled(state: &AppState, pref: B256) -> Result<Option<Option<B256>>, ChainError> {
    if state.chain().payment_ref_used(pref).await? {
        return Ok(Some(state.chain().settlement_tx(pref).await?));
    }
    Ok(None)
}

/// Settles a paid purchase on chain, once (the chain is read first).
pub(super) async fn settle(state: &AppState, job: &Job, p: &mut Purchase) -> anyhow::Result<Step> {
    match p.state {
        PurchaseState::Fulfilled => {
            return Ok(done(
                "already_settled",
                None,
                Some("purchase already fulfilled"),
            ));
        }
        PurchaseState::Disputed
        | PurchaseState::Revoked
        | PurchaseState::Reinstated
        | PurchaseState::DisputeLost => {
            return Ok(done(
                "already_settled",
                None,
                Some(&format!("purchase is {}: settled long ago", p.state)),
            ));
        }
        PurchaseState::Refunded
        | PurchaseState::Failed
        | PurchaseState::AwaitingPayment
        | PurchaseState::Expired => {
            return Ok(done(
                "failed",
                None,
                Some(&format!("purchase is {}, nothing to settle", p.state)),
            ));
        }
        PurchaseState::Paid | PurchaseState::Settling => {}
    }
    let intent = p
        .payment_intent_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("paid purchase without a PaymentIntent"))?;
    let pref = payment_ref(intent);
    sqlx::query("UPDATE api_purchases SET state = $2, updated_at = now() WHERE purchase_id = $1 AND state = $3")
        .bind(job.purchase_id)
        .bind(PurchaseState::Settling)
        .bind(PurchaseState::Paid)
        .execute(state.db())
        .await?;
    if p.state == PurchaseState::Paid {
        p.state = PurchaseState::Settling;
    }
    match already_settled(state, pref).await {
        Ok(Some(tx)) => {
            return Ok(done(
                "already_settled",
                tx,
                Some("paymentRef already used on chain"),
            ));
        }
        Ok(None) => {}
        Err(e) => return Ok(Step::Retry(e.to_string())),
    }
    // Still possible? (The contract checks again; this avoids sending doomed transactions.) The
    // edition is read once: a primary sale checks its price and status, and every sale that
    // its master is still the one served here.
    let chain = state.chain();
    let edition = match chain.edition(p.film_id, p.quality).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Ok(Step::Impossible(format!(
                "edition {}/{} does not exist",
                p.film_id, p.quality
            )));
        }
        Err(e) => return Ok(Step::Retry(e.to_string())),
    };
    let check = if let Some(offer_id) = p.offer_id {
        chain.offer(offer_id).await.map(|o| match o {
            Some(o) if o.active && o.price_cents == p.amount => None,
            Some(o) if o.active => Some(format!(
                "offer {offer_id} now costs {} cents, {} paid",
                o.price_cents, p.amount
            )),
            _ => Some(format!(
                "offer {offer_id} is no longer active (sold or cancelled)"
            )),
        })
    } else if !edition.active {
        Ok(Some(format!(
            "edition {}/{} was withdrawn from sale",
            p.film_id, p.quality
        )))
    } else if edition.price_cents != p.amount {
        Ok(Some(format!(
            "edition price is now {} cents, {} paid",
            edition.price_cents, p.amount
        )))
    } else {
        Ok(None)
    };
    match check {
        Ok(Some(reason)) => return Ok(Step::Impossible(reason)),
        Ok(None) => {}
        Err(e) => return Ok(Step::Retry(e.to_string())),
    }
    // The studio may have changed the master on chain since the purchase was created, before
    // uploading it: retried, as the upload usually follows, until the settlement deadline
    // refunds the buyer.
    match crate::masters::serves(state.db(), p.film_id, p.quality, edition.master_hash).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Step::Retry(format!(
                "edition {}/{}: the master registered on chain is not the one this deployment serves",
                p.film_id, p.quality
            )));
        }
        Err(e) => return Ok(Step::Retry(e.to_string())),
    }
    // The buyer was a wallet when the purchase was created; an address can get code since (a
    // contract deployed at a precomputed address): no licence goes to a contract.
    match chain.can_hold_licences(p.buyer).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Step::Impossible(format!(
                "the buyer {} is now a contract, which cannot hold a licence",
                p.buyer
            )));
        }
        Err(e) => return Ok(Step::Retry(e.to_string())),
    }
    let sent = match p.offer_id {
        Some(offer_id) => {
            chain
                .settle_card_offer(offer_id, p.amount, p.buyer, pref)
                .await
        }
        None => {
            chain
                .settle_card_primary(p.film_id, p.quality, p.amount, p.buyer, pref)
                .await
        }
    };
    Ok(match sent {
        Ok(tx) => {
            tracing::info!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, kind = %p.kind, tx_hash = %tx, "settled on chain");
            done("fulfilled", Some(tx), None)
        }
        Err(ChainError::Reverted(r)) => match *r {
            E::MarketPaymentRefUsed(_) => match already_settled(state, pref).await {
                Ok(Some(tx)) => done(
                    "already_settled",
                    tx,
                    Some("paymentRef already used on chain"),
                ),
                _ => Step::Retry("paymentRef reported used; confirming on the next attempt".into()),
            },
            other => reverted(other),
        },
        Err(e) => Step::Retry(e.to_string()),
    })
}

/// What a settlement's revert means: impossible (refund), or worth another attempt (a paused
/// market, an exhausted float: bounded by `settlement_deadline_secs`).
fn reverted(r: E) -> Step {
    match r {
        E::MarketEditionInactive(_) => Step::Impossible("edition withdrawn from sale".into()),
        E::MarketOfferNotActive(_) => {
            Step::Impossible("offer no longer active (sold or cancelled)".into())
        }
        E::MarketPriceMismatch(m) => Step::Impossible(format!(
            "price is now {} cents, {} paid",
            m.actualCents, m.expectedCents
        )),
        E::RegistryEditionNotFound(_) | E::RegistryFilmNotFound(_) => {
            Step::Impossible("edition does not exist".into())
        }
        // The studio raised the edition's resale floor above the offer's price after it was paid.
        E::MarketPriceBelowFloor(f) => Step::Impossible(format!(
            "the offer's price, {} cents, is below the edition's resale floor of {} cents",
            f.priceCents, f.floorCents
        )),
        E::MarketInvalidRecipient(_) => Step::Impossible("invalid recipient".into()),
        E::MarketInsufficientBalance(b) => {
            metrics::counter!("operator_float_exhausted_total").increment(1);
            Step::Retry(format!(
                "operator float too low: {} units, {} needed",
                b.balance, b.needed
            ))
        }
        E::EnforcedPause(_) => Step::Retry("the market is paused".into()),
        // The day's card settlements reached the platform's limit: the next UTC day, or a limit the
        // admin raises, lets it through (bounded by `settlement_deadline_secs`, then refunded).
        E::MarketCardSettlementLimit(l) => {
            metrics::counter!("card_settlement_limit_reached_total").increment(1);
            Step::Retry(format!(
                "the day's card settlements reached the limit: {} of {} cents settled, {} more asked",
                l.settledCents, l.limitCents, l.priceCents
            ))
        }
        other => Step::Retry(format!("contract reverted: {other:?}")),
    }
}

fn done(outcome: &'static str, tx: Option<B256>, detail: Option<&str>) -> Step {
    Step::Done {
        outcome,
        tx,
        detail: detail.map(str::to_owned),
    }
}

/// Refunds a purchase through Stripe, once (Stripe is asked first).
pub(super) async fn refund(state: &AppState, job: &Job, p: &Purchase) -> Step {
    if p.state == PurchaseState::Refunded {
        return done("already_settled", None, Some("already refunded"));
    }
    let Some(intent) = p.payment_intent_id.as_deref() else {
        return done("failed", None, Some("no PaymentIntent to refund"));
    };
    // A settlement given up may still have landed (a transaction mined after its attempt
    // timed out, or a settlement an operator retried): the chain is read first, and a live
    // licence found means no refund — for a purchase waiting for its settlement or failed, its
    // payment reference; for one whose reinstatement was given up, the reinstatement's. If the
    // chain cannot be read, the refund goes ahead: never charged without a licence.
    let pref = match p.state {
        PurchaseState::Paid | PurchaseState::Settling | PurchaseState::Failed => {
            Some(payment_ref(intent))
        }
        PurchaseState::Revoked => Some(reinstatement_ref(intent)),
        _ => None,
    };
    if let Some(pref) = pref {
        match already_settled(state, pref).await {
            Ok(Some(tx)) => {
                return done(
                    "already_settled",
                    tx,
                    Some("settled on chain before the refund"),
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(target: "tangible::api::jobs", purchase_id = %job.purchase_id, error = %e,
                    "cannot read the chain before refunding: refunding anyway");
            }
        }
    }
    let purchase_id = job.purchase_id.to_string();
    // A previous attempt may have refunded at Stripe and died before recording it. The
    // idempotency key below covers a retry within Stripe's key lifetime only (and the
    // emulator ignores it), so ask Stripe first.
    match state.stripe().existing_refund(intent, &purchase_id).await {
        Ok(Some(refund_id)) => {
            return done("refunded", None, Some(&refund_id));
        }
        Ok(None) => {}
        Err(e) => return Step::Retry(e.to_string()),
    }
    // One key per queued job: retries of one job share it; a refund an operator queues again
    // after Stripe refused is a new request (Stripe replays a key's answer for 24 h).
    let key = format!("refund-{}-{}", job.purchase_id, job.queued_at_us);
    // The purchase row changes with the attempt record, in one transaction (see `process`).
    match state.stripe().refund(intent, &purchase_id, &key).await {
        Ok(refund_id) => done("refunded", None, Some(&refund_id)),
        Err(GatewayError::Refused { status, message }) => done(
            "failed",
            None,
            Some(&format!("stripe refused the refund ({status}): {message}")),
        ),
        Err(e) => Step::Retry(e.to_string()),
    }
}

/// Revokes the live licence of a purchase (the reinstated one, if any) once it is settled:
/// after a dispute (as a chargeback) or a refund made at Stripe (as "other").
pub(super) async fn revoke(state: &AppState, p: &Purchase) -> Step {
    match p.state {
        PurchaseState::Paid | PurchaseState::Settling => {
            return Step::Retry("waiting for the settlement before revoking".into());
        }
        PurchaseState::Fulfilled
        | PurchaseState::Disputed
        | PurchaseState::Revoked
        | PurchaseState::Reinstated
        | PurchaseState::DisputeLost => {}
        other @ (PurchaseState::AwaitingPayment
        | PurchaseState::Failed
        | PurchaseState::Refunded
        | PurchaseState::Expired) => {
            return done(
                "failed",
                None,
                Some(&format!("purchase is {other}: no licence to revoke")),
            );
        }
    }
    let Some(licence_id) = p.reinstated_licence_id.or(p.licence_id) else {
        return done("failed", None, Some("no licence id"));
    };
    let (reason, why) = match p.revoke_reason.as_deref() {
        Some("refunded_outside_api") => (REASON_OTHER, "refunded outside the API"),
        _ => (REASON_CHARGEBACK, "chargeback"),
    };
    match state.chain().licence(licence_id).await {
        // Revoked for something else than a resale: nothing left to unwind.
        Ok(Some(l)) if l.revoked_unsold() => {
            return done("revoked", None, Some("licence already revoked"));
        }
        // Live, or resold: the contract follows a resale made while the card payment was
        // still pending to the licence that replaced it, gives back every pending share and
        // revokes the live licence at the end (`LicenceIsRevoked` when nothing was pending).
        Ok(Some(_)) => {}
        Ok(None) => return Step::Retry("licence not found on chain yet".into()),
        Err(e) => return Step::Retry(e.to_string()),
    }
    match state.chain().revoke(licence_id, reason).await {
        Ok(tx) => {
            tracing::warn!(target: "tangible::api::jobs", licence_id = %licence_id, tx_hash = %tx, why, "licence revoked");
            done("revoked", Some(tx), Some(why))
        }
        Err(ChainError::Reverted(r)) if matches!(*r, E::LicenceIsRevoked(_)) => {
            done("revoked", None, Some("licence already revoked"))
        }
        Err(e) => Step::Retry(e.to_string()),
    }
}

/// Gives the buyer of a purchase whose dispute was closed won a new licence of the same
/// edition, once its first licence is revoked: a primary card settlement at the edition's
/// current price, paid from the float, under [`reinstatement_ref`] (so once only). The
/// `detail` of a done step is the new licence id (decimal). A withdrawn edition makes it
/// impossible: the buyer is refunded instead.
pub(super) async fn reinstate(state: &AppState, p: &Purchase) -> anyhow::Result<Step> {
    match p.state {
        PurchaseState::Revoked => {}
        PurchaseState::Disputed => {
            return Ok(Step::Retry(
                "waiting for the revocation before reinstating".into(),
            ));
        }
        PurchaseState::Reinstated => {
            return Ok(done("already_settled", None, Some("already reinstated")));
        }
        other => {
            return Ok(done(
                "failed",
                None,
                Some(&format!("purchase is {other}: nothing to reinstate")),
            ));
        }
    }
    let intent = p
        .payment_intent_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("revoked purchase without a PaymentIntent"))?;
    let pref = reinstatement_ref(intent);
    let licence = card_licence_id(pref).to_string();
    match already_settled(state, pref).await {
        Ok(Some(tx)) => return Ok(done("reinstated", tx, Some(&licence))),
        Ok(None) => {}
        Err(e) => return Ok(Step::Retry(e.to_string())),
    }
    let chain = state.chain();
    let price = match chain.edition(p.film_id, p.quality).await {
        Ok(Some(e)) if e.active => e.price_cents,
        Ok(Some(_)) => {
            return Ok(Step::Impossible(format!(
                "edition {}/{} was withdrawn from sale: no new licence can be minted",
                p.film_id, p.quality
            )));
        }
        Ok(None) => {
            return Ok(Step::Impossible(format!(
                "edition {}/{} does not exist",
                p.film_id, p.quality
            )));
        }
        Err(e) => return Ok(Step::Retry(e.to_string())),
    };
    Ok(
        match chain
            .settle_card_primary(p.film_id, p.quality, price, p.buyer, pref)
            .await
        {
            Ok(tx) => done("reinstated", Some(tx), Some(&licence)),
            Err(ChainError::Reverted(r)) => match *r {
                E::MarketPaymentRefUsed(_) => Step::Retry(
                    "reinstatement reported settled; confirming on the next attempt".into(),
                ),
                other => reverted(other),
            },
            Err(e) => Step::Retry(e.to_string()),
        },
    )
}
