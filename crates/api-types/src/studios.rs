//! Studio tooling: `POST /v1/studios`, `POST /v1/studios/{id}/films`,
//! `PUT /v1/editions/{id}/master`, `POST /v1/editions/{id}/withdraw` and `/reactivate`.

use serde::{Deserialize, Serialize};

/// A studio registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStudio {
    /// Display name (1–200 characters).
    pub name: String,
    /// Receives the studio's earnings (0x…).
    pub royalty_address: String,
    /// Platform commission on primary sales, basis points (default: the contract's default;
    /// another value needs a platform admin).
    pub commission_bps: Option<u16>,
    /// The studio's admin wallet (default: the caller; another wallet needs a platform admin).
    pub admin_address: Option<String>,
}

/// A registered studio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudioCreated {
    /// Studio id (on chain).
    pub studio_id: u32,
    /// Name.
    pub name: String,
    /// Admin wallet.
    pub admin_address: String,
    /// Royalty recipient.
    pub royalty_address: String,
    /// Platform commission, basis points.
    pub commission_bps: u16,
    /// The registration transaction.
    pub tx_hash: String,
    /// The commission transaction, when the commission differs from the default.
    pub commission_tx_hash: Option<String>,
}

/// An edition declared with its film.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEdition {
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// Price in cents (1 to 100,000,000).
    pub price_cents: u64,
}

/// A film registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFilm {
    /// Title (1–200 characters).
    pub title: String,
    /// Release year (1870–2200).
    pub year: u16,
    /// Editions and their prices; each goes on sale when its master is uploaded.
    #[serde(default)]
    pub editions: Vec<NewEdition>,
}

/// A declared edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclaredEdition {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// Price in cents.
    pub price_cents: u64,
    /// `awaiting_master`.
    pub status: String,
}

/// A registered film.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilmCreated {
    /// Film id (on chain).
    pub film_id: u64,
    /// Studio.
    pub studio_id: u32,
    /// Title.
    pub title: String,
    /// Year.
    pub year: u16,
    /// The registration transaction.
    pub tx_hash: String,
    /// Declared editions.
    pub editions: Vec<DeclaredEdition>,
}

/// Query of a master upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MasterQuery {
    /// Sets or changes the edition's price (required if it was not declared with the film).
    pub price_cents: Option<u64>,
    /// Why the master of an edition already on chain is replaced (1 to 200 characters), recorded on
    /// chain with the hashes before and after (`MasterReplaced`). Without it a replacement is
    /// recorded as "master re-uploaded by <address>".
    #[serde(default)]
    pub reason: Option<String>,
}

/// A published master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MasterPublished {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// Film.
    pub film_id: u64,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// SHA-256 of the plaintext master (0x…), registered on chain as the master hash.
    pub master_hash: String,
    /// Master size, bytes.
    pub size: u64,
    /// BLAKE3 hash of the encrypted file (its P2P and HTTP address).
    pub blob_hash: String,
    /// Encrypted file size, bytes.
    pub encrypted_size: u64,
    /// Price in cents (on chain).
    pub price_cents: u64,
    /// On primary sale.
    pub active: bool,
    /// The registry transaction (`registerEdition` or `updateEdition`); absent if the chain
    /// already held this master hash and price.
    pub tx_hash: Option<String>,
}

/// `PUT /v1/editions/{id}/resale-floor`: the lowest price a licence of the edition can be
/// listed, repriced or sold at on the market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResaleFloorRequest {
    /// Cents; at most half the lowest price the edition ever had; 0 for none (the market's 20-cent minimum).
    pub floor_cents: u64,
}

/// An edition's resale floor after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResaleFloor {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// Cents.
    pub floor_cents: u64,
    /// The registry transaction.
    pub tx_hash: String,
}

/// An edition's sale status after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionStatus {
    /// `<film_id>-<quality>`.
    pub edition_id: String,
    /// On primary sale.
    pub active: bool,
    /// The registry transaction.
    pub tx_hash: String,
}

/// Where a studio application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StudioApplicationState {
    /// Waiting for a platform admin.
    Pending,
    /// Approved; its registration on chain is being sent.
    Registering,
    /// Approved and registered on chain (`studio_id`, `tx_hash`).
    Approved,
    /// Rejected (`reason`).
    Rejected,
}

impl StudioApplicationState {
    /// The state as stored and sent: `pending`, `registering`, `approved`, `rejected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Registering => "registering",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Parses [`Self::as_str`]'s text.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Registering,
            Self::Approved,
            Self::Rejected,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A wallet's request for a studio, decided by a platform admin (`POST /v1/studios` answers it
/// with 202 to a caller that is not a platform admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudioApplication {
    /// Application id.
    pub application_id: i64,
    /// Where it stands.
    pub state: StudioApplicationState,
    /// The studio's name.
    pub name: String,
    /// The applicant, who becomes the studio's admin.
    pub admin_address: String,
    /// Receives the studio's earnings.
    pub royalty_address: String,
    /// When it was sent.
    pub applied_at: chrono::DateTime<chrono::Utc>,
    /// The platform admin who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The admin's reason.
    pub reason: Option<String>,
    /// The studio registered on approval.
    pub studio_id: Option<u32>,
    /// Its registration transaction.
    pub tx_hash: Option<String>,
}

/// Studio applications: waiting ones oldest first, others latest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudioApplications {
    /// At most 200.
    pub applications: Vec<StudioApplication>,
}

/// Query of `GET /v1/studios/applications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct StudioApplicationsQuery {
    /// Only those in this state.
    pub state: Option<StudioApplicationState>,
}
