//! EIP-712 licence certificates for offline play.
//!
//! The API signs a [`LicenceCertificate`] with the platform's attestation key; the player keeps
//! the [`SignedCertificate`] (JSON) and verifies it offline with [`SignedCertificate::verify`]:
//! signature, expected signer, expected owner, and the validity window (the offline lease),
//! each failing with its own [`CertificateError`]. The EIP-712 domain is
//! `{ name: "Tangible", version: "1", chainId, verifyingContract }`, with `chainId` and
//! `verifyingContract` taken from the certificate (the licence contract). See `FORMAT.md`,
//! "Licence certificate".

use std::borrow::Cow;

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct};
use serde::{Deserialize, Serialize};

/// EIP-712 domain name.
pub const DOMAIN_NAME: &str = "Tangible";
/// EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";
/// Largest certificate JSON [`SignedCertificate::from_json`] accepts.
pub const MAX_JSON_LEN: usize = 16 * 1024;

mod typed {
    #![allow(missing_docs)]
    alloy::sol! {
        /// The typed licence certificate. Field order and types are part of the EIP-712 type
        /// string: `LicenceCertificate(uint256 licenceId,address owner,uint64 filmId,
        /// uint8 quality,bytes32 masterHash,uint64 chainId,address licenceContract,
        /// uint64 issuedAt,uint64 validUntil)`.
        #[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LicenceCertificate {
            /// The licence (ERC-721 token id).
            uint256 licenceId;
            /// The licence owner's address.
            address owner;
            /// The film id.
            uint64 filmId;
            /// The quality code.
            uint8 quality;
            /// Hash of the encrypted master registered on chain for this edition.
            bytes32 masterHash;
            /// The chain the licence lives on.
            uint64 chainId;
            /// The licence contract (also the EIP-712 verifying contract).
            address licenceContract;
            /// Issue time, Unix seconds.
            uint64 issuedAt;
            /// End of the offline lease, Unix seconds.
            uint64 validUntil;
        }
    }
}

pub use typed::LicenceCertificate;

impl LicenceCertificate {
    /// The EIP-712 domain this certificate is signed under.
    pub fn domain(&self) -> Eip712Domain {
        Eip712Domain::new(
            Some(Cow::Borrowed(DOMAIN_NAME)),
            Some(Cow::Borrowed(DOMAIN_VERSION)),
            Some(U256::from(self.chainId)),
            Some(self.licenceContract),
            None,
        )
    }

    /// The EIP-712 digest that is signed.
    pub fn signing_hash(&self) -> B256 {
        self.eip712_signing_hash(&self.domain())
    }

    /// Signs with the platform attestation key.
    pub fn sign(
        self,
        attestation_key: &PrivateKeySigner,
    ) -> Result<SignedCertificate, CertificateError> {
        let signature = attestation_key
            .sign_hash_sync(&self.signing_hash())
            .map_err(|e| CertificateError::Signing(e.to_string()))?;
        Ok(SignedCertificate {
            certificate: self,
            signature: Bytes::copy_from_slice(&signature.as_bytes()),
        })
    }
}

/// A certificate with its signature: the JSON document the API serves and the player stores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCertificate {
    /// The typed certificate.
    pub certificate: LicenceCertificate,
    /// 65-byte `r ‖ s ‖ v` ECDSA signature over [`LicenceCertificate::signing_hash`], hex.
    pub signature: Bytes,
}

/// What the verifier expects: who must have signed, who must own it, and the current time.
#[derive(Clone, Copy, Debug)]
pub struct Expectations {
    /// The platform attestation address.
    pub signer: Address,
    /// The address of the wallet playing the film.
    pub owner: Address,
    /// Current time, Unix seconds.
    pub now: u64,
}

/// Certificate errors; each check fails with its own variant.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Not valid certificate JSON.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The signature bytes are not a valid secp256k1 signature.
    #[error("malformed certificate signature")]
    BadSignature,
    /// The signature was not made by the expected attestation key over this content: a field
    /// was altered, or another key signed it.
    #[error(
        "certificate not signed by the attestation key {expected} (recovered {recovered}): \
         altered or signed by another key"
    )]
    WrongSigner {
        /// Expected attestation address.
        expected: Address,
        /// Address recovered from the signature over the certificate as given.
        recovered: Address,
    },
    /// The certificate is for another owner.
    #[error("certificate belongs to {found}, not to {expected}")]
    WrongOwner {
        /// The wallet playing.
        expected: Address,
        /// The owner named in the certificate.
        found: Address,
    },
    /// `issuedAt > validUntil`.
    #[error("certificate validity window is empty (issued {issued_at}, valid until {valid_until})")]
    InvalidWindow {
        /// issuedAt.
        issued_at: u64,
        /// validUntil.
        valid_until: u64,
    },
    /// Used before `issuedAt`.
    #[error("certificate not yet valid: issued at {issued_at}, now {now}")]
    NotYetValid {
        /// issuedAt.
        issued_at: u64,
        /// Time of the check.
        now: u64,
    },
    /// Used after `validUntil`: the offline lease is over, refresh online.
    #[error("certificate expired at {valid_until} (now {now}): refresh it online")]
    Expired {
        /// validUntil.
        valid_until: u64,
        /// Time of the check.
        now: u64,
    },
    /// The signer failed to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl SignedCertificate {
    /// Parses the JSON form (strict: unknown fields, trailing data and documents over
    /// [`MAX_JSON_LEN`] bytes are refused). Does not verify; call [`Self::verify`].
    pub fn from_json(json: &str) -> Result<Self, CertificateError> {
        if json.len() > MAX_JSON_LEN {
            return Err(CertificateError::Malformed(format!(
                "document larger than {MAX_JSON_LEN} bytes"
            )));
        }
        serde_json::from_str(json).map_err(|e| CertificateError::Malformed(e.to_string()))
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("certificate serializes")
    }

    /// The address that signed this certificate as it stands.
    pub fn recover_signer(&self) -> Result<Address, CertificateError> {
        let signature =
            Signature::from_raw(&self.signature).map_err(|_| CertificateError::BadSignature)?;
        signature
            .recover_address_from_prehash(&self.certificate.signing_hash())
            .map_err(|_| CertificateError::BadSignature)
    }

    /// Verifies offline: signature and signer, owner, then the validity window
    /// (`issuedAt <= now <= validUntil`).
    pub fn verify(&self, expect: &Expectations) -> Result<(), CertificateError> {
        let recovered = self.recover_signer()?;
        if recovered != expect.signer {
            return Err(CertificateError::WrongSigner {
                expected: expect.signer,
                recovered,
            });
        }
        let c = &self.certificate;
        if c.owner != expect.owner {
            return Err(CertificateError::WrongOwner {
                expected: expect.owner,
                found: c.owner,
            });
        }
        if c.issuedAt > c.validUntil {
            return Err(CertificateError::InvalidWindow {
                issued_at: c.issuedAt,
                valid_until: c.validUntil,
            });
        }
        if expect.now < c.issuedAt {
            return Err(CertificateError::NotYetValid {
                issued_at: c.issuedAt,
                now: expect.now,
            });
        }
        if expect.now > c.validUntil {
            return Err(CertificateError::Expired {
                valid_until: c.validUntil,
                now: expect.now,
            });
        }
        Ok(())
    }
}
