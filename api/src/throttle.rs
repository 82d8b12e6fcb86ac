//! Per-client rate limits on the endpoints that create state or Stripe objects, so one client
//! cannot create PaymentIntents (or nonces, sessions, uploads) by the hundred.
//!
//! Each throttled route gets a GCRA limiter of its own (`tower_governor` over `governor`),
//! keyed by client: a burst of [`Class`]'s size, then its sustained rate per minute; a refused
//! request answers 429 with `Retry-After` (whole seconds, rounded up) and the JSON error body
//! `rate_limited`, and counts in `http_requests_throttled_total{method, path, class}`.
//!
//! The client ([`ClientKey`]): the TCP peer's address (an IPv6 address by its /64, the block
//! one subscriber gets), or, when `throttle_client_ip_header` names a header a trusted reverse
//! proxy sets and the peer is one of `throttle_trusted_proxies`, the address in that header
//! (the last one of a list). No header is read unless configured, nor from any other peer:
//! `X-Forwarded-For` is whatever the client wants it to be. Signed-in writes are
//! keyed by the wallet of a valid bearer token instead (one wallet cannot spread over
//! addresses, and users behind one NAT do not share a budget), by address without one; and,
//! since fresh wallets cost nothing, by address as well, under a larger limit
//! ([`Class::SignedInAddress`]) all the address's wallets share.
//!
//! `GET /v1/purchases/{id}` (a page polling its purchase) has a limit of its own per client
//! ([`Class::Polling`]).
//!
//! Per-client limits do not hold against many clients (a botnet, the many /64s of an IPv6
//! block, fresh wallets, which cost nothing): what costs the platform money has budgets shared
//! by every client as well, checked by the handlers where the cost is incurred ([`Budgets`]):
//! - PaymentIntents created per minute, all clients together ([`Budgets::payment_intent`]);
//! - card payments attempted per purchase and hour ([`Budgets::card_attempt`]), so a purchase is
//!   not a machine to test stolen cards with;
//! - operator transactions (gas) caused by signed-in requests, per wallet (hourly rate and
//!   burst) and all wallets together per hour ([`Budgets::operator_tx`]);
//! - PaymentIntent reads from Stripe per second, polling and the reconciliation sweeper together
//!   ([`Budgets::stripe_read_now`], [`Budgets::stripe_read`]), so polling cannot spend the
//!   Stripe rate limit that purchases need.
//!
//! Every refusal is a 429 with `Retry-After` and the JSON error body, counted in
//! `http_requests_throttled_total{class}` ([`Class`]'s label); a Stripe read skipped by a GET
//! counts in `stripe_reads_deferred_total`.
//!
//! Limits live in memory, per API instance: behind N instances a client gets up to N times the
//! limit, and so do the budgets (set them per instance). Keys not seen for a while are dropped
//! every minute ([`Throttle::spawn_cleanup`]).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use alloy::primitives::Address;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, Method, Request, Response};
use axum::response::IntoResponse;
use governor::Quota;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use ipnet::IpNet;
use std::num::NonZeroU32;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use uuid::Uuid;

use crate::auth::TokenSigner;
use crate::config::Config;
use crate::error::ApiError;

/// Which limit a route falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// An anonymous request creating state or a Stripe object; keyed by client address.
    Anonymous,
    /// A signed-in write; keyed by the token's wallet.
    SignedIn,
    /// A signed-in write, counted by client address too (all its wallets together).
    SignedInAddress,
    /// A read polled by clients (`GET /v1/purchases/{id}`); keyed by client address.
    Polling,
    /// The PaymentIntents created by all clients together ([`Budgets::payment_intent`]).
    PaymentIntents,
    /// The card payments attempted on one purchase ([`Budgets::card_attempt`]).
    CardAttempts,
    /// The operator transactions one wallet causes ([`Budgets::operator_tx`]).
    OperatorTxWallet,
    /// The operator transactions all wallets together cause ([`Budgets::operator_tx`]).
    OperatorTxGlobal,
}

