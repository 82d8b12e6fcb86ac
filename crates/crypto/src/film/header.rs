//! The 48-byte film header (magic, version, edition, segment size, plaintext length, nonce
//! prefix) and the segment geometry it implies: how many segments, where each starts, how long
//! each is.

use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::{
    DEFAULT_SEGMENT_SIZE, FilmError, HEADER_LEN, MAGIC, MAX_SEGMENT_SIZE, MAX_SEGMENTS,
    NONCE_PREFIX_LEN, Result, TAG_LEN, VERSION, read_full,
};

/// An edition: one film in one quality (`uint64 filmId`, `uint8 quality` on chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EditionId {
    /// The on-chain film id.
    pub film_id: u64,
    /// The quality code (0 = SD, 1 = HD, 2 = 4K).
    pub quality: u8,
}

impl EditionId {
    /// An edition id.
    pub const fn new(film_id: u64, quality: u8) -> Self {
        Self { film_id, quality }
    }

    /// The 9-byte binary form: film id (u64 big-endian) ‖ quality.
    pub fn to_bytes(&self) -> [u8; 9] {
        let mut out = [0u8; 9];
        out[..8].copy_from_slice(&self.film_id.to_be_bytes());
        out[8] = self.quality;
        out
    }
}

impl fmt::Display for EditionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "film {} quality {}", self.film_id, self.quality)
    }
}

/// The decoded film header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Edition whose key encrypts the file.
    pub edition: EditionId,
    /// Plaintext bytes per segment (the last segment may be shorter).
    pub segment_size: u32,
    /// Total plaintext length in bytes.
    pub plaintext_len: u64,
    /// Random nonce prefix, unique per file.
    pub nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

impl Header {
    /// A header with the default 1 MiB segments and a fresh random nonce prefix.
    pub fn new(edition: EditionId, plaintext_len: u64) -> Result<Self> {
        Self::with_segment_size(edition, DEFAULT_SEGMENT_SIZE, plaintext_len)
    }

    /// A header with the given segment size (1 ..= [`MAX_SEGMENT_SIZE`]) and a fresh random
    /// nonce prefix.
    pub fn with_segment_size(
        edition: EditionId,
        segment_size: u32,
        plaintext_len: u64,
    ) -> Result<Self> {
        let header = Self {
            edition,
            segment_size,
            plaintext_len,
            nonce_prefix: crate::os_random(),
        };
        header.validate()?;
        Ok(header)
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.segment_size == 0 || self.segment_size > MAX_SEGMENT_SIZE {
            return Err(FilmError::MalformedHeader("segment size out of range"));
        }
        let count = self.segment_count();
        if count > MAX_SEGMENTS {
            return Err(FilmError::MalformedHeader("too many segments"));
        }
        // The whole file length must fit in a u64.
        (HEADER_LEN as u64)
            .checked_add(self.plaintext_len)
            .and_then(|n| n.checked_add(count * TAG_LEN as u64))
            .ok_or(FilmError::MalformedHeader("plaintext length too large"))?;
        Ok(())
    }

