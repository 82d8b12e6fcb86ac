//! Tangible cryptography: everything that protects a film between the studio's master and the
//! buyer's player.
//!
//! Data flow:
//! 1. The API draws a random [`film::FilmKey`] per edition (film × quality), encrypts the master
//!    with [`film::encrypt`] (streaming, 1 MiB AES-256-GCM segments, STREAM construction) and
//!    stores the key at rest with [`envelope::seal`] under the operator's key-encryption key.
//! 2. On key release the API opens the sealed key and wraps it to the licence owner's secp256k1
//!    public key with [`ecies::wrap_key`], binding licence id, film, quality and chain id.
//! 3. The API signs an EIP-712 [`certificate::LicenceCertificate`] for offline play.
//! 4. The buyer's client holds a [`wallet::Wallet`] (generated, or imported from a BIP39
//!    mnemonic, stored as a keystore v3 file), logs in with [`siwe`] (EIP-4361), unwraps the key
//!    with [`wallet::Wallet::unwrap_key`], verifies the certificate offline and plays the film
//!    with [`film::FilmReader`] (any stream) or `film::MappedFilm` (a film file, from a memory
//!    map), which decrypt segment by segment.
//!
//! The byte-level specification of every format is in `FORMAT.md` next to this crate.

pub mod certificate;
pub mod ecies;
pub mod envelope;
pub mod film;
pub mod siwe;
pub mod wallet;

mod hexser;

pub use film::{EditionId, FilmKey};

/// Fills an array with bytes from the operating system's CSPRNG.
///
/// # Panics
/// If the operating system's random source fails, which leaves no safe way to continue.
pub(crate) fn os_random<const N: usize>() -> [u8; N] {
    use rand::TryRngCore;
    let mut out = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut out)
        .expect("operating system random number generator failed");
    out
}
