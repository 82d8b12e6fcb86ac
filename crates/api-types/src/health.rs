//! Readiness: `GET /readyz`.

use serde::{Deserialize, Serialize};

/// One dependency's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    /// `ok` or `error`.
    pub status: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Readiness report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// Database.
    pub database: Check,
    /// Chain node (and the deployment's chain id).
    pub rpc: Check,
    /// Stripe API.
    pub stripe: Check,
    /// The operator's float in cents, when readable.
    pub operator_float_cents: Option<u64>,
    /// Warnings that do not make the API unready (e.g. a low float).
    pub warnings: Vec<String>,
}
