//! The `localstripe` Stripe emulator: one process per test process, shared by every test.
//!
//! localstripe sends each webhook event to every registered endpoint, so tests sharing it
//! would receive each other's events. The kit therefore registers a single endpoint of its
//! own, a router in this process, and gives each test a [`StripeEndpoint`]: a proxy on a port
//! of its own that the API under test uses as its Stripe base. The proxy remembers the
//! PaymentIntents created through it; the router forwards an event about a PaymentIntent
//! (its `id`, or its `payment_intent` for charges, refunds and disputes) to the webhook URL of
//! the test that created it, and drops events about anything else.
//!
//! A test can stop its webhooks from arriving ([`StripeEndpoint::set_webhook_delivery`]): dropped,
//! as by an unreachable endpoint or a lost delivery, or held and delivered later on demand
//! ([`StripeEndpoint::release_held_webhooks`]).
//!
//! The emulator refuses parameters it does not know; the proxy takes `receipt_email` out of a
//! PaymentIntent creation (Stripe stores it on the intent and mails its own receipt there) and
//! remembers it per intent ([`StripeEndpoint::receipt_email`]).
//!
//! [`LocalStripe::start`] runs a private emulator instead (benchmarks).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::process::{TiedChild, die_with_parent};

/// The secret the shared emulator signs webhooks with (the API under test must use it).
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";
/// The secret key tests use against the emulator (it accepts any key).
pub const SECRET_KEY: &str = "sk_test_tangible";

/// The localstripe program: `$TANGIBLE_LOCALSTRIPE`, else `.tools/venv/bin/localstripe` of the
/// clone whose crate is being tested (`bash scripts/bootstrap.sh` installs it).
pub fn localstripe_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TANGIBLE_LOCALSTRIPE") {
        return PathBuf::from(bin);
    }
    // Read at run time: the binary may have been built in another clone.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .map(|d| d.join(".tools/venv/bin/localstripe"))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../.tools/venv/bin/localstripe"))
}

/// A localstripe process on a port it bound itself; killed on drop, and when this process
/// dies.
#[derive(Debug)]
pub struct LocalStripe {
    base: String,
    _child: TiedChild,
}

