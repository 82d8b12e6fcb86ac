//! Decryption of a film file straight from a memory map (Unix): [`MappedFilm`], [`decrypt_file`].
//!
//! The streaming decoder reads each segment into a buffer and opens it in place: every
//! ciphertext byte is copied out of the page cache by `read` and then read again by AES-GCM.
//! Here the file is mapped and each segment is opened *out of place*: AES-GCM reads the
//! ciphertext from the mapped page-cache pages and writes the plaintext into a reused
//! plaintext window, so each ciphertext byte is read from memory once, by the AES-GCM code.
//!
//! The segment is opened on the process's AES-256-GCM backend ([`super::AesBackend`]). aws-lc-rs
//! has a separate-input open (`open_separate_gather`: ciphertext slice in, plaintext slice out);
//! `ring` 0.17 has none, but [`ring::aead::LessSafeKey::open_in_place_separate_tag`] takes one
//! buffer and a `src` offset: it reads the ciphertext at `in_out[src..]` and writes the plaintext
//! to `in_out[..len]`, touching nothing in between. So that both run on the same memory, the
//! window and the file are laid out next to each other in one reservation of address space
//! (aws-lc-rs gets the two ends of it as two slices):
//!
//! ```text
//! reservation (PROT_NONE)   base                  file_at (multiple of 2 MiB)
//! | ...                     | plaintext window    | file, mapped MAP_PRIVATE from offset 0 ... | ... |
//!                           |<- plaintext seg i ->|  header | seg 0 | ... | seg i ciphertext ‖ tag | ...
//!  in_out = base .. file_at + offset(i) + len(i),  src = window_len + offset(i)
//! ```
//!
//! The file mapping starts on a 2 MiB boundary so that the kernel can map large page-cache
//! folios whole: measured here, a quarter of the page faults of a page-aligned mapping for the
//! same file (see `README.md`).
//!
//! [`MappedFilm::read_segment_into`] opens a segment into a buffer of the caller's instead of the
//! window (aws-lc-rs: out of place from the mapped file; `ring`: the ciphertext copied into the
//! buffer, then opened in place), for a caller that would copy the plaintext out anyway.
//!
//! The file pages are only ever read (either backend writes only `in_out[..len]`, inside the
//! window, or the caller's buffer), so they stay the page cache's own pages: no copy, no
//! copy-on-write. They are mapped
//! writable (`MAP_PRIVATE`, copy-on-write) only because `ring` takes a `&mut [u8]`: a stray
//! write would land in a private copy, never in the file.
//!
//! Concurrent changes to the file are the caller's to rule out, as for any memory map:
//! * a file **truncated** by another process while mapped makes the reader's access past the new
//!   end raise `SIGBUS`, which kills the process. The reader checks the file's length (`fstat`)
//!   before each segment and reports [`FilmError::Truncated`] for a file shrunk since it was
//!   mapped; only a truncation in the microseconds between that check and the segment's
//!   decryption still raises the signal. Film files are written to a temporary file and renamed
//!   into place by this project's store and downloader, which never truncates a mapped inode; a
//!   user running `truncate` on a film during playback can.
//! * a file **modified** in place while mapped can change a ciphertext block between the moment
//!   GHASH reads it and the moment it is decrypted (the AES-GCM code loads it twice, from L1), so
//!   plaintext that does not match the authenticated ciphertext could be emitted. The streaming
//!   decoder ([`super::decrypt`]) reads into a private buffer and has no such window; callers
//!   that need the guarantee against a concurrent writer of the file use it (the player also
//!   checks the SHA-256 of the whole plaintext against the registered master hash).

mod window;

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;

use zeroize::Zeroize;

use self::window::Window;
use super::{
    FilmError, FilmKey, HEADER_LEN, Header, Result, SegmentCipher, TAG_LEN, auth_failure,
    read_header, reorder_search,
};

/// A film file decrypted from a memory map: sequential ([`MappedFilm::next_segment`], [`Read`])
/// and random access ([`MappedFilm::read_segment`]) — the fast path for a film on disk.
///
/// Each segment is authenticated and decrypted out of place, straight from the mapped file into
/// a plaintext window reused between segments and wiped on drop (see the module documentation
/// for the layout and for what a concurrent writer of the file can do). Errors are those of
/// [`super::decrypt`] for the same bytes: a failed segment is tried at nearby positions to
/// report [`FilmError::ReorderedSegment`], [`FilmError::Truncated`] names the first incomplete
/// segment when it is reached, and trailing bytes are reported when the last segment is read.
/// The film must start at offset 0 of the file.
pub struct MappedFilm {
    window: Window,
    /// The mapped file, to check its length before each segment.
    file: File,
    header: Header,
    cipher: SegmentCipher,
    next: u64,
    /// Plaintext of the current segment not yet consumed by `Read::read`.
    pos: usize,
    end: usize,
    failed: bool,
}

