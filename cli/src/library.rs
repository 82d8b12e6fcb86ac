//! The local library: one folder per licence under `<home>/library/<licence id>/`.
//!
//! ```text
//! licence.json      what the licence is (film, quality, chain) and the content hash/size
//! key.json          the edition key as released: ECIES-wrapped to the wallet's public key
//! certificate.json  the EIP-712 certificate signed by the platform (offline lease)
//! film.tgf          the encrypted film exactly as downloaded (tangible film format)
//! ```
//!
//! Nothing here is plaintext: the key is unusable without the wallet's private key, and the
//! film is unusable without the key.

use std::path::PathBuf;

use alloy::primitives::U256;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use tangible_crypto::certificate::SignedCertificate;
use tangible_crypto::ecies::{KeyReleaseContext, WrappedKey};

use crate::home::{Home, create_private_dir, write_private};

/// Where a licence's film comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentInfo {
    /// BLAKE3 hash of the encrypted file (hex).
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
}

/// `licence.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalLicence {
    /// The licence id (decimal).
    pub licence_id: String,
    /// The film.
    pub film_id: u64,
    /// The quality code.
    pub quality: u8,
    /// The chain the licence lives on.
    pub chain_id: u64,
    /// The content, once known.
    #[serde(default)]
    pub content: Option<ContentInfo>,
}

/// `key.json`: the wrapped key and what it is bound to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// The binding (licence, film, quality, chain).
    pub context: KeyReleaseContext,
    /// The wrapped edition key.
    pub wrapped_key: WrappedKey,
}

/// The library of one home.
#[derive(Debug, Clone)]
pub struct Library {
    dir: PathBuf,
}

/// What the library holds for one licence.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `licence.json`.
    pub licence: LocalLicence,
    /// Its folder.
    pub dir: PathBuf,
}

impl Entry {
    /// The encrypted film file.
    pub fn film_path(&self) -> PathBuf {
        self.dir.join("film.tgf")
    }

    /// `key.json`.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("key.json")
    }

    /// `certificate.json`.
    pub fn certificate_path(&self) -> PathBuf {
        self.dir.join("certificate.json")
    }

    /// The stored certificate, if any.
    pub fn certificate(&self) -> anyhow::Result<Option<SignedCertificate>> {
        let path = self.certificate_path();
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(
                SignedCertificate::from_json(&t)
                    .with_context(|| format!("reading {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The stored wrapped key, if any.
    pub fn key(&self) -> anyhow::Result<Option<StoredKey>> {
        let path = self.key_path();
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(
                serde_json::from_str(&t).with_context(|| format!("reading {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Stores the certificate.
    pub fn save_certificate(&self, cert: &SignedCertificate) -> anyhow::Result<()> {
        write_private(&self.certificate_path(), cert.to_json().as_bytes())
    }

    /// Stores the wrapped key.
    pub fn save_key(&self, key: &StoredKey) -> anyhow::Result<()> {
        write_private(
            &self.key_path(),
            serde_json::to_string_pretty(key)?.as_bytes(),
        )
    }

    /// Updates `licence.json`.
    pub fn save(&self) -> anyhow::Result<()> {
        write_private(
            &self.dir.join("licence.json"),
            serde_json::to_string_pretty(&self.licence)?.as_bytes(),
        )
    }

    /// Whether the complete encrypted film is present.
    pub fn has_film(&self) -> bool {
        self.film_path().is_file()
    }
}

impl Library {
    /// The library of `home`.
    pub fn open(home: &Home) -> Self {
        Self {
            dir: home.library_dir(),
        }
    }

    fn entry_dir(&self, id: U256) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// The entry of licence `id`, if the library holds it.
    pub fn get(&self, id: U256) -> anyhow::Result<Option<Entry>> {
        let dir = self.entry_dir(id);
        let path = dir.join("licence.json");
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(Entry {
                licence: serde_json::from_str(&t)
                    .with_context(|| format!("reading {}", path.display()))?,
                dir,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The entry of licence `id`, or an error telling to download it.
    pub fn require(&self, id: U256) -> anyhow::Result<Entry> {
        self.get(id)?.with_context(|| {
            format!("licence {id} is not in the local library: run `tangible download {id}`")
        })
    }

    /// Creates or updates the entry for `licence`.
    pub fn upsert(&self, licence: LocalLicence) -> anyhow::Result<Entry> {
        let id: U256 = licence.licence_id.parse().context("licence id")?;
        let dir = self.entry_dir(id);
        create_private_dir(&dir)?;
        let entry = Entry { licence, dir };
        entry.save()?;
        Ok(entry)
    }

    /// Every entry, sorted by licence id.
    pub fn list(&self) -> anyhow::Result<Vec<Entry>> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.dir.display())),
        };
        for item in rd {
            let item = item?;
            let Some(id) = item
                .file_name()
                .to_str()
                .and_then(|n| U256::from_str_radix(n, 10).ok())
            else {
                continue;
            };
            if let Some(e) = self.get(id)? {
                out.push(e);
            }
        }
        out.sort_by_key(|e| e.licence.licence_id.parse::<U256>().unwrap_or_default());
        Ok(out)
    }

    /// Deletes everything held for licence `id` (file, key, certificate). Returns whether
    /// anything was there.
    pub fn erase(&self, id: U256) -> anyhow::Result<bool> {
        let dir = self.entry_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("erasing {}", dir.display())),
        }
    }
}
