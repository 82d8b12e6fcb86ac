//! The wallet on disk: a keystore v3 file (via `tangible_crypto::wallet`) plus the public
//! address in clear, so commands that only need the address never ask for the password.

use std::io::{IsTerminal, Read};

use alloy::primitives::Address;
use anyhow::{Context, bail};
use tangible_crypto::wallet::{Wallet, WalletError};
use zeroize::Zeroizing;

use crate::home::{Home, create_private_dir, write_private};

/// Environment variable holding the keystore password for scripts.
pub const PASSWORD_ENV: &str = "TANGIBLE_PASSWORD";

/// The wallet's address, from `<home>/wallet/address`.
pub fn address(home: &Home) -> anyhow::Result<Address> {
    let path = home.address_file();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "no wallet in {}: run `tangible wallet new` or `tangible wallet import`",
                home.root().display()
            )
        } else {
            anyhow::Error::new(e).context(format!("reading {}", path.display()))
        }
    })?;
    text.trim()
        .parse()
        .with_context(|| format!("{} does not hold an address", path.display()))
}

/// Whether a wallet exists.
pub fn exists(home: &Home) -> bool {
    home.keystore().exists()
}

/// Reads the password from `TANGIBLE_PASSWORD` or prompts for it on the terminal.
pub fn password(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the wallet password: set {PASSWORD_ENV}");
    }
    Ok(Zeroizing::new(
        rpassword::prompt_password(prompt).context("reading the password")?,
    ))
}

/// Asks for a new password twice (or takes `TANGIBLE_PASSWORD`).
pub fn new_password() -> anyhow::Result<Zeroizing<String>> {
    let first = password("New wallet password: ")?;
    if std::env::var(PASSWORD_ENV).is_err() {
        let again = password("Repeat the password: ")?;
        if *again != *first {
            bail!("the two passwords differ");
        }
    }
    if first.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    Ok(first)
}

/// Reads a secret (mnemonic or key) without echo from the terminal, or from stdin.
pub fn read_secret(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        Ok(Zeroizing::new(
            rpassword::prompt_password(prompt).context("reading the secret")?,
        ))
    } else {
        let mut s = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the secret from stdin")?;
        Ok(s)
    }
}

/// Decrypts the wallet (asks for the password).
pub fn unlock(home: &Home) -> anyhow::Result<Wallet> {
    let path = home.keystore();
    if !path.exists() {
        bail!(
            "no wallet in {}: run `tangible wallet new` or `tangible wallet import`",
            home.root().display()
        );
    }
    let pw = password("Wallet password: ")?;
    match Wallet::load_keystore(&path, &pw) {
        Ok(w) => Ok(w),
        Err(WalletError::WrongPassword) => bail!("wrong wallet password"),
        Err(e) => Err(e).with_context(|| format!("opening the keystore {}", path.display())),
    }
}

/// Stores `wallet` under `password`, replacing any wallet only when `force`.
pub fn store(home: &Home, wallet: &Wallet, password: &str, force: bool) -> anyhow::Result<()> {
    if exists(home) && !force {
        bail!(
            "a wallet already exists ({}): pass --force to replace it (its licences stay bound to its key)",
            address(home).map(|a| a.to_string()).unwrap_or_default()
        );
    }
    let dir = home.wallet_dir();
    create_private_dir(&dir)?;
    let tmp_name = "keystore.json.new";
    wallet
        .save_keystore(&dir, tmp_name, password)
        .context("writing the keystore")?;
    let tmp = dir.join(tmp_name);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .context("restricting the keystore's permissions")?;
    }
    std::fs::rename(&tmp, home.keystore()).context("installing the keystore")?;
    write_private(
        &home.address_file(),
        wallet.address().to_string().as_bytes(),
    )?;
    // A session belongs to the previous wallet.
    let _ = std::fs::remove_file(home.session_file());
    Ok(())
}
