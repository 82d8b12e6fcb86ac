//! ECIES on secp256k1: wrapping an edition key to a licence owner's public key.
//!
//! `wrap`: a fresh ephemeral key pair; ECDH with the recipient's public key (the shared secret
//! is the x-coordinate); HKDF-SHA256 (no salt) whose `info` binds the scheme, the licence id,
//! the film id, the quality, the chain id, the ephemeral public key and the recipient's public
//! key; AES-256-GCM with a random 96-bit nonce and no associated data. So the wrapping key is
//! `f(owner key, licence id, film, quality, chain)`: a key released for one licence cannot be
//! unwrapped as another, nor by anyone but the owner. See `FORMAT.md`, "Key wrapping".

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use alloy::primitives::U256;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::film::FilmKey;

/// Version number of the wrapping scheme, stored in [`WrappedKey::version`].
pub const ECIES_VERSION: u8 = 1;
/// Domain-separation label at the start of the HKDF `info`.
pub const HKDF_LABEL: &[u8] = b"tangible/ecies/v1";

/// What a released key is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyReleaseContext {
    /// The licence (ERC-721 token id) the key is released for.
    pub licence_id: U256,
    /// The on-chain film id.
    pub film_id: u64,
    /// The quality code.
    pub quality: u8,
    /// The chain the licence lives on.
    pub chain_id: u64,
}

/// An edition key wrapped to one public key and one licence. JSON with hex byte strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrappedKey {
    /// Scheme version ([`ECIES_VERSION`]).
    pub version: u8,
    /// The ephemeral public key, SEC1 compressed (33 bytes).
    #[serde(with = "crate::hexser::vec")]
    pub ephemeral_public_key: Vec<u8>,
    /// The AES-GCM nonce (12 bytes).
    #[serde(with = "crate::hexser::array")]
    pub nonce: [u8; 12],
    /// The encrypted key followed by the GCM tag (32 + 16 bytes).
    #[serde(with = "crate::hexser::vec")]
    pub ciphertext: Vec<u8>,
}

