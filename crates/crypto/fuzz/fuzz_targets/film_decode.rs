//! Fuzz the film decoder: arbitrary bytes must give a clean error (never a panic), through the
//! streaming, seekable and random-access paths alike.
#![no_main]

use std::io::{Cursor, sink};

use libfuzzer_sys::fuzz_target;
use tangible_crypto::film::{self, FilmKey, SeekableFilm};

fuzz_target!(|data: &[u8]| {
    let key = FilmKey::from_bytes([7u8; 32]);
    let _ = film::decrypt_stream(&key, data, sink());
    let _ = film::decrypt(&key, Cursor::new(data), sink());
    if let Ok(mut f) = SeekableFilm::open(&key, Cursor::new(data)) {
        let n = f.segment_count();
        let _ = f.read_segment(0);
        let _ = f.read_segment(n - 1);
        let _ = f.read_segment(n);
    }
});
