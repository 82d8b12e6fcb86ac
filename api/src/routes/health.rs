//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tangible_api_types::health::{Check, Readiness};

use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz",
    responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

fn check<E: std::fmt::Display>(r: Result<(), E>) -> Check {
    match r {
        Ok(()) => Check {
            status: "ok".to_owned(),
            detail: None,
        },
        Err(e) => Check {
            status: "error".to_owned(),
            detail: Some(e.to_string()),
        },
    }
}

/// Readiness: database, chain node and Stripe reachable; warns when the float is low.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "ready", body = Readiness),
    (status = 503, description = "a dependency is down", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let timeout = std::time::Duration::from_secs(3);
    let db = tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(state.db()));
    let rpc = tokio::time::timeout(timeout, state.chain().check());
    let stripe = tokio::time::timeout(timeout, state.stripe().reachable());
    let float = tokio::time::timeout(timeout, state.chain().operator_float_cents());
    let (db, rpc, stripe, float) = tokio::join!(db, rpc, stripe, float);
    let database = check(
        db.map_err(|e| e.to_string())
            .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string())),
    );
    let rpc = check(
        rpc.map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string())),
    );
    let stripe = check(
        stripe
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string())),
    );
    let float = float.ok().and_then(Result::ok);
    let mut warnings = Vec::new();
    if let Some(cents) = float {
        metrics::gauge!("operator_float_cents").set(cents as f64);
        if cents < state.config().float_warning_cents {
            warnings.push(format!(
                "operator float {cents} cents is below {} cents: card settlements will fail",
                state.config().float_warning_cents
            ));
        }
    }
    let ready = [&database, &rpc, &stripe].iter().all(|c| c.status == "ok");
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" }.to_owned(),
        database,
        rpc,
        stripe,
        operator_float_cents: float,
        warnings,
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", responses(
    (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics().render(),
    )
}
