//! Money reconciliation: for a period, every cent charged at Stripe is either settled on chain,
//! refunded, or pending, and every mismatch is listed with its purchase
//! (`GET /v1/admin/reconciliation`, `tangible admin reconcile`).
//!
//! # The identity
//!
//! For the period `[from, to)`:
//!
//! `stripe_charged = settled + refunded + pending`, to the cent, where, for every **succeeded
//! Stripe charge created in the period** (Stripe's `created` of the charge) of a purchase of
//! this API, with amount `A` and amount refunded at Stripe `R`:
//!
//! - `stripe_charged` counts `A`;
//! - `settled` counts the prices of its settlements **on chain** (`SaleSettled` events under its
//!   `paymentRef = keccak256(pi)` or its reinstatement's `keccak256(pi ‖ "/reinstatement")`)
//!   whose licence is **not revoked**, or revoked only because it was resold (replaced by its
//!   buyer's licence: that sale stands);
//! - `refunded` counts `R`, plus `A − R` when the purchase's dispute closed lost (state
//!   `dispute_lost`: the bank took the money back; also reported as `charged_back`);
//! - `pending` counts `A − refunded` when nothing is settled yet and the money is still in
//!   flight: the purchase is `awaiting_payment` / `paid` / `settling` (settlement or refund
//!   under way), or `disputed` / `revoked` by a dispute still open;
//!
//! plus, in `settled`, every settlement on chain **in the period** (block time) under a payment
//! reference that is no purchase's (nor its reinstatement's): money out of the float with no
//! charge.
//!
//! How each case appears: a fulfilled purchase is settled `A`; a purchase refunded because its
//! settlement failed is refunded `A` (nothing settled); a dispute open with the licence revoked
//! is pending `A`; a dispute won is settled `A` by the reinstatement (a second settlement,
//! paid from the operator's float: the first one, revoked, is outside the identity and
//! reported as `revoked_settlements`, the float's cost of the dispute); a dispute lost is
//! refunded (charged back) `A`, its revoked settlement again in `revoked_settlements`; a
//! declined card is no charge at all.
//!
//! # Mismatches (see [`MismatchKind`])
//!
//! Per charge: a part of `A` in no term (`unaccounted`: e.g. settled then revoked without a
//! refund or an open dispute, or a purchase the API calls fulfilled that the chain never
//! settled); a live settlement at another price than `A` (`amount_mismatch`); a live
//! settlement and money returned (`settled_and_refunded`: double value); a refund at Stripe the
//! API has not recorded (`refund_not_recorded`); money pending for longer than it can be
//! (`stale_pending`: in flight over a day, a dispute open over 130 days); more accounted than
//! charged otherwise (`over_accounted`). Outside charges: a purchase settled on chain whose PaymentIntent has no
//! succeeded charge (`settled_without_charge`, period by purchase creation), a settlement under
//! an unknown payment reference (`unknown_payment_ref`), and a charge Stripe did not answer for
//! (`stripe_unreadable`: the report is then incomplete). `difference` is the identity's
//! left side minus its right side; the period reconciles when it is 0 and nothing is listed.
//!
//! # Sources, and their limits
//!
//! - Stripe: each purchase's PaymentIntent and its latest charge, **read by id**
//!   ([`crate::stripe::StripeGateway::charge_of`]), for the purchases created from
//!   [`LOOKBACK`] before the period to its end. Charges are not listed: the emulator the tests
//!   run against (localstripe) refuses `GET /v1/charges` with `created[gte]`/`created[lt]`
//!   ("Not implemented"), and is shared by many test deployments. So a charge made at Stripe
//!   for no purchase of this API (from the dashboard) is not seen by this report.
//! - The chain: the `SaleSettled` events of the market, read from the node
//!   ([`crate::chain::ChainClient::card_settlements`]), and each settled licence's `revoked`
//!   flag — not the indexer's mirror (`sales`), so the report neither depends on the indexer
//!   nor lags behind it. The events are read from the deployment block in one `eth_getLogs`
//!   call: a node capping log ranges would need paging here.
//! - The API's database: which purchases exist, their state (disputes are known from Stripe's
//!   events only), and whether a refund was recorded.

use std::collections::{HashMap, HashSet};

