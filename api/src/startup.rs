//! Wiring: [`Application::build`] connects the database (whose schema [`migrate`], the deploy's
//! `tangible-api migrate`, applies beforehand), the chain and Stripe, opens the content store and its P2P provider, binds the listener and starts the
//! workers; [`Application::run_until_stopped`]
//! serves until a shutdown signal, then drains requests and jobs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use secrecy::ExposeSecret;
use tangible_chain::Deployment;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use alloy::signers::local::PrivateKeySigner;
use tangible_crypto::envelope::Kek;

use crate::auth::TokenSigner;
use crate::chain::ChainClient;
use crate::config::{Config, MigrateConfig};
use crate::content::ContentNode;
use crate::keys::ReleaseLog;
use crate::receipts::Mailer;
use crate::state::{AppState, StateParts};
use crate::stripe::StripeGateway;
use crate::{jobs, routes, telemetry, web};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A built API: bound listener, state, and the started workers.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects everything, checks that the database schema is this build's (see [`migrate`])
    /// and binds the listener (port 0 = free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = tangible_db::connect(config.database_url.expose(), config.db_max_connections)
            .await
            .map_err(|e| {
                anyhow::anyhow!("connecting to the database {}: {e}", config.database_url)
            })?;
        // The deploy's migrate step ([`migrate`]) owns the schema; the API only checks it.
        tangible_db::require_current_schema(&db)
            .await
            .with_context(|| format!("database {}", config.database_url))?;
        let deployment = Deployment::load(&config.deployment_file)?;
        let chain = ChainClient::new(
            config.rpc_url.expose(),
            deployment,
            config.operator_key.expose_secret(),
            db.clone(),
        )?
        .with_receipt_timeout(Duration::from_secs(config.receipt_timeout_secs.max(1)));
        let stripe = StripeGateway::new(
            config.stripe_secret_key.clone(),
            config.stripe_api_base.clone(),
        )?;
        let tokens = TokenSigner::new(config.token_secret.clone());
        let kek = config
            .kek_hex
            .as_ref()
            .map(|k| Kek::from_hex(config.kek_id.clone(), k.expose_secret()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("kek_hex: {e}"))?;
        let attestation = config
            .attestation_key
            .as_ref()
            .map(|k| k.expose_secret().trim().parse::<PrivateKeySigner>())
            .transpose()
            .map_err(|_| anyhow::anyhow!("attestation_key is not a valid private key"))?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        let content = match &config.content_dir {
            Some(dir) => Some(Arc::new(
                ContentNode::start(dir, config.p2p_bind_addr, config.public_url.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("content store {}: {e}", dir.display()))?,
            )),
            None => None,
        };
        if let Some(node) = &content {
            crate::content_nodes::register(&db, node)
                .await
                .map_err(|e| e.context("registering the content node"))?;
        }
        let releases = ReleaseLog::start(db.clone(), config.key_release_sync_commit);
        let mailer = match (&config.smtp_url, &config.smtp_from) {
            (Some(url), Some(from)) => {
                let mailer = Mailer::new(url, from)?;
                tracing::info!(target: "tangible::api::receipts", smtp = %mailer.server(),
                    from = %mailer.from(), "receipts enabled: fulfilled purchases with an email address are mailed a receipt");
                Some(mailer)
            }
            _ => {
                tracing::info!(target: "tangible::api::receipts",
                    "receipts disabled: smtp_url is not set (buyers' addresses are still stored and passed to Stripe)");
                None
            }
        };
        let state = AppState::new(StateParts {
            config,
            db,
            chain,
            stripe,
            tokens,
            metrics: telemetry::metrics_handle(),
            kek,
            attestation,
            content,
            releases,
            mailer,
        });
        Ok(Self { listener, state })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The state (tests use its pool and chain client).
    pub const fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs the workers) until `shutdown` resolves, then stops taking requests and
    /// jobs, and waits up to the grace period for in-flight work.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = JoinSet::new();
        // Names the jobs' `locked_by`, so an operator sees which instance holds a job.
        let instance = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        if self.state.config().run_worker {
            for i in 0..self.state.config().workers {
                workers.spawn(jobs::run_worker(
                    self.state.clone(),
                    format!("{instance}-worker-{i}"),
                    stop_rx.clone(),
                ));
            }
            workers.spawn(jobs::run_maintenance(self.state.clone(), stop_rx.clone()));
            workers.spawn(jobs::run_reconciler(self.state.clone(), stop_rx.clone()));
        }
        if let Some(node) = self.state.content() {
            workers.spawn(crate::content_nodes::heartbeat(
                self.state.db().clone(),
                node.clone(),
                stop_rx.clone(),
            ));
        }
        let grace = Duration::from_secs(self.state.config().shutdown_grace_secs);
        let app = with_middleware(self.state.clone());
        let mut server_stop = stop_rx.clone();
        // The peer address is the client of the rate limits (`throttle`).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = server_stop.wait_for(|s| *s).await;
        });
        let server = tokio::spawn(async move { server.await });
        shutdown.await;
        let _ = stop_tx.send(true);
        let orders = self.state.order_tasks().clone();
        let drained = tokio::time::timeout(grace, async {
            let _ = server.await;
            while workers.join_next().await.is_some() {}
            // Signed orders being sent keep their account's lock until mined: wait for them.
            orders.close();
            orders.wait().await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!(target: "tangible::api", "grace period over; jobs in flight resume after their lease");
        }
        if let Some(content) = self.state.content() {
            content.shutdown().await;
        }
        Ok(())
    }
}

/// `tangible-api migrate`: applies the pending migrations to the database of `config` (the
/// deploy's migrate step, run before the services start; they only check the schema).
pub async fn migrate(config: &MigrateConfig) -> anyhow::Result<()> {
    let url = &config.database_url;
    let db = tangible_db::connect(url.expose(), 2)
        .await
        .with_context(|| format!("connecting to the database {url}"))?;
    tangible_db::migrate(&db)
        .await
        .with_context(|| format!("migrating the database {url}"))?;
    tangible_db::check_migrations(&db).await?;
    tracing::info!(target: "tangible::api", database = %url, "database schema is current");
    Ok(())
}

/// The API's routes ([`routes::router`]) and the web app, wrapped in the middleware (request
/// id, tracing, CORS, body limit, HTTP metrics).
pub fn with_middleware(state: AppState) -> Router {
    let config = state.config();
    let cors = cors_layer(&config.cors_origins);
    let body_limit = config.body_limit_bytes;
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
    });
    // Metrics on the API's routes only (they read the matched route), the web app around them.
    let api = routes::router(state.clone()).layer(axum::middleware::from_fn(telemetry::track_http));
    web::with_web(api, &config.web_dir, &config.stripe_js_url)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

fn cors_layer(origins: &str) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(3600));
    let origins = origins.trim();
    if origins == "*" {
        return base.allow_origin(Any);
    }
    let list: Vec<HeaderValue> = origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    base.allow_origin(AllowOrigin::list(list))
}
