//! The lifecycle of a card purchase and its allowed transitions, in one place.
//!
//! ```text
//!                  (webhook or reconciliation: paid)
//! awaiting_payment ─────────────────────> paid ──(settle job)──> settling ──> fulfilled
//!     │      │                             ^                        │
//!     │      │ (abandoned: PaymentIntent   │ (a payment that        │
//!     │      │  cancelled at Stripe)       │  still arrived)        │
//!     │      └──────────> expired ─────────┘                        │
//!     │                      │                                      │
//!     │ (Stripe error at creation, amount mismatch, intent          │ (refund failed)
//!     │  cancelled outside the API)                                 │
//!     └──────────────────────┴─────────> failed <───────────────────┤
//!                                          │                        │ (settlement impossible,
//!                                          └──────> refunded <──────┘  or not done within
//!                                                                      `settlement_deadline_secs`)
//! ```
//!
//! After fulfilment, from Stripe's word (webhooks) and the revoke and reinstate jobs:
//!
//! ```text
//! fulfilled, reinstated ──(charge.dispute.created)──> disputed ──(revoke job)──> revoked
//! fulfilled, reinstated ──(charge.refunded outside the API; revoke job)───────> revoked
//! disputed, revoked ──(charge.dispute.closed, lost)──> dispute_lost
//! revoked ──(charge.dispute.closed, won; reinstate job: a new licence)──> reinstated
//! revoked ──(won, but no new licence can be minted: refund job)──> refunded
//! ```
//!
//! `refunded` and `dispute_lost` are final; `fulfilled` is final unless Stripe reports a dispute
//! or a refund made outside the API. A dispute closed won gives the buyer a new licence
//! (`reinstated`); a `reinstated` purchase can be disputed or refunded again. `expired` is not: its PaymentIntent is cancelled, so
//! Stripe takes no payment for it any more, but should one have been taken anyway (a payment
//! racing the cancellation) it moves on to `paid` and is settled, or refunded by the settle job
//! when settling is no longer possible — never charged without a licence. The state is stored as text in `api_purchases.state`
//! (the values of [`PurchaseState::as_str`], checked by the table's `CHECK`), and binds and
//! decodes as text.

use std::fmt;
use std::str::FromStr;

use sqlx::Postgres;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};

/// Where a purchase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PurchaseState {
    /// Created with its PaymentIntent; waiting for Stripe's `payment_intent.succeeded`.
    AwaitingPayment,
    /// Paid (amount and currency checked); a settlement job is queued.
    Paid,
    /// A worker is settling it on chain.
    Settling,
    /// Settled on chain: the licence is minted (final).
    Fulfilled,
    /// Failed (Stripe error, amount mismatch, settlement given up, refund refused); a refund
    /// may still follow.
    Failed,
    /// The payment was refunded (final).
    Refunded,
    /// Abandoned: still unpaid `abandon_after_secs` after its creation, its PaymentIntent was
    /// cancelled at Stripe (see `jobs::reconcile`).
    Expired,
    /// Fulfilled, then disputed (`charge.dispute.created`): its licence is being revoked.
    Disputed,
    /// Its licence was revoked on chain (after a dispute, or a refund made outside the API).
    Revoked,
    /// The dispute was closed won: a new licence was minted to the same buyer.
    Reinstated,
    /// The dispute was closed lost: the licence stays revoked (final).
    DisputeLost,
}

impl PurchaseState {
    /// Every state.
    pub const ALL: [Self; 11] = [
        Self::AwaitingPayment,
        Self::Paid,
        Self::Settling,
        Self::Fulfilled,
        Self::Failed,
        Self::Refunded,
        Self::Expired,
        Self::Disputed,
        Self::Revoked,
        Self::Reinstated,
        Self::DisputeLost,
    ];

    /// The stored (and wire) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting_payment",
            Self::Paid => "paid",
            Self::Settling => "settling",
            Self::Fulfilled => "fulfilled",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
            Self::Expired => "expired",
            Self::Disputed => "disputed",
            Self::Revoked => "revoked",
            Self::Reinstated => "reinstated",
            Self::DisputeLost => "dispute_lost",
        }
    }

    /// Whether a purchase in this state may move to `next` (a different state). Rewriting the
    /// same state (a repeated outcome) is not a transition: see [`PurchaseState::allows`].
    pub const fn can_move_to(self, next: Self) -> bool {
        use PurchaseState::{
            AwaitingPayment, DisputeLost, Disputed, Expired, Failed, Fulfilled, Paid, Refunded,
            Reinstated, Revoked, Settling,
        };
        matches!(
            (self, next),
            (AwaitingPayment, Paid | Failed | Expired)
                | (Expired, Paid | Failed)
                | (Paid, Settling)
                | (Settling, Fulfilled | Failed | Refunded)
                | (Failed, Refunded)
                | (Fulfilled | Reinstated, Disputed | Revoked)
                | (Disputed, Revoked | DisputeLost)
                | (Revoked, Reinstated | DisputeLost | Refunded)
        )
    }

    /// Whether a write of `next` is allowed on a purchase in this state: the same state again,
    /// or a transition of [`PurchaseState::can_move_to`].
    pub fn allows(self, next: Self) -> bool {
        self == next || self.can_move_to(next)
    }

    /// No transition leaves this state.
    pub fn is_final(self) -> bool {
        !Self::ALL.into_iter().any(|next| self.can_move_to(next))
    }
}