use alloy::primitives::B256;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures::StreamExt;
use sqlx::Row;
use tangible_api_types::reconciliation::{Mismatch, MismatchKind, Period, ReconciliationReport};
use uuid::Uuid;

use crate::chain::{self, ChainError, Settlement};
use crate::state::AppState;
use crate::stripe::ChargeSummary;

mod classify;

use classify::{ChargeFacts, classify, stale};

/// How long before the period a purchase may have been created and still be charged in it
/// (purchases are abandoned after `abandon_after_secs`; a payment may still reach one later).
pub const LOOKBACK: TimeDelta = TimeDelta::days(30);

/// Stripe reads in flight at once.
const STRIPE_CONCURRENCY: usize = 8;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReconciliationError {
    /// The period is malformed or empty.
    #[error("{0}")]
    Period(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// Another report is being made on this instance.
    #[error("a reconciliation report is already being made: retry when it is done")]
    Busy,
}

/// Parses a period bound: a date (`YYYY-MM-DD`: its first instant, UTC; the day after's when it
/// is the end, so that the end date is included) or an RFC 3339 instant.
fn parse_bound(field: &str, s: &str, end: bool) -> Result<DateTime<Utc>, ReconciliationError> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end {
            d.succ_opt()
                .ok_or_else(|| ReconciliationError::Period(format!("{field} out of range")))?
        } else {
            d
        };
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ReconciliationError::Period(format!(
                "{field} must be a date (YYYY-MM-DD) or an RFC 3339 instant, not {s:?}"
            ))
        })
}

/// The longest period one report covers (its cost grows with the purchases in it).
pub const MAX_PERIOD: TimeDelta = TimeDelta::days(366);

/// The period `[from, to)` of `from` and `to` as the query gives them (see
/// [`tangible_api_types::reconciliation::ReconciliationQuery`]): after 2000-01-01, at most
/// [`MAX_PERIOD`] long.
pub fn parse_period(from: &str, to: &str) -> Result<Period, ReconciliationError> {
    let from = parse_bound("from", from, false)?;
    let to = parse_bound("to", to, true)?;
    let earliest = DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
    if from < earliest {
        return Err(ReconciliationError::Period(
            "the period must start in 2000 or later".into(),
        ));
    }
    if to <= from {
        return Err(ReconciliationError::Period(
            "the period must end after it starts".into(),
        ));
    }
    if to - from > MAX_PERIOD {
        return Err(ReconciliationError::Period(format!(
            "a report covers at most {} days: split the period",
            MAX_PERIOD.num_days()
        )));
    }
    Ok(Period { from, to })
}

