//! A reorg found by a step (the next range does not continue the checkpoint, or the
//! checkpoint block is gone): the common ancestor is looked up over the recent block hashes and
//! the mirror rolled back to it; a reorg deeper than that window re-indexes from the deployment.

use tracing::{error, warn};

use super::fetch::discard;
use super::{Indexer, StepOutcome, TARGET};
use crate::Result;
use crate::rpc::Rpc;
use crate::store::{self, Checkpoint};

impl<R: Rpc> Indexer<R> {
    /// Finds the common ancestor over the recent block hashes and rolls the mirror back to it.
    pub(super) async fn handle_reorg(&mut self) -> Result<StepOutcome> {
        discard(std::mem::take(&mut self.ahead)).await;
        if self.deferred {
            // The rollback deletes by block number: give it its index back first.
            self.restore_indexes().await?;
        }
        let old = self.checkpoint.map_or(0, |c| c.number);
        let mut ancestor = None;
        for (number, hash) in store::recent_blocks(&self.pool, self.identity.chain_id).await? {
            if let Some(b) = self.rpc.block(number).await?
                && b.hash == hash
            {
                ancestor = Some(Checkpoint { number, hash });
                break;
            }
        }
        let ancestor = match ancestor {
            Some(a) => a,
            None => {
                error!(target: TARGET, checkpoint = old, window = self.cfg.reorg_window,
                       "reorg deeper than the recent block window: re-indexing from the deployment block");
                match self.start_checkpoint().await? {
                    Some(cp) => cp,
                    None => {
                        store::reset(&self.pool).await?;
                        self.checkpoint = None;
                        metrics::counter!("indexer_reorgs_total").increment(1);
                        return Ok(StepOutcome::Reorg {
                            ancestor: 0,
                            depth: old + 1,
                        });
                    }
                }
            }
        };
        let deleted = store::rollback_to(&self.pool, &self.identity, ancestor).await?;
        self.checkpoint = Some(ancestor);
        let depth = old.saturating_sub(ancestor.number);
        metrics::counter!("indexer_reorgs_total").increment(1);
        metrics::counter!("indexer_reorged_blocks_total").increment(depth);
        warn!(target: TARGET, ancestor = ancestor.number, depth, deleted_events = deleted, "reorg rolled back");
        Ok(StepOutcome::Reorg {
            ancestor: ancestor.number,
            depth,
        })
    }
}
