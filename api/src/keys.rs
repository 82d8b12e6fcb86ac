//! Edition keys at rest and their release to licence owners.
//!
//! Each edition (film × quality) has one random [`FilmKey`], stored sealed under the operator's
//! key-encryption key ([`envelope`]). On release the key is opened and wrapped with ECIES to the
//! owner's secp256k1 public key (recovered at sign-in), bound to the licence id, film, quality
//! and chain id ([`ecies::wrap_key`]); every release is recorded in `api_key_releases`.
//!
//! On the key-release path: [`SealedKeyCache`] keeps sealed keys in memory once read (an
//! edition's key is never replaced or deleted, so a cached sealed key cannot go stale; it is
//! opened per request, so no plaintext key outlives a request), and [`ReleaseLog`] writes
//! the release records of concurrent requests in one multi-row insert and one commit, each
//! request answered only after its record is committed.

use std::collections::HashMap;
use std::sync::RwLock;

use sqlx::PgPool;
use tangible_crypto::ecies::{self, KeyReleaseContext, WrappedKey};
use tangible_crypto::envelope::{self, Kek, SealedEditionKey};
use tangible_crypto::{EditionId, FilmKey};
use tokio::sync::{mpsc, oneshot};

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
    let sealed = sealed_edition_key(db, edition).await?;
    Ok(envelope::open(kek, &sealed)?)
}

/// The stored (sealed) key of `edition`, checked to be sealed for it.
async fn sealed_edition_key(db: &PgPool, edition: EditionId) -> Result<SealedEditionKey, KeyError> {
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
    Ok(sealed)
}

/// Sealed edition keys kept in memory once read from the database. Sound because an edition's
/// key is never replaced nor deleted ([`store_edition_key`] inserts only when absent); a
/// missing key is not cached, so a key stored later is found.
#[derive(Debug, Default)]
pub struct SealedKeyCache {
    sealed: RwLock<HashMap<EditionId, SealedEditionKey>>,
}

impl SealedKeyCache {
    /// Opens the key of `edition` under `kek`, reading the sealed key from the database the
    /// first time.
    pub async fn edition_key(
        &self,
        db: &PgPool,
        kek: &Kek,
        edition: EditionId,
    ) -> Result<FilmKey, KeyError> {
        let cached = self
            .sealed
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&edition)
            .cloned();
        let sealed = match cached {
            Some(s) => s,
            None => {
                let s = sealed_edition_key(db, edition).await?;
                self.sealed
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(edition, s.clone());
                s
            }
        };
        Ok(envelope::open(kek, &sealed)?)
    }
}

/// One key release to record.
#[derive(Debug, Clone)]
pub struct ReleaseRecord {
    /// Licence id (decimal).
    pub licence_id: String,
    /// Owner address (0x, lower case).
    pub owner_address: String,
    /// Film.
    pub film_id: i64,
    /// Quality code.
    pub quality: i16,
    /// The owner's public key the edition key was wrapped to (hex).
    pub owner_pubkey: String,
}

type Pending = (ReleaseRecord, oneshot::Sender<Result<(), String>>);

/// Most records written by one insert.
const RELEASE_BATCH: usize = 256;

/// Records key releases in `api_key_releases`: the records of requests arriving while a commit
/// is in flight are written together by the next insert (one statement, one commit), and
/// [`ReleaseLog::record`] returns only once its own record is committed. A failed insert fails
/// every request of its batch (none of them releases a key).
#[derive(Debug, Clone)]
pub struct ReleaseLog {
    tx: mpsc::Sender<Pending>,
}

impl ReleaseLog {
    /// Starts the writer task on the current runtime; it ends when every handle is dropped.
    /// `sync_commit`: wait for the WAL flush of each batch (see
    /// [`crate::Config::key_release_sync_commit`]).
    pub fn start(db: PgPool, sync_commit: bool) -> Self {
        let (tx, rx) = mpsc::channel::<Pending>(4 * RELEASE_BATCH);
        tokio::spawn(Self::writer(db, rx, sync_commit));
        Self { tx }
    }

    async fn writer(db: PgPool, mut rx: mpsc::Receiver<Pending>, sync_commit: bool) {
        let mut batch = Vec::with_capacity(RELEASE_BATCH);
        while rx.recv_many(&mut batch, RELEASE_BATCH).await > 0 {
            let result = Self::insert(&db, &batch, sync_commit)
                .await
                .map_err(|e| e.to_string());
            metrics::histogram!("key_release_record_batch").record(batch.len() as f64);
            for (_, done) in batch.drain(..) {
                let _ = done.send(result.clone());
            }
        }
    }

    async fn insert(db: &PgPool, batch: &[Pending], sync_commit: bool) -> Result<(), sqlx::Error> {
        let mut licence = Vec::with_capacity(batch.len());
        let mut owner = Vec::with_capacity(batch.len());
        let mut film = Vec::with_capacity(batch.len());
        let mut quality = Vec::with_capacity(batch.len());
        let mut pubkey = Vec::with_capacity(batch.len());
        for (r, _) in batch {
            licence.push(r.licence_id.as_str());
            owner.push(r.owner_address.as_str());
            film.push(r.film_id);
            quality.push(r.quality);
            pubkey.push(r.owner_pubkey.as_str());
        }
        let insert = sqlx::query(
            "INSERT INTO api_key_releases (licence_id, owner_address, film_id, quality, owner_pubkey) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::smallint[], $5::text[])",
        )
        .bind(licence)
        .bind(owner)
        .bind(film)
        .bind(quality)
        .bind(pubkey);
        if sync_commit {
            // One statement, committed (and flushed) on its own.
            insert.execute(db).await?;
            return Ok(());
        }
        let mut tx = db.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        insert.execute(&mut *tx).await?;
        tx.commit().await
    }

    /// Records one release; resolves once it is committed.
    pub async fn record(&self, record: ReleaseRecord) -> Result<(), KeyError> {
        let (done, committed) = oneshot::channel();
        let closed = || KeyError::Db(sqlx::Error::PoolClosed);
        self.tx.send((record, done)).await.map_err(|_| closed())?;
        committed.await.map_err(|_| closed())?.map_err(|e| {
            KeyError::Db(sqlx::Error::Protocol(format!(
                "recording the key release: {e}"
            )))
        })
    }
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