/// Key wrapping errors.
#[derive(Debug, thiserror::Error)]
pub enum EciesError {
    /// The wrapped key is structurally invalid.
    #[error("malformed wrapped key: {0}")]
    Malformed(&'static str),
    /// The wrapped key names a scheme version this code does not know.
    #[error("unsupported key wrapping version {0}")]
    UnsupportedVersion(u8),
    /// A public key is not a valid secp256k1 point.
    #[error("invalid secp256k1 public key")]
    InvalidPublicKey,
    /// Authentication failed: the key was wrapped for another recipient key or another licence
    /// context, or it was altered.
    #[error("cannot unwrap the key: it was wrapped for another key or licence, or altered")]
    Unwrap,
}

/// Parses a secp256k1 public key: SEC1 compressed (33 bytes) or uncompressed (65 bytes), or
/// the 64-byte `x ‖ y` form Ethereum tools print.
pub fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, EciesError> {
    let sec1;
    let bytes = if bytes.len() == 64 {
        sec1 = [&[0x04][..], bytes].concat();
        &sec1[..]
    } else {
        bytes
    };
    PublicKey::from_sec1_bytes(bytes).map_err(|_| EciesError::InvalidPublicKey)
}

fn compressed(pk: &PublicKey) -> [u8; 33] {
    pk.to_encoded_point(true)
        .as_bytes()
        .try_into()
        .expect("compressed point is 33 bytes")
}

/// The HKDF `info`: label ‖ licence id (32 B) ‖ film id (8 B) ‖ quality (1 B) ‖ chain id (8 B)
/// ‖ ephemeral public key (33 B) ‖ recipient public key (33 B), integers big-endian.
fn hkdf_info(ctx: &KeyReleaseContext, ephemeral: &[u8; 33], recipient: &[u8; 33]) -> Vec<u8> {
    let mut info = Vec::with_capacity(HKDF_LABEL.len() + 32 + 8 + 1 + 8 + 33 + 33);
    info.extend_from_slice(HKDF_LABEL);
    info.extend_from_slice(&ctx.licence_id.to_be_bytes::<32>());
    info.extend_from_slice(&ctx.film_id.to_be_bytes());
    info.push(ctx.quality);
    info.extend_from_slice(&ctx.chain_id.to_be_bytes());
    info.extend_from_slice(ephemeral);
    info.extend_from_slice(recipient);
    info
}

fn derive_wrapping_key(
    secret: &SecretKey,
    peer: &PublicKey,
    ctx: &KeyReleaseContext,
    ephemeral: &[u8; 33],
    recipient: &[u8; 33],
) -> Zeroizing<[u8; 32]> {
    let shared = k256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let hkdf = shared.extract::<sha2::Sha256>(None);
    let mut okm = Zeroizing::new([0u8; 32]);
    hkdf.expand(&hkdf_info(ctx, ephemeral, recipient), &mut okm[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    okm
}

/// Wraps `key` to `recipient` for the licence described by `ctx`.
pub fn wrap_key(key: &FilmKey, recipient: &PublicKey, ctx: &KeyReleaseContext) -> WrappedKey {
    let ephemeral = ephemeral_secret();
    let ephemeral_pk = compressed(&ephemeral.public_key());
    let recipient_pk = compressed(recipient);
    let wrapping = derive_wrapping_key(&ephemeral, recipient, ctx, &ephemeral_pk, &recipient_pk);
    let nonce: [u8; 12] = crate::os_random();
    let ciphertext = Aes256Gcm::new((&*wrapping).into())
        .encrypt(Nonce::from_slice(&nonce), &key.expose_secret()[..])
        .expect("AES-GCM encryption of 32 bytes cannot fail");
    WrappedKey {
        version: ECIES_VERSION,
        ephemeral_public_key: ephemeral_pk.to_vec(),
        nonce,
        ciphertext,
    }
}

/// Unwraps a key with the recipient's secret key, for the licence described by `ctx`.
pub fn unwrap_key(
    wrapped: &WrappedKey,
    secret: &SecretKey,
    ctx: &KeyReleaseContext,
) -> Result<FilmKey, EciesError> {
    if wrapped.version != ECIES_VERSION {
        return Err(EciesError::UnsupportedVersion(wrapped.version));
    }
    let ephemeral_pk: [u8; 33] = wrapped
        .ephemeral_public_key
        .as_slice()
        .try_into()
        .map_err(|_| EciesError::Malformed("ephemeral public key must be 33 bytes"))?;
    if wrapped.ciphertext.len() != FilmKey::LEN + 16 {
        return Err(EciesError::Malformed("ciphertext must be 48 bytes"));
    }
    let ephemeral = PublicKey::from_sec1_bytes(&ephemeral_pk)
        .map_err(|_| EciesError::Malformed("ephemeral public key is not a curve point"))?;
    let recipient_pk = compressed(&secret.public_key());
    let wrapping = derive_wrapping_key(secret, &ephemeral, ctx, &ephemeral_pk, &recipient_pk);
    let plain = Zeroizing::new(
        Aes256Gcm::new((&*wrapping).into())
            .decrypt(Nonce::from_slice(&wrapped.nonce), &wrapped.ciphertext[..])
            .map_err(|_| EciesError::Unwrap)?,
    );
    FilmKey::from_slice(&plain).ok_or(EciesError::Malformed("key must be 32 bytes"))
}

fn ephemeral_secret() -> SecretKey {
    loop {
        let bytes = Zeroizing::new(crate::os_random::<32>());
        // Fails only for 0 or values ≥ the group order (probability ~2^-128).
        if let Ok(sk) = SecretKey::from_slice(&bytes[..]) {
            return sk;
        }
    }
}

impl fmt::Display for KeyReleaseContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "licence {} (film {}, quality {}, chain {})",
            self.licence_id, self.film_id, self.quality, self.chain_id
        )
    }
}
