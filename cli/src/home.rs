//! The client's home directory: configuration, wallet, session and library.
//!
//! ```text
//! <home>/config.toml             endpoints (written by `tangible config --save`)
//! <home>/wallet/keystore.json    the wallet key, keystore v3 (scrypt + AES-128-CTR)
//! <home>/wallet/address          the wallet's address (public, readable without the password)
//! <home>/session.json            the API bearer token of the last `login`
//! <home>/trust.json              the certificate signer pinned on first use (if not configured)
//! <home>/library/<licence>/      one folder per licence (see `library`)
//! <home>/store/                  content store: P2P downloads in progress (resumable)
//! ```
//!
//! The home is `--home`, else `TANGIBLE_HOME`, else `$XDG_DATA_HOME/tangible`, else
//! `~/.local/share/tangible`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Paths under the client's home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home at `explicit` if given, else the default location.
    pub fn resolve(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let root = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
                    PathBuf::from(d).join("tangible")
                } else if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                    PathBuf::from(h).join(".local/share/tangible")
                } else {
                    bail!("no home directory: pass --home or set TANGIBLE_HOME");
                }
            }
        };
        Ok(Self { root })
    }

    /// Creates the home directory (owner-only permissions on Unix) if needed.
    pub fn ensure(&self) -> anyhow::Result<()> {
        create_private_dir(&self.root)
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// The wallet folder.
    pub fn wallet_dir(&self) -> PathBuf {
        self.root.join("wallet")
    }

    /// The keystore file.
    pub fn keystore(&self) -> PathBuf {
        self.wallet_dir().join("keystore.json")
    }

    /// The public address file.
    pub fn address_file(&self) -> PathBuf {
        self.wallet_dir().join("address")
    }

    /// The session (bearer token) file.
    pub fn session_file(&self) -> PathBuf {
        self.root.join("session.json")
    }

    /// The pinned certificate signer.
    pub fn trust_file(&self) -> PathBuf {
        self.root.join("trust.json")
    }

    /// The library folder.
    pub fn library_dir(&self) -> PathBuf {
        self.root.join("library")
    }

    /// The content store used by P2P downloads.
    pub fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }
}

/// Creates `dir` and its parents; on Unix the leaf gets mode 0700.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting permissions of {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (temporary file + rename), mode 0600 on Unix.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().context("path has no parent folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
