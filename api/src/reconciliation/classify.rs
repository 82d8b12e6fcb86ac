//! What one charge's money became (settled, refunded, charged back, pending) and what is wrong
//! with it: the pure part of the reconciliation, from the facts [`super::report`] gathers.

use chrono::TimeDelta;
use tangible_api_types::reconciliation::MismatchKind;

/// What one charge's money became, and what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Classified {
    pub(super) settled: i64,
    pub(super) refunded: i64,
    pub(super) charged_back: i64,
    pub(super) pending: i64,
    pub(super) revoked_settlements: i64,
    pub(super) mismatches: Vec<MismatchKind>,
}

/// What is known of one charge: Stripe's side, the API's record, the chain's settlements.
#[derive(Debug, Clone)]
pub(super) struct ChargeFacts<'a> {
    pub(super) amount: i64,
    pub(super) refunded_at_stripe: i64,
    pub(super) state: &'a str,
    /// The API recorded a refund (its own, or one made at Stripe that it revoked for).
    pub(super) refund_recorded: bool,
    /// The dispute is still open (state `disputed`, or `revoked` because of it).
    pub(super) dispute_open: bool,
    /// (price, licence revoked) of each settlement under its payment references.
    pub(super) settlements: Vec<(i64, bool)>,
    /// The purchase has not moved for longer than money may legitimately stay pending (see
    /// [`stale`]).
    pub(super) stale: bool,
}

/// How long a charged purchase may wait for its settlement or refund: a day (settlements are
/// refunded past `settlement_deadline_secs`, minutes).
const IN_FLIGHT_FOR: TimeDelta = TimeDelta::days(1);
/// How long a dispute may stay open: card networks close them within about 120 days.
const DISPUTE_OPEN_FOR: TimeDelta = TimeDelta::days(130);

/// Money pending for longer than it can be: an in-flight purchase untouched for
/// [`IN_FLIGHT_FOR`], or a dispute the API still sees open after [`DISPUTE_OPEN_FOR`] (one
/// Stripe closed without the API hearing of it, an inquiry closed as `warning_closed`, say).
pub(super) fn stale(state: &str, dispute_open: bool, unchanged_for: TimeDelta) -> bool {
    if dispute_open {
        unchanged_for > DISPUTE_OPEN_FOR
    } else {
        IN_FLIGHT.contains(&state) && unchanged_for > IN_FLIGHT_FOR
    }
}

/// The states in which a charged purchase's money is legitimately not yet settled nor refunded.
const IN_FLIGHT: &[&str] = &["awaiting_payment", "paid", "settling"];

pub(super) fn classify(f: &ChargeFacts<'_>) -> Classified {
    let live: Vec<i64> = f
        .settlements
        .iter()
        .filter(|(_, revoked)| !revoked)
        .map(|(p, _)| *p)
        .collect();
    let settled: i64 = live.iter().sum();
    let revoked_settlements = f
        .settlements
        .iter()
        .filter(|(_, revoked)| *revoked)
        .map(|(p, _)| *p)
        .sum();
    let charged_back = if f.state == "dispute_lost" {
        (f.amount - f.refunded_at_stripe).max(0)
    } else {
        0
    };
    let refunded = f.refunded_at_stripe + charged_back;
    let pending = if settled == 0 && (IN_FLIGHT.contains(&f.state) || f.dispute_open) {
        (f.amount - refunded).max(0)
    } else {
        0
    };
    let mut mismatches = Vec::new();
    if live.iter().any(|p| *p != f.amount) {
        mismatches.push(MismatchKind::AmountMismatch);
    }
    if settled > 0 && refunded > 0 {
        mismatches.push(MismatchKind::SettledAndRefunded);
    }
    if f.refunded_at_stripe > 0 && !f.refund_recorded {
        mismatches.push(MismatchKind::RefundNotRecorded);
    }
    if pending > 0 && f.stale {
        mismatches.push(MismatchKind::StalePending);
    }
    let diff = f.amount - (settled + refunded + pending);
    if mismatches.iter().all(|m| *m == MismatchKind::StalePending) {
        if diff > 0 {
            mismatches.push(MismatchKind::Unaccounted);
        } else if diff < 0 {
            mismatches.push(MismatchKind::OverAccounted);
        }
    }
    Classified {
        settled,
        refunded,
        charged_back,
        pending,
        revoked_settlements,
        mismatches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: &str, refunded: i64, settlements: Vec<(i64, bool)>) -> ChargeFacts<'_> {
        ChargeFacts {
            amount: 1300,
            refunded_at_stripe: refunded,
            state,
            refund_recorded: state == "refunded",
            dispute_open: state == "revoked",
            settlements,
            stale: false,
        }
    }

    #[test]
    fn each_lifecycle_ends_in_exactly_one_term() {
        let cases = [
            ("fulfilled", 0, vec![(1300, false)], (1300, 0, 0)),
            ("refunded", 1300, vec![], (0, 1300, 0)),
            ("settling", 0, vec![], (0, 0, 1300)),
            ("revoked", 0, vec![(1300, true)], (0, 0, 1300)),
            (
                "reinstated",
                0,
                vec![(1300, true), (1300, false)],
                (1300, 0, 0),
            ),
            ("dispute_lost", 0, vec![(1300, true)], (0, 1300, 0)),
        ];
        for (state, refunded, settlements, (s, r, p)) in cases {
            let c = classify(&facts(state, refunded, settlements));
            assert_eq!((c.settled, c.refunded, c.pending), (s, r, p), "{state}");
            assert!(c.mismatches.is_empty(), "{state}: {:?}", c.mismatches);
        }
    }

    #[test]
    fn each_inconsistency_is_named() {
        let kinds = |state, refunded, settlements| {
            classify(&facts(state, refunded, settlements)).mismatches
        };
        assert_eq!(kinds("fulfilled", 0, vec![]), [MismatchKind::Unaccounted]);
        assert_eq!(
            kinds("fulfilled", 0, vec![(1300, true)]),
            [MismatchKind::Unaccounted]
        );
        assert_eq!(
            kinds("fulfilled", 0, vec![(1200, false)]),
            [MismatchKind::AmountMismatch]
        );
        assert_eq!(
            kinds("fulfilled", 1300, vec![(1300, false)]),
            [
                MismatchKind::SettledAndRefunded,
                MismatchKind::RefundNotRecorded
            ]
        );
        assert_eq!(
            kinds("reinstated", 0, vec![(1300, false), (1300, false)]),
            [MismatchKind::OverAccounted]
        );
    }

    #[test]
    fn money_pending_for_too_long_is_named() {
        // A dispute still open after the networks' window, an in-flight purchase after a day.
        let mut f = facts("revoked", 0, vec![(1300, true)]);
        f.stale = stale("revoked", true, TimeDelta::days(131));
        let c = classify(&f);
        assert_eq!(
            (c.pending, c.mismatches),
            (1300, vec![MismatchKind::StalePending])
        );
        assert!(!stale("revoked", true, TimeDelta::days(60)));
        assert!(stale("settling", false, TimeDelta::hours(25)));
        assert!(!stale("settling", false, TimeDelta::hours(2)));
        assert!(!stale("fulfilled", false, TimeDelta::days(400)));
    }
}
