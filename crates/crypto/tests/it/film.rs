//! Film format: round trips around segment boundaries, and rejection of every bit flip, every
//! truncation, reordering, duplication and trailing data.

use std::io::{self, Cursor, Read, Write};

use proptest::prelude::*;
use tangible_crypto::film::{
    self, EditionId, FilmError, FilmKey, FilmReader, HEADER_LEN, Header, SeekableFilm, TAG_LEN,
};

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

#[test]
fn every_bit_flip_is_rejected() {
    let key = FilmKey::generate();
    // Header + three segments (last one partial).
    let plain = plaintext(2 * SEG_US + 5, 3);
    let file = encrypt(&key, &plain);
    for byte in 0..file.len() {
        for bit in 0..8 {
            let mut bad = file.clone();
            bad[byte] ^= 1 << bit;
            let err = decrypt_all_ways(&key, &bad)
                .expect_err(&format!("flip of byte {byte} bit {bit} accepted"));
            if byte >= HEADER_LEN + SEG_US + TAG_LEN {
                // A flip in segment 1 or 2 (header intact) names that segment.
                let index = ((byte - HEADER_LEN) / (SEG_US + TAG_LEN)) as u64;
                assert!(
                    matches!(err, FilmError::TamperedSegment { index: i } if i == index),
                    "byte {byte}: {err}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let key = FilmKey::generate();
    let plain = plaintext(2 * SEG_US + 5, 4);
    let file = encrypt(&key, &plain);
    for cut in 0..file.len() {
        let err = decrypt_all_ways(&key, &file[..cut])
            .expect_err(&format!("truncation at {cut} accepted"));
        let ok = if cut < HEADER_LEN {
            matches!(err, FilmError::TruncatedHeader)
        } else {
            let segment = ((cut - HEADER_LEN) / (SEG_US + TAG_LEN)) as u64;
            matches!(err, FilmError::Truncated { segment: s } if s == segment)
        };
        assert!(ok, "cut {cut}: {err}");
        // Random access agrees.
        assert!(SeekableFilm::open(&key, Cursor::new(&file[..cut])).is_err());
    }
    // An empty film is one empty segment: truncating its tag is detected too.
    let empty = encrypt(&key, &[]);
    assert_eq!(empty.len(), HEADER_LEN + TAG_LEN);
    assert!(matches!(
        decrypt_all_ways(&key, &empty[..HEADER_LEN]),
        Err(FilmError::Truncated { segment: 0 })
    ));
}

#[test]
fn trailing_data_is_rejected() {
    let key = FilmKey::generate();
    for len in [0, 5, SEG_US, 3 * SEG_US] {
        let mut file = encrypt(&key, &plaintext(len, 5));
        file.push(0);
        assert!(
            matches!(decrypt_all_ways(&key, &file), Err(FilmError::TrailingData)),
            "len {len}"
        );
        assert!(matches!(
            SeekableFilm::open(&key, Cursor::new(&file)),
            Err(FilmError::TrailingData)
        ));
    }
}

fn segment_range(i: usize) -> std::ops::Range<usize> {
    let start = HEADER_LEN + i * (SEG_US + TAG_LEN);
    start..start + SEG_US + TAG_LEN
}

#[test]
fn swapped_segments_are_reported_as_reordered() {
    let key = FilmKey::generate();
    let plain = plaintext(4 * SEG_US, 6); // four full segments
    let file = encrypt(&key, &plain);
    for (a, b) in [(0, 1), (1, 2), (1, 3), (0, 3)] {
        let mut bad = file.clone();
        let seg_a = file[segment_range(a)].to_vec();
        let seg_b = file[segment_range(b)].to_vec();
        bad[segment_range(a)].copy_from_slice(&seg_b);
        bad[segment_range(b)].copy_from_slice(&seg_a);
        let err = film::decrypt(&key, Cursor::new(&bad), io::sink()).unwrap_err();
        assert!(
            matches!(err, FilmError::ReorderedSegment { position, found }
                if position == a as u64 && found == b as u64),
            "swap {a}<->{b}: {err}"
        );
        // The memory-mapped path diagnoses it the same way.
        let err = film::decrypt_file(&key, &temp_file(&bad), io::sink()).unwrap_err();
        assert!(
            matches!(err, FilmError::ReorderedSegment { position, found }
                if position == a as u64 && found == b as u64),
            "mapped, swap {a}<->{b}: {err}"
        );
        // Without seeking the stream still refuses it.
        let err = film::decrypt_stream(&key, &bad[..], io::sink()).unwrap_err();
        assert!(
            matches!(err, FilmError::TamperedSegment { .. } | FilmError::WrongKey),
            "{err}"
        );
    }
}

#[test]
fn duplicated_segments_are_rejected() {
    let key = FilmKey::generate();
    let plain = plaintext(3 * SEG_US, 7);
    let file = encrypt(&key, &plain);
    // Segment 1 written twice in place of segment 2: same length, wrong content.
    let mut bad = file.clone();
    let s1 = file[segment_range(1)].to_vec();
    bad[segment_range(2)].copy_from_slice(&s1);
    let err = film::decrypt(&key, Cursor::new(&bad), io::sink()).unwrap_err();
    // Segment 2 is the last one: segment 1's copy there fails the last-segment flag too.
    assert!(
        matches!(
            err,
            FilmError::ReorderedSegment {
                position: 2,
                found: 1
            }
        ),
        "{err}"
    );
    // Segment 1 inserted again (file grows by one segment).
    let mut longer = file[..segment_range(2).start].to_vec();
    longer.extend_from_slice(&s1);
    longer.extend_from_slice(&file[segment_range(2)]);
    let err = film::decrypt(&key, Cursor::new(&longer), io::sink()).unwrap_err();
    assert!(
        matches!(
            err,
            FilmError::ReorderedSegment {
                position: 2,
                found: 1
            }
        ),
        "{err}"
    );
    // The last segment appended again.
    let mut appended = file.clone();
    appended.extend_from_slice(&file[segment_range(2)]);
    let err = film::decrypt(&key, Cursor::new(&appended), io::sink()).unwrap_err();
    assert!(matches!(err, FilmError::TrailingData), "{err}");
}

#[test]
fn dropping_the_last_segment_is_detected() {
    // Removing the final segment cannot pass for a shorter film: the length is authenticated
    // and a non-final segment carries flag 0.
    let key = FilmKey::generate();
    let file = encrypt(&key, &plaintext(3 * SEG_US, 8));
    let cut = &file[..segment_range(2).start];
    assert!(matches!(
        decrypt_all_ways(&key, cut),
        Err(FilmError::Truncated { segment: 2 })
    ));
}

#[test]
fn segments_from_another_file_are_rejected() {
    // Same key, same length, different nonce prefix: splicing files is detected.
    let key = FilmKey::generate();
    let plain = plaintext(3 * SEG_US, 9);
    let a = encrypt(&key, &plain);
    let b = encrypt(&key, &plain);
    let mut spliced = a.clone();
    spliced[segment_range(1)].copy_from_slice(&b[segment_range(1)]);
    assert!(matches!(
        decrypt_all_ways(&key, &spliced),
        Err(FilmError::TamperedSegment { index: 1 })
    ));
}

#[test]
fn seek_returns_the_right_segment() {
    let key = FilmKey::generate();
    let plain = plaintext(5 * SEG_US + 3, 10);
    let file = encrypt(&key, &plain);
    let mut film = SeekableFilm::open(&key, Cursor::new(&file)).unwrap();
    assert_eq!(film.segment_count(), 6);
    for i in [3u64, 0, 5, 1, 4, 2, 5] {
        let start = i as usize * SEG_US;
        let end = (start + SEG_US).min(plain.len());
        assert_eq!(
            film.read_segment(i).unwrap(),
            &plain[start..end],
            "segment {i}"
        );
    }
    assert!(matches!(
        film.read_segment(6),
        Err(FilmError::SegmentOutOfRange { index: 6, count: 6 })
    ));
    let header = *film.header();
    assert_eq!(header.segment_for_offset(2 * SEG as u64 + 1), 2);

    // A tampered segment is found by random access too, without touching the others.
    let mut bad = file.clone();
    bad[segment_range(4).start + 2] ^= 0x40;
    let mut film = SeekableFilm::open(&key, Cursor::new(&bad)).unwrap();
    assert_eq!(
        film.read_segment(3).unwrap(),
        &plain[3 * SEG_US..4 * SEG_US]
    );
    assert!(matches!(
        film.read_segment(4),
        Err(FilmError::TamperedSegment { index: 4 })
    ));
}

#[test]
fn seeking_works_with_a_header_not_at_offset_zero() {
    let key = FilmKey::generate();
    let plain = plaintext(3 * SEG_US, 11);
    let mut container = b"some prefix".to_vec();
    let offset = container.len() as u64;
    container.extend(encrypt(&key, &plain));
    let mut cursor = Cursor::new(&container);
    cursor.set_position(offset);
    let mut film = SeekableFilm::open(&key, cursor).unwrap();
    assert_eq!(film.read_segment(2).unwrap(), &plain[2 * SEG_US..]);
}

#[test]
fn reader_streams_segments_and_stops_after_an_error() {
    let key = FilmKey::generate();
    let plain = plaintext(3 * SEG_US + 1, 12);
    let file = encrypt(&key, &plain);
    let mut reader = FilmReader::new(&key, &file[..]).unwrap();
    let mut got = Vec::new();
    while let Some(seg) = reader.next_segment().unwrap() {
        assert!(seg.len() <= SEG_US);
        got.extend_from_slice(seg);
    }
    assert_eq!(got, plain);

    let mut bad = file.clone();
    bad[segment_range(1).start] ^= 1;
    let mut reader = FilmReader::new(&key, &bad[..]).unwrap();
    assert!(reader.next_segment().unwrap().is_some());
    assert!(matches!(
        reader.next_segment(),
        Err(FilmError::TamperedSegment { index: 1 })
    ));
    assert!(matches!(
        reader.next_segment(),
        Err(FilmError::AlreadyFailed)
    ));

    // Through `Read`, the error surfaces as InvalidData carrying the FilmError.
    let mut reader = FilmReader::new(&key, &bad[..]).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("segment 1"), "{err}");
}

#[test]
fn encrypt_checks_the_input_length() {
    let key = FilmKey::generate();
    let header = Header::with_segment_size(EditionId::new(1, 1), SEG, 40).unwrap();
    let err = film::encrypt(&key, &header, &plaintext(39, 0)[..], io::sink()).unwrap_err();
    assert!(
        matches!(
            err,
            FilmError::InputTooShort {
                expected: 40,
                actual: 39
            }
        ),
        "{err}"
    );
    let err = film::encrypt(&key, &header, &plaintext(41, 0)[..], io::sink()).unwrap_err();
    assert!(
        matches!(err, FilmError::InputTooLong { expected: 40 }),
        "{err}"
    );
}

#[test]
fn header_fields_are_authenticated() {
    // Changing the edition in the header (a valid header for another edition) is refused.
    let key = FilmKey::generate();
    let mut file = encrypt(&key, &plaintext(20, 13));
    file[12..20].copy_from_slice(&10u64.to_be_bytes());
    assert!(matches!(
        decrypt_all_ways(&key, &file),
        Err(FilmError::WrongKey)
    ));
}

#[test]
fn not_a_film() {
    let key = FilmKey::generate();
    assert!(matches!(
        decrypt_all_ways(
            &key,
            b"hello world, this is a plain text file of some length"
        ),
        Err(FilmError::BadMagic)
    ));
}

/// Random access and sequential reads of a memory-mapped film, and what it does when the file
/// shrinks or is not a regular file.
#[cfg(unix)]
mod mapped {
    use super::*;
    use film::MappedFilm;

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

        let mut bad = bytes.clone();
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
}
