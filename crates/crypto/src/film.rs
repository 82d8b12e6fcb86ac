//! The encrypted film file format (see `FORMAT.md`, section "Film file").
//!
//! A 48-byte header (magic, version, edition, segment size, plaintext length, random nonce
//! prefix) followed by segments of `segment_size` plaintext bytes (1 MiB by default), each
//! sealed with AES-256-GCM under the nonce `prefix ‖ index (u32 BE) ‖ last-segment flag` and
//! the whole header as associated data — the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár, as used by Tink's streaming AEAD and age.
//!
//! * [`encrypt`] streams from any [`Read`] to any [`Write`], holding one segment in memory.
//! * [`decrypt`] / [`decrypt_stream`] stream the plaintext to any [`Write`].
//! * [`FilmReader`] hands the player one plaintext segment at a time (and implements
//!   [`Read`], so it can be piped into a video player).
//! * [`SeekableFilm`] decrypts any single segment of a [`Read`] + [`Seek`] source.
//! * On Unix, `decrypt_file` and `MappedFilm` (sequential, [`Read`] and random access) decrypt a
//!   film file from a memory map, each segment opened out of place from the mapped page cache:
//!   the fast path for a film on disk (see `film/mapped.rs` for the layout and the caveats of
//!   mapping a file another process may change).
//!
//! Every plaintext buffer is wiped when dropped and reused between segments ([`Zeroizing`]
//! buffers; the mapped path's plaintext window is wiped explicitly). The hot path is `ring`'s
//! AES-256-GCM: in place for streams, out of place for mapped files.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

#[cfg(unix)]
mod mapped;
#[cfg(unix)]
pub use mapped::{MappedFilm, decrypt_file};

/// The eight bytes every film file starts with.
pub const MAGIC: [u8; 8] = *b"TANGFILM";
/// The format version this code writes and reads.
pub const VERSION: u16 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 48;
/// Length of the AES-GCM authentication tag that ends every segment.
pub const TAG_LEN: usize = 16;
/// Length of the random nonce prefix stored in the header.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Plaintext bytes per segment written by default (1 MiB).
pub const DEFAULT_SEGMENT_SIZE: u32 = 1 << 20;
/// Largest segment size a reader accepts (16 MiB), which bounds the memory a header can ask for.
pub const MAX_SEGMENT_SIZE: u32 = 16 << 20;
/// Largest number of segments a file may have (segment indices are 32-bit).
pub const MAX_SEGMENTS: u64 = 1 << 32;
/// How far (in segments, either side) the diagnosis of a failed segment looks for the segment
/// that was moved there, to report reordering instead of tampering.
pub const REORDER_SEARCH_DISTANCE: u64 = 1024;

/// A 256-bit film (edition) key. Wiped from memory on drop; never printed.
#[derive(Clone)]
pub struct FilmKey(Zeroizing<[u8; 32]>);

impl FilmKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// Draws a fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(Zeroizing::new(crate::os_random()))
    }

    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Builds a key from a slice, which must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self::from_bytes(arr))
    }

    /// The raw key bytes. Handle with care: do not log them.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FilmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FilmKey(<redacted>)")
    }
}

