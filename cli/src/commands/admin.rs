//! `admin reconcile | jobs | retry | refund | failed-refunds | float | alerts | p2p`: the operator
//! console against `/v1/admin/*`, signed in as a platform admin's wallet.

use anyhow::Context;
use tangible_api_types::admin::{
    ActionQueued, AlertView, ContentP2pState, ContentP2pSwitch, FailedRefundView, FloatView,
    JobView, OperatorAction,
};
use tangible_api_types::reconciliation::ReconciliationReport;
use tangible_api_types::studios::{StudioApplication, StudioApplications};

use super::Ctx;
use crate::cli::AdminCommand;
use crate::output;

pub(super) async fn run(ctx: &mut Ctx, cmd: AdminCommand) -> anyhow::Result<()> {
    let api = ctx.authed_api().await?;
    match cmd {
        AdminCommand::Reconcile { from, to } => {
            let report: ReconciliationReport = api
                .get("/v1/admin/reconciliation", &[("from", from), ("to", to)])
                .await
                .context("the reconciliation report")?;
            if ctx.json {
                output::json(&report);
            } else {
                print_report(&report);
            }
            let balanced = report.difference == 0 && report.mismatches.is_empty();
            anyhow::ensure!(
                balanced,
                "the period does not reconcile: difference {} cents, {} mismatch(es)",
                report.difference,
                report.mismatches.len()
            );
        }
        AdminCommand::Jobs { state, limit } => {
            let jobs: Vec<JobView> = api
                .get(
                    "/v1/admin/jobs",
                    &[("state", state), ("limit", limit.to_string())],
                )
                .await
                .context("listing jobs")?;
            if ctx.json {
                output::json(&jobs);
            } else if jobs.is_empty() {
                println!("No job.");
            } else {
                for j in &jobs {
                    println!(
                        "job {:>6}  {:<9} {:<7} purchase {} ({})  {} attempt(s)  {}",
                        j.job_id,
                        j.kind,
                        j.state,
                        j.purchase_id,
                        j.purchase_state,
                        j.attempts,
                        j.last_error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        AdminCommand::P2p { state, reason } => {
            let body = ContentP2pSwitch {
                serving: state == "on",
                reason,
            };
            let now: ContentP2pState = api
                .put("/v1/admin/content/p2p", &body)
                .await
                .context("switching the API's P2P serving")?;
            if ctx.json {
                output::json(&now);
            } else if now.serving {
                println!(
                    "Node {} serves over P2P ({} bytes uploaded since it started).",
                    now.node_id, now.uploaded_bytes
                );
            } else {
                println!(
                    "Node {} no longer serves over P2P (HTTP still does).",
                    now.node_id
                );
            }
        }
        AdminCommand::StudioApplications { state } => {
            let list: StudioApplications = api
                .get("/v1/studios/applications", &[("state", state)])
                .await
                .context("listing the studio applications")?;
            super::studio::show_applications(ctx, &list.applications);
        }
        AdminCommand::ApproveStudio {
            application,
            reason,
        } => {
            let app: StudioApplication = api
                .post(
                    &format!("/v1/admin/studio-applications/{application}/approve"),
                    &OperatorAction { reason },
                )
                .await
                .with_context(|| format!("approving studio application {application}"))?;
            show_decision(ctx, &app);
        }
        AdminCommand::RejectStudio {
            application,
            reason,
        } => {
            let app: StudioApplication = api
                .post(
                    &format!("/v1/admin/studio-applications/{application}/reject"),
                    &OperatorAction { reason },
                )
                .await
                .with_context(|| format!("rejecting studio application {application}"))?;
            show_decision(ctx, &app);
        }
        AdminCommand::Retry { job, reason } => {
            let queued: ActionQueued = api
                .post(
                    &format!("/v1/admin/jobs/{job}/retry"),
                    &OperatorAction { reason },
                )
                .await
                .with_context(|| format!("retrying job {job}"))?;
            show_action(ctx, &queued);
        }
        AdminCommand::Refund { purchase, reason } => {
            let queued: ActionQueued = api
                .post(
                    &format!("/v1/admin/purchases/{purchase}/refund"),
                    &OperatorAction { reason },
                )
                .await
                .with_context(|| format!("refunding purchase {purchase}"))?;
            show_action(ctx, &queued);
        }
        AdminCommand::FailedRefunds => {
            let failed: Vec<FailedRefundView> = api
                .get("/v1/admin/refunds/failed", &[])
                .await
                .context("listing failed refunds")?;
            if ctx.json {
                output::json(&failed);
            } else if failed.is_empty() {
                println!("No failed refund.");
            } else {
                for f in &failed {
                    println!(
                        "purchase {}  {} €  {} attempt(s)  {}",
                        f.purchase_id,
                        output::euros(f.amount_cents),
                        f.refund_attempts,
                        f.last_refund_error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        AdminCommand::Float { limit } => {
            let float: FloatView = api
                .get("/v1/admin/float", &[("limit", limit.to_string())])
                .await
                .context("reading the float")?;
            if ctx.json {
                output::json(&float);
            } else {
                let low = if float.low { "  LOW" } else { "" };
                println!(
                    "Float of {}: {} € (alert under {} €){low}",
                    float.operator,
                    output::euros(float.balance_cents),
                    output::euros(float.warning_cents)
                );
                for m in &float.movements {
                    println!(
                        "  {:<16} {:>10} €  → {:>10} €  {}",
                        m.kind,
                        output::euros(m.cents),
                        output::euros(m.balance_after_cents),
                        m.tx_hash.as_deref().unwrap_or("")
                    );
                }
            }
        }
        AdminCommand::Alerts { limit } => {
            let alerts: Vec<AlertView> = api
                .get("/v1/admin/alerts", &[("limit", limit.to_string())])
                .await
                .context("listing alerts")?;
            if ctx.json {
                output::json(&alerts);
            } else if alerts.is_empty() {
                println!("No alert.");
            } else {
                for a in &alerts {
                    println!(
                        "{}  {:<32} {}  {}",
                        a.created_at.format("%Y-%m-%d %H:%M:%S"),
                        a.reason,
                        a.purchase_id.map(|p| p.to_string()).unwrap_or_default(),
                        a.detail
                    );
                }
            }
        }
    }
    Ok(())
}

fn show_action(ctx: &Ctx, queued: &ActionQueued) {
    if ctx.json {
        output::json(queued);
    } else {
        println!(
            "Queued {} job {} for purchase {} (was {}); action {} recorded.",
            queued.kind, queued.job_id, queued.purchase_id, queued.purchase_state, queued.action_id
        );
    }
}

fn print_report(r: &ReconciliationReport) {
    println!(
        "Period {} → {}: {} charge(s)",
        r.period.from, r.period.to, r.charges
    );
    println!(
        "  charged at Stripe   {:>12} €",
        output::euros(r.stripe_charged_cents)
    );
    println!(
        "  settled on chain    {:>12} €",
        output::euros(r.settled_cents)
    );
    println!(
        "  refunded            {:>12} €  (of which charged back {} €)",
        output::euros(r.refunded_cents),
        output::euros(r.charged_back_cents)
    );
    println!(
        "  pending             {:>12} €",
        output::euros(r.pending_cents)
    );
    println!(
        "  difference          {:>12} €",
        output::euros(r.difference)
    );
    println!(
        "  (revoked settlements paid from the float: {} €)",
        output::euros(r.revoked_settlements_cents)
    );
    for m in &r.mismatches {
        println!(
            "  MISMATCH {:?}  purchase {}  {}",
            m.kind_of_mismatch,
            m.purchase_id
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            m.detail
        );
    }
}

/// Prints a decided studio application (or its JSON).
fn show_decision(ctx: &Ctx, app: &StudioApplication) {
    if ctx.json {
        output::json(app);
        return;
    }
    match (app.studio_id, &app.tx_hash) {
        (Some(id), Some(tx)) => println!(
            "Application {} approved: studio {id} \"{}\" registered for {} (tx {tx}).",
            app.application_id, app.name, app.admin_address
        ),
        _ => println!(
            "Application {} {}: {}",
            app.application_id,
            app.state.as_str(),
            app.reason.as_deref().unwrap_or("")
        ),
    }
}
