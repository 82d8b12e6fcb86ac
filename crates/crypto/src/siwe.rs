//! Sign-In with Ethereum (EIP-4361): format the exact message text, parse it back strictly, sign
//! it (client) and verify it (API).
//!
//! The text is signed with the EIP-191 `personal_sign` prefix. [`verify`] recovers the signer,
//! checks it is the message's address, then the expected domain, chain id and nonce and the
//! time window. Remembering that a nonce was used (single use) is the caller's job.

use std::fmt;

use alloy::primitives::{Address, Signature};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::wallet::Wallet;

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";
/// Allowed clock difference when checking that `Issued At` is not in the future.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// An EIP-4361 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiweMessage {
    /// RFC 3986 authority asking for the sign-in (e.g. `tangible.example:443`).
    pub domain: String,
    /// The signing account (written EIP-55 checksummed).
    pub address: Address,
    /// Human-readable statement (one line), optional.
    pub statement: Option<String>,
    /// RFC 3986 URI the sign-in is for.
    pub uri: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Single-use nonce from the server (at least 8 alphanumeric characters).
    pub nonce: String,
    /// When the message was issued.
    pub issued_at: DateTime<Utc>,
    /// When the signed message stops being valid.
    pub expiration_time: Option<DateTime<Utc>>,
    /// When the signed message becomes valid.
    pub not_before: Option<DateTime<Utc>>,
    /// System-specific request id.
    pub request_id: Option<String>,
    /// Resources (URIs) the user consents to.
    pub resources: Vec<String>,
}

/// SIWE errors.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SiweError {
    /// The text is not a well-formed EIP-4361 message.
    #[error("malformed sign-in message, line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A field cannot be written into a message (e.g. contains a line break).
    #[error("invalid sign-in message field: {0}")]
    InvalidField(String),
    /// The signature bytes are malformed or recover no key.
    #[error("malformed signature")]
    BadSignature,
    /// The signature was made by another account than the message's address (or the message
    /// was altered after signing).
    #[error("signature is from {recovered}, not from the message's address {address}")]
    AddressMismatch {
        /// Address in the message.
        address: Address,
        /// Address that signed.
        recovered: Address,
    },
    /// The message is for another domain.
    #[error("message is for domain {found:?}, expected {expected:?}")]
    DomainMismatch {
        /// Expected domain.
        expected: String,
        /// Domain in the message.
        found: String,
    },
    /// The message is for another chain.
    #[error("message is for chain {found}, expected {expected}")]
    ChainMismatch {
        /// Expected chain id.
        expected: u64,
        /// Chain id in the message.
        found: u64,
    },
    /// The nonce is not the one issued.
    #[error("nonce does not match the issued nonce")]
    NonceMismatch,
    /// Past `Expiration Time`.
    #[error("sign-in message expired at {0}")]
    Expired(DateTime<Utc>),
    /// Before `Not Before`.
    #[error("sign-in message not valid before {0}")]
    NotYetValid(DateTime<Utc>),
    /// `Issued At` is in the future.
    #[error("sign-in message issued in the future ({0})")]
    IssuedInFuture(DateTime<Utc>),
    /// The wallet is not the message's address.
    #[error("wallet {wallet} cannot sign a message for {address}")]
    WrongWallet {
        /// The wallet's address.
        wallet: Address,
        /// The message's address.
        address: Address,
    },
    /// The wallet failed to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl fmt::Display for SiweMessage {
    /// The exact EIP-4361 text (no trailing newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{PREAMBLE}\n{}\n\n",
            self.domain,
            self.address.to_checksum(None)
        )?;
        if let Some(statement) = &self.statement {
            writeln!(f, "{statement}")?;
        }
        write!(
            f,
            "\nURI: {}\nVersion: 1\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri,
            self.chain_id,
            self.nonce,
            ts(&self.issued_at)
        )?;
        if let Some(t) = &self.expiration_time {
            write!(f, "\nExpiration Time: {}", ts(t))?;
        }
        if let Some(t) = &self.not_before {
            write!(f, "\nNot Before: {}", ts(t))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, "\nRequest ID: {id}")?;
        }
        if !self.resources.is_empty() {
            write!(f, "\nResources:")?;
            for r in &self.resources {
                write!(f, "\n- {r}")?;
            }
        }
        Ok(())
    }
}

