//! Secondary indexes during a large backfill: dropped when the events ahead outnumber those
//! stored (inserting without them is faster), re-created once the indexer has caught up.

use std::time::Instant;

use tracing::info;

use super::{Indexer, TARGET};
use crate::Result;
use crate::rpc::Rpc;
use crate::store;

impl<R: Rpc> Indexer<R> {
    /// Drops the secondary indexes for the rest of a backfill when it is large: at least
    /// `defer_indexes_above` events ahead (extrapolated from this batch) and at least as many
    /// as already stored (re-creating indexes over a large table for a short backfill would
    /// cost more than it saves). Considered once per run, on the first batch with events.
    pub(super) async fn consider_deferring_indexes(
        &mut self,
        batch_events: u64,
        from: u64,
        to: u64,
        head: u64,
    ) -> Result<()> {
        self.defer_considered = true;
        let threshold = self.cfg.defer_indexes_above;
        if self.deferred || threshold == 0 {
            return Ok(());
        }
        let span = to - from + 1;
        let ahead = batch_events.saturating_mul(head.saturating_sub(from) + 1) / span;
        if ahead < threshold {
            return Ok(());
        }
        let stored = store::estimated_events(&self.pool).await?;
        if ahead < stored {
            return Ok(());
        }
        let dropped = store::defer_indexes(&self.pool, true).await?;
        self.deferred = dropped > 0;
        info!(target: TARGET, dropped, events_ahead = ahead, events_stored = stored,
              "backfill: secondary indexes deferred until caught up");
        Ok(())
    }

    /// Re-creates the deferred secondary indexes (one transaction).
    pub(super) async fn restore_indexes(&mut self) -> Result<()> {
        let started = Instant::now();
        let restored = store::restore_indexes(&self.pool).await?;
        self.deferred = false;
        info!(target: TARGET, restored, ms = started.elapsed().as_millis() as u64,
              "secondary indexes re-created");
        Ok(())
    }
}