impl PartialEq for FilmKey {
    fn eq(&self, other: &Self) -> bool {
        // Constant time: keys are secrets.
        use subtle::ConstantTimeEq;
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl Eq for FilmKey {}

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

/// Everything that can go wrong reading or writing a film file.
#[derive(Debug, thiserror::Error)]
pub enum FilmError {
    /// The file does not start with [`MAGIC`].
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
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Result alias for this module.
pub type Result<T, E = FilmError> = std::result::Result<T, E>;

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

    fn validate(&self) -> Result<()> {
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
    fn buffer_len(&self) -> usize {
        self.segment_plaintext_len(0) + TAG_LEN
    }
}

/// The per-file AES-256-GCM state: key schedule, associated data and nonce prefix.
struct SegmentCipher {
    key: LessSafeKey,
    aad: [u8; HEADER_LEN],
    prefix: [u8; NONCE_PREFIX_LEN],
}

impl SegmentCipher {
    fn new(key: &FilmKey, header: &Header) -> Self {
        let unbound =
            UnboundKey::new(&AES_256_GCM, key.expose_secret()).expect("32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
            aad: header.to_bytes(),
            prefix: header.nonce_prefix,
        }
    }

    fn nonce(&self, index: u64, last: bool) -> Nonce {
        let mut n = [0u8; 12];
        n[..NONCE_PREFIX_LEN].copy_from_slice(&self.prefix);
        // Callers only pass indices < MAX_SEGMENTS (checked in Header::validate).
        n[7..11].copy_from_slice(&(index as u32).to_be_bytes());
        n[11] = u8::from(last);
        Nonce::assume_unique_for_key(n)
    }

    /// Encrypts `buf[..len]` in place and writes the tag to `buf[len..len + TAG_LEN]`.
    fn seal(&self, index: u64, last: bool, buf: &mut [u8], len: usize) {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                self.nonce(index, last),
                Aad::from(&self.aad),
                &mut buf[..len],
            )
            .expect("segment within AES-GCM limits");
        buf[len..len + TAG_LEN].copy_from_slice(tag.as_ref());
    }

    /// Opens `ciphertext ‖ tag` in place; on success the plaintext is the first
    /// `buf.len() - TAG_LEN` bytes. On failure `ring` wipes the buffer.
    fn open(&self, index: u64, last: bool, buf: &mut [u8]) -> bool {
        self.key
            .open_in_place(self.nonce(index, last), Aad::from(&self.aad), buf)
            .is_ok()
    }
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encrypts `plaintext` (exactly `header.plaintext_len` bytes) into `out` as a film file.
///
/// Streams: only one segment is in memory at a time, so masters of many GB are fine. Fails with
/// [`FilmError::InputTooShort`] / [`FilmError::InputTooLong`] if the input length differs from
/// the header's (what was written to `out` must then be discarded). Returns the number of bytes
/// written ([`Header::encrypted_len`]).
pub fn encrypt<R: Read, W: Write>(
    key: &FilmKey,
    header: &Header,
    mut plaintext: R,
    mut out: W,
) -> Result<u64> {
    header.validate()?;
    let cipher = SegmentCipher::new(key, header);
    out.write_all(&cipher.aad)?;
    let mut buf = Zeroizing::new(vec![0u8; header.buffer_len()]);
    let count = header.segment_count();
    let mut done: u64 = 0;
    for index in 0..count {
        let len = header.segment_plaintext_len(index);
        let got = read_full(&mut plaintext, &mut buf[..len])?;
        done += got as u64;
        if got < len {
            return Err(FilmError::InputTooShort {
                expected: header.plaintext_len,
                actual: done,
            });
        }
        cipher.seal(index, index + 1 == count, &mut buf, len);
        out.write_all(&buf[..len + TAG_LEN])?;
    }
    let mut probe = [0u8; 1];
    if read_full(&mut plaintext, &mut probe)? != 0 {
        return Err(FilmError::InputTooLong {
            expected: header.plaintext_len,
        });
    }
    out.flush()?;
    Ok(header.encrypted_len())
}

/// Decrypts a whole film from a seekable source into `out`, verifying every segment and the
/// exact file length. On a failed segment the source is re-read to tell a reordered or
/// duplicated segment ([`FilmError::ReorderedSegment`]) from a tampered one.
///
/// Plaintext is written segment by segment as it is authenticated: on error, what was already
/// written is authentic but incomplete.
pub fn decrypt<R: Read + Seek, W: Write>(key: &FilmKey, source: R, out: W) -> Result<Header> {
    copy_plaintext(FilmReader::new_seekable(key, source)?, out)
}

/// Like [`decrypt`] for a source that cannot seek (a pipe, a network stream). A reordered
/// segment is then reported as [`FilmError::TamperedSegment`] (or [`FilmError::WrongKey`] at
/// position 0), since telling them apart needs to re-read the segment.
pub fn decrypt_stream<R: Read, W: Write>(key: &FilmKey, source: R, out: W) -> Result<Header> {
    copy_plaintext(FilmReader::new(key, source)?, out)
}

/// Decrypts the film file `file` into `out`. On Unix a regular file is decrypted from a memory
/// map (see `MappedFilm`); here, without one, it is read like [`decrypt`] does.
#[cfg(not(unix))]
pub fn decrypt_file<W: Write>(key: &FilmKey, file: &std::fs::File, out: W) -> Result<Header> {
    decrypt(key, file, out)
}

fn copy_plaintext<R: Read, W: Write>(mut reader: FilmReader<R>, mut out: W) -> Result<Header> {
    while let Some(plain) = reader.next_segment()? {
        out.write_all(plain)?;
    }
    out.flush()?;
    Ok(reader.header)
}

/// Positions a reader at an absolute offset (a function pointer, so that [`FilmReader`] can
/// use seeking without a `Seek` bound on the type).
type SeekFn<R> = fn(&mut R, u64) -> io::Result<()>;

fn seek_to<R: Seek>(r: &mut R, pos: u64) -> io::Result<()> {
    r.seek(SeekFrom::Start(pos)).map(|_| ())
}

/// Sequential decryption, one authenticated plaintext segment at a time — what the player uses.
///
/// [`FilmReader::next_segment`] lends the next plaintext segment; the [`Read`] implementation
/// streams the same plaintext byte by byte (errors surface as [`io::ErrorKind::InvalidData`]
/// wrapping the [`FilmError`]). At most one segment of plaintext is held, in a buffer that is
/// reused and wiped on drop. After the last segment the reader checks there is no trailing data
/// before handing it out.
pub struct FilmReader<R> {
    inner: R,
    header: Header,
    cipher: SegmentCipher,
    buf: Zeroizing<Vec<u8>>,
    next: u64,
    /// Plaintext window in `buf` not yet consumed by `Read::read`.
    pos: usize,
    end: usize,
    failed: bool,
    /// Absolute position of the header and a way to seek, for diagnosis of failed segments.
    seek: Option<(SeekFn<R>, u64)>,
}

impl<R> fmt::Debug for FilmReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilmReader")
            .field("header", &self.header)
            .field("next_segment", &self.next)
            .finish_non_exhaustive()
    }
}

impl<R: Read> FilmReader<R> {
    /// Reads and validates the header of a film coming from a stream.
    pub fn new(key: &FilmKey, mut inner: R) -> Result<Self> {
        let header = read_header(&mut inner)?;
        Ok(Self::with_header(key, inner, header, None))
    }

