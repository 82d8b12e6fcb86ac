//! Catalogue and history read from the indexer's mirror: `GET /v1/films`, `/v1/films/{id}`,
//! `/v1/offers`, `/v1/licences`, `/v1/licences/{id}/history`, `/v1/sales` and
//! `/v1/studios/{id}/statement`. Lists come in a [`Page`] with a keyset cursor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from the rows of a statement limited to `limit + 1` (the probe): a row beyond
    /// `limit` means there is a next page, whose cursor is `cursor` of the last item kept.
    pub fn from_probe(mut items: Vec<T>, limit: i64, cursor: impl FnOnce(&T) -> String) -> Self {
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next_cursor = more.then(|| items.last().map(cursor)).flatten();
        Self { items, next_cursor }
    }
}

// ------------------------------------------------------------------ films

/// An edition and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionView {
    /// `<film_id>-<quality>`: the id of the edition's studio and content endpoints.
    pub edition_id: String,
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// Price in cents.
    pub price_cents: i64,
    /// On primary sale.
    pub active: bool,
    /// Hash of the encrypted master.
    pub master_hash: String,
    /// Lowest price, cents, a licence of this edition can be listed, repriced or sold at on the
    /// market (set by the studio, at most half the lowest price the edition ever had; 0 = the market's 20-cent minimum only).
    #[serde(default)]
    pub resale_floor_cents: i64,
    /// The platform serves this edition's master (the one `master_hash` names): only then is it
    /// sold (by card or credit, new or resold) and played. False for an edition registered on
    /// chain without its master uploaded to this API, or whose master changed on chain since.
    /// Read as true when absent: an API from before this field sold every active edition.
    #[serde(default = "served_when_absent")]
    pub served: bool,
}

/// `served` of an edition from an API that does not send it (see [`EditionView::served`]).
const fn served_when_absent() -> bool {
    true
}

/// A film with its editions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilmView {
    /// Film id.
    pub film_id: i64,
    /// Studio id.
    pub studio_id: i64,
    /// Studio name.
    pub studio_name: String,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i32,
    /// Editions.
    pub editions: Vec<EditionView>,
}

/// Film filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct FilmQuery {
    /// Title contains (case-insensitive).
    pub q: Option<String>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// Year.
    pub year: Option<i32>,
    /// Only films with an edition of this quality on sale (`sd`, `hd`, `4k`).
    pub quality: Option<String>,
    /// Only films with an edition on sale at this price or less, cents (with `quality`: that
    /// edition).
    pub max_price: Option<i64>,
    /// Page size (1..=100, default 20).
    pub limit: Option<i64>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

// ------------------------------------------------------------------ licences

/// A licence as mirrored from the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceView {
    /// Licence id (decimal).
    pub licence_id: String,
    /// Owner (last owner if revoked).
    pub owner_address: String,
    /// Film.
    pub film_id: i64,
    /// Quality.
    pub quality: String,
    /// Minting transaction.
    pub tx_hash: String,
    /// Acquired at.
    pub acquired_at: DateTime<Utc>,
    /// Hold (card payments) until.
    pub hold_until: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked: bool,
    /// 0 resale, 1 chargeback, 2 fraud, 3 other.
    pub revoked_reason: Option<i16>,
    /// New licence id after a resale.
    pub replaced_by: Option<String>,
}

/// Licence filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct LicenceQuery {
    /// Owner address (required).
    pub owner: String,
    /// Include revoked licences (history); default false.
    pub include_revoked: Option<bool>,
    /// Page size.
    pub limit: Option<i64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

/// A licence's history: the chain of licences it descends from and was replaced by (resales),
/// every sale that minted one of them and every offer made on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceHistory {
    /// The licences of the chain, oldest first (the asked one included).
    pub licences: Vec<LicenceView>,
    /// Sales that minted them, oldest first, with every share.
    pub sales: Vec<SaleView>,
    /// Offers made on them.
    pub offers: Vec<OfferView>,
}

// ------------------------------------------------------------------ offers

/// A resale offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferView {
    /// Offer id (decimal).
    pub offer_id: String,
    /// Licence offered (decimal).
    pub licence_id: String,
    /// Film.
    pub film_id: i64,
    /// Quality.
    pub quality: String,
    /// Seller.
    pub seller_address: String,
    /// Price in cents.
    pub price_cents: i64,
    /// `active`, `cancelled` or `filled`.
    pub status: String,
    /// Buyer, when filled.
    pub buyer_address: Option<String>,
    /// Block of the listing.
    pub listed_block: i64,
    /// Transaction of the listing.
    pub listed_tx: String,
    /// Active but priced under its edition's resale floor, which the studio raised after the
    /// listing: the market refuses to fill it (a purchase gets 409) until its seller reprices.
    pub below_floor: bool,
}

/// Offer filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct OfferQuery {
    /// Film.
    pub film_id: Option<i64>,
    /// `active` (default), `cancelled`, `filled` or `all`.
    pub status: Option<String>,
    /// Lowest price in cents.
    pub min_price: Option<i64>,
    /// Highest price in cents.
    pub max_price: Option<i64>,
    /// Page size.
    pub limit: Option<i64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

// ------------------------------------------------------------------ sales and statements

/// One sale with its split, traceable to its `SaleSettled` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleView {
    /// Transaction of the `SaleSettled` event.
    pub tx_hash: String,
    /// Its log index.
    pub log_index: i32,
    /// Block.
    pub block_number: i64,
    /// Block time.
    pub block_timestamp: Option<DateTime<Utc>>,
    /// `primary` or `resale`.
    pub kind: String,
    /// Licence minted to the buyer (decimal).
    pub licence_id: String,
    /// Offer (resale).
    pub offer_id: Option<String>,
    /// Card payment reference (NULL for crypto).
    pub payment_ref: Option<String>,
    /// Who paid (the operator for card payments).
    pub payer_address: String,
    /// Film.
    pub film_id: Option<i64>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// Price in cents.
    pub price_cents: i64,
    /// Seller (resale).
    pub seller_address: Option<String>,
    /// Seller's share.
    pub seller_cents: i64,
    /// Studio's royalty address.
    pub studio_address: String,
    /// Studio's share.
    pub studio_cents: i64,
    /// Platform's address.
    pub platform_address: String,
    /// Platform's share.
    pub platform_cents: i64,
}

/// Sale filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SaleQuery {
    /// Film.
    pub film_id: Option<i64>,
    /// Studio.
    pub studio_id: Option<i64>,
    /// `primary` or `resale`.
    pub kind: Option<String>,
    /// From (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// To (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size (statements: ignored, all lines).
    pub limit: Option<i64>,
    /// From a previous page: `block-logindex`.
    pub cursor: Option<String>,
    /// Statements only: `json` (default) or `csv`.
    pub format: Option<String>,
}

/// A studio's royalty statement for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Statement {
    /// Studio.
    pub studio_id: i64,
    /// Period start (inclusive), if given.
    pub from: Option<DateTime<Utc>>,
    /// Period end (exclusive), if given.
    pub to: Option<DateTime<Utc>>,
    /// Number of sales.
    pub sales: i64,
    /// Sum of prices.
    pub gross_cents: i64,
    /// Sum of the studio's shares.
    pub studio_cents: i64,
    /// Sum of the platform's shares.
    pub platform_cents: i64,
    /// Sum of the sellers' shares (resales).
    pub seller_cents: i64,
    /// Every sale of the period.
    pub lines: Vec<SaleView>,
}
