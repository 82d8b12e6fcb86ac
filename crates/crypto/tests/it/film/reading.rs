//! Reading a film other than whole: random access to any segment ([`SeekableFilm`]), also
//! behind a prefix, the segment-by-segment reader ([`FilmReader`]), and the encrypter's check of
//! the input length.

use std::io::{self, Cursor, Read};

use tangible_crypto::film::{
    self, EditionId, FilmError, FilmKey, FilmReader, Header, SeekableFilm,
};

use super::{SEG, SEG_US, encrypt, plaintext, segment_range};

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