impl Class {
    /// The label of the metric.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::SignedIn => "signed_in",
            Self::SignedInAddress => "signed_in_address",
            Self::Polling => "polling",
            Self::PaymentIntents => "payment_intents",
            Self::CardAttempts => "card_attempts",
            Self::OperatorTxWallet => "operator_tx_wallet",
            Self::OperatorTxGlobal => "operator_tx_global",
        }
    }
}

/// Who a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A client address (IPv6 masked to its /64).
    Ip(IpAddr),
    /// The wallet of a valid bearer token.
    Wallet(Address),
}

/// Finds the [`ClientKey`] of a request (never fails: without a peer address, e.g. a request
/// handed to the router in-process, the key is the unspecified address).
#[derive(Clone)]
pub struct ClientKeyExtractor {
    ip_header: Option<HeaderName>,
    /// The peers whose `ip_header` is believed.
    trusted_proxies: Arc<[IpNet]>,
    /// Set for signed-in writes: a valid token keys by wallet.
    tokens: Option<TokenSigner>,
}

impl std::fmt::Debug for ClientKeyExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeyExtractor")
            .field("ip_header", &self.ip_header)
            .field("by_wallet", &self.tokens.is_some())
            .finish()
    }
}

impl ClientKeyExtractor {
    fn wallet<T>(&self, req: &Request<T>) -> Option<Address> {
        let tokens = self.tokens.as_ref()?;
        tokens
            .verify_request(req.headers())
            .ok()
            .map(|claims| claims.sub)
    }

    fn ip<T>(&self, req: &Request<T>) -> IpAddr {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| canonical(addr.ip()));
        // The header is believed only from a trusted proxy: reached directly, the API keys a
        // request by its peer, whatever the header says.
        let trusted = peer.is_some_and(|p| self.trusted_proxies.iter().any(|net| net.contains(&p)));
        let from_header = self
            .ip_header
            .as_ref()
            .filter(|_| trusted)
            .and_then(|name| {
                // A list (`X-Forwarded-For: client, proxy1`): the last entry is the one the
                // nearest proxy wrote; the ones before it came from the client.
                let value = req.headers().get_all(name).iter().next_back()?;
                let last = value.to_str().ok()?.rsplit(',').next()?;
                last.trim().parse::<IpAddr>().ok()
            });
        let ip = from_header
            .or(peer)
            .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        client_block(ip)
    }
}

/// Parses `throttle_trusted_proxies`: comma-separated addresses or CIDR blocks.
pub fn parse_trusted_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an address or a CIDR block"))
        })
        .collect()
}

/// An IPv4-mapped IPv6 address as its IPv4 address; any other as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The block one client holds: an IPv4 address, an IPv6 /64 (an IPv4-mapped IPv6 address is
/// its IPv4 address).
pub fn client_block(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask = !0u128 << 64;
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        },
    }
}

impl KeyExtractor for ClientKeyExtractor {
    type Key = ClientKey;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        Ok(self
            .wallet(req)
            .map_or_else(|| ClientKey::Ip(self.ip(req)), ClientKey::Wallet))
    }
}

/// One route's limiter (behind the `Arc` its layer holds).
type Limiter = governor::DefaultKeyedRateLimiter<ClientKey>;
/// governor's default middleware (no state in the answer).
type Plain = NoOpMiddleware<governor::clock::QuantaInstant>;

/// The throttle of one router: builds a limiter per throttled route.
#[derive(Debug)]
pub struct Throttle {
    ip_header: Option<HeaderName>,
    trusted_proxies: Arc<[IpNet]>,
    tokens: TokenSigner,
    anonymous: (u32, u32),
    signed_in: (u32, u32),
    signed_in_address: (u32, u32),
    polling: (u32, u32),
    limiters: std::sync::Mutex<Vec<Weak<Limiter>>>,
}

