//! Both AES-256-GCM backends (`ring`, aws-lc-rs) behind the film code: the same film bytes from
//! the same header and plaintext, each reads what the other wrote, and the same plaintext prefix
//! and the very same error from damaged files, through every decoder.

use std::io::{self, Cursor};

use proptest::prelude::*;
use tangible_crypto::film::{
    self, AesBackend, EditionId, FilmError, FilmKey, HEADER_LEN, Header, SeekableFilm,
};

use super::{decrypt_all_ways, plaintext, temp_file};

/// The film `plain` sealed under `header` on `backend`.
fn seal_on(backend: AesBackend, key: &FilmKey, header: &Header, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    film::with_backend(backend, || film::encrypt(key, header, plain, &mut out)).expect("encrypt");
    out
}

/// What every decoder makes of `file` on `backend`: the plaintext each wrote before stopping and
/// its error message, in a fixed order (seekable, streaming, mapped file, random access).
fn outcomes_on(backend: AesBackend, key: &FilmKey, file: &[u8]) -> Vec<(Vec<u8>, String)> {
    film::with_backend(backend, || {
        let describe = |r: Result<Header, FilmError>| r.err().map(|e| e.to_string());
        let mut all = Vec::new();
        let mut out = Vec::new();
        let e = describe(film::decrypt(key, Cursor::new(file), &mut out));
        all.push((out, e.unwrap_or_default()));
        let mut out = Vec::new();
        let e = describe(film::decrypt_stream(key, file, &mut out));
        all.push((out, e.unwrap_or_default()));
        let mut out = Vec::new();
        let e = describe(film::decrypt_file(key, &temp_file(file), &mut out));
        all.push((out, e.unwrap_or_default()));
        // Random access to every segment the header announces, on both random-access readers.
        let count = file
            .get(..HEADER_LEN)
            .and_then(|h| Header::parse(h.try_into().ok()?).ok())
            .map_or(0, |h| h.segment_count().min(64));
        let mut seekable = SeekableFilm::open(key, Cursor::new(file));
        #[cfg(unix)]
        let mut mapped = film::MappedFilm::open(key, &temp_file(file));
        // `read_segment_into`'s buffer, reused from segment to segment as the player's server does.
        #[cfg(unix)]
        let mut into = vec![0xAA; 7];
        for i in 0..count {
            let got = match &mut seekable {
                Ok(s) => s.read_segment(i).map(<[u8]>::to_vec),
                Err(e) => Err(FilmError::Io(io::Error::other(e.to_string()))),
            };
            all.push(match got {
                Ok(p) => (p, String::new()),
                Err(e) => (Vec::new(), e.to_string()),
            });
            #[cfg(unix)]
            {
                let got = match &mut mapped {
                    Ok(m) => m.read_segment(i).map(<[u8]>::to_vec),
                    Err(e) => Err(FilmError::Io(io::Error::other(e.to_string()))),
                };
                let outcome = match got {
                    Ok(p) => (p, String::new()),
                    Err(e) => (Vec::new(), e.to_string()),
                };
                // Into a caller's buffer: the same plaintext or the same error, the buffer
                // left empty on an error.
                if let Ok(m) = &mut mapped {
                    let into_outcome = match m.read_segment_into(i, &mut into) {
                        Ok(()) => (into.clone(), String::new()),
                        Err(e) => {
                            assert!(into.is_empty(), "a failed segment leaves the buffer empty");
                            (Vec::new(), e.to_string())
                        }
                    };
                    assert_eq!(into_outcome, outcome, "read_segment_into = read_segment");
                }
                all.push(outcome);
            }
        }
        all
    })
}

/// Damage to a film file: flip one bit, cut it short, swap two segments or append bytes.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, bit: u8 },
    Cut { at: usize },
    Swap { a: usize, b: usize },
    Append { bytes: Vec<u8> },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        any::<usize>().prop_map(|at| Damage::Cut { at }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::Swap { a, b }),
        proptest::collection::vec(any::<u8>(), 1..20).prop_map(|bytes| Damage::Append { bytes }),
    ]
}

