//! Random access and sequential reads of a memory-mapped film, and what it does when the file
//! shrinks or is not a regular file.

use std::io::{self, Read, Write};

use proptest::prelude::*;
use tangible_crypto::film::{self, FilmError, FilmKey, MappedFilm};

use super::{SEG_US, encrypt, encrypt_with, plaintext, segment_range, temp_file};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_access_matches_the_plaintext(
        len in 0usize..200,
        seg in 1u32..40,
        seed: u8,
        order in proptest::collection::vec(0u64..64, 1..12),
    ) {
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let file = temp_file(&encrypt_with(&key, &plain, seg));
        let mut film = MappedFilm::open(&key, &file).unwrap();
        let count = film.segment_count();
        for i in order {
            if i >= count {
                let out_of_range = matches!(
                    film.read_segment(i),
                    Err(FilmError::SegmentOutOfRange { .. })
                );
                prop_assert!(out_of_range);
                continue;
            }
            let start = (i * u64::from(seg)) as usize;
            let end = (start + seg as usize).min(plain.len());
            prop_assert_eq!(film.read_segment(i).unwrap(), &plain[start..end]);
        }
        // The same segments decrypted into one reused buffer of the caller's.
        let mut buf = vec![0xAA; 3];
        for i in 0..count {
            let start = (i * u64::from(seg)) as usize;
            let end = (start + seg as usize).min(plain.len());
            film.read_segment_into(i, &mut buf).unwrap();
            prop_assert_eq!(&buf[..], &plain[start..end]);
        }
        let out_of_range = matches!(
            film.read_segment_into(count, &mut buf),
            Err(FilmError::SegmentOutOfRange { .. })
        );
        prop_assert!(out_of_range);
        // Sequential reading is independent of the random accesses before it.
        let mut got = Vec::new();
        while let Some(s) = film.next_segment().unwrap() {
            got.extend_from_slice(s);
        }
        prop_assert_eq!(got, plain);
    }
}

#[test]
fn reader_streams_and_stops_after_an_error() {
    let key = FilmKey::generate();
    let plain = plaintext(3 * SEG_US + 1, 14);
    let bytes = encrypt(&key, &plain);
    let mut film = MappedFilm::open(&key, &temp_file(&bytes)).unwrap();
    assert_eq!(film.position(), 0);
    let mut got = Vec::new();
    let mut chunk = [0u8; 5];
    loop {
        let n = film.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(got, plain);
    assert_eq!(film.position(), 4);

    let mut bad = bytes;
    bad[segment_range(2).start + 3] ^= 0x10;
    let mut film = MappedFilm::open(&key, &temp_file(&bad)).unwrap();
    assert!(film.next_segment().unwrap().is_some());
    assert!(film.next_segment().unwrap().is_some());
    assert!(matches!(
        film.next_segment(),
        Err(FilmError::TamperedSegment { index: 2 })
    ));
    assert!(matches!(film.next_segment(), Err(FilmError::AlreadyFailed)));
    // Random access still names the segment and reads the intact ones.
    assert!(matches!(
        film.read_segment(2),
        Err(FilmError::TamperedSegment { index: 2 })
    ));
    assert_eq!(film.read_segment(1).unwrap(), &plain[SEG_US..2 * SEG_US]);
}

#[test]
fn a_file_truncated_after_mapping_is_reported_not_a_crash() {
    // Reading past the new end of a truncated mapped file would raise SIGBUS; the reader
    // checks the length before each segment instead.
    let key = FilmKey::generate();
    let plain = plaintext(4 * SEG_US, 15);
    let bytes = encrypt(&key, &plain);
    let file = temp_file(&bytes);
    let mut film = MappedFilm::open(&key, &file).unwrap();
    assert_eq!(film.next_segment().unwrap().unwrap(), &plain[..SEG_US]);
    file.set_len(segment_range(2).start as u64 + 3).unwrap();
    assert!(film.next_segment().unwrap().is_some());
    assert!(matches!(
        film.next_segment(),
        Err(FilmError::Truncated { segment: 2 })
    ));
    // Grown back with zeros: the length is right again, the content is not.
    file.set_len(bytes.len() as u64).unwrap();
    assert!(matches!(
        film.read_segment(3),
        Err(FilmError::TamperedSegment { index: 3 })
    ));
}

#[test]
fn a_film_starts_at_offset_zero_whatever_the_file_position() {
    let key = FilmKey::generate();
    let plain = plaintext(2 * SEG_US + 3, 16);
    let file = temp_file(&encrypt(&key, &plain)); // position: at the end
    let mut out = Vec::new();
    film::decrypt_file(&key, &file, &mut out).unwrap();
    assert_eq!(out, plain);
}

#[test]
fn decrypt_file_reads_a_pipe_as_a_stream() {
    let key = FilmKey::generate();
    let plain = plaintext(5 * SEG_US + 7, 17);
    let bytes = encrypt(&key, &plain);
    let (reader, mut writer) = io::pipe().unwrap();
    let reader = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
    assert!(matches!(
        MappedFilm::open(&key, &reader),
        Err(FilmError::Io(e)) if e.kind() == io::ErrorKind::Unsupported
    ));
    let feeder = std::thread::spawn(move || writer.write_all(&bytes));
    let mut out = Vec::new();
    film::decrypt_file(&key, &reader, &mut out).unwrap();
    feeder.join().unwrap().unwrap();
    assert_eq!(out, plain);
}

#[test]
fn wrong_key_and_short_files() {
    let key = FilmKey::generate();
    let bytes = encrypt(&key, &plaintext(40, 18));
    assert!(matches!(
        MappedFilm::open(&FilmKey::generate(), &temp_file(&bytes))
            .unwrap()
            .next_segment(),
        Err(FilmError::WrongKey)
    ));
    assert!(matches!(
        MappedFilm::open(&key, &temp_file(&[])),
        Err(FilmError::TruncatedHeader)
    ));
    assert!(matches!(
        MappedFilm::open(&key, &temp_file(b"not a film")),
        Err(FilmError::BadMagic)
    ));
}