impl Throttle {
    /// The limits of `config`; `tokens` checks the bearer tokens of signed-in writes.
    pub fn new(config: &Config, tokens: TokenSigner) -> Self {
        Self {
            ip_header: config
                .throttle_client_ip_header
                .as_deref()
                .and_then(|h| HeaderName::try_from(h).ok()),
            // Validated at load.
            trusted_proxies: parse_trusted_proxies(&config.throttle_trusted_proxies)
                .unwrap_or_default()
                .into(),
            tokens,
            anonymous: (
                config.throttle_anonymous_per_minute,
                config.throttle_anonymous_burst,
            ),
            signed_in: (
                config.throttle_signed_in_per_minute,
                config.throttle_signed_in_burst,
            ),
            signed_in_address: (
                config.throttle_signed_in_per_address_per_minute,
                config.throttle_signed_in_per_address_burst,
            ),
            polling: (
                config.throttle_polling_per_minute,
                config.throttle_polling_burst,
            ),
            limiters: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The layer limiting `method path` (a limiter of its own) under `class`'s limits.
    pub fn layer(
        &self,
        class: Class,
        method: &Method,
        path: &'static str,
    ) -> GovernorLayer<ClientKeyExtractor, Plain, Body> {
        let (per_minute, burst) = match class {
            Class::SignedIn => self.signed_in,
            Class::SignedInAddress => self.signed_in_address,
            Class::Polling => self.polling,
            // The budgets are not route layers; an anonymous route's limit is the fallback.
            _ => self.anonymous,
        };
        let extractor = ClientKeyExtractor {
            ip_header: self.ip_header.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            tokens: (class == Class::SignedIn).then(|| self.tokens.clone()),
        };
        // Validated at load: both at least 1.
        let period = Duration::from_nanos(60_000_000_000 / u64::from(per_minute.max(1)));
        let config: GovernorConfig<ClientKeyExtractor, Plain> = GovernorConfigBuilder::default()
            .period(period.max(Duration::from_nanos(1)))
            .burst_size(burst.max(1))
            .key_extractor(extractor)
            .finish()
            .expect("a non-zero period and burst");
        self.limiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::downgrade(config.limiter()));
        let method = method.to_string();
        GovernorLayer::new(config).error_handler(move |error| refused(&error, class, &method, path))
    }

    /// Every minute, forgets the clients (and the purchases and wallets of `budgets`) whose limit
    /// has fully recovered (memory stays bounded by the clients of the last minutes); stops when
    /// the router is dropped.
    pub fn spawn_cleanup(&self, budgets: Weak<Budgets>) {
        let limiters = std::mem::take(
            &mut *self
                .limiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.tick().await;
            loop {
                tick.tick().await;
                let mut alive = 0;
                for limiter in limiters.iter().filter_map(Weak::upgrade) {
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                    alive += 1;
                }
                if let Some(budgets) = budgets.upgrade() {
                    budgets.retain_recent();
                }
                if alive == 0 {
                    return;
                }
            }
        });
    }
}

/// The answer to a refused request: 429, `Retry-After`, the JSON error body; counted.
fn refused(
    error: &GovernorError,
    class: Class,
    method: &str,
    path: &'static str,
) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            // governor's wait is rounded down to whole seconds; the header rounds it up.
            let retry_after = wait_time.saturating_add(1);
            rate_limited(
                class,
                method,
                path,
                retry_after,
                format!("too many requests; retry in {retry_after} s"),
            )
            .into_response()
        }
        other => ApiError::Internal(anyhow::anyhow!("throttle: {other}")).into_response(),
    }
}

/// Counts and logs a refusal under `class`, and makes its error (429, `Retry-After`).
fn rate_limited(
    class: Class,
    method: &str,
    path: &'static str,
    retry_after_secs: u64,
    message: String,
) -> ApiError {
    metrics::counter!("http_requests_throttled_total",
        "method" => method.to_owned(), "path" => path, "class" => class.as_str())
    .increment(1);
    tracing::info!(target: "tangible::api::throttle", %method, path, class = class.as_str(),
        retry_after_secs, "request throttled");
    ApiError::RateLimited {
        retry_after_secs,
        message,
    }
}

/// A direct (unkeyed) limiter.
type Direct = governor::DefaultDirectRateLimiter;

/// A quota of `n` per `window`, at most `burst` at once (both at least 1).
fn quota(n: u32, window: Duration, burst: u32) -> Quota {
    let period = window / n.max(1);
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"))
}

