//! `spawn_app()`: the real API on a random port against a fresh database, a fresh anvil with
//! Tangible deployed (studio, film, 4K edition at 13 €, operator float) behind a TCP proxy that
//! can cut the RPC, and an endpoint of the test process's one localstripe that routes the
//! webhooks of this app's PaymentIntents to it (the test kit's `StripeEndpoint`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;
use tangible_api::{Application, Config};
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket;
use tangible_db::testing::TestDatabase;
pub(crate) use tangible_testkit::mined;
use tangible_testkit::{Cents, Film, StripeEndpoint, TestChain, roles};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// Numbers the content folders handed to API instances (see `TestApp::config`).
static CONTENT_DIRS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) use tangible_testkit::localstripe::{SECRET_KEY as STRIPE_KEY, WEBHOOK_SECRET};
pub(crate) const PRICE: u64 = 1300;
pub(crate) const QUALITY: u8 = 2;
/// A rate limit (per minute, and burst) no test reaches: the tests' default.
pub(crate) const UNTHROTTLED: &str = "1000000";
/// The key-encryption key the test API is configured with.
pub(crate) const KEK_HEX: &str = "4b454b2d746573742d6b65792d6f662d33322d62797465732d2d2d2d2d2d2d2d";

pub(crate) struct Chain {
    pub(crate) anvil: AnvilInstance,
    pub(crate) provider: DynProvider,
    pub(crate) deployment: Deployment,
    pub(crate) keys: Vec<PrivateKeySigner>,
    pub(crate) film_id: u64,
    pub(crate) studio_admin: Address,
}

impl Chain {
    pub(crate) fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }
    pub(crate) fn buyer(&self, i: usize) -> &PrivateKeySigner {
        &self.keys[3 + i]
    }
}

/// anvil + Tangible; operator = account 0 with a 1,000 € float; studio admin = account 1;
/// one film with a 4K edition at 13 €; buyers (accounts 3..) funded with TestEuro.
pub(crate) async fn chain() -> Chain {
    let kit = TestChain::deploy().await;
    let studio_admin = kit.address(roles::STUDIO_ADMIN);
    let (_, film_id) = kit
        .register_film(studio_admin, kit.address(roles::ROYALTY), &Film::SINGLE_4K)
        .await;
    kit.deposit_float(Cents(100_000)).await;
    kit.fund(&kit.buyers(3), U256::from(1u128 << 100)).await;
    let TestChain {
        anvil,
        provider,
        deployment,
        keys,
    } = kit;
    Chain {
        anvil,
        provider,
        deployment,
        keys,
        film_id,
        studio_admin,
    }
}

/// A TCP proxy in front of the RPC node whose link can be cut and restored, or stalled
/// (requests held, unanswered, until released).
pub(crate) struct RpcProxy {
    pub(crate) addr: SocketAddr,
    down: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
    stall: watch::Sender<bool>,
}

impl RpcProxy {
    pub(crate) async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(false));
        let (cut, cut_rx) = watch::channel(0u64);
        let (stall, stall_rx) = watch::channel(false);
        let d = down.clone();
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                // Only a cut after this connection opened closes it.
                cut_rx.mark_unchanged();
                let mut stall_rx = stall_rx.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut in_r, mut in_w) = inbound.into_split();
                    let (mut out_r, mut out_w) = outbound.into_split();
                    let upstream = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match in_r.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            // While stalled, what the client sent waits here.
                            if stall_rx.wait_for(|stalled| !*stalled).await.is_err()
                                || out_w.write_all(&buf[..n]).await.is_err()
                            {
                                break;
                            }
                        }
                        let _ = out_w.shutdown().await;
                    };
                    let downstream = async {
                        let _ = tokio::io::copy(&mut out_r, &mut in_w).await;
                        let _ = in_w.shutdown().await;
                    };
                    tokio::select! {
                        _ = async { tokio::join!(upstream, downstream) } => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            down,
            cut,
            stall,
        }
    }

    /// Refuses new connections and closes the open ones.
    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.send_modify(|n| *n += 1);
        }
    }

    /// Holds every request (on open and new connections) unanswered, or releases them.
    pub(crate) fn set_stalled(&self, stalled: bool) {
        self.stall.send_replace(stalled);
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The running API and everything around it.
pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) http: reqwest::Client,
    pub(crate) db: TestDatabase,
    pub(crate) chain: Chain,
    pub(crate) rpc: RpcProxy,
    pub(crate) stripe: StripeEndpoint,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    deployment_file: PathBuf,
}

