//! Every kind of damage to a film file is refused, and named: bit flips, truncations, trailing
//! data, swapped, duplicated, dropped or spliced segments, an altered header, a non-film.

use std::io::{self, Cursor};

use tangible_crypto::film::{self, FilmError, FilmKey, HEADER_LEN, SeekableFilm, TAG_LEN};

use super::{SEG_US, decrypt_all_ways, encrypt, plaintext, segment_range, temp_file};

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
    let mut spliced = a;
    spliced[segment_range(1)].copy_from_slice(&b[segment_range(1)]);
    assert!(matches!(
        decrypt_all_ways(&key, &spliced),
        Err(FilmError::TamperedSegment { index: 1 })
    ));
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
