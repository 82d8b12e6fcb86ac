//! `tangible admin …`: the operator console's commands.

use clap::Subcommand;

/// Operator console commands (the wallet must hold the platform's admin role).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Money reconciliation of a period: Σ Stripe charges = Σ settled on chain + Σ refunded +
    /// Σ pending, to the cent, with every mismatch. Exits 1 when the period does not reconcile.
    Reconcile {
        /// Start: a date (YYYY-MM-DD, UTC) or an RFC 3339 instant.
        #[arg(long)]
        from: String,
        /// End: a date (included) or an RFC 3339 instant (excluded).
        #[arg(long)]
        to: String,
    },
    /// Jobs of the queue in a state (default: dead, i.e. given up).
    Jobs {
        /// `dead`, `queued`, `running` or `done`.
        #[arg(long, default_value = "dead")]
        state: String,
        /// At most this many (1–200).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Queue a dead job again.
    Retry {
        /// The job id.
        job: i64,
        /// Why (kept in the audit record).
        #[arg(long)]
        reason: String,
    },
    /// Refund a failed purchase (its refund refused or never made).
    Refund {
        /// The purchase id.
        purchase: String,
        /// Why (kept in the audit record).
        #[arg(long)]
        reason: String,
    },
    /// Purchases still charged whose refund failed.
    FailedRefunds,
    /// The operator's float and its latest movements.
    Float {
        /// At most this many movements (1–200).
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// The latest operator alerts.
    Alerts {
        /// At most this many (1–200).
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Studio applications (default: those waiting for a decision).
    StudioApplications {
        /// `pending`, `registering`, `approved` or `rejected`.
        #[arg(long, default_value = "pending", value_parser = ["pending", "registering", "approved", "rejected"])]
        state: String,
    },
    /// Approve a studio application: the studio is registered on chain, its applicant its admin.
    ApproveStudio {
        /// The application id.
        application: i64,
        /// Why (kept with the application and in the audit record).
        #[arg(long)]
        reason: String,
    },
    /// Reject a studio application (the applicant sees the reason).
    RejectStudio {
        /// The application id.
        application: i64,
        /// Why (kept with the application and in the audit record).
        #[arg(long)]
        reason: String,
    },
    /// Start or stop the P2P serving of the API instance that answers (HTTP keeps serving;
    /// seeders and the other instances carry P2P delivery meanwhile).
    P2p {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Why (kept in the audit record).
        #[arg(long)]
        reason: String,
    },
}
