//! The film format pinned to fixed bytes: known-answer vectors (`tests/vectors/film-v1.json`,
//! written by the independent Python implementation `tests/film_crosscheck.py` from FORMAT.md)
//! that the encoder must reproduce byte for byte and every decoder must read, and the Python
//! reader decrypting films written by this crate.

use std::io::{Cursor, Write};

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tangible_crypto::film::{
    self, AesBackend, DEFAULT_SEGMENT_SIZE, EditionId, FilmKey, FilmReader, HEADER_LEN, Header,
    SeekableFilm,
};

use super::ecies_crosscheck::{python, run_script};
use super::film::{decrypt_all_ways, temp_file};

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    key: String,
    nonce_prefix: String,
    film_id: u64,
    quality: u8,
    segment_size: u32,
    plaintext: String,
    film: String,
}

impl Vector {
    fn key(&self) -> FilmKey {
        FilmKey::from_slice(&hex::decode(&self.key).unwrap()).expect("32-byte key")
    }

    fn header(&self) -> Header {
        Header {
            edition: EditionId::new(self.film_id, self.quality),
            segment_size: self.segment_size,
            plaintext_len: self.plaintext().len() as u64,
            nonce_prefix: hex::decode(&self.nonce_prefix)
                .unwrap()
                .try_into()
                .expect("7-byte prefix"),
        }
    }

    fn plaintext(&self) -> Vec<u8> {
        hex::decode(&self.plaintext).unwrap()
    }

    fn film(&self) -> Vec<u8> {
        hex::decode(&self.film).unwrap()
    }
}

fn vectors() -> Vec<Vector> {
    let v: Vectors = serde_json::from_str(include_str!("../vectors/film-v1.json")).unwrap();
    assert_eq!(v.vectors.len(), 3);
    v.vectors
}

#[test]
fn encoder_writes_the_known_answer_bytes() {
    for backend in AesBackend::ALL {
        for v in vectors() {
            let mut out = Vec::new();
            let written = film::with_backend(backend, || {
                film::encrypt(&v.key(), &v.header(), &v.plaintext()[..], &mut out)
            })
            .unwrap_or_else(|e| panic!("{} on {backend}: {e}", v.name));
            assert_eq!(
                hex::encode(&out),
                v.film,
                "{} on {backend}: film bytes differ",
                v.name
            );
            assert_eq!(written, out.len() as u64, "{}", v.name);
        }
    }
}

#[test]
fn every_decoder_reads_the_known_answer_bytes() {
    for backend in AesBackend::ALL {
        film::with_backend(backend, decoders_read_the_known_answer_bytes);
    }
}

fn decoders_read_the_known_answer_bytes() {
    for v in vectors() {
        let (key, file, plain) = (v.key(), v.film(), v.plaintext());
        let header = Header::parse(file[..HEADER_LEN].try_into().unwrap()).unwrap();
        assert_eq!(header, v.header(), "{}", v.name);

        // decrypt, decrypt_stream, decrypt_file and MappedFilm's Read.
        let got = decrypt_all_ways(&key, &file).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(got, plain, "{}", v.name);

        // FilmReader, segment by segment.
        let mut reader = FilmReader::new(&key, &file[..]).unwrap();
        let mut segments = Vec::new();
        while let Some(s) = reader.next_segment().unwrap() {
            segments.push(s.to_vec());
        }
        let seg = v.segment_size as usize;
        let expected: Vec<Vec<u8>> = if plain.is_empty() {
            vec![Vec::new()]
        } else {
            plain.chunks(seg).map(<[u8]>::to_vec).collect()
        };
        assert_eq!(segments, expected, "{}", v.name);

        // Random access, last segment first.
        let mut seekable = SeekableFilm::open(&key, Cursor::new(&file)).unwrap();
        #[cfg(unix)]
        let mut mapped = film::MappedFilm::open(&key, &temp_file(&file)).unwrap();
        for (i, want) in expected.iter().enumerate().rev() {
            assert_eq!(
                seekable.read_segment(i as u64).unwrap(),
                &want[..],
                "{}",
                v.name
            );
            #[cfg(unix)]
            assert_eq!(
                mapped.read_segment(i as u64).unwrap(),
                &want[..],
                "{}",
                v.name
            );
        }
    }
}

