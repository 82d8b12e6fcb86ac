//! The size of the `eth_getLogs` range: it starts at the configured size, halves when the node
//! refuses a range, shrinks towards `target_logs` logs per batch when a batch has more, and
//! doubles (up to `max_range`) while full-size batches have fewer than half of that.

use crate::config::IndexerConfig;

/// The range a run starts with: `initial_range`, at most `max_range`, at least one block.
pub(super) fn initial(cfg: &IndexerConfig) -> u64 {
    cfg.initial_range.min(cfg.max_range).max(1)
}

/// The range after the node refused `from..=to` (with `to > from`): half of it, at least one
/// block.
pub(super) fn halved(from: u64, to: u64) -> u64 {
    (to - from).div_ceil(2).max(1)
}

/// The range after a batch of `span` blocks holding `events` events, fetched with a range of
/// `range` blocks (`span` is shorter near the head).
pub(super) fn adapted(cfg: &IndexerConfig, range: u64, span: u64, events: usize) -> u64 {
    if events > cfg.target_logs {
        (span * cfg.target_logs as u64 / events as u64).max(1)
    } else if events < cfg.target_logs / 2 && span == range {
        range.saturating_mul(2).min(cfg.max_range)
    } else {
        range
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_halves_shrinks_to_the_target_and_grows_back() {
        let cfg = IndexerConfig {
            initial_range: 100,
            max_range: 1_000,
            target_logs: 10,
            ..IndexerConfig::default()
        };
        assert_eq!(initial(&cfg), 100);
        assert_eq!(halved(10, 109), 50);
        assert_eq!(halved(10, 11), 1);
        // 40 logs in 100 blocks: a quarter of the blocks for 10 logs.
        assert_eq!(adapted(&cfg, 100, 100, 40), 25);
        // 2 logs in a full-size range: doubled, capped at the maximum.
        assert_eq!(adapted(&cfg, 100, 100, 2), 200);
        assert_eq!(adapted(&cfg, 800, 800, 2), 1_000);
        // Near the head (a shorter span) or close to the target: unchanged.
        assert_eq!(adapted(&cfg, 100, 7, 2), 100);
        assert_eq!(adapted(&cfg, 100, 100, 7), 100);
    }
}
