//! The address-space reservation behind [`super::MappedFilm`]: a plaintext window directly
//! before a private mapping of the whole film file (layout and safety argument in the parent
//! module's documentation).

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;
use std::ptr::NonNull;

use zeroize::Zeroize;

use crate::film::{SegmentCipher, TAG_LEN};

/// One reservation of address space: an anonymous plaintext window followed by the whole file,
/// mapped privately. Owns both mappings; wipes the window and unmaps on drop.
pub(super) struct Window {
    /// Start of the reservation (for `munmap`).
    reservation: NonNull<u8>,
    /// Length of the whole reservation (a page multiple).
    total: usize,
    /// Start of the plaintext window; the file mapping starts `window_len` bytes later.
    base: NonNull<u8>,
    /// Length of the plaintext window (a page multiple, ≥ the largest segment).
    pub(super) window_len: usize,
    /// Length of the file when it was mapped.
    pub(super) file_len: usize,
    /// How much of the window may hold plaintext since it was last wiped (wiping only that
    /// much leaves the pages no segment touched unfaulted).
    dirty: usize,
}

// SAFETY: `Window` exclusively owns its mappings (nothing else holds their addresses), so moving
// it to another thread moves that ownership; it has no thread-local state.
unsafe impl Send for Window {}

/// The file mapping starts on a multiple of this (the x86-64 huge page), so that the kernel can
/// map large page-cache folios with fewer page-table operations where it does.
const FILE_ALIGN: usize = 2 << 20;

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

fn round_up(n: usize, to: usize) -> Option<usize> {
    Some(n.checked_add(to - 1)? / to * to)
}

