//! What can go wrong reading or writing a film file, and how the [`std::io::Read`] adapters
//! report it.

use std::io;

use super::VERSION;

/// Everything that can go wrong reading or writing a film file.
#[derive(Debug, thiserror::Error)]
pub enum FilmError {
    /// The file does not start with [`MAGIC`](super::MAGIC).
    #[error("not a Tangible film file (bad magic)")]
    BadMagic,
    /// The header names a format version this code does not read.
    #[error("unsupported film format version {0} (this reader supports version {VERSION})")]
    UnsupportedVersion(u16),
    /// The header is structurally invalid.
    #[error("malformed film header: {0}")]
    MalformedHeader(&'static str),
    /// The input ends inside the header.
    #[error("film is truncated: the header is incomplete")]
    TruncatedHeader,
    /// The first segment does not authenticate: the key is not this file's key, or the header
    /// (which every segment authenticates) was altered.
    #[error("wrong key or corrupted header: the first segment does not authenticate")]
    WrongKey,
    /// A segment does not authenticate under the key that opened the first one.
    #[error("segment {index} is corrupted or was tampered with: it does not authenticate")]
    TamperedSegment {
        /// Index of the segment that failed.
        index: u64,
    },
    /// A segment authenticates, but as another position: segments were reordered or duplicated.
    #[error("segments are out of order: position {position} holds segment {found}")]
    ReorderedSegment {
        /// Where the segment was found.
        position: u64,
        /// The index it was encrypted for.
        found: u64,
    },
    /// The input ends before the last segment the header announces.
    #[error("film is truncated: segment {segment} is incomplete or missing")]
    Truncated {
        /// Index of the first incomplete segment.
        segment: u64,
    },
    /// Bytes follow the last segment.
    #[error("trailing data after the last segment")]
    TrailingData,
    /// Encryption: the plaintext input was shorter than the length given in the header.
    #[error("plaintext input too short: header announces {expected} bytes, input had {actual}")]
    InputTooShort {
        /// Length announced in the header.
        expected: u64,
        /// Bytes actually read.
        actual: u64,
    },
    /// Encryption: the plaintext input was longer than the length given in the header.
    #[error("plaintext input too long: header announces {expected} bytes, input has more")]
    InputTooLong {
        /// Length announced in the header.
        expected: u64,
    },
    /// Random access: the requested segment does not exist.
    #[error("segment {index} out of range: the film has {count} segments")]
    SegmentOutOfRange {
        /// Requested index.
        index: u64,
        /// Number of segments in the film.
        count: u64,
    },
    /// A previous call on this reader failed; it cannot continue.
    #[error("the film reader already failed")]
    AlreadyFailed,
    /// `TANGIBLE_AES_BACKEND` names no AES-256-GCM backend (see [`super::AesBackend`]).
    #[error(transparent)]
    Backend(#[from] super::UnknownAesBackend),
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Result alias for this module.
pub type Result<T, E = FilmError> = std::result::Result<T, E>;

/// For the [`Read`](std::io::Read) adapters: I/O errors as they were, the others as `InvalidData`.
impl From<FilmError> for io::Error {
    fn from(e: FilmError) -> Self {
        match e {
            FilmError::Io(e) => e,
            e => Self::new(io::ErrorKind::InvalidData, e),
        }
    }
}
