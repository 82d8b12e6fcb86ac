//! [`FilmReader`]: sequential decryption of a film from any [`Read`], one authenticated
//! segment at a time, also as a [`Read`] of the plaintext (what the player pipes).

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

use zeroize::{Zeroize, Zeroizing};

use super::cipher::SegmentCipher;
use super::diagnose::{auth_failure, diagnose_failure};
use super::header::read_header;
use super::{FilmError, FilmKey, Header, Result, TAG_LEN, read_full};

/// Positions a reader at an absolute offset (a function pointer, so that [`FilmReader`] can
/// use seeking without a `Seek` bound on the type).
pub(super) type SeekFn<R> = fn(&mut R, u64) -> io::Result<()>;

pub(super) fn seek_to<R: Seek>(r: &mut R, pos: u64) -> io::Result<()> {
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
        Self::with_header(key, inner, header, None)
    }

    fn with_header(
        key: &FilmKey,
        inner: R,
        header: Header,
        seek: Option<(SeekFn<R>, u64)>,
    ) -> Result<Self> {
        Ok(Self {
            cipher: SegmentCipher::new(key, &header)?,
            buf: Zeroizing::new(vec![0u8; header.buffer_len()]),
            inner,
            header,
            next: 0,
            pos: 0,
            end: 0,
            failed: false,
            seek,
        })
    }

    /// The file's header.
    pub const fn header(&self) -> &Header {
        &self.header
    }

    /// Index of the segment the next call to [`Self::next_segment`] returns.
    pub const fn position(&self) -> u64 {
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
        Self::with_header(key, inner, header, Some((seek_to::<R>, start)))
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