    /// The 48-byte binary header (also the associated data of every segment).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_be_bytes());
        // 10..12 reserved (zero)
        b[12..20].copy_from_slice(&self.edition.film_id.to_be_bytes());
        b[20] = self.edition.quality;
        // 21..24 reserved (zero)
        b[24..28].copy_from_slice(&self.segment_size.to_be_bytes());
        b[28..36].copy_from_slice(&self.plaintext_len.to_be_bytes());
        b[36..43].copy_from_slice(&self.nonce_prefix);
        // 43..48 reserved (zero)
        b
    }

    /// Parses and validates a header.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Result<Self> {
        if b[0..8] != MAGIC {
            return Err(FilmError::BadMagic);
        }
        let version = u16::from_be_bytes([b[8], b[9]]);
        if version != VERSION {
            return Err(FilmError::UnsupportedVersion(version));
        }
        if b[10..12]
            .iter()
            .chain(&b[21..24])
            .chain(&b[43..48])
            .any(|&x| x != 0)
        {
            return Err(FilmError::MalformedHeader("reserved bytes are not zero"));
        }
        let header = Self {
            edition: EditionId {
                film_id: u64::from_be_bytes(b[12..20].try_into().expect("8 bytes")),
                quality: b[20],
            },
            segment_size: u32::from_be_bytes(b[24..28].try_into().expect("4 bytes")),
            plaintext_len: u64::from_be_bytes(b[28..36].try_into().expect("8 bytes")),
            nonce_prefix: b[36..43].try_into().expect("7 bytes"),
        };
        header.validate()?;
        Ok(header)
    }

    /// Number of segments: `ceil(plaintext_len / segment_size)`, and 1 for an empty film (an
    /// empty final segment, so that even an empty file is authenticated).
    pub fn segment_count(&self) -> u64 {
        if self.plaintext_len == 0 {
            1
        } else {
            (self.plaintext_len - 1) / u64::from(self.segment_size) + 1
        }
    }

    /// Plaintext length of segment `index` (which must be `< segment_count()`).
    pub fn segment_plaintext_len(&self, index: u64) -> usize {
        let seg = u64::from(self.segment_size);
        let start = index * seg;
        (self.plaintext_len.saturating_sub(start)).min(seg) as usize
    }

    /// Byte offset of segment `index` from the start of the file.
    pub fn segment_offset(&self, index: u64) -> u64 {
        HEADER_LEN as u64 + index * (u64::from(self.segment_size) + TAG_LEN as u64)
    }

    /// Total length of the encrypted file.
    pub fn encrypted_len(&self) -> u64 {
        HEADER_LEN as u64 + self.plaintext_len + self.segment_count() * TAG_LEN as u64
    }

    /// The segment holding plaintext byte `offset` (for seeking by position in the film).
    pub fn segment_for_offset(&self, offset: u64) -> u64 {
        offset / u64::from(self.segment_size)
    }

    /// Size of the largest segment's ciphertext, i.e. the buffer a reader needs.
    pub(super) fn buffer_len(&self) -> usize {
        self.segment_plaintext_len(0) + TAG_LEN
    }
}

/// Reads and parses the header at the start of `inner`.
pub(super) fn read_header<R: Read>(inner: &mut R) -> Result<Header> {
    let mut bytes = [0u8; HEADER_LEN];
    let got = read_full(inner, &mut bytes)?;
    if got < HEADER_LEN {
        // Say "bad magic" for something that is not a film at all.
        let n = got.min(MAGIC.len());
        if bytes[..n] != MAGIC[..n] {
            return Err(FilmError::BadMagic);
        }
        return Err(FilmError::TruncatedHeader);
    }
    Header::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_layout() {
        let h = Header::with_segment_size(EditionId::new(42, 2), 1000, 123_456).unwrap();
        let b = h.to_bytes();
        assert_eq!(&b[..8], b"TANGFILM");
        assert_eq!(Header::parse(&b).unwrap(), h);
        assert_eq!(h.segment_count(), 124);
        assert_eq!(h.segment_plaintext_len(123), 456);
        assert_eq!(h.encrypted_len(), 48 + 123_456 + 124 * 16);
    }

    #[test]
    fn header_rejects_bad_fields() {
        let h = Header::with_segment_size(EditionId::new(1, 0), 64, 10).unwrap();
        let mut b = h.to_bytes();
        b[9] = 2;
        assert!(matches!(
            Header::parse(&b),
            Err(FilmError::UnsupportedVersion(2))
        ));
        let mut b = h.to_bytes();
        b[0] ^= 1;
        assert!(matches!(Header::parse(&b), Err(FilmError::BadMagic)));
        let mut b = h.to_bytes();
        b[44] = 1;
        assert!(matches!(
            Header::parse(&b),
            Err(FilmError::MalformedHeader(_))
        ));
        let mut b = h.to_bytes();
        b[24..28].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            Header::parse(&b),
            Err(FilmError::MalformedHeader(_))
        ));
        let mut b = h.to_bytes();
        b[24..28].copy_from_slice(&1u32.to_be_bytes());
        b[28..36].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            Header::parse(&b),
            Err(FilmError::MalformedHeader(_))
        ));
    }
}
