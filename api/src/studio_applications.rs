//! Studio applications (`api_studio_applications`): the gate in front of studio registration.
//!
//! A studio costs the platform gas and opens 1,000 film ids of the registry's 2^24 (contracts
//! audit M-3), so a wallet that is not a platform admin does not get one at once: `POST
//! /v1/studios` records an application, and a platform admin approves it (the studio is then
//! registered on chain with the applicant as its admin) or rejects it, from the console or the
//! CLI. Each decision is also an `api_operator_actions` row.
//!
//! Approval is claimed before the chain transaction (`pending` → `registering`, with the chain
//! head then), so two admins approving at once register one studio. A registration that may have
//! been sent — a crash, a receipt not seen in time — leaves the row `registering`: approving
//! again first looks on chain for a `StudioRegistered` of this applicant since the claim's block
//! (by the event's indexed admin, so a rename or a lagging indexer changes nothing) that no other
//! application already names, and sends the registration again only when there is none ten
//! minutes after the claim, when any transaction sent then has long been mined. A revert gives
//! the row back to `pending`.
//!
//! Applications cost the applicant nothing, so the queue is bounded: at most
//! [`MAX_PENDING`] wait at once, and a rejected wallet applies again after
//! [`REAPPLY_AFTER_SECS`].

use alloy::primitives::{Address, B256};
use sqlx::{PgPool, Row};
use tangible_api_types::studios::{StudioApplication, StudioApplicationState};

use crate::masters::lower;
use crate::operator;

/// The most applications a list answers.
pub const MAX_LIST: i64 = 200;
/// The most applications waiting for a decision at once (all wallets).
pub const MAX_PENDING: i64 = 500;
/// How long a wallet whose application was rejected waits before applying again.
pub const REAPPLY_AFTER_SECS: i64 = 24 * 3600;

/// How long after an approval's claim a `registering` application absent from the chain mirror
/// is registered again (see the module documentation).
const REGISTERING_RETRY_AFTER_SECS: i64 = 600;

/// Why an application request cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// The applicant already has an open application.
    #[error("application {0} of this wallet is already waiting for a platform admin")]
    AlreadyPending(i64),
    /// The applicant's last application was rejected less than a day ago.
    #[error(
        "application {0} of this wallet was rejected less than 24 hours ago; apply again later"
    )]
    RecentlyRejected(i64),
    /// Too many applications wait for a decision.
    #[error("too many studio applications wait for a decision; try again later")]
    QueueFull,
    /// No such application.
    #[error("no studio application {0}")]
    NotFound(i64),
    /// The application was already decided.
    #[error("studio application {id} is already {state}")]
    NotPending {
        /// The application.
        id: i64,
        /// Its state.
        state: &'static str,
    },
    /// Its registration was sent moments ago and may still be mined.
    #[error(
        "studio application {0} is being registered; if the registration failed, approve it again in ten minutes"
    )]
    InFlight(i64),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The columns of an application, as [`row_to_application`] reads them (a macro so that each
/// statement stays one `&'static str`).
macro_rules! columns {
    () => {
        "application_id, applicant, name, royalty_address, state, applied_at, decided_by, \
         decided_at, reason, studio_id, tx_hash"
    };
}

fn row_to_application(r: &sqlx::postgres::PgRow) -> Result<StudioApplication, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let state = StudioApplicationState::parse(&state).ok_or_else(|| {
        sqlx::Error::Decode(format!("unknown studio application state {state:?}").into())
    })?;
    let checksum = |s: String| {
        s.parse::<Address>()
            .map(|a| a.to_checksum(None))
            .unwrap_or(s)
    };
    let studio_id: Option<i64> = r.try_get("studio_id")?;
    Ok(StudioApplication {
        application_id: r.try_get("application_id")?,
        state,
        name: r.try_get("name")?,
        admin_address: checksum(r.try_get("applicant")?),
        royalty_address: checksum(r.try_get("royalty_address")?),
        applied_at: r.try_get("applied_at")?,
        decided_by: r.try_get::<Option<String>, _>("decided_by")?.map(checksum),
        decided_at: r.try_get("decided_at")?,
        reason: r.try_get("reason")?,
        studio_id: studio_id.and_then(|i| u32::try_from(i).ok()),
        tx_hash: r.try_get("tx_hash")?,
    })
}

