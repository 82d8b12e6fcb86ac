//! Fuzz the film decoder: arbitrary bytes must give a clean error (never a panic), through the
//! streaming, seekable, random-access and memory-mapped paths alike — and the mapped path must
//! agree with the seekable one.
#![no_main]

use std::fs::File;
use std::io::{Cursor, sink};
use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use tangible_crypto::film::{self, FilmKey, SeekableFilm};

/// One temporary file per fuzzing process, rewritten for each input (the mapped decoder needs a
/// regular file).
fn scratch() -> &'static Mutex<File> {
    static FILE: OnceLock<Mutex<File>> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("film_decode.{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .expect("scratch file");
        let _ = std::fs::remove_file(&path);
        Mutex::new(file)
    })
}

fuzz_target!(|data: &[u8]| {
    let key = FilmKey::from_bytes([7u8; 32]);
    let _ = film::decrypt_stream(&key, data, sink());
    let mut seekable_out = Vec::new();
    let seekable = film::decrypt(&key, Cursor::new(data), &mut seekable_out);
    if let Ok(mut f) = SeekableFilm::open(&key, Cursor::new(data)) {
        let n = f.segment_count();
        let _ = f.read_segment(0);
        let _ = f.read_segment(n - 1);
        let _ = f.read_segment(n);
    }

    let file = scratch().lock().expect("scratch file lock");
    file.set_len(0).expect("truncate scratch file");
    std::os::unix::fs::FileExt::write_all_at(&*file, data, 0).expect("write scratch file");
    let mut mapped_out = Vec::new();
    let mapped = film::decrypt_file(&key, &file, &mut mapped_out);
    match (&seekable, &mapped) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("seekable {seekable:?} and mapped {mapped:?} disagree"),
    }
    assert_eq!(seekable_out, mapped_out);
    if let Ok(mut m) = film::MappedFilm::open(&key, &file) {
        let n = m.segment_count();
        let _ = m.read_segment(n - 1);
        let _ = m.read_segment(0);
        let _ = m.read_segment(n);
    }
});
