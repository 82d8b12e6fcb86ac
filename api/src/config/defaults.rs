//! The default of each optional setting (serde `default = "defaults::…"`), as functions.

use std::net::SocketAddr;

pub(super) fn listen_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
pub(super) const fn db_max_connections() -> u32 {
    16
}
pub(super) const fn webhook_tolerance_secs() -> u64 {
    300
}
pub(super) fn currency() -> String {
    "eur".to_owned()
}
pub(super) const fn token_ttl_secs() -> u64 {
    24 * 3600
}
pub(super) const fn nonce_ttl_secs() -> u64 {
    600
}
pub(super) fn siwe_domain() -> String {
    "localhost:8080".to_owned()
}
pub(super) fn siwe_uri() -> String {
    "http://localhost:8080".to_owned()
}
pub(super) fn web_dir() -> std::path::PathBuf {
    "web/dist".into()
}
pub(super) fn stripe_js_url() -> String {
    "http://127.0.0.1:8420/js.stripe.com/v3/".to_owned()
}
pub(super) const fn body_limit_bytes() -> usize {
    64 * 1024
}
pub(super) const fn yes() -> bool {
    true
}
pub(super) const fn workers() -> usize {
    2
}
pub(super) const fn worker_poll_ms() -> u64 {
    250
}
pub(super) const fn settle_max_attempts() -> i32 {
    25
}
pub(super) const fn settlement_deadline_secs() -> u64 {
    15 * 60
}
pub(super) const fn retry_base_ms() -> u64 {
    500
}
pub(super) const fn retry_max_ms() -> u64 {
    60_000
}
pub(super) const fn receipt_timeout_secs() -> u64 {
    60
}
pub(super) const fn float_warning_cents() -> u64 {
    10_000
}
pub(super) fn kek_id() -> String {
    "kek-1".to_owned()
}
pub(super) const fn max_master_bytes() -> u64 {
    64 << 30
}
pub(super) const fn shutdown_grace_secs() -> u64 {
    20
}
pub(super) const fn throttle_anonymous_per_minute() -> u32 {
    20
}
pub(super) const fn throttle_anonymous_burst() -> u32 {
    20
}
pub(super) const fn throttle_signed_in_per_minute() -> u32 {
    60
}
pub(super) const fn throttle_signed_in_burst() -> u32 {
    30
}
pub(super) const fn throttle_signed_in_per_address_per_minute() -> u32 {
    300
}
pub(super) const fn throttle_signed_in_per_address_burst() -> u32 {
    100
}
pub(super) const fn throttle_polling_per_minute() -> u32 {
    120
}
pub(super) const fn throttle_polling_burst() -> u32 {
    30
}
pub(super) const fn throttle_payment_intents_per_minute() -> u32 {
    60
}
pub(super) const fn throttle_card_attempts_per_purchase_per_hour() -> u32 {
    5
}
pub(super) const fn throttle_operator_tx_per_wallet_per_hour() -> u32 {
    20
}
pub(super) const fn throttle_operator_tx_per_wallet_burst() -> u32 {
    10
}
pub(super) const fn throttle_operator_tx_per_hour() -> u32 {
    200
}
pub(super) const fn throttle_stripe_reads_per_second() -> u32 {
    20
}
pub(super) fn throttle_trusted_proxies() -> String {
    "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7".to_owned()
}
pub(super) const fn reconcile_interval_secs() -> u64 {
    60
}
pub(super) const fn reconcile_after_secs() -> u64 {
    120
}
pub(super) const fn reconcile_on_read_secs() -> u64 {
    10
}
pub(super) const fn maintenance_interval_secs() -> u64 {
    30
}
pub(super) const fn card_max_purchase_cents() -> u64 {
    50_000
}
pub(super) const fn card_buyer_limit_cents() -> u64 {
    100_000
}
pub(super) const fn card_buyer_period_secs() -> u64 {
    7 * 24 * 3600
}
pub(super) const fn abandon_after_secs() -> u64 {
    24 * 3600
}
