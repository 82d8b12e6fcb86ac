//! Film format: round trips around segment boundaries, and the helpers the film tests share
//! (`tampering`: every bit flip, truncation, reordering, duplication and trailing data refused;
//! `reading`: random access and the streaming reader; `mapped`: memory-mapped films).

use std::io::{Cursor, Read, Write};

use proptest::prelude::*;
use tangible_crypto::film::{self, EditionId, FilmError, FilmKey, HEADER_LEN, Header, TAG_LEN};

mod backends;
#[cfg(unix)]
mod mapped;
mod reading;
mod tampering;

/// A small segment size keeps the exhaustive tests fast; the format allows any size.
const SEG: u32 = 16;
const SEG_US: usize = SEG as usize;

fn plaintext(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn encrypt_with(key: &FilmKey, plain: &[u8], seg: u32) -> Vec<u8> {
    let header =
        Header::with_segment_size(EditionId::new(9, 2), seg, plain.len() as u64).expect("header");
    let mut out = Vec::new();
    film::encrypt(key, &header, plain, &mut out).expect("encrypt");
    out
}

fn encrypt(key: &FilmKey, plain: &[u8]) -> Vec<u8> {
    encrypt_with(key, plain, SEG)
}

/// `bytes` in an unlinked temporary file (a regular file, so `decrypt_file` maps it).
pub(super) fn temp_file(bytes: &[u8]) -> std::fs::File {
    let mut f = tempfile::tempfile().expect("temp file");
    f.write_all(bytes).expect("write temp file");
    f
}

/// Decrypts through every path — seekable, streaming, and from a file (memory-mapped on Unix)
/// both whole and through `MappedFilm`'s `Read` — and checks they agree: the mapped path must
/// give the same plaintext prefix and the very same error as the seekable one.
pub(super) fn decrypt_all_ways(key: &FilmKey, file: &[u8]) -> Result<Vec<u8>, FilmError> {
    let mut a = Vec::new();
    let seekable = film::decrypt(key, Cursor::new(file), &mut a);
    let mut b = Vec::new();
    let streaming = film::decrypt_stream(key, file, &mut b);
    match (&seekable, &streaming) {
        (Ok(_), Ok(_)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("seekable {seekable:?} and streaming {streaming:?} disagree"),
    }
    let mut c = Vec::new();
    let mapped = film::decrypt_file(key, &temp_file(file), &mut c);
    match (&seekable, &mapped) {
        (Ok(h1), Ok(h2)) => assert_eq!(h1, h2),
        (Err(e1), Err(e2)) => assert_eq!(e1.to_string(), e2.to_string()),
        _ => panic!("seekable {seekable:?} and mapped {mapped:?} disagree"),
    }
    assert_eq!(a, c, "seekable and mapped wrote different plaintext");
    #[cfg(unix)]
    {
        let mut d = Vec::new();
        let through_read = film::MappedFilm::open(key, &temp_file(file))
            .and_then(|mut m| m.read_to_end(&mut d).map_err(FilmError::from));
        assert_eq!(seekable.is_ok(), through_read.is_ok(), "{through_read:?}");
        if seekable.is_ok() {
            assert_eq!(a, d);
        }
    }
    seekable.map(|_| a)
}

fn boundary_lengths(seg: usize) -> Vec<usize> {
    let mut v = vec![
        0,
        1,
        seg - 1,
        seg,
        seg + 1,
        2 * seg - 1,
        2 * seg,
        2 * seg + 1,
    ];
    v.extend([3 * seg, 5 * seg + 3]);
    v
}

/// The bytes of segment `i` (ciphertext and tag) in a film of [`SEG`]-byte segments.
const fn segment_range(i: usize) -> std::ops::Range<usize> {
    let start = HEADER_LEN + i * (SEG_US + TAG_LEN);
    start..start + SEG_US + TAG_LEN
}

#[test]
fn round_trip_at_every_boundary() {
    let key = FilmKey::generate();
    for seg in [1u32, 2, 16, 17] {
        for len in boundary_lengths(seg as usize) {
            let plain = plaintext(len, len as u8);
            let file = encrypt_with(&key, &plain, seg);
            let header = Header::parse(file[..HEADER_LEN].try_into().unwrap()).unwrap();
            assert_eq!(
                file.len() as u64,
                header.encrypted_len(),
                "seg {seg} len {len}"
            );
            assert_eq!(
                decrypt_all_ways(&key, &file).unwrap(),
                plain,
                "seg {seg} len {len}"
            );
        }
    }
}

#[test]
fn default_segment_size_round_trip() {
    let key = FilmKey::generate();
    let seg = film::DEFAULT_SEGMENT_SIZE as usize;
    for len in [0, seg - 1, seg, seg + 1, 2 * seg + 5] {
        let plain = plaintext(len, 1);
        let header = Header::new(EditionId::new(1, 0), len as u64).unwrap();
        let mut file = Vec::new();
        film::encrypt(&key, &header, &plain[..], &mut file).unwrap();
        assert_eq!(decrypt_all_ways(&key, &file).unwrap(), plain);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_any_length(len in 0usize..200, seg in 1u32..40, seed: u8) {
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let file = encrypt_with(&key, &plain, seg);
        prop_assert_eq!(decrypt_all_ways(&key, &file).unwrap(), plain);
    }

    #[test]
    fn round_trip_near_boundaries(k in 0usize..6, delta in -1i64..=1, seed: u8) {
        let len = (k as i64 * SEG as i64 + delta).max(0) as usize;
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let file = encrypt(&key, &plain);
        prop_assert_eq!(decrypt_all_ways(&key, &file).unwrap(), plain);
    }
}
