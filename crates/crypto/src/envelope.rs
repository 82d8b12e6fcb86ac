//! Envelope encryption of edition keys at rest.
//!
//! Each edition key is stored as a [`SealedEditionKey`]: AES-256-GCM under a key-encryption key
//! ([`Kek`], from configuration, never from the database), with the edition id as associated
//! data so a sealed key cannot be moved to another edition's row, and the KEK id recorded so the
//! right KEK is picked after a rotation. Rotation ([`rewrap`], [`KeyRing::rotate`]) re-seals the
//! edition keys under a new KEK; the films themselves are untouched (their key does not change).
//! See `FORMAT.md`, "Edition keys at rest".

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::film::{EditionId, FilmKey};

/// Domain-separation label at the start of the associated data.
pub const AAD_LABEL: &[u8] = b"tangible/edition-key/v1";

/// A key-encryption key with its id (e.g. `"kek-2026-11"`). Wiped on drop; never printed.
#[derive(Clone)]
pub struct Kek {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl Kek {
    /// A KEK from raw bytes.
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Result<Self, EnvelopeError> {
        let id = id.into();
        if id.is_empty() || id.len() > 128 {
            return Err(EnvelopeError::InvalidKek("id must be 1 to 128 bytes"));
        }
        Ok(Self {
            id,
            key: Zeroizing::new(key),
        })
    }

    /// A KEK from 64 hex characters (optionally `0x`-prefixed), as found in configuration.
    pub fn from_hex(id: impl Into<String>, hex_key: &str) -> Result<Self, EnvelopeError> {
        let bytes = Zeroizing::new(
            crate::hexser::decode(hex_key.trim())
                .map_err(|_| EnvelopeError::InvalidKek("key is not hex"))?,
        );
        let key: [u8; 32] = bytes[..]
            .try_into()
            .map_err(|_| EnvelopeError::InvalidKek("key must be 32 bytes (64 hex characters)"))?;
        Self::new(id, key)
    }

    /// A fresh random KEK (for tests and for generating configuration).
    pub fn generate(id: impl Into<String>) -> Result<Self, EnvelopeError> {
        Self::new(id, crate::os_random())
    }

    /// The KEK's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// An edition key sealed under a KEK: what the database stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedEditionKey {
    /// Id of the KEK that sealed it.
    pub kek_id: String,
    /// The edition whose key this is (bound as associated data).
    pub edition: EditionId,
    /// AES-GCM nonce (12 bytes, random).
    #[serde(with = "crate::hexser::array")]
    pub nonce: [u8; 12],
    /// Encrypted key ‖ tag (48 bytes).
    #[serde(with = "crate::hexser::vec")]
    pub ciphertext: Vec<u8>,
}

/// Envelope errors.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// A KEK from configuration is unusable.
    #[error("invalid key-encryption key: {0}")]
    InvalidKek(&'static str),
    /// The sealed key names a KEK that is not the one given / not in the key ring.
    #[error(
        "edition key is sealed under KEK {found:?}, which is not available (have {available:?})"
    )]
    UnknownKek {
        /// KEK id recorded in the sealed key.
        found: String,
        /// KEK ids that were available.
        available: Vec<String>,
    },
    /// Authentication failed: wrong KEK bytes for that id, wrong edition, or altered data.
    #[error("cannot open the sealed key of {edition}: wrong KEK, wrong edition or corrupted")]
    Corrupted {
        /// The edition recorded in the sealed key.
        edition: EditionId,
    },
}

fn aad(edition: &EditionId) -> Vec<u8> {
    [AAD_LABEL, &edition.to_bytes()[..]].concat()
}

/// Seals an edition key under `kek`.
pub fn seal(kek: &Kek, edition: EditionId, key: &FilmKey) -> SealedEditionKey {
    let nonce: [u8; 12] = crate::os_random();
    let ciphertext = kek
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &key.expose_secret()[..],
                aad: &aad(&edition),
            },
        )
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    SealedEditionKey {
        kek_id: kek.id.clone(),
        edition,
        nonce,
        ciphertext,
    }
}

/// Opens a sealed edition key with `kek`, which must be the KEK it names.
pub fn open(kek: &Kek, sealed: &SealedEditionKey) -> Result<FilmKey, EnvelopeError> {
    if sealed.kek_id != kek.id {
        return Err(EnvelopeError::UnknownKek {
            found: sealed.kek_id.clone(),
            available: vec![kek.id.clone()],
        });
    }
    let corrupted = || EnvelopeError::Corrupted {
        edition: sealed.edition,
    };
    let plain = Zeroizing::new(
        kek.cipher()
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad(&sealed.edition),
                },
            )
            .map_err(|_| corrupted())?,
    );
    FilmKey::from_slice(&plain).ok_or_else(corrupted)
}

/// Re-seals an edition key from `old` to `new` (a KEK rotation step).
pub fn rewrap(
    old: &Kek,
    new: &Kek,
    sealed: &SealedEditionKey,
) -> Result<SealedEditionKey, EnvelopeError> {
    let key = open(old, sealed)?;
    Ok(seal(new, sealed.edition, &key))
}

/// The KEKs an operator configures: the current one (used to seal) and retired ones still
/// accepted for opening until every sealed key has been rotated.
#[derive(Clone, Debug)]
pub struct KeyRing {
    current: Kek,
    retired: Vec<Kek>,
}

impl KeyRing {
    /// A key ring sealing with `current` and also opening with `retired`.
    pub const fn new(current: Kek, retired: Vec<Kek>) -> Self {
        Self { current, retired }
    }

    /// The KEK new keys are sealed with.
    pub const fn current(&self) -> &Kek {
        &self.current
    }

    /// Seals with the current KEK.
    pub fn seal(&self, edition: EditionId, key: &FilmKey) -> SealedEditionKey {
        seal(&self.current, edition, key)
    }

    /// Opens with whichever configured KEK the sealed key names.
    pub fn open(&self, sealed: &SealedEditionKey) -> Result<FilmKey, EnvelopeError> {
        let kek = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id == sealed.kek_id)
            .ok_or_else(|| EnvelopeError::UnknownKek {
                found: sealed.kek_id.clone(),
                available: std::iter::once(&self.current)
                    .chain(&self.retired)
                    .map(|k| k.id.clone())
                    .collect(),
            })?;
        open(kek, sealed)
    }

    /// Whether a sealed key still needs re-sealing under the current KEK.
    pub fn needs_rotation(&self, sealed: &SealedEditionKey) -> bool {
        sealed.kek_id != self.current.id
    }

    /// Re-seals under the current KEK (a no-op copy if it already is).
    pub fn rotate(&self, sealed: &SealedEditionKey) -> Result<SealedEditionKey, EnvelopeError> {
        if !self.needs_rotation(sealed) {
            return Ok(sealed.clone());
        }
        let key = self.open(sealed)?;
        Ok(self.seal(sealed.edition, &key))
    }
}
