//! Logs: one `tracing` subscriber for every service.

use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber: `RUST_LOG` filters (default `info`), targets shown,
/// JSON lines (one object per event, its fields flattened, with the current span) when `json`,
/// human-readable lines otherwise. Does nothing when a subscriber is already installed (tests
/// start several services in one process).
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