impl LocalStripe {
    /// Starts localstripe (blocking, up to 30 s) with `--port 0`, reading the port from its
    /// banner, so no other process can take the port between picking and binding it.
    pub fn start() -> std::io::Result<Self> {
        let bin = localstripe_bin();
        let mut cmd = Command::new(&bin);
        cmd.args(["--port", "0", "--from-scratch"])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd, libc::SIGKILL);
        let (child, stdout) = TiedChild::spawn("localstripe", cmd).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "starting {} (run `bash scripts/bootstrap.sh` first): {e}",
                    bin.display()
                ),
            )
        })?;
        let stdout = stdout.ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // aiohttp prints "======== Running on http://[::]:<port> ========"; the thread keeps
        // draining stdout afterwards so that the emulator never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let port = line
                    .split("Running on http://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|url| url.rsplit(':').next())
                    .and_then(|p| p.parse::<u16>().ok());
                if let Some(port) = port
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| std::io::Error::other("localstripe did not name its port in 30 s"))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline || child.exit_status().is_some() {
                return Err(std::io::Error::other("localstripe did not listen"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Self {
            base: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }

    /// The emulator's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Registers webhook `id`: events go to `url`, signed with `secret`.
    pub async fn register_webhook(&self, id: &str, url: &str, secret: &str) -> reqwest::Result<()> {
        reqwest::Client::new()
            .post(format!("{}/_config/webhooks/{id}", self.base))
            .form(&[("url", url), ("secret", secret)])
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// What happens to the webhook events of one test's PaymentIntents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WebhookDelivery {
    /// Forwarded to the test's webhook URL (the default).
    #[default]
    Deliver,
    /// Acknowledged to the emulator and thrown away, as a delivery lost on the way (the
    /// emulator sends each event once). Counted: [`StripeEndpoint::dropped_webhooks`].
    Drop,
    /// Kept, in order, until [`StripeEndpoint::release_held_webhooks`] delivers them.
    Hold,
}

/// A webhook delivery kept back: its body and its signature-carrying headers.
type HeldEvent = (Vec<(String, axum::http::HeaderValue)>, Bytes);

/// Which test owns which PaymentIntent, and where each test wants its webhooks.
#[derive(Default)]
struct Routes {
    owners: HashMap<String, u64>,
    webhooks: HashMap<u64, String>,
    delivery: HashMap<u64, WebhookDelivery>,
    /// Types of the events dropped, per test.
    dropped: HashMap<u64, Vec<String>>,
    held: HashMap<u64, Vec<HeldEvent>>,
    /// `METHOD /path` of every Stripe API request made through each test's proxy.
    requests: HashMap<u64, Vec<String>>,
    /// The `receipt_email` each PaymentIntent was created with (taken out by the proxy).
    receipt_emails: HashMap<String, String>,
    /// Per test, the message of the refusal the proxy answers refund creations with, instead
    /// of forwarding them (see [`StripeEndpoint::refuse_refunds`]).
    refuse_refunds: HashMap<u64, String>,
}

/// The emulator shared by the tests of this process, the router, and the runtime they run on.
struct Shared {
    stripe: LocalStripe,
    runtime: tokio::runtime::Runtime,
    routes: Arc<Mutex<Routes>>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();
static NEXT_ENDPOINT: AtomicU64 = AtomicU64::new(0);

#[derive(Clone)]
struct Ctx {
    routes: Arc<Mutex<Routes>>,
    http: reqwest::Client,
    stripe_base: String,
    endpoint: u64,
}

fn lock(routes: &Mutex<Routes>) -> std::sync::MutexGuard<'_, Routes> {
    routes.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared emulator and router, started on first use (on a thread of their own: the
/// caller may be inside a runtime).
fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        std::thread::spawn(|| {
            let stripe = LocalStripe::start().expect("localstripe starts");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("testkit-stripe")
                .enable_all()
                .build()
                .expect("the router's runtime");
            let routes = Arc::new(Mutex::new(Routes::default()));
            let ctx = Ctx {
                routes: routes.clone(),
                http: reqwest::Client::new(),
                stripe_base: stripe.base().to_owned(),
                endpoint: u64::MAX,
            };
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("binding the webhook router");
                let url = format!("http://{}/", listener.local_addr().expect("router address"));
                let app = axum::Router::new().fallback(route_webhook).with_state(ctx);
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
                stripe
                    .register_webhook("testkit", &url, WEBHOOK_SECRET)
                    .await
                    .expect("registering the router in localstripe");
            });
            Shared {
                stripe,
                runtime,
                routes,
            }
        })
        .join()
        .expect("starting the shared localstripe")
    })
}

/// The PaymentIntent an event is about, if any.
fn payment_intent_of(event: &Value) -> Option<&str> {
    let object = &event["data"]["object"];
    if object["object"] == "payment_intent" {
        object["id"].as_str()
    } else {
        object["payment_intent"].as_str()
    }
}

/// Forwards a webhook event to the test that created its PaymentIntent.
async fn route_webhook(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let forwarded: Vec<(String, axum::http::HeaderValue)> =
        [header::CONTENT_TYPE.as_str(), "stripe-signature"]
            .into_iter()
            .filter_map(|name| headers.get(name).map(|v| (name.to_owned(), v.clone())))
            .collect();
    let target = {
        let mut routes = lock(&ctx.routes);
        let Some(endpoint) =
            payment_intent_of(&event).and_then(|pi| routes.owners.get(pi).copied())
        else {
            return StatusCode::OK;
        };
        match routes.delivery.get(&endpoint).copied().unwrap_or_default() {
            WebhookDelivery::Deliver => routes.webhooks.get(&endpoint).cloned(),
            WebhookDelivery::Drop => {
                let kind = event["type"].as_str().unwrap_or("").to_owned();
                routes.dropped.entry(endpoint).or_default().push(kind);
                None
            }
            WebhookDelivery::Hold => {
                routes
                    .held
                    .entry(endpoint)
                    .or_default()
                    .push((forwarded.clone(), body.clone()));
                None
            }
        }
    };
    let Some(url) = target else {
        return StatusCode::OK;
    };
    deliver(&ctx.http, &url, &forwarded, body).await
}