pub(crate) struct Options {
    pub(crate) workers: usize,
    pub(crate) body_limit: usize,
    pub(crate) run_worker: bool,
    pub(crate) float_warning_cents: u64,
    /// More `TANGIBLE_API_<NAME>` settings, as (NAME, value).
    pub(crate) extra: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            workers: 2,
            body_limit: 64 * 1024,
            run_worker: true,
            float_warning_cents: 10_000,
            extra: Vec::new(),
        }
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub(crate) async fn spawn_app_with(opts: Options) -> TestApp {
    let db = TestDatabase::new().await.expect("test database");
    let chain = chain().await;
    let anvil_addr: SocketAddr = format!("127.0.0.1:{}", chain.anvil.port()).parse().unwrap();
    let rpc = RpcProxy::start(anvil_addr).await;
    let stripe = StripeEndpoint::new();
    let dir = tempfile::tempdir().unwrap();
    let deployment_file = Deployment::file_in(dir.path(), chain.deployment.chain_id);
    chain.deployment.save(&deployment_file).unwrap();
    let mut app = TestApp {
        addr: "127.0.0.1:0".parse().unwrap(),
        http: reqwest::Client::new(),
        db,
        chain,
        rpc,
        stripe,
        stop: None,
        server: None,
        _dir: dir,
        deployment_file,
    };
    app.start(&opts).await;
    app.stripe
        .register_webhook(&format!("http://{}/v1/webhooks/stripe", app.addr));
    app.serve_fixture_edition().await;
    app
}

impl TestApp {
    /// Records the fixture's 4K edition as served by this deployment, with the master hash
    /// registered on chain, as a master upload would (the API sells only such editions:
    /// `routes::content::require_served`). No node holds the placeholder file's bytes.
    async fn serve_fixture_edition(&self) {
        self.serve_edition(
            self.chain.film_id,
            QUALITY,
            alloy::primitives::keccak256("master"),
        )
        .await;
    }

    /// Records edition `(film_id, quality)` as served with master `master_hash`, as its
    /// upload would (no node holds a file for it).
    pub(crate) async fn serve_edition(
        &self,
        film_id: u64,
        quality: u8,
        master_hash: alloy::primitives::B256,
    ) {
        sqlx::query(
            "INSERT INTO api_edition_content (film_id, quality, master_hash, master_size, blob_hash, encrypted_size, uploaded_by) \
             VALUES ($1, $2, $3, 1, $4, 1, 'test fixture')",
        )
        .bind(i64::try_from(film_id).unwrap())
        .bind(i16::from(quality))
        .bind(master_hash.to_string())
        .bind(format!("{:0>64x}", (film_id << 8) | u64::from(quality)))
        .execute(self.db.pool())
        .await
        .unwrap();
    }

    pub(crate) fn config(&self, opts: &Options) -> Config {
        let operator_key = hex::encode(self.chain.keys[0].to_bytes());
        let vars = [
            ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("DATABASE_URL", self.db.url().to_owned()),
            ("RPC_URL", self.rpc.url()),
            (
                "DEPLOYMENT_FILE",
                self.deployment_file.display().to_string(),
            ),
            ("OPERATOR_KEY", operator_key),
            ("STRIPE_SECRET_KEY", STRIPE_KEY.to_owned()),
            ("STRIPE_API_BASE", self.stripe.api_base().to_owned()),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            (
                "TOKEN_SECRET",
                "test-token-secret-of-at-least-32-bytes!".to_owned(),
            ),
            ("SIWE_DOMAIN", "tangible.test".to_owned()),
            ("SIWE_URI", "https://tangible.test".to_owned()),
            ("BODY_LIMIT_BYTES", opts.body_limit.to_string()),
            ("WORKERS", opts.workers.to_string()),
            ("RUN_WORKER", opts.run_worker.to_string()),
            ("WORKER_POLL_MS", "100".to_owned()),
            ("RETRY_BASE_MS", "200".to_owned()),
            ("RETRY_MAX_MS", "1000".to_owned()),
            ("CORS_ORIGINS", "https://shop.example".to_owned()),
            ("FLOAT_WARNING_CENTS", opts.float_warning_cents.to_string()),
            // Many apps share one test cluster (max 200 connections): keep each pool small.
            ("DB_MAX_CONNECTIONS", "5".to_owned()),
            ("JSON_LOGS", "false".to_owned()),
            ("KEK_HEX", KEK_HEX.to_owned()),
            // A folder of its own per configured instance: the content store holds an
            // exclusive lock on its folder, and a killed test app's background tasks (or a
            // second instance on the same database) may still hold the previous one.
            (
                "CONTENT_DIR",
                self._dir
                    .path()
                    .join(format!(
                        "content-{}",
                        CONTENT_DIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    ))
                    .display()
                    .to_string(),
            ),
            ("P2P_BIND_ADDR", "127.0.0.1:0".to_owned()),
            (
                "ATTESTATION_KEY",
                hex::encode(self.chain.keys[8].to_bytes()),
            ),
            // Every test client is 127.0.0.1 and many tests create purchases by the dozen:
            // no rate limit unless a test sets one (`extra` overrides these; see it::throttle).
            // Many tests buy by card dozens of times with one wallet: no card limit unless a
            // test sets one (it::clearance).
            ("CARD_BUYER_LIMIT_CENTS", UNTHROTTLED.to_owned()),
            ("THROTTLE_ANONYMOUS_PER_MINUTE", UNTHROTTLED.to_owned()),
            ("THROTTLE_ANONYMOUS_BURST", UNTHROTTLED.to_owned()),
            ("THROTTLE_SIGNED_IN_PER_MINUTE", UNTHROTTLED.to_owned()),
            ("THROTTLE_SIGNED_IN_BURST", UNTHROTTLED.to_owned()),
            (
                "THROTTLE_SIGNED_IN_PER_ADDRESS_PER_MINUTE",
                UNTHROTTLED.to_owned(),
            ),
            (
                "THROTTLE_SIGNED_IN_PER_ADDRESS_BURST",
                UNTHROTTLED.to_owned(),
            ),
            ("THROTTLE_POLLING_PER_MINUTE", UNTHROTTLED.to_owned()),
            ("THROTTLE_POLLING_BURST", UNTHROTTLED.to_owned()),
            (
                "THROTTLE_PAYMENT_INTENTS_PER_MINUTE",
                UNTHROTTLED.to_owned(),
            ),
            (
                "THROTTLE_CARD_ATTEMPTS_PER_PURCHASE_PER_HOUR",
                UNTHROTTLED.to_owned(),
            ),
            (
                "THROTTLE_OPERATOR_TX_PER_WALLET_PER_HOUR",
                UNTHROTTLED.to_owned(),
            ),
            (
                "THROTTLE_OPERATOR_TX_PER_WALLET_BURST",
                UNTHROTTLED.to_owned(),
            ),
            ("THROTTLE_OPERATOR_TX_PER_HOUR", UNTHROTTLED.to_owned()),
            ("THROTTLE_STRIPE_READS_PER_SECOND", UNTHROTTLED.to_owned()),
        ]
        .into_iter()
        .chain(opts.extra.iter().cloned())
        .map(|(k, v)| (format!("TANGIBLE_API_{k}"), v));
        Config::from_sources(None, vars).expect("test config")
    }

