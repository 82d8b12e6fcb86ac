//! The loops around [`Indexer::step`]: [`Indexer::sync`] steps until caught up (errors
//! returned), [`Indexer::run`] follows the head until shut down, retrying transient RPC and
//! database errors with a jittered exponential backoff.

use std::time::Duration;

use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use super::{Indexer, StepOutcome, TARGET};
use crate::rpc::Rpc;
use crate::{IndexerError, Result};

impl<R: Rpc> Indexer<R> {
    /// Steps until caught up with the head minus the confirmations; returns the checkpoint.
    /// Errors are returned, not retried (see [`Indexer::run`] for the resilient loop).
    pub async fn sync(&mut self) -> Result<Option<u64>> {
        loop {
            match self.step().await? {
                StepOutcome::CaughtUp { .. } => return Ok(self.checkpoint.map(|c| c.number)),
                StepOutcome::Retry(why) => {
                    debug!(target: TARGET, %why, "retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                StepOutcome::Indexed { .. } | StepOutcome::Reorg { .. } => {}
            }
        }
    }

    /// Indexes until `shutdown` becomes true: follows the head, retries transient RPC and
    /// database errors with exponential backoff (100 ms to 30 s, with jitter), returns on an
    /// error that needs an operator. A batch interrupted by the shutdown is rolled back whole.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut failures = 0u32;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let outcome = tokio::select! {
                o = self.step() => o,
                _ = shutdown.changed() => break,
            };
            let pause = match outcome {
                Ok(StepOutcome::Indexed { .. } | StepOutcome::Reorg { .. }) => {
                    failures = 0;
                    None
                }
                Ok(StepOutcome::CaughtUp { .. }) => {
                    failures = 0;
                    Some(self.cfg.poll_interval)
                }
                Ok(StepOutcome::Retry(why)) => {
                    debug!(target: TARGET, %why, "retrying");
                    Some(Duration::from_millis(50).min(self.cfg.poll_interval))
                }
                Err(e) if e.is_transient() => {
                    match &e {
                        IndexerError::Rpc(_) => {
                            metrics::counter!("indexer_rpc_errors_total").increment(1)
                        }
                        _ => metrics::counter!("indexer_db_errors_total").increment(1),
                    }
                    failures = failures.saturating_add(1);
                    let delay = backoff(failures);
                    warn!(target: TARGET, error = %e, failures, retry_in_ms = delay.as_millis() as u64, "transient error");
                    Some(delay)
                }
                Err(e) => {
                    error!(target: TARGET, error = %e, "fatal error");
                    return Err(e);
                }
            };
            if let Some(pause) = pause {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => break,
                }
            }
        }
        info!(target: TARGET, checkpoint = ?self.checkpoint.map(|c| c.number), "indexer stopped");
        Ok(())
    }
}

/// Exponential backoff with ±25 % jitter: 100 ms, 200 ms, … capped at 30 s.
fn backoff(failures: u32) -> Duration {
    let base = 100u64
        .saturating_mul(1 << failures.min(10).saturating_sub(1))
        .min(30_000);
    let jitter = rand::random_range(0.75..1.25);
    Duration::from_millis((base as f64 * jitter) as u64)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_grows_exponentially_and_is_capped() {
        assert!(
            backoff(1) <= Duration::from_millis(125) && backoff(1) >= Duration::from_millis(75)
        );
        assert!(
            backoff(4) >= Duration::from_millis(600) && backoff(4) <= Duration::from_millis(1000)
        );
        for f in [20, 1_000, u32::MAX] {
            assert!(
                backoff(f) <= Duration::from_millis(37_500),
                "failures {f}: {:?}",
                backoff(f)
            );
        }
    }
}