/// Posts one webhook event to `url`; the answer's status.
async fn deliver(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, axum::http::HeaderValue)],
    body: Bytes,
) -> StatusCode {
    let mut request = http.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(r) => r.status(),
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

/// `body` (a form) without the parameter `name`, and that parameter's value if it was there.
fn take_form_param(body: Bytes, name: &str) -> (Bytes, Option<String>) {
    let mut taken = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(&body) {
        if key == name {
            taken = Some(value.into_owned());
        } else {
            rest.append_pair(&key, &value);
        }
    }
    match taken {
        Some(value) => (Bytes::from(rest.finish()), Some(value)),
        None => (body, None),
    }
}

/// Forwards a Stripe API request of one test to the emulator, and notes the PaymentIntents
/// in the answer as that test's (and the `receipt_email` each was created with, which the
/// emulator would refuse).
async fn proxy(State(ctx): State<Ctx>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return status_response(StatusCode::BAD_REQUEST);
    };
    let (body, receipt_email) =
        if parts.method == axum::http::Method::POST && parts.uri.path() == "/v1/payment_intents" {
            take_form_param(body, "receipt_email")
        } else {
            (body, None)
        };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let refusal = {
        let mut routes = lock(&ctx.routes);
        routes
            .requests
            .entry(ctx.endpoint)
            .or_default()
            .push(format!("{} {}", parts.method, parts.uri.path()));
        let creates_refund =
            parts.method == axum::http::Method::POST && parts.uri.path() == "/v1/refunds";
        creates_refund
            .then(|| routes.refuse_refunds.get(&ctx.endpoint).cloned())
            .flatten()
    };
    if let Some(message) = refusal {
        return refused_refund(&message);
    }
    let mut forward = ctx
        .http
        .request(parts.method, format!("{}{path}", ctx.stripe_base))
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            forward = forward.header(name, value);
        }
    }
    let Ok(answer) = forward.send().await else {
        return status_response(StatusCode::BAD_GATEWAY);
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let Ok(bytes) = answer.bytes().await else {
        return status_response(StatusCode::BAD_GATEWAY);
    };
    if let Ok(object) = serde_json::from_slice::<Value>(&bytes)
        && object["object"] == "payment_intent"
        && let Some(id) = object["id"].as_str()
    {
        let mut routes = lock(&ctx.routes);
        routes.owners.insert(id.to_owned(), ctx.endpoint);
        if let Some(email) = receipt_email {
            routes.receipt_emails.insert(id.to_owned(), email);
        }
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// Stripe's answer to a refund it refuses (e.g. of a charge under dispute): 400 with an
/// `invalid_request_error`.
fn refused_refund(message: &str) -> Response {
    let body = serde_json::json!({"error": {
        "type": "invalid_request_error", "code": "charge_disputed", "message": message}});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

fn status_response(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// One test's view of the shared emulator: a Stripe base URL for the API under test, and the
/// webhook URL its events go to. Dropping it forgets both.
#[derive(Debug)]
pub struct StripeEndpoint {
    id: u64,
    api_base: String,
    stripe_base: String,
    server: tokio::task::JoinHandle<()>,
}

impl StripeEndpoint {
    /// A new endpoint on the shared emulator (started on first use).
    pub fn new() -> Self {
        let shared = shared();
        let id = NEXT_ENDPOINT.fetch_add(1, Ordering::Relaxed);
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("binding a Stripe proxy port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let api_base = format!(
            "http://{}",
            listener.local_addr().expect("the proxy's address")
        );
        let ctx = Ctx {
            routes: shared.routes.clone(),
            http: reqwest::Client::new(),
            stripe_base: shared.stripe.base().to_owned(),
            endpoint: id,
        };
        let server = shared.runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let app = axum::Router::new().fallback(proxy).with_state(ctx);
            let _ = axum::serve(listener, app).await;
        });
        Self {
            id,
            api_base,
            stripe_base: shared.stripe.base().to_owned(),
            server,
        }
    }

    /// The Stripe base URL the API under test is configured with.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The emulator's own base URL (requests made there are not routed to this test).
    pub fn emulator_base(&self) -> &str {
        &self.stripe_base
    }

    /// Sends the webhook events of this test's PaymentIntents to `url` (from now on).
    pub fn register_webhook(&self, url: &str) {
        let shared = shared();
        lock(&shared.routes)
            .webhooks
            .insert(self.id, url.to_owned());
    }

    /// `METHOD /path` of every Stripe API request the API under test made so far, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&shared().routes)
            .requests
            .get(&self.id)
            .cloned()
            .unwrap_or_default()
    }

    /// The `receipt_email` the PaymentIntent was created with, if any.
    pub fn receipt_email(&self, payment_intent: &str) -> Option<String> {
        lock(&shared().routes)
            .receipt_emails
            .get(payment_intent)
            .cloned()
    }

    /// Delivers, drops or holds the webhook events of this test's PaymentIntents from now on.
    pub fn set_webhook_delivery(&self, delivery: WebhookDelivery) {
        lock(&shared().routes).delivery.insert(self.id, delivery);
    }

    /// From now on, refund creations through this test's proxy are refused as Stripe refuses
    /// one (400, `invalid_request_error`, with `message`) instead of reaching the emulator,
    /// which never refuses to refund a succeeded charge; `None` forwards them again. The only
    /// Stripe answer of the tests that is made up, and only because the emulator cannot give it.
    pub fn refuse_refunds(&self, message: Option<&str>) {
        let mut routes = lock(&shared().routes);
        match message {
            Some(m) => routes.refuse_refunds.insert(self.id, m.to_owned()),
            None => routes.refuse_refunds.remove(&self.id),
        };
    }

    /// The types of the events dropped so far ([`WebhookDelivery::Drop`]), in order.
    pub fn dropped_webhooks(&self) -> Vec<String> {
        lock(&shared().routes)
            .dropped
            .get(&self.id)
            .cloned()
            .unwrap_or_default()
    }

    /// The types of the events held and not released yet ([`WebhookDelivery::Hold`]), in order.
    pub fn held_webhooks(&self) -> Vec<String> {
        lock(&shared().routes)
            .held
            .get(&self.id)
            .map(|held| {
                held.iter()
                    .map(|(_, body)| {
                        serde_json::from_slice::<Value>(body).map_or_else(
                            |_| String::new(),
                            |e| e["type"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Delivers the held events, in order, to the registered webhook URL (with their
    /// original signatures); returns each answer's status. Events arriving afterwards follow
    /// the delivery mode in force.
    pub async fn release_held_webhooks(&self) -> Vec<StatusCode> {
        let (held, url) = {
            let mut routes = lock(&shared().routes);
            let held = routes.held.remove(&self.id).unwrap_or_default();
            (held, routes.webhooks.get(&self.id).cloned())
        };
        let Some(url) = url else {
            return Vec::new();
        };
        let http = reqwest::Client::new();
        let mut statuses = Vec::with_capacity(held.len());
        for (headers, body) in held {
            statuses.push(deliver(&http, &url, &headers, body).await);
        }
        statuses
    }

    /// POSTs a form to `path` on the emulator with the secret key (as the Stripe dashboard or
    /// another server would act on the account).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.stripe_base))
            .basic_auth(SECRET_KEY, Some(""))
            .form(form)
            .send()
            .await
            .expect("a request to localstripe")
    }

    /// A card PaymentMethod (`pm_…`) for the test card `number`, as Stripe.js makes one.
    pub async fn payment_method(&self, number: &str) -> String {
        let pm: Value = self
            .post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2040"),
                    ("card[cvc]", "123"),
                ],
            )
            .await
            .json()
            .await
            .expect("a payment method");
        pm["id"].as_str().expect("payment method id").to_owned()
    }

    /// Pays a PaymentIntent with a test card, as a frontend would; returns the confirm status.
    pub async fn pay(&self, payment_intent: &str, card: &str) -> reqwest::StatusCode {
        let pm = self.payment_method(card).await;
        let r = self
            .post(
                &format!("/v1/payment_intents/{payment_intent}"),
                &[("payment_method", &pm)],
            )
            .await;
        assert!(
            r.status().is_success(),
            "attaching the card: {}",
            r.text().await.unwrap_or_default()
        );
        self.post(
            &format!("/v1/payment_intents/{payment_intent}/confirm"),
            &[],
        )
        .await
        .status()
    }

    /// GETs `path` from the emulator, as JSON.
    pub async fn get(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.stripe_base))
            .basic_auth(SECRET_KEY, Some(""))
            .send()
            .await
            .expect("a request to localstripe")
            .json()
            .await
            .expect("a JSON answer")
    }
}

impl Default for StripeEndpoint {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for StripeEndpoint {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(shared) = SHARED.get() {
            let mut routes = lock(&shared.routes);
            routes.webhooks.remove(&self.id);
            routes.delivery.remove(&self.id);
            routes.dropped.remove(&self.id);
            routes.held.remove(&self.id);
            routes.requests.remove(&self.id);
            routes.refuse_refunds.remove(&self.id);
            routes.owners.retain(|_, owner| *owner != self.id);
        }
    }
}
