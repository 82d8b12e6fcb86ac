//! What the stack says while it starts: one line naming each thing it waits for, then every
//! few seconds how long that wait has lasted (`make up` prints them; tests stay silent).

use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

/// How often a wait still under way is reported.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Where the progress lines go ([`crate::StackOptions::progress`]); `None`: nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress(pub(crate) Option<fn(&str)>);

impl Progress {
    /// Awaits `work` after saying "waiting for {what}…"; while it lasts, says every
    /// [`REPORT_EVERY`] how long so far, and once it succeeds after such a report, how long it
    /// took. Without a destination, only awaits `work`.
    pub(crate) async fn waiting_for<T, E>(
        self,
        what: &str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let Some(say) = self.0 else {
            return work.await;
        };
        say(&format!("waiting for {what}…"));
        let started = Instant::now();
        let first = tokio::time::Instant::from_std(started + REPORT_EVERY);
        let mut reports = tokio::time::interval_at(first, REPORT_EVERY);
        reports.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => {
                    let took = started.elapsed();
                    if out.is_ok() && took >= REPORT_EVERY {
                        say(&format!("done waiting for {what} ({} s)", took.as_secs()));
                    }
                    return out;
                }
                _ = reports.tick() => say(&format!(
                    "still waiting for {what} ({} s so far)",
                    started.elapsed().as_secs()
                )),
            }
        }
    }
}