fn valid_nonce(nonce: &str) -> bool {
    nonce.len() >= 8 && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn single_line(s: &str) -> bool {
    !s.contains(['\n', '\r'])
}

impl SiweMessage {
    /// Checks the fields can be written as a well-formed message.
    pub fn validate(&self) -> Result<(), SiweError> {
        let bad = |what: &str| Err(SiweError::InvalidField(what.to_owned()));
        if self.domain.is_empty() || self.domain.contains(char::is_whitespace) {
            return bad("domain must be non-empty without spaces");
        }
        if self.uri.is_empty() || self.uri.contains(char::is_whitespace) {
            return bad("uri must be non-empty without spaces");
        }
        if let Some(s) = &self.statement
            && (s.is_empty() || !single_line(s))
        {
            return bad("statement must be one non-empty line");
        }
        if !valid_nonce(&self.nonce) {
            return bad("nonce must be at least 8 alphanumeric characters");
        }
        if let Some(id) = &self.request_id
            && !single_line(id)
        {
            return bad("request id must be one line");
        }
        if self
            .resources
            .iter()
            .any(|r| r.is_empty() || r.contains(char::is_whitespace))
        {
            return bad("resources must be URIs without spaces");
        }
        Ok(())
    }

    /// Parses an EIP-4361 message strictly: lines in the specified order, exact prefixes,
    /// EIP-55 checksummed address, version 1, RFC 3339 timestamps, nothing else.
    pub fn parse(text: &str) -> Result<Self, SiweError> {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut i = 0usize;
        let err = |i: usize, reason: &str| SiweError::Parse {
            line: i + 1,
            reason: reason.to_owned(),
        };
        let line = |i: usize| {
            lines
                .get(i)
                .copied()
                .ok_or_else(|| err(i, "message ends early"))
        };

        let domain = line(i)?.strip_suffix(PREAMBLE).ok_or_else(|| {
            err(
                i,
                "expected \"<domain> wants you to sign in with your Ethereum account:\"",
            )
        })?;
        i += 1;
        let address = Address::parse_checksummed(line(i)?, None)
            .map_err(|_| err(i, "expected an EIP-55 checksummed address"))?;
        i += 1;
        if !line(i)?.is_empty() {
            return Err(err(i, "expected an empty line"));
        }
        i += 1;
        let statement = if line(i)?.is_empty() {
            i += 1;
            None
        } else {
            let s = line(i)?.to_owned();
            i += 1;
            if !line(i)?.is_empty() {
                return Err(err(i, "expected an empty line after the statement"));
            }
            i += 1;
            Some(s)
        };
        let field = |i: &mut usize, tag: &str| -> Result<String, SiweError> {
            let value = line(*i)?
                .strip_prefix(tag)
                .ok_or_else(|| err(*i, &format!("expected \"{tag}\"")))?;
            *i += 1;
            Ok(value.to_owned())
        };
        let time = |i: usize, s: &str| -> Result<DateTime<Utc>, SiweError> {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| err(i, "expected an RFC 3339 timestamp"))
        };
        let uri = field(&mut i, "URI: ")?;
        if field(&mut i, "Version: ")? != "1" {
            return Err(err(i - 1, "only version 1 is supported"));
        }
        let chain = field(&mut i, "Chain ID: ")?;
        if chain.is_empty() || !chain.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(i - 1, "chain id must be a decimal number"));
        }
        let chain_id = chain
            .parse()
            .map_err(|_| err(i - 1, "chain id out of range"))?;
        let nonce = field(&mut i, "Nonce: ")?;
        let issued = field(&mut i, "Issued At: ")?;
        let issued_at = time(i - 1, &issued)?;

        let mut msg = Self {
            domain: domain.to_owned(),
            address,
            statement,
            uri,
            chain_id,
            nonce,
            issued_at,
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        };
        if let Some(v) = lines
            .get(i)
            .and_then(|l| l.strip_prefix("Expiration Time: "))
        {
            msg.expiration_time = Some(time(i, v)?);
            i += 1;
        }
        if let Some(v) = lines.get(i).and_then(|l| l.strip_prefix("Not Before: ")) {
            msg.not_before = Some(time(i, v)?);
            i += 1;
        }
        if let Some(v) = lines.get(i).and_then(|l| l.strip_prefix("Request ID: ")) {
            msg.request_id = Some(v.to_owned());
            i += 1;
        }
        if lines.get(i) == Some(&"Resources:") {
            i += 1;
            while let Some(r) = lines.get(i).and_then(|l| l.strip_prefix("- ")) {
                msg.resources.push(r.to_owned());
                i += 1;
            }
            if msg.resources.is_empty() {
                return Err(err(i, "expected at least one resource"));
            }
        }
        if i != lines.len() {
            return Err(err(i, "unexpected line"));
        }
        msg.validate().map_err(|e| err(0, &e.to_string()))?;
        Ok(msg)
    }

    /// Signs the message text with `wallet` (EIP-191). Returns the exact text that was signed
    /// and the 65-byte signature.
    pub fn sign(&self, wallet: &Wallet) -> Result<(String, Signature), SiweError> {
        self.validate()?;
        if wallet.address() != self.address {
            return Err(SiweError::WrongWallet {
                wallet: wallet.address(),
                address: self.address,
            });
        }
        let text = self.to_string();
        let signature = wallet
            .sign_message(text.as_bytes())
            .map_err(|e| SiweError::Signing(e.to_string()))?;
        Ok((text, signature))
    }
}