    /// Starts (or restarts) the API process on the same database, chain and Stripe. A restart
    /// tries the previous port; if another process took it meanwhile, the API takes a fresh
    /// one and localstripe's webhook is pointed there.
    pub(crate) async fn start(&mut self, opts: &Options) {
        let mut config = self.config(opts);
        let restart = self.addr.port() != 0;
        if restart {
            config.listen_addr = self.addr;
        }
        let app = match Application::build(config).await {
            Ok(app) => app,
            Err(e) if restart => {
                eprintln!(
                    "restarting on {} failed ({e:#}); taking another port",
                    self.addr
                );
                Application::build(self.config(opts))
                    .await
                    .expect("the API starts")
            }
            Err(e) => panic!("the API starts: {e:#}"),
        };
        let moved = restart && app.local_addr() != self.addr;
        self.addr = app.local_addr();
        if moved {
            self.stripe
                .register_webhook(&format!("http://{}/v1/webhooks/stripe", self.addr));
        }
        let (tx, rx) = oneshot::channel::<()>();
        self.stop = Some(tx);
        self.server = Some(tokio::spawn(async move {
            app.run_until_stopped(async {
                let _ = rx.await;
            })
            .await
            .expect("the API runs");
        }));
    }

    /// Stops the API process (graceful shutdown) and waits for it.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }

    /// Kills the API process abruptly (no graceful shutdown).
    pub(crate) async fn kill(&mut self) {
        self.stop.take();
        if let Some(h) = self.server.take() {
            h.abort();
            let _ = h.await;
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> (reqwest::StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The Prometheus text of `GET /metrics`.
    pub(crate) async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub(crate) async fn get_json(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates a primary purchase of the test edition for buyer `i`.
    pub(crate) async fn create_purchase(&self, buyer: Address) -> Value {
        let (status, body) = self
            .post_json(
                "/v1/purchases",
                &serde_json::json!({"film_id": self.chain.film_id, "quality": "4k", "buyer_address": buyer.to_string()}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Polls a purchase until its state is one of `states`.
    pub(crate) async fn wait_for_state(&self, purchase_id: &str, states: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self.get_json(&format!("/v1/purchases/{purchase_id}")).await;
            assert_eq!(status, 200, "{body}");
            if states.contains(&body["state"].as_str().unwrap_or("")) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "purchase never reached {states:?}: {body:#}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls a purchase until it ends, and asserts that it ended fulfilled.
    pub(crate) async fn wait_fulfilled(&self, purchase_id: &str) -> Value {
        let view = self
            .wait_for_state(purchase_id, &["fulfilled", "failed", "refunded"])
            .await;
        assert_eq!(view["state"], "fulfilled", "{view:#}");
        view
    }

    /// Sends a webhook signed with the endpoint secret at `timestamp`.
    pub(crate) async fn send_webhook(
        &self,
        body: &Value,
        secret: &str,
        timestamp: i64,
    ) -> (reqwest::StatusCode, Value) {
        let raw = serde_json::to_vec(body).unwrap();
        let sig = tangible_api::stripe::sign_payload(&raw, secret.as_bytes(), timestamp);
        let r = self
            .http
            .post(self.url("/v1/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", sig)
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Waits until no job is queued or running: whatever the workers were going to do after
    /// the last event is done, so a count taken now is final.
    pub(crate) async fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .count("SELECT count(*) FROM api_jobs WHERE state IN ('queued', 'running')")
            .await
            > 0
        {
            assert!(Instant::now() < deadline, "the job queue never went idle");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}