impl Window {
    /// Reserves `plaintext window (≥ window_min bytes) ‖ file (file_len bytes)` and maps both.
    pub(super) fn map(file: &File, file_len: usize, window_min: usize) -> io::Result<Self> {
        let page = page_size();
        let align = FILE_ALIGN.max(page);
        let too_large = || io::Error::new(io::ErrorKind::OutOfMemory, "film too large to map");
        let window_len = round_up(window_min.max(1), page).ok_or_else(too_large)?;
        let file_span = round_up(file_len, page).ok_or_else(too_large)?;
        let total = window_len
            .checked_add(file_span)
            .and_then(|n| n.checked_add(align))
            .ok_or_else(too_large)?;
        if file_len == 0 || total > isize::MAX as usize {
            return Err(too_large());
        }
        // SAFETY: a fresh anonymous mapping at an address the kernel chooses: it overlaps nothing.
        // PROT_NONE: the parts not replaced below stay inaccessible.
        let reservation = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if reservation == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // The file mapping at the first multiple of `align` with room for the window before it;
        // `window_len + align + file_span <= total` keeps both inside the reservation.
        let file_at = round_up(reservation as usize + window_len, align).ok_or_else(too_large)?;
        let base = (file_at - window_len) as *mut libc::c_void;
        // SAFETY: both MAP_FIXED mappings replace parts of the reservation made just above,
        // which this function owns and nobody else knows of; on failure the whole reservation
        // is unmapped before returning.
        unsafe {
            let w = libc::mmap(
                base,
                window_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            );
            let f = if w == libc::MAP_FAILED {
                w
            } else {
                libc::mmap(
                    file_at as *mut libc::c_void,
                    file_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_NORESERVE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if f == libc::MAP_FAILED {
                let err = io::Error::last_os_error();
                libc::munmap(reservation, total);
                return Err(err);
            }
            // Read-ahead hint for a film that is not in the page cache yet; failure is harmless.
            libc::madvise(f, file_len, libc::MADV_SEQUENTIAL);
            // Where transparent huge pages are `madvise` (or `always`), a film read from disk
            // through this mapping then lands in 2 MiB page-cache folios, which later faults map
            // whole (one page-table entry per 2 MiB, not 512): without it the page cache filled
            // by the mapping's read-ahead is made of small folios and every later mapped decrypt
            // of the film spends more time in page faults and unmapping than in AES-GCM (see
            // `README.md`). A film already in the page cache keeps its folios; failure (THP off)
            // is harmless.
            libc::madvise(f, file_len, libc::MADV_HUGEPAGE);
        }
        let non_null = |p: *mut libc::c_void| {
            NonNull::new(p.cast::<u8>()).expect("mmap does not return null on success")
        };
        Ok(Self {
            reservation: non_null(reservation),
            total,
            base: non_null(base),
            window_len,
            file_len,
            dirty: 0,
        })
    }

    const fn file_ptr(&self) -> *mut u8 {
        // SAFETY: `window_len < total`, so the result stays inside the reservation.
        unsafe { self.base.as_ptr().add(self.window_len) }
    }

    /// Copies `dst.len()` file bytes starting at `offset` (which the caller keeps inside the
    /// file).
    fn copy_from_file(&self, offset: usize, dst: &mut [u8]) {
        assert!(
            offset + dst.len() <= self.file_len,
            "read inside the mapped file"
        );
        // SAFETY: in bounds (checked above) of the file mapping, which does not overlap `dst`
        // (a Rust allocation, not part of the reservation).
        unsafe {
            std::ptr::copy_nonoverlapping(self.file_ptr().add(offset), dst.as_mut_ptr(), dst.len());
        }
    }

    /// Opens the ciphertext of `len` bytes at file `offset` (its tag right after it) with the
    /// nonce of segment `index`, writing the plaintext to the start of the window.
    pub(super) fn open(
        &mut self,
        cipher: &SegmentCipher,
        index: u64,
        last: bool,
        offset: usize,
        len: usize,
    ) -> bool {
        assert!(len <= self.window_len, "segment fits the plaintext window");
        let mut tag = [0u8; TAG_LEN];
        self.copy_from_file(offset + len, &mut tag);
        let src = self.window_len + offset;
        // SAFETY: `base .. base + src + len` lies inside the reservation (`offset + len +
        // TAG_LEN <= file_len`, checked by `copy_from_file`), all of it mapped readable and
        // writable (window, then the private file mapping). `&mut self` guarantees no other
        // reference into the reservation is alive. The cipher writes only `in_out[..len]` (the
        // window, as `len <= window_len`) and reads `in_out[src..]`.
        let in_out = unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), src + len) };
        self.dirty = self.dirty.max(len);
        cipher.open_separate(index, last, in_out, src, &tag)
    }

    /// Opens the ciphertext of `out.len()` bytes at file `offset` (its tag right after it) with
    /// the nonce of segment `index` into `out`, a buffer outside the reservation.
    pub(super) fn open_to(
        &self,
        cipher: &SegmentCipher,
        index: u64,
        last: bool,
        offset: usize,
        out: &mut [u8],
    ) -> bool {
        let len = out.len();
        let mut tag = [0u8; TAG_LEN];
        self.copy_from_file(offset + len, &mut tag);
        // SAFETY: `offset + len + TAG_LEN <= file_len` (checked by `copy_from_file`), so the
        // range lies inside the file mapping, mapped readable. `&self` keeps `open` (the only
        // writer into the reservation, `&mut self`) away while the slice lives, and `out` is the
        // caller's buffer, not part of the reservation.
        let ciphertext = unsafe { std::slice::from_raw_parts(self.file_ptr().add(offset), len) };
        cipher.open_to(index, last, ciphertext, &tag, out)
    }

    /// The first `len` bytes of the plaintext window.
    pub(super) fn plaintext(&self, len: usize) -> &[u8] {
        assert!(len <= self.window_len);
        // SAFETY: inside the window, which is mapped readable; `&self` keeps `open` (which needs
        // `&mut self`) from writing while the slice lives.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), len) }
    }

    /// Overwrites the part of the plaintext window that may hold plaintext with zeros.
    pub(super) fn wipe(&mut self) {
        // SAFETY: `dirty <= window_len` (segments fit the window); the window is mapped readable
        // and writable and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.dirty) }.zeroize();
        self.dirty = 0;
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.wipe();
        // SAFETY: unmaps exactly the reservation this value owns; no reference into it outlives
        // `self`.
        unsafe {
            libc::munmap(self.reservation.as_ptr().cast(), self.total);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_file_mapping_is_aligned_and_the_window_sits_just_before_it() {
        let mut file = tempfile::tempfile().expect("temp file");
        file.write_all(&[1u8; 300]).expect("write");
        let w = Window::map(&file, 300, 64).expect("map");
        assert_eq!(w.file_ptr() as usize % FILE_ALIGN, 0);
        assert_eq!(
            w.file_ptr() as usize - w.base.as_ptr() as usize,
            w.window_len
        );
        assert!(w.window_len >= 64);
        assert!(w.base.as_ptr() as usize >= w.reservation.as_ptr() as usize);
        assert!(w.file_ptr() as usize + w.file_len <= w.reservation.as_ptr() as usize + w.total);
    }
}