/// One report at a time per instance: each reads every charge of its period from Stripe.
static REPORTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// A purchase of the API with a PaymentIntent.
struct PurchaseRow {
    purchase_id: Uuid,
    payment_intent_id: String,
    state: String,
    refund_id: Option<String>,
    revoke_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn in_period(period: &Period, unix: i64) -> bool {
    DateTime::from_timestamp(unix, 0).is_some_and(|t| t >= period.from && t < period.to)
}

fn cents(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The report for `period` (see the module documentation for what it holds).
pub async fn report(
    state: &AppState,
    period: Period,
) -> Result<ReconciliationReport, ReconciliationError> {
    let _one = REPORTING
        .try_acquire()
        .map_err(|_| ReconciliationError::Busy)?;
    let rows = sqlx::query(
        "SELECT purchase_id, payment_intent_id, state, refund_id, revoke_reason, created_at, updated_at \
         FROM api_purchases WHERE payment_intent_id IS NOT NULL \
           AND created_at >= $1 AND created_at < $2 ORDER BY created_at, purchase_id",
    )
    .bind(period.from - LOOKBACK)
    .bind(period.to)
    .fetch_all(state.db())
    .await?;
    let purchases: Vec<PurchaseRow> = rows
        .iter()
        .map(|r| {
            Ok(PurchaseRow {
                purchase_id: r.try_get("purchase_id")?,
                payment_intent_id: r.try_get("payment_intent_id")?,
                state: r.try_get("state")?,
                refund_id: r.try_get("refund_id")?,
                revoke_reason: r.try_get("revoke_reason")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;

    // The chain: every card settlement, by payment reference, with its licence's revocation.
    let settlements = state.chain().card_settlements().await?;
    let mut by_ref: HashMap<B256, Vec<&Settlement>> = HashMap::new();
    for s in &settlements {
        by_ref.entry(s.payment_ref).or_default().push(s);
    }

    // Stripe: each purchase's charge, read by id.
    let stripe = state.stripe();
    let intents: Vec<String> = purchases
        .iter()
        .map(|p| p.payment_intent_id.clone())
        .collect();
    let charges: Vec<Result<Option<ChargeSummary>, String>> =
        futures::stream::iter(intents.into_iter().map(|pi| async move {
            // Within the Stripe read budget the polling and the sweeper share.
            state.budgets().stripe_read().await;
            stripe.charge_of(&pi).await.map_err(|e| e.to_string())
        }))
        .buffered(STRIPE_CONCURRENCY)
        .collect()
        .await;

    let mut report = ReconciliationReport {
        period: period.clone(),
        charges: 0,
        stripe_charged_cents: 0,
        settled_cents: 0,
        refunded_cents: 0,
        charged_back_cents: 0,
        pending_cents: 0,
        revoked_settlements_cents: 0,
        difference: 0,
        mismatches: Vec::new(),
        method: format!(
            "charges: each PaymentIntent of the purchases created from {} days before the \
             period, read by id at Stripe, counted by charge creation time; settlements: the \
             market's SaleSettled events read from the chain node, licences' revocation read \
             on chain",
            LOOKBACK.num_days()
        ),
    };
    let mut known_refs: HashSet<B256> = HashSet::new();
    for (p, charge) in purchases.iter().zip(charges) {
        let refs = [
            chain::payment_ref(&p.payment_intent_id),
            chain::reinstatement_ref(&p.payment_intent_id),
        ];
        known_refs.extend(refs);
        let mine: Vec<&Settlement> = refs
            .iter()
            .flat_map(|r| by_ref.get(r).into_iter().flatten().copied())
            .collect();
        let mismatch = |kind, stripe_cents, refunded, chain_cents, detail: String| Mismatch {
            kind_of_mismatch: kind,
            purchase_id: Some(p.purchase_id),
            payment_intent_id: Some(p.payment_intent_id.clone()),
            payment_ref: Some(refs[0].to_string()),
            state: Some(p.state.clone()),
            stripe_cents,
            stripe_refunded_cents: refunded,
            chain_cents,
            tx_hashes: mine
                .iter()
                .filter_map(|s| s.tx_hash.map(|t| t.to_string()))
                .collect(),
            detail,
        };
        let charge = match charge {
            Ok(c) => c.filter(|c| c.status == "succeeded"),
            Err(e) => {
                if p.created_at >= period.from && p.created_at < period.to {
                    report.mismatches.push(mismatch(
                        MismatchKind::StripeUnreadable,
                        0,
                        0,
                        0,
                        format!("the charge could not be read from Stripe: {e}"),
                    ));
                }
                continue;
            }
        };
        let Some(charge) = charge else {
            // No money taken: any settlement of it is a licence without a charge.
            let chain_cents: i64 = mine.iter().map(|s| cents(s.price_cents)).sum();
            if chain_cents > 0 && p.created_at >= period.from && p.created_at < period.to {
                report.settled_cents += chain_cents;
                report.mismatches.push(mismatch(
                    MismatchKind::SettledWithoutCharge,
                    0,
                    0,
                    chain_cents,
                    "settled on chain, but its PaymentIntent has no succeeded charge".into(),
                ));
            }
            continue;
        };
        if !in_period(&period, charge.created) {
            continue;
        }
        let mut settled = Vec::with_capacity(mine.len());
        for s in &mine {
            // A licence resold since was replaced by its buyer's: its sale still stands.
            let revoked = state
                .chain()
                .licence(s.licence_id)
                .await?
                .is_some_and(|l| l.revoked_unsold());
            settled.push((cents(s.price_cents), revoked));
        }
        let dispute_open = p.state == "disputed"
            || (p.state == "revoked" && p.revoke_reason.as_deref() == Some("dispute"));
        let facts = ChargeFacts {
            amount: charge.amount_cents,
            refunded_at_stripe: charge.refunded_cents,
            state: &p.state,
            refund_recorded: (p.state == "refunded" && p.refund_id.is_some())
                || p.revoke_reason.as_deref() == Some("refunded_outside_api"),
            dispute_open,
            settlements: settled,
            stale: stale(&p.state, dispute_open, Utc::now() - p.updated_at),
        };
        let c = classify(&facts);
        report.charges += 1;
        report.stripe_charged_cents += charge.amount_cents;
        report.settled_cents += c.settled;
        report.refunded_cents += c.refunded;
        report.charged_back_cents += c.charged_back;
        report.pending_cents += c.pending;
        report.revoked_settlements_cents += c.revoked_settlements;
        for kind in c.mismatches {
            report.mismatches.push(mismatch(
                kind,
                charge.amount_cents,
                charge.refunded_cents,
                c.settled,
                format!(
                    "charge {} of {} cents, {} refunded at Stripe; on chain {} live, {} revoked; \
                     state {}: counted {} settled, {} refunded, {} pending",
                    charge.charge_id,
                    charge.amount_cents,
                    charge.refunded_cents,
                    c.settled,
                    c.revoked_settlements,
                    p.state,
                    c.settled,
                    c.refunded,
                    c.pending
                ),
            ));
        }
    }

    // Settlements in the period under a payment reference that is no purchase's.
    let unmatched: Vec<&Settlement> = settlements
        .iter()
        .filter(|s| !known_refs.contains(&s.payment_ref))
        .filter(|s| {
            s.block_timestamp
                .and_then(|t| i64::try_from(t).ok())
                .is_some_and(|t| in_period(&period, t))
        })
        .collect();
    if !unmatched.is_empty() {
        // Purchases created before the lookback, and reinstatements of those, are known too.
        let refs: Vec<String> = unmatched
            .iter()
            .map(|s| s.payment_ref.to_string())
            .collect();
        let older: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT payment_ref, payment_intent_id FROM api_purchases \
             WHERE payment_intent_id IS NOT NULL AND created_at < $2 \
               AND (payment_ref = ANY($1) OR reinstated_licence_id IS NOT NULL)",
        )
        .bind(&refs)
        .bind(period.from - LOOKBACK)
        .fetch_all(state.db())
        .await?;
        let older: HashSet<B256> = older
            .into_iter()
            .flat_map(|(_, pi)| [chain::payment_ref(&pi), chain::reinstatement_ref(&pi)])
            .collect();
        for s in unmatched
            .into_iter()
            .filter(|s| !older.contains(&s.payment_ref))
        {
            let price = cents(s.price_cents);
            report.settled_cents += price;
            report.mismatches.push(Mismatch {
                kind_of_mismatch: MismatchKind::UnknownPaymentRef,
                purchase_id: None,
                payment_intent_id: None,
                payment_ref: Some(s.payment_ref.to_string()),
                state: None,
                stripe_cents: 0,
                stripe_refunded_cents: 0,
                chain_cents: price,
                tx_hashes: s.tx_hash.map(|t| t.to_string()).into_iter().collect(),
                detail: format!(
                    "licence {} settled on chain for {price} cents under a payment reference \
                     no purchase made",
                    s.licence_id
                ),
            });
        }
    }
    report.difference = report.stripe_charged_cents
        - (report.settled_cents + report.refunded_cents + report.pending_cents);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_dates_includes_its_last_day() {
        let p = parse_period("2026-12-01", "2026-12-31").unwrap();
        assert_eq!(p.from.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(p.to.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        let p = parse_period("2026-12-01T10:00:00Z", "2026-12-01T11:00:00+01:00").unwrap_err();
        assert!(p.to_string().contains("end after"), "{p}");
        assert!(parse_period("yesterday", "2026-12-31").is_err());
        // Bounded: no year before 2000 (nor the far ends of the calendar), at most a year long.
        for (from, to) in [
            ("-262143-01-01", "2026-12-31"),
            ("-4713-01-01", "2026-12-31"),
            ("1999-12-31", "2000-01-01"),
            ("2000-01-01", "2099-12-31"),
            ("2026-01-01", "+262142-12-31"),
        ] {
            assert!(parse_period(from, to).is_err(), "{from} → {to}");
        }
        assert!(parse_period("2026-01-01", "2026-12-31").is_ok());
    }
}
