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
//! buffers; the mapped path's plaintext window is wiped explicitly). The hot path is AES-256-GCM
//! from `ring` or aws-lc-rs, whichever is faster on the CPU ([`AesBackend`], chosen once per
//! process by measurement or by `TANGIBLE_AES_BACKEND`; same bytes, same errors): in place for
//! streams, out of place for mapped files.
//!
//! The parts: `key` (the film key), `header` (the header and the segment geometry), `error`,
//! `backend` (choosing the AES-GCM implementation), `cipher` (sealing one segment on it), `reader` ([`FilmReader`]), `seekable` ([`SeekableFilm`]),
//! `diagnose` (telling a reordered segment from a tampered one) and `mapped` (Unix).

use std::io::{self, Read, Seek, Write};

use zeroize::Zeroizing;

mod backend;
mod cipher;
mod diagnose;
mod error;
mod header;
mod key;
#[cfg(unix)]
mod mapped;
mod reader;
mod seekable;

pub use backend::{
    AesBackend, BACKEND_ENV, BackendChoice, UnknownAesBackend, backend_choice, current_backend,
    with_backend,
};
pub use error::{FilmError, Result};
pub use header::{EditionId, Header};
pub use key::FilmKey;
#[cfg(unix)]
pub use mapped::{MappedFilm, decrypt_file};
pub use reader::FilmReader;
pub use seekable::SeekableFilm;

use cipher::SegmentCipher;
#[cfg(unix)]
use diagnose::{auth_failure, reorder_search};
#[cfg(unix)]
use header::read_header;

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
    let cipher = SegmentCipher::new(key, header)?;
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
    Ok(*reader.header())
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