/// What the server expects of a sign-in.
#[derive(Clone, Copy, Debug)]
pub struct Expectations<'a> {
    /// The server's domain.
    pub domain: &'a str,
    /// The chain the server runs on.
    pub chain_id: u64,
    /// The nonce the server issued for this sign-in.
    pub nonce: &'a str,
    /// The current time.
    pub now: DateTime<Utc>,
}

/// A verified sign-in.
#[derive(Clone, Debug)]
pub struct VerifiedLogin {
    /// The parsed message.
    pub message: SiweMessage,
    /// The recovered public key of the signer (film keys are wrapped to it).
    pub public_key: k256::PublicKey,
}

impl VerifiedLogin {
    /// The signer's address (equal to the message's address).
    pub const fn address(&self) -> Address {
        self.message.address
    }
}

/// Verifies a signed sign-in message: strict parse, EIP-191 signature recovering the message's
/// address, then domain, chain id, nonce and time window (`Not Before`, `Expiration Time`,
/// `Issued At` not in the future beyond [`CLOCK_SKEW_SECS`]).
pub fn verify(
    text: &str,
    signature: &[u8],
    expect: &Expectations<'_>,
) -> Result<VerifiedLogin, SiweError> {
    let message = SiweMessage::parse(text)?;
    let signature = Signature::from_raw(signature).map_err(|_| SiweError::BadSignature)?;
    let key = signature
        .recover_from_msg(text.as_bytes())
        .map_err(|_| SiweError::BadSignature)?;
    let recovered = Address::from_public_key(&key);
    if recovered != message.address {
        return Err(SiweError::AddressMismatch {
            address: message.address,
            recovered,
        });
    }
    if message.domain != expect.domain {
        return Err(SiweError::DomainMismatch {
            expected: expect.domain.to_owned(),
            found: message.domain,
        });
    }
    if message.chain_id != expect.chain_id {
        return Err(SiweError::ChainMismatch {
            expected: expect.chain_id,
            found: message.chain_id,
        });
    }
    {
        use subtle::ConstantTimeEq;
        if !bool::from(message.nonce.as_bytes().ct_eq(expect.nonce.as_bytes())) {
            return Err(SiweError::NonceMismatch);
        }
    }
    if let Some(exp) = message.expiration_time
        && expect.now >= exp
    {
        return Err(SiweError::Expired(exp));
    }
    if let Some(nbf) = message.not_before
        && expect.now < nbf
    {
        return Err(SiweError::NotYetValid(nbf));
    }
    if message.issued_at > expect.now + chrono::Duration::seconds(CLOCK_SKEW_SECS) {
        return Err(SiweError::IssuedInFuture(message.issued_at));
    }
    Ok(VerifiedLogin {
        message,
        public_key: k256::PublicKey::from(&key),
    })
}