impl fmt::Display for PurchaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored state that is not one of [`PurchaseState::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown purchase state {0:?}")]
pub struct UnknownPurchaseState(pub String);

impl FromStr for PurchaseState {
    type Err = UnknownPurchaseState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownPurchaseState(s.to_owned()))
    }
}

impl sqlx::Type<Postgres> for PurchaseState {
    fn type_info() -> PgTypeInfo {
        <&str as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl sqlx::Encode<'_, Postgres> for PurchaseState {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for PurchaseState {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(<&str as sqlx::Decode<Postgres>>::decode(value)?.parse()?)
    }
}

#[cfg(test)]
mod tests {
    use super::PurchaseState::{self, *};

    /// The lifecycle as the purchase routes, the webhook and the jobs drive it, written out
    /// pair by pair (not derived from `can_move_to`).
    const ALLOWED: [(PurchaseState, PurchaseState); 19] = [
        (AwaitingPayment, Paid),
        (AwaitingPayment, Failed),
        (AwaitingPayment, Expired),
        (Expired, Paid),
        (Expired, Failed),
        (Paid, Settling),
        (Settling, Fulfilled),
        (Settling, Failed),
        (Settling, Refunded),
        (Failed, Refunded),
        (Fulfilled, Disputed),
        (Fulfilled, Revoked),
        (Disputed, Revoked),
        (Disputed, DisputeLost),
        (Revoked, Reinstated),
        (Revoked, DisputeLost),
        (Revoked, Refunded),
        (Reinstated, Disputed),
        (Reinstated, Revoked),
    ];

    #[test]
    fn exactly_the_lifecycle_transitions_are_allowed() {
        for from in PurchaseState::ALL {
            for to in PurchaseState::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    ALLOWED.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn no_way_back_to_awaiting_payment_and_none_out_of_final_states() {
        for from in PurchaseState::ALL {
            assert!(
                !from.can_move_to(AwaitingPayment),
                "{from} -> awaiting_payment"
            );
            assert!(
                !from.can_move_to(from),
                "{from} -> itself is not a transition"
            );
            assert!(from.allows(from));
        }
        assert!(Refunded.is_final() && DisputeLost.is_final());
        for state in [
            AwaitingPayment,
            Paid,
            Settling,
            Failed,
            Expired,
            Fulfilled,
            Disputed,
            Revoked,
            Reinstated,
        ] {
            assert!(!state.is_final(), "{state}");
        }
        assert!(!Refunded.allows(Fulfilled) && !Failed.allows(Fulfilled));
        assert!(!Fulfilled.allows(Refunded) && !Fulfilled.allows(Failed));
        // A licence is never given back without a revocation first, nor a dispute reopened
        // into a fulfilment.
        assert!(!Disputed.allows(Reinstated) && !Disputed.allows(Fulfilled));
        assert!(!Revoked.allows(Fulfilled) && !DisputeLost.allows(Reinstated));
    }

    #[test]
    fn stored_names_are_the_tables_values_and_parse_back() {
        // The CHECK of api_purchases.state (crates/db/migrations/20261124000000_api_tables.sql,
        // `expired` added by 20261202160000_api_purchases_reconcile.sql, the dispute states by
        // 20261203120000_api_purchase_disputes.sql).
        let stored = [
            "awaiting_payment",
            "paid",
            "settling",
            "fulfilled",
            "failed",
            "refunded",
            "expired",
            "disputed",
            "revoked",
            "reinstated",
            "dispute_lost",
        ];
        assert_eq!(PurchaseState::ALL.map(PurchaseState::as_str), stored);
        for name in stored {
            let state: PurchaseState = name.parse().unwrap();
            assert_eq!(state.to_string(), name);
        }
        assert!("Paid".parse::<PurchaseState>().is_err());
        assert!("".parse::<PurchaseState>().is_err());
    }
}