/// Records `applicant`'s application for a studio named `name` paying `royalty`.
pub async fn apply(
    db: &PgPool,
    applicant: Address,
    name: &str,
    royalty: Address,
) -> Result<StudioApplication, ApplicationError> {
    let mut tx = db.begin().await?;
    // One applicant's applications are checked and recorded one at a time.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(lower(applicant))
        .execute(&mut *tx)
        .await?;
    let last: Option<(i64, String, bool)> = sqlx::query_as(
        "SELECT application_id, state, (decided_at > now() - make_interval(secs => $2)) IS TRUE \
         FROM api_studio_applications WHERE applicant = $1 ORDER BY application_id DESC LIMIT 1",
    )
    .bind(lower(applicant))
    .bind(REAPPLY_AFTER_SECS as f64)
    .fetch_optional(&mut *tx)
    .await?;
    match last {
        Some((id, state, _)) if state == "pending" || state == "registering" => {
            return Err(ApplicationError::AlreadyPending(id));
        }
        Some((id, state, true)) if state == "rejected" => {
            return Err(ApplicationError::RecentlyRejected(id));
        }
        _ => {}
    }
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_studio_applications WHERE state = 'pending'")
            .fetch_one(&mut *tx)
            .await?;
    if waiting >= MAX_PENDING {
        return Err(ApplicationError::QueueFull);
    }
    let row = sqlx::query(concat!(
        "INSERT INTO api_studio_applications (applicant, name, royalty_address) VALUES ($1, $2, $3) \
         RETURNING ",
        columns!()
    ))
    .bind(lower(applicant))
    .bind(name)
    .bind(lower(royalty))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row_to_application(&row)?)
}

/// Applications (pending ones oldest first, others latest first): `applicant`'s only when
/// given, in `state` when given.
pub async fn list(
    db: &PgPool,
    applicant: Option<Address>,
    state: Option<StudioApplicationState>,
) -> Result<Vec<StudioApplication>, ApplicationError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM api_studio_applications \
         WHERE ($1::text IS NULL OR applicant = $1) AND ($2::text IS NULL OR state = $2) \
         ORDER BY CASE WHEN $2 = 'pending' THEN application_id ELSE -application_id END LIMIT $3"
    ))
    .bind(applicant.map(lower))
    .bind(state.map(StudioApplicationState::as_str))
    .bind(MAX_LIST)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(row_to_application)
        .collect::<Result<_, _>>()?)
}

/// What an approval must do once claimed.
#[derive(Debug)]
pub enum Claimed {
    /// Send the registration of this application (now `registering`, claimed at the block
    /// given to [`claim`]).
    Register(StudioApplication),
    /// An earlier approval's registration may have been sent (the row was left `registering`
    /// by a crash or a lost receipt): look for it on chain from `since_block` first.
    Recover {
        /// The application.
        app: StudioApplication,
        /// The chain head when that approval was claimed.
        since_block: u64,
        /// Claimed more than ten minutes ago: a registration not on chain by now was not sent.
        stale: bool,
    },
}

/// Claims application `id` for approval by `admin` at chain head `head`: a `pending` one
/// becomes `registering`; a `registering` one is given back for recovery ([`Claimed::Recover`]).
pub async fn claim(
    db: &PgPool,
    id: i64,
    admin: Address,
    head: u64,
) -> Result<Claimed, ApplicationError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        ", claimed_block, \
         (decided_at < now() - make_interval(secs => $2)) AS stale \
         FROM api_studio_applications WHERE application_id = $1 FOR UPDATE"
    ))
    .bind(id)
    .bind(REGISTERING_RETRY_AFTER_SECS as f64)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApplicationError::NotFound(id))?;
    let app = row_to_application(&row)?;
    match app.state {
        StudioApplicationState::Pending => {}
        StudioApplicationState::Registering => {
            let since: Option<i64> = row.try_get("claimed_block")?;
            return Ok(Claimed::Recover {
                app,
                since_block: since.and_then(|b| u64::try_from(b).ok()).unwrap_or(0),
                stale: row.try_get::<Option<bool>, _>("stale")?.unwrap_or(false),
            });
        }
        decided => {
            return Err(ApplicationError::NotPending {
                id,
                state: decided.as_str(),
            });
        }
    }
    let claimed = reclaim(&mut tx, id, admin, head).await?;
    tx.commit().await?;
    Ok(Claimed::Register(claimed))
}

