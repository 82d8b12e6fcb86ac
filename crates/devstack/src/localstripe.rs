//! The `localstripe` Stripe emulator: started on its port, and the API's webhook registered
//! in it with the stack's signing secret.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::STRIPE_WEBHOOK_SECRET;
use crate::process::Managed;

/// Starts localstripe on `port`, from scratch; returns once it listens there itself.
pub(crate) async fn start(bin: &Path, port: u16, log_dir: &Path) -> Result<Managed> {
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &port.to_string(), "--from-scratch"]);
    let child = Managed::spawn_logged("localstripe", cmd, log_dir)?;
    let started = Instant::now();
    // Listening itself, not merely a port that answers (another process may have taken it).
    while !child.listens_on(port) {
        child.ensure_running()?;
        if started.elapsed() > Duration::from_secs(30) {
            bail!("localstripe did not listen on port {port} in 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(child)
}

/// The event types the API handles, the only ones its endpoint subscribes to (as
/// deploy/README.md tells an operator to set up at Stripe): any other type reaching the API is
/// stored and raised as an `unhandled_type` alert, and localstripe also emits
/// `balance.available` events for every charge.
const WEBHOOK_EVENTS: [&str; 5] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.dispute.created",
    "charge.dispute.closed",
    "charge.refunded",
];

/// Registers `url` as localstripe's webhook for [`WEBHOOK_EVENTS`], signed with
/// [`STRIPE_WEBHOOK_SECRET`].
pub(crate) async fn register_webhook(stripe_url: &str, url: &str) -> Result<()> {
    let mut form = vec![("url", url), ("secret", STRIPE_WEBHOOK_SECRET)];
    form.extend(WEBHOOK_EVENTS.iter().map(|e| ("events[]", *e)));
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?
        .post(format!("{stripe_url}/_config/webhooks/tangible"))
        .form(&form)
        .send()
        .await
        .context("registering the webhook in localstripe")?;
    if !r.status().is_success() {
        bail!("localstripe refused the webhook: {}", r.status());
    }
    Ok(())
}
