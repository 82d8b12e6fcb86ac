//! [`ContentHash`]: the BLAKE3 hash that names a stored file, locally, over P2P and over HTTP.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// BLAKE3 hash of a whole encrypted film file.
///
/// It is the same value iroh-blobs uses as the blob address (a raw blob's root hash is the
/// plain BLAKE3 hash of its bytes), so one hash names a file in the local store, on the P2P
/// network and in the HTTP fallback (`GET /{hash}`, `ETag: "{hash}"`).
///
/// The string form is 64 lower-case hex characters; serde uses the string form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Hash of the empty file.
    pub const EMPTY: Self = Self([
        0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6, 0xa0, 0x40, 0x4d, 0xea, 0x36, 0xdc, 0xc9,
        0x49, 0x9b, 0xcb, 0x25, 0xc9, 0xad, 0xc1, 0x12, 0xb7, 0xcc, 0x9a, 0x93, 0xca, 0xe4, 0x1f,
        0x32, 0x62,
    ]);

    /// Wraps 32 raw hash bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Hashes `data` in one go (for small buffers; files are hashed while streaming).
    pub fn of(data: &[u8]) -> Self {
        Self(*blake3::hash(data).as_bytes())
    }

    /// The raw 32 hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-character lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid content hash {input:?}: expected 64 hex characters")]
pub struct ParseHashError {
    /// The rejected input (truncated to 80 characters).
    pub input: String,
}

impl FromStr for ContentHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHashError {
            input: s.chars().take(80).collect(),
        };
        if s.len() != 64 {
            return Err(err());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| err())?;
        Ok(Self(bytes))
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<iroh_blobs::Hash> for ContentHash {
    fn from(h: iroh_blobs::Hash) -> Self {
        Self(*h.as_bytes())
    }
}

impl From<ContentHash> for iroh_blobs::Hash {
    fn from(h: ContentHash) -> Self {
        Self::from_bytes(h.0)
    }
}

impl From<blake3::Hash> for ContentHash {
    fn from(h: blake3::Hash) -> Self {
        Self(*h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_iroh_agreement() {
        let data = b"tangible film bytes";
        let h = ContentHash::of(data);
        assert_eq!(h, h.to_string().parse().unwrap());
        assert_eq!(h, ContentHash::from(iroh_blobs::Hash::new(data)));
        assert_eq!(
            ContentHash::EMPTY,
            ContentHash::from(iroh_blobs::Hash::EMPTY)
        );
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{h}\""));
        assert_eq!(serde_json::from_str::<ContentHash>(&json).unwrap(), h);
    }

    #[test]
    fn rejects_bad_strings() {
        assert!("".parse::<ContentHash>().is_err());
        assert!("zz".repeat(32).parse::<ContentHash>().is_err());
        assert!("ab".repeat(31).parse::<ContentHash>().is_err());
    }
}