fn py() -> std::path::PathBuf {
    python().expect(
        "no Python with the `cryptography` package for the film cross-check: run scripts/bootstrap.sh",
    )
}

/// The committed vectors are re-derived by the Python implementation on every run, so they are
/// neither stale nor copied from this crate's output.
#[test]
fn python_implementation_writes_the_known_answer_bytes() {
    let py = py();
    for v in vectors() {
        let out = run_script(
            &py,
            "film_crosscheck.py",
            json!({
                "op": "encrypt", "key": v.key, "nonce_prefix": v.nonce_prefix,
                "film_id": v.film_id, "quality": v.quality,
                "segment_size": v.segment_size, "plaintext": v.plaintext,
            }),
        );
        assert_eq!(out["film"], v.film, "{}", v.name);
        let out = run_script(
            &py,
            "film_crosscheck.py",
            json!({ "op": "decrypt", "key": v.key, "film": v.film }),
        );
        assert_eq!(out["plaintext"], v.plaintext, "{}: {out}", v.name);
    }
}

/// A film written by this crate with a fresh key and nonce prefix, at the default 1 MiB
/// segment size and several segments, is read by the Python reader; and the other way round.
#[test]
fn python_reader_decrypts_a_film_written_here_and_back() {
    let py = py();
    let len = 2 * DEFAULT_SEGMENT_SIZE as usize + 12_345;
    let plain: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
        .collect();
    let digest = hex::encode(Sha256::digest(&plain));
    let key = FilmKey::generate();
    let header = Header::new(EditionId::new(41, 1), len as u64).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    film::encrypt(&key, &header, &plain[..], &mut file).unwrap();
    file.flush().unwrap();

    let out = run_script(
        &py,
        "film_crosscheck.py",
        json!({
            "op": "decrypt", "key": hex::encode(key.expose_secret()),
            "path": file.path(), "digest_only": true,
        }),
    );
    assert_eq!(out["plaintext_sha256"], digest, "{out}");
    assert_eq!(out["segments"], 3);
    assert_eq!(out["film_id"], 41);
    assert_eq!(out["quality"], 1);
    assert_eq!(out["segment_size"], DEFAULT_SEGMENT_SIZE);
    assert_eq!(out["nonce_prefix"], hex::encode(header.nonce_prefix));

    // The Python reader authenticates: one flipped ciphertext bit in segment 1 is refused there.
    let mut bytes = std::fs::read(file.path()).unwrap();
    bytes[header.segment_offset(1) as usize + 5] ^= 0x04;
    std::fs::write(file.path(), &bytes).unwrap();
    let out = run_script(
        &py,
        "film_crosscheck.py",
        json!({ "op": "decrypt", "key": hex::encode(key.expose_secret()), "path": file.path() }),
    );
    assert_eq!(out["error"], "TamperedSegment{index: 1}", "{out}");

    // Python writes (fresh prefix of its choosing), this crate reads.
    let prefix =
        hex::encode(tangible_crypto::film::FilmKey::generate().expose_secret())[..14].to_string();
    let small = &plain[..DEFAULT_SEGMENT_SIZE as usize + 1];
    let out = run_script(
        &py,
        "film_crosscheck.py",
        json!({
            "op": "encrypt", "key": hex::encode(key.expose_secret()), "nonce_prefix": prefix,
            "film_id": 41, "quality": 1, "segment_size": DEFAULT_SEGMENT_SIZE,
            "plaintext": hex::encode(small),
        }),
    );
    let written = hex::decode(out["film"].as_str().unwrap()).unwrap();
    assert_eq!(decrypt_all_ways(&key, &written).unwrap(), small);
}