    fn with_header(
        key: &FilmKey,
        inner: R,
        header: Header,
        seek: Option<(SeekFn<R>, u64)>,
    ) -> Self {
        Self {
            cipher: SegmentCipher::new(key, &header),
            buf: Zeroizing::new(vec![0u8; header.buffer_len()]),
            inner,
            header,
            next: 0,
            pos: 0,
            end: 0,
            failed: false,
            seek,
        }
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Index of the segment the next call to [`Self::next_segment`] returns.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Decrypts and returns the next plaintext segment, or `None` after the last one.
    ///
    /// The returned slice is only valid until the next call; it is overwritten (and wiped
    /// when the reader is dropped).
    pub fn next_segment(&mut self) -> Result<Option<&[u8]>> {
        if self.failed {
            return Err(FilmError::AlreadyFailed);
        }
        let count = self.header.segment_count();
        if self.next >= count {
            self.buf.zeroize();
            return Ok(None);
        }
        match self.read_segment() {
            Ok(len) => {
                self.next += 1;
                Ok(Some(&self.buf[..len]))
            }
            Err(e) => {
                self.failed = true;
                self.buf.zeroize();
                Err(e)
            }
        }
    }

    /// Reads, authenticates and decrypts segment `self.next` into `buf`; returns its length.
    fn read_segment(&mut self) -> Result<usize> {
        let index = self.next;
        let count = self.header.segment_count();
        let last = index + 1 == count;
        let len = self.header.segment_plaintext_len(index);
        let sealed = &mut self.buf[..len + TAG_LEN];
        if read_full(&mut self.inner, sealed)? < sealed.len() {
            return Err(FilmError::Truncated { segment: index });
        }
        if !self.cipher.open(index, last, sealed) {
            return Err(self.diagnose(index));
        }
        if last {
            let mut probe = [0u8; 1];
            if read_full(&mut self.inner, &mut probe)? != 0 {
                return Err(FilmError::TrailingData);
            }
        }
        Ok(len)
    }

    /// Explains why segment `position` failed to authenticate.
    fn diagnose(&mut self, position: u64) -> FilmError {
        match self.seek {
            Some((seek, start)) => diagnose_failure(
                &self.cipher,
                &self.header,
                &mut self.inner,
                seek,
                start,
                position,
            ),
            None => auth_failure(position),
        }
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read + Seek> FilmReader<R> {
    /// Like [`FilmReader::new`] for a seekable source (a file): a segment that fails to
    /// authenticate is re-read to report reordering ([`FilmError::ReorderedSegment`]) apart
    /// from tampering. The header is read from the source's current position.
    pub fn new_seekable(key: &FilmKey, mut inner: R) -> Result<Self> {
        let start = inner.stream_position()?;
        let header = read_header(&mut inner)?;
        Ok(Self::with_header(
            key,
            inner,
            header,
            Some((seek_to::<R>, start)),
        ))
    }
}

impl<R: Read> Read for FilmReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        // Loops over an empty segment (an empty film's single segment) to the end.
        while self.pos == self.end {
            let Some(plain) = self.next_segment()? else {
                return Ok(0);
            };
            (self.pos, self.end) = (0, plain.len());
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// For the [`Read`] adapters: I/O errors as they were, the others as `InvalidData`.
impl From<FilmError> for io::Error {
    fn from(e: FilmError) -> Self {
        match e {
            FilmError::Io(e) => e,
            e => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

fn read_header<R: Read>(inner: &mut R) -> Result<Header> {
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

fn auth_failure(position: u64) -> FilmError {
    if position == 0 {
        FilmError::WrongKey
    } else {
        FilmError::TamperedSegment { index: position }
    }
}

/// Re-reads the ciphertext at `position` and tries it as each nearby segment index: if one
/// authenticates, the key is right and segments were moved; otherwise it is tampering (or, at
/// position 0, a wrong key or a corrupted header).
fn diagnose_failure<R: Read>(
    cipher: &SegmentCipher,
    header: &Header,
    inner: &mut R,
    seek: SeekFn<R>,
    start: u64,
    position: u64,
) -> FilmError {
    let fallback = auth_failure(position);
    let len = header.segment_plaintext_len(position);
    let mut sealed = Zeroizing::new(vec![0u8; len + TAG_LEN]);
    let reread = seek(inner, start + header.segment_offset(position))
        .and_then(|()| read_full(inner, &mut sealed));
    if !matches!(reread, Ok(n) if n == sealed.len()) {
        return fallback;
    }
    let mut scratch = Zeroizing::new(vec![0u8; sealed.len()]);
    reorder_search(header, position, len, |j, last| {
        scratch.copy_from_slice(&sealed);
        cipher.open(j, last, &mut scratch)
    })
    .unwrap_or(fallback)
}

/// Tries the segment at `position` (plaintext length `len`) as each segment index up to
/// [`REORDER_SEARCH_DISTANCE`] away with the same length, nearest first, with `open(j, last)`;
/// the first that authenticates is reported as [`FilmError::ReorderedSegment`].
fn reorder_search(
    header: &Header,
    position: u64,
    len: usize,
    mut open: impl FnMut(u64, bool) -> bool,
) -> Option<FilmError> {
    let count = header.segment_count();
    for distance in 1..=REORDER_SEARCH_DISTANCE {
        let candidates = [
            position.checked_sub(distance),
            position.checked_add(distance).filter(|&j| j < count),
        ];
        if candidates.iter().all(Option::is_none) {
            break;
        }
        for j in candidates.into_iter().flatten() {
            if header.segment_plaintext_len(j) != len {
                continue;
            }
            if open(j, j + 1 == count) {
                return Some(FilmError::ReorderedSegment { position, found: j });
            }
        }
    }
    None
}

/// Random access to the segments of a film in a seekable source.
pub struct SeekableFilm<R> {
    inner: R,
    start: u64,
    header: Header,
    cipher: SegmentCipher,
    buf: Zeroizing<Vec<u8>>,
}

impl<R> fmt::Debug for SeekableFilm<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeekableFilm")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> SeekableFilm<R> {
    /// Reads the header at the source's current position and checks the source's length
    /// against it ([`FilmError::Truncated`] / [`FilmError::TrailingData`]).
    pub fn open(key: &FilmKey, mut inner: R) -> Result<Self> {
        let start = inner.stream_position()?;
        let header = read_header(&mut inner)?;
        let end = inner.seek(SeekFrom::End(0))?;
        let expected_end = start + header.encrypted_len();
        if end < expected_end {
            let available = end.saturating_sub(start);
            let complete = available.saturating_sub(HEADER_LEN as u64)
                / (u64::from(header.segment_size) + TAG_LEN as u64);
            return Err(FilmError::Truncated {
                segment: complete.min(header.segment_count() - 1),
            });
        }
        if end > expected_end {
            return Err(FilmError::TrailingData);
        }
        Ok(Self {
            cipher: SegmentCipher::new(key, &header),
            buf: Zeroizing::new(vec![0u8; header.buffer_len()]),
            inner,
            start,
            header,
        })
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of segments.
    pub fn segment_count(&self) -> u64 {
        self.header.segment_count()
    }

    /// Decrypts segment `index`. The slice is valid until the next call and wiped on drop.
    pub fn read_segment(&mut self, index: u64) -> Result<&[u8]> {
        let count = self.header.segment_count();
        if index >= count {
            return Err(FilmError::SegmentOutOfRange { index, count });
        }
        let len = self.header.segment_plaintext_len(index);
        self.inner.seek(SeekFrom::Start(
            self.start + self.header.segment_offset(index),
        ))?;
        let sealed = &mut self.buf[..len + TAG_LEN];
        if read_full(&mut self.inner, sealed)? < sealed.len() {
            return Err(FilmError::Truncated { segment: index });
        }
        if !self.cipher.open(index, index + 1 == count, sealed) {
            return Err(diagnose_failure(
                &self.cipher,
                &self.header,
                &mut self.inner,
                seek_to::<R>,
                self.start,
                index,
            ));
        }
        Ok(&self.buf[..len])
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const SEG: u32 = 16;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn seal(key: &FilmKey, plain: &[u8]) -> Vec<u8> {
        let header = Header::with_segment_size(EditionId::new(7, 1), SEG, plain.len() as u64)
            .expect("header");
        let mut out = Vec::new();
        let n = encrypt(key, &header, plain, &mut out).expect("encrypt");
        assert_eq!(n, out.len() as u64);
        out
    }

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

    #[test]
    fn wrong_key_is_reported_as_such() {
        let film = seal(&FilmKey::generate(), &sample(100));
        let err = decrypt(&FilmKey::generate(), Cursor::new(&film), io::sink()).unwrap_err();
        assert!(matches!(err, FilmError::WrongKey), "{err}");
        assert_eq!(
            err.to_string(),
            "wrong key or corrupted header: the first segment does not authenticate"
        );
    }

    #[test]
    fn key_debug_is_redacted() {
        let key = FilmKey::from_bytes([0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
    }

    #[test]
    fn reader_implements_read() {
        let key = FilmKey::generate();
        let plain = sample(100);
        let film = seal(&key, &plain);
        let mut r = FilmReader::new(&key, &film[..]).unwrap();
        let mut got = Vec::new();
        // Small reads across segment boundaries.
        let mut chunk = [0u8; 5];
        loop {
            let n = r.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got, plain);
    }
}