impl std::fmt::Debug for MappedFilm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFilm")
            .field("header", &self.header)
            .field("next_segment", &self.next)
            .finish_non_exhaustive()
    }
}

impl MappedFilm {
    /// Reads and validates the header of the film file `file` and maps the file.
    ///
    /// Fails with the header errors of [`super::decrypt`], or [`FilmError::Io`] if `file` is not
    /// a regular file or cannot be mapped (use [`decrypt_file`] to fall back to reading then).
    pub fn open(key: &FilmKey, file: &File) -> Result<Self> {
        match Self::try_open(key, file)? {
            Some(film) => Ok(film),
            None => Err(FilmError::Io(io::Error::new(
                io::ErrorKind::Unsupported,
                "the film is not a regular file that can be mapped",
            ))),
        }
    }

    /// Like [`Self::open`], but `Ok(None)` when the file cannot be mapped (not a regular file,
    /// too large for the address space, a file system without mmap).
    fn try_open(key: &FilmKey, file: &File) -> Result<Option<Self>> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let mut head = [0u8; HEADER_LEN];
        let got = read_full_at(file, &mut head)?;
        let header = read_header(&mut &head[..got])?;
        let Ok(file_len) = usize::try_from(meta.len()) else {
            return Ok(None);
        };
        let window = match Window::map(file, file_len, header.segment_plaintext_len(0)) {
            Ok(w) => w,
            Err(_) => return Ok(None),
        };
        Ok(Some(Self {
            cipher: SegmentCipher::new(key, &header)?,
            file: file.try_clone()?,
            window,
            header,
            next: 0,
            pos: 0,
            end: 0,
            failed: false,
        }))
    }

    /// The file's header.
    pub const fn header(&self) -> &Header {
        &self.header
    }

    /// Number of segments.
    pub fn segment_count(&self) -> u64 {
        self.header.segment_count()
    }

    /// Index of the segment the next call to [`Self::next_segment`] returns.
    pub const fn position(&self) -> u64 {
        self.next
    }

    /// Decrypts and returns the next plaintext segment, or `None` after the last one.
    ///
    /// The slice is valid until the next call; the window it points into is wiped when the film
    /// ends, fails or is dropped.
    pub fn next_segment(&mut self) -> Result<Option<&[u8]>> {
        if self.failed {
            return Err(FilmError::AlreadyFailed);
        }
        if self.next >= self.header.segment_count() {
            self.window.wipe();
            return Ok(None);
        }
        match self.decrypt_segment(self.next) {
            Ok(len) => {
                self.next += 1;
                Ok(Some(self.window.plaintext(len)))
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Decrypts segment `index` (random access; does not move [`Self::position`]). The slice is
    /// valid until the next call.
    pub fn read_segment(&mut self, index: u64) -> Result<&[u8]> {
        self.seek(index)?;
        let len = self.decrypt_segment(index)?;
        Ok(self.window.plaintext(len))
    }

    /// Decrypts segment `index` (random access, as [`Self::read_segment`]) into `out` instead of
    /// the reader's window, for a caller that would copy the plaintext out anyway: `out` is
    /// resized to the segment's length (its capacity is reused; only growth is zero-filled) and
    /// the ciphertext is read once, by AES-GCM, where the backend opens out of place (aws-lc-rs;
    /// on `ring` it is copied into `out` first). Same checks and errors as
    /// [`Self::read_segment`]; on any error `out` is wiped and left empty.
    pub fn read_segment_into(&mut self, index: u64, out: &mut Vec<u8>) -> Result<()> {
        let result = self.seek(index).and_then(|()| {
            out.resize(self.header.segment_plaintext_len(index), 0);
            self.decrypt_segment_with(index, |window, cipher, last, offset, _| {
                window.open_to(cipher, index, last, offset, out)
            })
        });
        if result.is_err() {
            out.zeroize();
            out.clear();
        }
        result.map(drop)
    }

    /// Starts a random access to segment `index`: checks it exists, and drops what `Read::read`
    /// had not consumed yet.
    fn seek(&mut self, index: u64) -> Result<()> {
        let count = self.header.segment_count();
        if index >= count {
            return Err(FilmError::SegmentOutOfRange { index, count });
        }
        self.pos = 0;
        self.end = 0;
        Ok(())
    }

    /// Authenticates and decrypts segment `index` into the window; returns its length.
    fn decrypt_segment(&mut self, index: u64) -> Result<usize> {
        self.decrypt_segment_with(index, |window, cipher, last, offset, len| {
            window.open(cipher, index, last, offset, len)
        })
    }

    /// Checks that segment `index` lies inside the file, opens it with `open(window, cipher,
    /// last, offset, len)` (into the window or a caller's buffer), explains a failure and checks
    /// for trailing data after the last segment; returns its plaintext length.
    fn decrypt_segment_with(
        &mut self,
        index: u64,
        open: impl FnOnce(&mut Window, &SegmentCipher, bool, usize, usize) -> bool,
    ) -> Result<usize> {
        let count = self.header.segment_count();
        let last = index + 1 == count;
        let len = self.header.segment_plaintext_len(index);
        // The file's length now, not at mapping time: a file truncated since then would make
        // reading past its new end raise SIGBUS. (A truncation racing this check still can:
        // see the module documentation.) Never past the mapped length if the file grew.
        let file_len = self.file.metadata()?.len();
        let mapped_len = self.window.file_len as u64;
        let offset = self.header.segment_offset(index);
        if offset + (len + TAG_LEN) as u64 > file_len.min(mapped_len) {
            self.window.wipe();
            return Err(FilmError::Truncated { segment: index });
        }
        // In bounds of the mapped file, so it fits a usize.
        let offset = offset as usize;
        if !open(&mut self.window, &self.cipher, last, offset, len) {
            let err = self.diagnose(index, offset, len);
            self.window.wipe();
            return Err(err);
        }
        if last && file_len > self.header.encrypted_len() {
            self.window.wipe();
            return Err(FilmError::TrailingData);
        }
        Ok(len)
    }

    /// Explains why the segment at `position` failed: tries its ciphertext as nearby indices.
    fn diagnose(&mut self, position: u64, offset: usize, len: usize) -> FilmError {
        let (window, cipher, header) = (&mut self.window, &self.cipher, &self.header);
        reorder_search(header, position, len, |j, last| {
            window.open(cipher, j, last, offset, len)
        })
        .unwrap_or_else(|| auth_failure(position))
    }
}

impl Read for MappedFilm {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos == self.end {
            let Some(plain) = self.next_segment()? else {
                return Ok(0);
            };
            (self.pos, self.end) = (0, plain.len());
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.window.plaintext(self.end)[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads from offset 0 until `buf` is full or the file ends; returns the bytes read.
fn read_full_at(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Decrypts the film file `file` into `out` — [`super::decrypt`]'s result and errors, faster.
///
/// A regular file is decrypted from a memory map ([`MappedFilm`]: no copy out of the page cache)
/// or, if it cannot be mapped, read with [`super::decrypt`]; either way the film starts at
/// offset 0. Anything else — a pipe, a character device — is read as a stream from where it is
/// ([`super::decrypt_stream`]). Plaintext is written segment by segment as it is
/// authenticated: on error, what was already written is authentic but incomplete.
pub fn decrypt_file<W: Write>(key: &FilmKey, file: &File, mut out: W) -> Result<Header> {
    match MappedFilm::try_open(key, file)? {
        Some(mut film) => {
            while let Some(plain) = film.next_segment()? {
                out.write_all(plain)?;
            }
            out.flush()?;
            Ok(film.header)
        }
        None if file.metadata()?.is_file() => {
            // Same start as the mapped path: offset 0.
            let mut file = file;
            io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
            super::decrypt(key, file, out)
        }
        None => super::decrypt_stream(key, file, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::film::{EditionId, encrypt};

    fn film_file(key: &FilmKey, plain: &[u8]) -> File {
        let header = Header::with_segment_size(EditionId::new(3, 1), 64, plain.len() as u64)
            .expect("header");
        let mut bytes = Vec::new();
        encrypt(key, &header, plain, &mut bytes).expect("encrypt");
        let mut f = tempfile::tempfile().expect("temp file");
        f.write_all(&bytes).expect("write");
        f
    }

    fn window_is_zero(film: &MappedFilm) -> bool {
        film.window
            .plaintext(film.window.window_len)
            .iter()
            .all(|&b| b == 0)
    }

    #[test]
    fn the_plaintext_window_is_wiped_at_the_end_and_on_failure() {
        let key = FilmKey::generate();
        let plain = vec![0xA5u8; 200];
        let file = film_file(&key, &plain);
        let mut film = MappedFilm::open(&key, &file).expect("open");
        assert_eq!(film.next_segment().unwrap().unwrap(), &plain[..64]);
        assert!(
            !window_is_zero(&film),
            "the window holds the plaintext while it is lent"
        );
        while film.next_segment().unwrap().is_some() {}
        assert!(window_is_zero(&film), "wiped after the last segment");

        // A failed segment leaves no plaintext behind, even when the reorder search
        // successfully decrypts it as another segment: here segment 2 copied over segment 1.
        assert_eq!(film.read_segment(1).unwrap(), &plain[64..128]);
        let mut seg2 = [0u8; 64 + TAG_LEN];
        file.read_exact_at(&mut seg2, film.header.segment_offset(2))
            .unwrap();
        file.write_all_at(&seg2, film.header.segment_offset(1))
            .unwrap();
        assert!(matches!(
            film.read_segment(1),
            Err(FilmError::ReorderedSegment {
                position: 1,
                found: 2
            })
        ));
        assert!(window_is_zero(&film), "wiped after a failure");
    }
}