/// Whole seconds (rounded up, at least 1) until a refused request may succeed.
fn retry_after(not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The budgets of what costs the platform money, shared by every client of this instance
/// (see the module's documentation); in [`crate::state::AppState`].
#[derive(Debug)]
pub struct Budgets {
    payment_intents: Direct,
    card_attempts: governor::DefaultKeyedRateLimiter<Uuid>,
    operator_tx_wallet: governor::DefaultKeyedRateLimiter<Address>,
    operator_tx: Direct,
    stripe_reads: Direct,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Budgets {
    /// The budgets of `config` (validated at load: every figure at least 1).
    pub fn new(config: &Config) -> Self {
        let pi = config.throttle_payment_intents_per_minute;
        let cards = config.throttle_card_attempts_per_purchase_per_hour;
        let global_tx = config.throttle_operator_tx_per_hour;
        let reads = config.throttle_stripe_reads_per_second;
        Self {
            payment_intents: Direct::direct(quota(pi, MINUTE, pi)),
            card_attempts: governor::RateLimiter::keyed(quota(cards, HOUR, cards)),
            operator_tx_wallet: governor::RateLimiter::keyed(quota(
                config.throttle_operator_tx_per_wallet_per_hour,
                HOUR,
                config.throttle_operator_tx_per_wallet_burst,
            )),
            operator_tx: Direct::direct(quota(global_tx, HOUR, global_tx)),
            stripe_reads: Direct::direct(quota(reads, Duration::from_secs(1), reads)),
        }
    }

    /// Takes one PaymentIntent creation of the global budget, or refuses `POST path` (429).
    pub fn payment_intent(&self, path: &'static str) -> Result<(), ApiError> {
        self.payment_intents.check().map_err(|e| {
            let secs = retry_after(&e);
            rate_limited(
                Class::PaymentIntents,
                "POST",
                path,
                secs,
                format!("too many purchases are being started; retry in {secs} s"),
            )
        })
    }

    /// Takes one card payment attempt of `purchase`'s budget, or refuses it (429).
    pub fn card_attempt(&self, purchase: Uuid) -> Result<(), ApiError> {
        self.card_attempts.check_key(&purchase).map_err(|e| {
            let secs = retry_after(&e);
            rate_limited(
                Class::CardAttempts,
                "POST",
                "/v1/purchases/{id}/payment-method",
                secs,
                format!("too many card payments tried on this purchase; retry in {secs} s"),
            )
        })
    }

    /// Takes one operator transaction of `wallet`'s budget, then of the global one, or refuses
    /// `method path` (429). The wallet's budget is checked first, so a wallet over its own never
    /// spends the global budget.
    pub fn operator_tx(
        &self,
        wallet: Address,
        method: &str,
        path: &'static str,
    ) -> Result<(), ApiError> {
        self.operator_tx_wallet.check_key(&wallet).map_err(|e| {
            let secs = retry_after(&e);
            rate_limited(
                Class::OperatorTxWallet,
                method,
                path,
                secs,
                format!("this wallet has caused too many on-chain transactions; retry in {secs} s"),
            )
        })?;
        self.operator_tx.check().map_err(|e| {
            let secs = retry_after(&e);
            rate_limited(
                Class::OperatorTxGlobal,
                method,
                path,
                secs,
                format!("too many on-chain transactions this hour; retry in {secs} s"),
            )
        })
    }

    /// Takes one Stripe read now if the budget has one (a GET that polls: without one, it
    /// answers the stored state and the read is left to a later poll or the sweeper).
    pub fn stripe_read_now(&self) -> bool {
        let ok = self.stripe_reads.check().is_ok();
        if !ok {
            metrics::counter!("stripe_reads_deferred_total").increment(1);
        }
        ok
    }

    /// Waits for one Stripe read of the budget (the sweeper).
    pub async fn stripe_read(&self) {
        self.stripe_reads.until_ready().await;
    }

    /// Forgets the purchases and wallets whose budget has fully recovered.
    fn retain_recent(&self) {
        self.card_attempts.retain_recent();
        self.card_attempts.shrink_to_fit();
        self.operator_tx_wallet.retain_recent();
        self.operator_tx_wallet.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_their_64_block_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_block(a), client_block(b));
        assert_ne!(client_block(a), client_block(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_block(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