async fn reclaim(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: i64,
    admin: Address,
    head: u64,
) -> Result<StudioApplication, ApplicationError> {
    let row = sqlx::query(concat!(
        "UPDATE api_studio_applications SET state = 'registering', decided_by = $2, decided_at = now(), \
         claimed_block = $3 WHERE application_id = $1 RETURNING ", columns!()
    ))
    .bind(id)
    .bind(lower(admin))
    .bind(i64::try_from(head).unwrap_or(i64::MAX))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row_to_application(&row)?)
}

/// Claims a stale `registering` application again (its earlier registration is not on chain),
/// at chain head `head`.
pub async fn claim_again(
    db: &PgPool,
    id: i64,
    admin: Address,
    head: u64,
) -> Result<StudioApplication, ApplicationError> {
    let mut tx = db.begin().await?;
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM api_studio_applications WHERE application_id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if state.as_deref() != Some("registering") {
        return Err(ApplicationError::InFlight(id));
    }
    let app = reclaim(&mut tx, id, admin, head).await?;
    tx.commit().await?;
    Ok(app)
}

/// Whether studio `studio_id` is already the outcome of an application.
pub async fn studio_linked(db: &PgPool, studio_id: u32) -> Result<bool, ApplicationError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM api_studio_applications WHERE studio_id = $1)",
    )
    .bind(i64::from(studio_id))
    .fetch_one(db)
    .await?)
}

/// Records application `id` (`registering`) approved by `admin` for `reason`, registered as
/// `studio_id` by transaction `tx_hash`, with its operator action.
pub async fn finish_approval(
    db: &PgPool,
    id: i64,
    admin: Address,
    reason: &str,
    studio_id: u32,
    tx_hash: B256,
) -> Result<StudioApplication, ApplicationError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE api_studio_applications SET state = 'approved', studio_id = $2, tx_hash = $3, \
         reason = $4, decided_by = $5, decided_at = now() \
         WHERE application_id = $1 AND state = 'registering' RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(i64::from(studio_id))
    .bind(tx_hash.to_string())
    .bind(reason)
    .bind(lower(admin))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(ApplicationError::NotPending {
            id,
            state: "approved",
        });
    };
    let done = row_to_application(&row)?;
    operator::record_action(
        &mut tx,
        admin,
        "approve_studio",
        None,
        None,
        &format!("application {id} (studio {studio_id}): {reason}"),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// Gives a claimed application back (`registering` → `pending`) after its registration failed.
pub async fn release(db: &PgPool, id: i64) -> Result<(), ApplicationError> {
    sqlx::query(
        "UPDATE api_studio_applications SET state = 'pending', decided_by = NULL, decided_at = NULL \
         WHERE application_id = $1 AND state = 'registering'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Rejects pending application `id`, by `admin` for `reason`, with its operator action.
pub async fn reject(
    db: &PgPool,
    id: i64,
    admin: Address,
    reason: &str,
) -> Result<StudioApplication, ApplicationError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE api_studio_applications SET state = 'rejected', decided_by = $2, decided_at = now(), reason = $3 \
         WHERE application_id = $1 AND state = 'pending' RETURNING ", columns!(), ""
    ))
    .bind(id)
    .bind(lower(admin))
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM api_studio_applications WHERE application_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        return Err(
            match state.as_deref().and_then(StudioApplicationState::parse) {
                None => ApplicationError::NotFound(id),
                Some(s) => ApplicationError::NotPending {
                    id,
                    state: s.as_str(),
                },
            },
        );
    };
    let rejected = row_to_application(&row)?;
    operator::record_action(
        &mut tx,
        admin,
        "reject_studio",
        None,
        None,
        &format!("application {id}: {reason}"),
    )
    .await?;
    tx.commit().await?;
    Ok(rejected)
}
