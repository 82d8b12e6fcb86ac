//! The answer to a Stripe webhook: `POST /v1/webhooks/stripe`.

use serde::{Deserialize, Serialize};

/// What the API did with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookAck {
    /// Always true for a 2xx.
    pub received: bool,
    /// True if this event id was already processed (nothing done again).
    pub duplicate: bool,
    /// What happened (`paid`, `amount_mismatch`, `ignored`, …).
    pub outcome: String,
}
