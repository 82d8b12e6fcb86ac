//! The maintenance loop beside the workers: the float's gauge and alert, the clearance of due
//! card sales, the cleanup of spent login nonces.

use std::time::Duration;

use tokio::sync::watch;

use super::{alert, clearance};
use crate::state::AppState;

/// Periodic upkeep beside the workers: publishes the operator's float (`operator_float_cents`,
/// an operator alert `float_low` when it falls under `float_warning_cents`), credits the card
/// sales whose clearance time has passed ([`clearance::sweep`]) and deletes login nonces that
/// expired more than an hour ago (a spent nonce stays until then, so a replay is refused).
pub async fn run_maintenance(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(state.config().maintenance_interval_secs);
    // The float was low at the last reading: alert once when it falls low, not every round.
    let mut was_low = false;
    loop {
        match state.chain().operator_float_cents().await {
            Ok(cents) => {
                metrics::gauge!("operator_float_cents").set(cents as f64);
                let low = cents < state.config().float_warning_cents;
                metrics::gauge!("operator_float_low").set(if low { 1.0 } else { 0.0 });
                if low && !was_low {
                    let detail = format!(
                        "operator float {cents} cents is below {} cents: top it up with deposit() \
                         before card settlements wait (and are refunded past settlement_deadline_secs)",
                        state.config().float_warning_cents
                    );
                    if let Err(e) = alert(state.db(), "float_low", None, &detail).await {
                        tracing::warn!(target: "tangible::api::jobs", error = %e, "recording the float alert failed");
                    }
                }
                was_low = low;
            }
            Err(e) => {
                tracing::warn!(target: "tangible::api::jobs", error = %e, "cannot read the operator float")
            }
        }
        if let Err(e) = clearance::sweep(&state).await {
            tracing::warn!(target: "tangible::api::jobs", error = %format!("{e:#}"), "clearing due sales failed");
        }
        if let Err(e) =
            sqlx::query("DELETE FROM api_login_nonces WHERE expires_at < now() - interval '1 hour'")
                .execute(state.db())
                .await
        {
            tracing::warn!(target: "tangible::api::jobs", error = %e, "nonce cleanup failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}
