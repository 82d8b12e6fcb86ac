//! Why a segment failed to authenticate: a wrong key (at the first segment), tampering, or a
//! segment moved from elsewhere in the file, found by trying the ciphertext as each nearby
//! segment index ([`REORDER_SEARCH_DISTANCE`] either side).

use std::io::Read;

use zeroize::Zeroizing;

use super::cipher::SegmentCipher;
use super::reader::SeekFn;
use super::{FilmError, Header, REORDER_SEARCH_DISTANCE, TAG_LEN, read_full};

/// The error for a segment at `position` that does not authenticate, without a diagnosis.
pub(super) const fn auth_failure(position: u64) -> FilmError {
    if position == 0 {
        FilmError::WrongKey
    } else {
        FilmError::TamperedSegment { index: position }
    }
}

/// Re-reads the ciphertext at `position` and tries it as each nearby segment index: if one
/// authenticates, the key is right and segments were moved; otherwise it is tampering (or, at
/// position 0, a wrong key or a corrupted header).
pub(super) fn diagnose_failure<R: Read>(
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
pub(super) fn reorder_search(
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