fn apply(damage: &Damage, file: &mut Vec<u8>, seg: usize) {
    match damage {
        Damage::Flip { at, bit } => {
            let at = at % file.len();
            file[at] ^= 1 << bit;
        }
        Damage::Cut { at } => file.truncate(at % file.len()),
        Damage::Swap { a, b } => {
            let stride = seg + film::TAG_LEN;
            let full = (file.len() - HEADER_LEN) / stride;
            if full >= 2 {
                let a = a % full;
                let b = if b % full == a {
                    (a + 1) % full
                } else {
                    b % full
                };
                for k in 0..stride {
                    file.swap(HEADER_LEN + a * stride + k, HEADER_LEN + b * stride + k);
                }
            } else {
                file[HEADER_LEN] ^= 1;
            }
        }
        Damage::Append { bytes } => file.extend_from_slice(bytes),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn both_backends_write_the_same_film_and_read_each_others(
        len in 0usize..300,
        seg in 1u32..40,
        seed: u8,
    ) {
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let header = Header::with_segment_size(EditionId::new(4, 1), seg, len as u64).unwrap();
        let by_ring = seal_on(AesBackend::Ring, &key, &header, &plain);
        let by_aws_lc = seal_on(AesBackend::AwsLc, &key, &header, &plain);
        prop_assert_eq!(&by_ring, &by_aws_lc);
        // Cross-decrypt: each backend reads the other's film, through every decoder.
        for (written_by, file) in [("ring", &by_ring), ("aws-lc", &by_aws_lc)] {
            for reader in AesBackend::ALL {
                let got = film::with_backend(reader, || decrypt_all_ways(&key, file));
                prop_assert_eq!(
                    got.as_ref().ok(), Some(&plain), "written by {}, read by {}", written_by, reader
                );
            }
        }
    }

    #[test]
    fn both_backends_stop_at_the_same_place_with_the_same_error(
        len in 1usize..200,
        seg in 1u32..24,
        seed: u8,
        damage in damage(),
    ) {
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let header = Header::with_segment_size(EditionId::new(4, 1), seg, len as u64).unwrap();
        // Written by one backend, damaged, then read by each.
        let mut file = seal_on(AesBackend::AwsLc, &key, &header, &plain);
        apply(&damage, &mut file, seg as usize);
        let ring = outcomes_on(AesBackend::Ring, &key, &file);
        let aws_lc = outcomes_on(AesBackend::AwsLc, &key, &file);
        prop_assert_eq!(&ring, &aws_lc);
        // The whole-film decoders do fail (the damage is never invisible).
        prop_assert!(ring[..3].iter().all(|(_, e)| !e.is_empty()), "{:?}", damage);
    }

    #[test]
    fn a_wrong_key_is_the_same_error_on_both_backends(len in 0usize..100, seed: u8) {
        let key = FilmKey::generate();
        let plain = plaintext(len, seed);
        let header = Header::with_segment_size(EditionId::new(4, 1), 16, len as u64).unwrap();
        let file = seal_on(AesBackend::Ring, &key, &header, &plain);
        let other = FilmKey::generate();
        let ring = outcomes_on(AesBackend::Ring, &other, &file);
        prop_assert_eq!(&ring, &outcomes_on(AesBackend::AwsLc, &other, &file));
        prop_assert_eq!(&ring[0].1, &FilmError::WrongKey.to_string());
    }
}

/// Run by [`a_bad_backend_setting_fails_every_film_operation_clearly`] in a child process with
/// `TANGIBLE_AES_BACKEND=openssl` (the choice is made once per process, so not in this one).
#[test]
#[ignore = "run as a child process by a_bad_backend_setting_fails_every_film_operation_clearly"]
fn child_with_a_bad_backend_setting() {
    assert_eq!(
        std::env::var(film::BACKEND_ENV).as_deref(),
        Ok("openssl"),
        "run only by the parent test"
    );
    let key = FilmKey::generate();
    let header = Header::new(EditionId::new(1, 1), 3).unwrap();
    let err = film::encrypt(&key, &header, &b"abc"[..], io::sink()).unwrap_err();
    assert!(matches!(err, FilmError::Backend(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("TANGIBLE_AES_BACKEND=\"openssl\"") && msg.contains("\"aws-lc\""),
        "{msg}"
    );
    assert!(film::backend_choice().is_err());
    // A thread override still works (tests and benches name their backend)...
    let mut sealed = Vec::new();
    film::with_backend(AesBackend::Ring, || {
        film::encrypt(&key, &header, &b"abc"[..], &mut sealed)
    })
    .unwrap();
    // ... and without it every decoder refuses with the same error.
    let errors = [
        film::decrypt(&key, Cursor::new(&sealed), io::sink()).unwrap_err(),
        film::decrypt_file(&key, &temp_file(&sealed), io::sink()).unwrap_err(),
        SeekableFilm::open(&key, Cursor::new(&sealed)).unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, FilmError::Backend(_)), "{err}");
        assert_eq!(err.to_string(), msg);
    }
}

#[test]
fn a_bad_backend_setting_fails_every_film_operation_clearly() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "film::backends::child_with_a_bad_backend_setting",
            "--ignored",
            "--test-threads=1",
        ])
        .env(film::BACKEND_ENV, "openssl")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
