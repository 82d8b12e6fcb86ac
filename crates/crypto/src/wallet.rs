//! The buyer's wallet key: generate, import a BIP39 mnemonic, store as an Ethereum keystore v3
//! file, sign EIP-191 messages and unwrap released film keys.
//!
//! Built on alloy's local signer (`PrivateKeySigner`, `MnemonicBuilder`, the `eth-keystore`
//! v3 format with scrypt), not on hand-rolled key derivation.

use std::fmt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::coins_bip39::{English, Mnemonic};
use alloy::signers::local::{LocalSignerError, MnemonicBuilder, PrivateKeySigner};
use zeroize::Zeroizing;

use crate::ecies::{self, EciesError, KeyReleaseContext, WrappedKey};
use crate::film::FilmKey;

/// The standard Ethereum derivation path (first account).
pub const DERIVATION_PATH: &str = "m/44'/60'/0'/0/0";

/// Wallet errors.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The mnemonic does not have 12 or 24 words.
    #[error("a mnemonic must have 12 or 24 words, this one has {0}")]
    MnemonicLength(usize),
    /// The mnemonic is not a valid English BIP39 phrase (unknown word or bad checksum).
    #[error("invalid BIP39 mnemonic: {0}")]
    InvalidMnemonic(String),
    /// The keystore password is wrong (the keystore MAC does not match).
    #[error("wrong keystore password")]
    WrongPassword,
    /// The keystore file cannot be read or written, or is not a keystore v3 document.
    #[error("keystore error: {0}")]
    Keystore(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A secp256k1 wallet key. Debug shows the address only.
#[derive(Clone)]
pub struct Wallet {
    signer: PrivateKeySigner,
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("address", &self.signer.address())
            .finish_non_exhaustive()
    }
}

impl Wallet {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self {
            signer: PrivateKeySigner::random(),
        }
    }

    /// A fresh BIP39 mnemonic of 12 or 24 English words and the wallet it derives
    /// (on [`DERIVATION_PATH`]). Show the phrase to the user once, for backup.
    pub fn generate_mnemonic(words: usize) -> Result<(Self, Zeroizing<String>), WalletError> {
        if words != 12 && words != 24 {
            return Err(WalletError::MnemonicLength(words));
        }
        let mnemonic = Mnemonic::<English>::new_with_count(&mut rand08::thread_rng(), words)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        let phrase = Zeroizing::new(mnemonic.to_phrase());
        let wallet = Self::from_mnemonic(&phrase)?;
        Ok((wallet, phrase))
    }

    /// Imports a 12- or 24-word English BIP39 mnemonic (no passphrase) on [`DERIVATION_PATH`].
    pub fn from_mnemonic(phrase: &str) -> Result<Self, WalletError> {
        let normalized = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
        let words = normalized.split(' ').filter(|w| !w.is_empty()).count();
        if words != 12 && words != 24 {
            return Err(WalletError::MnemonicLength(words));
        }
        let signer = MnemonicBuilder::<English>::default()
            .phrase(normalized.as_str())
            .derivation_path(DERIVATION_PATH)
            .and_then(|b| b.build())
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        Ok(Self { signer })
    }

    /// A wallet from a raw 32-byte secret key.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<Self, WalletError> {
        let signer = PrivateKeySigner::from_slice(secret)
            .map_err(|e| WalletError::Keystore(format!("invalid secret key: {e}")))?;
        Ok(Self { signer })
    }

    /// Encrypts the key into a keystore v3 JSON file `dir/name` (scrypt + AES-128-CTR, as geth
    /// and every Ethereum wallet read it). Returns the file's path.
    pub fn save_keystore(
        &self,
        dir: &Path,
        name: &str,
        password: &str,
    ) -> Result<PathBuf, WalletError> {
        std::fs::create_dir_all(dir).map_err(|e| WalletError::Keystore(e.to_string()))?;
        let secret = Zeroizing::new(self.signer.to_bytes().0);
        PrivateKeySigner::encrypt_keystore(
            dir,
            &mut rand08::thread_rng(),
            &secret[..],
            password,
            Some(name),
        )
        .map_err(keystore_error)?;
        Ok(dir.join(name))
    }

    /// Decrypts a keystore v3 JSON file.
    pub fn load_keystore(path: &Path, password: &str) -> Result<Self, WalletError> {
        let signer = PrivateKeySigner::decrypt_keystore(path, password).map_err(keystore_error)?;
        Ok(Self { signer })
    }

    /// The Ethereum address.
    pub const fn address(&self) -> Address {
        self.signer.address()
    }

    /// The secp256k1 public key (what the API wraps film keys to).
    pub fn public_key(&self) -> k256::PublicKey {
        k256::PublicKey::from(self.signer.credential().verifying_key())
    }

    /// The alloy signer, for transactions and typed data.
    pub const fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// Signs `message` with the EIP-191 `personal_sign` prefix.
    pub fn sign_message(&self, message: &[u8]) -> Result<Signature, WalletError> {
        self.signer
            .sign_message_sync(message)
            .map_err(|e| WalletError::Signing(e.to_string()))
    }

    /// Unwraps a film key released to this wallet for the licence in `ctx`.
    pub fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyReleaseContext,
    ) -> Result<FilmKey, EciesError> {
        let secret = k256::SecretKey::from(self.signer.credential());
        ecies::unwrap_key(wrapped, &secret, ctx)
    }
}

fn keystore_error(e: LocalSignerError) -> WalletError {
    match e {
        LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
            WalletError::WrongPassword
        }
        other => WalletError::Keystore(other.to_string()),
    }
}
