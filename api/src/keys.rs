//! Edition keys at rest and their release to licence owners.
//!
//! Each edition (film × quality) has one random [`FilmKey`], stored sealed under the operator's
//! key-encryption key ([`envelope`]). On release the key is opened and wrapped with ECIES to the
//! owner's secp256k1 public key (recovered at sign-in), bound to the licence id, film, quality
//! and chain id ([`ecies::wrap_key`]); every release is recorded in `api_key_releases`.

use sqlx::PgPool;
use tangible_crypto::ecies::{self, KeyReleaseContext, WrappedKey};
use tangible_crypto::envelope::{self, Kek, SealedEditionKey};
use tangible_crypto::{EditionId, FilmKey};

/// Errors of the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key was stored for the edition.
    #[error("no key stored for edition {0}")]
    Missing(EditionId),
    /// The sealed key cannot be opened with the configured KEK.
    #[error(transparent)]
    Envelope(#[from] envelope::EnvelopeError),
    /// The stored value is not a sealed key.
    #[error("stored key of {0} is malformed: {1}")]
    Malformed(EditionId, String),
    /// The owner's public key is unusable.
    #[error(transparent)]
    Ecies(#[from] ecies::EciesError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Seals `key` under `kek` and stores it for `edition`, unless the edition already has one.
/// Returns whether it was stored (an edition's key is never replaced).
pub async fn store_edition_key(
    db: &PgPool,
    kek: &Kek,
    edition: EditionId,
    key: &FilmKey,
) -> Result<bool, KeyError> {
    let sealed = envelope::seal(kek, edition, key);
    let json =
        serde_json::to_value(&sealed).map_err(|e| KeyError::Malformed(edition, e.to_string()))?;
    let inserted = sqlx::query(
        "INSERT INTO api_edition_keys (film_id, quality, kek_id, sealed) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (film_id, quality) DO NOTHING",
    )
    .bind(i64::try_from(edition.film_id).map_err(|e| KeyError::Malformed(edition, e.to_string()))?)
    .bind(i16::from(edition.quality))
    .bind(kek.id())
    .bind(json)
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Opens the stored key of `edition`.
pub async fn edition_key(db: &PgPool, kek: &Kek, edition: EditionId) -> Result<FilmKey, KeyError> {
    let film_id =
        i64::try_from(edition.film_id).map_err(|e| KeyError::Malformed(edition, e.to_string()))?;
    let sealed: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT sealed FROM api_edition_keys WHERE film_id = $1 AND quality = $2",
    )
    .bind(film_id)
    .bind(i16::from(edition.quality))
    .fetch_optional(db)
    .await?;
    let sealed: SealedEditionKey =
        serde_json::from_value(sealed.ok_or(KeyError::Missing(edition))?)
            .map_err(|e| KeyError::Malformed(edition, e.to_string()))?;
    if sealed.edition != edition {
        return Err(KeyError::Malformed(
            edition,
            format!("sealed for {}", sealed.edition),
        ));
    }
    Ok(envelope::open(kek, &sealed)?)
}

/// The key of `edition`, generated and stored (sealed) first if it has none. Concurrent
/// callers get the same key: the first stored wins and everyone reads it back.
pub async fn edition_key_or_create(
    db: &PgPool,
    kek: &Kek,
    edition: EditionId,
) -> Result<FilmKey, KeyError> {
    match edition_key(db, kek, edition).await {
        Err(KeyError::Missing(_)) => {
            store_edition_key(db, kek, edition, &FilmKey::generate()).await?;
            edition_key(db, kek, edition).await
        }
        other => other,
    }
}

/// Wraps `key` to the owner's SEC1 public key (hex) for the licence in `ctx`.
pub fn wrap_for_owner(
    key: &FilmKey,
    owner_pubkey_hex: &str,
    ctx: &KeyReleaseContext,
) -> Result<WrappedKey, KeyError> {
    let bytes = hex::decode(owner_pubkey_hex.trim_start_matches("0x"))
        .map_err(|_| ecies::EciesError::Malformed("public key is not hex"))?;
    let pk = ecies::parse_public_key(&bytes)?;
    Ok(ecies::wrap_key(key, &pk, ctx))
}
