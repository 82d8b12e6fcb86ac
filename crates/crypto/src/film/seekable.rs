//! [`SeekableFilm`]: random access to any single segment of a film in a seekable source,
//! after checking the source's length against the header.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use super::cipher::SegmentCipher;
use super::diagnose::diagnose_failure;
use super::header::read_header;
use super::reader::seek_to;
use super::{FilmError, FilmKey, HEADER_LEN, Header, Result, TAG_LEN, read_full};

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
            cipher: SegmentCipher::new(key, &header)?,
            buf: Zeroizing::new(vec![0u8; header.buffer_len()]),
            inner,
            start,
            header,
        })
    }

    /// The file's header.
    pub const fn header(&self) -> &Header {
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
