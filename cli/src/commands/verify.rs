//! `verify`: checking a downloaded licence offline (its certificate, the encrypted file's hash
//! and header, and with `--decrypt` the master's hash); and what `verify --decrypt`, `export`
//! and `play` share to open a film ([`unlock_film`], [`decrypt_into`]).

use std::fs::File;
#[cfg(not(unix))]
use std::io::BufReader;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tangible_content::ContentHash;
use tangible_crypto::certificate::SignedCertificate;
#[cfg(not(unix))]
use tangible_crypto::film::FilmReader;
#[cfg(unix)]
use tangible_crypto::film::MappedFilm;
use tangible_crypto::film::{FilmKey, HEADER_LEN, Header};

use super::Ctx;
use super::trust::check_certificate;
use crate::chain::parse_id;
use crate::library::Entry;
use crate::output;

/// BLAKE3 of a file, streamed.
pub(super) fn hash_file(path: &Path) -> anyhow::Result<ContentHash> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

fn read_header(path: &Path) -> anyhow::Result<Header> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut b = [0u8; HEADER_LEN];
    f.read_exact(&mut b).context("reading the film header")?;
    Header::parse(&b).context("parsing the film header")
}

pub(super) fn verify(ctx: &mut Ctx, licence: &str, decrypt: bool) -> anyhow::Result<()> {
    let id = parse_id(licence, "licence")?;
    let entry = ctx.library().require(id)?;
    let mut checks: Vec<(&str, Result<String, String>)> = Vec::new();
    let cert = check_certificate(ctx, &entry);
    checks.push((
        "certificate",
        cert.as_ref()
            .map(|c| {
                format!(
                    "signed by the platform, owner {}, valid until {}",
                    c.certificate.owner,
                    chrono::DateTime::from_timestamp(c.certificate.validUntil as i64, 0)
                        .map(|d| d.to_rfc3339())
                        .unwrap_or_default()
                )
            })
            .map_err(|e| format!("{e:#}")),
    ));
    let key = entry.key().ok().flatten();
    checks.push((
        "key",
        match &key {
            Some(k) if k.context.licence_id == id => Ok("wrapped to this wallet".into()),
            Some(_) => Err("the stored key is bound to another licence".into()),
            None => Err(format!("no key: run `tangible download {id}` online")),
        },
    ));
    let path = entry.film_path();
    let file_check = (|| -> anyhow::Result<String> {
        if !path.is_file() {
            bail!("no film file: run `tangible download {id}` online");
        }
        let info = entry
            .licence
            .content
            .as_ref()
            .context("the library does not record the film's hash")?;
        let size = std::fs::metadata(&path)?.len();
        anyhow::ensure!(size == info.size, "size {size} instead of {}", info.size);
        let header = read_header(&path)?;
        anyhow::ensure!(
            header.edition.film_id == entry.licence.film_id
                && header.edition.quality == entry.licence.quality,
            "the file is edition {} instead of film {} quality {}",
            header.edition,
            entry.licence.film_id,
            entry.licence.quality
        );
        anyhow::ensure!(
            header.encrypted_len() == size,
            "the header announces {} bytes, the file has {size}",
            header.encrypted_len()
        );
        let hash = hash_file(&path)?;
        anyhow::ensure!(
            hash.to_hex() == info.hash,
            "BLAKE3 {hash} differs from the published {}",
            info.hash
        );
        Ok(format!("{size} bytes, BLAKE3 {hash} as published"))
    })();
    checks.push(("file", file_check.map_err(|e| format!("{e:#}"))));
    if decrypt {
        let master = match &cert {
            Ok(c) => decrypt_into(ctx, &entry, &mut std::io::sink(), true).and_then(|r| {
                let (n, digest) = r.context("decryption interrupted")?;
                check_master_hash(&digest, c)?;
                Ok(format!(
                    "every segment authenticates; {n} bytes with SHA-256 {} as registered on chain",
                    c.certificate.masterHash
                ))
            }),
            Err(_) => Err(anyhow::anyhow!("needs a valid certificate")),
        };
        checks.push(("master", master.map_err(|e| format!("{e:#}"))));
    }
    let ok = checks.iter().all(|(_, r)| r.is_ok());
    if ctx.json {
        let v: serde_json::Map<String, Value> = checks
            .iter()
            .map(|(k, r)| {
                (
                    (*k).to_owned(),
                    match r {
                        Ok(m) => json!({"ok": true, "detail": m}),
                        Err(m) => json!({"ok": false, "detail": m}),
                    },
                )
            })
            .collect();
        output::json(&json!({ "licence_id": id.to_string(), "ok": ok, "checks": v }));
    } else {
        for (k, r) in &checks {
            match r {
                Ok(m) => println!("ok    {k}: {m}"),
                Err(m) => println!("FAIL  {k}: {m}"),
            }
        }
    }
    if !ok {
        bail!("licence {id} does not verify");
    }
    Ok(())
}

/// Unwraps the licence's film key with the wallet and opens its film file, checking both
/// belong to the licence.
pub(super) fn unlock_film(ctx: &mut Ctx, entry: &Entry) -> anyhow::Result<(FilmKey, File)> {
    let id = &entry.licence.licence_id;
    let stored = entry
        .key()?
        .with_context(|| format!("no key for licence {id}: run `tangible download {id}` online"))?;
    anyhow::ensure!(
        stored.context.licence_id.to_string() == *id,
        "the stored key is bound to another licence"
    );
    let path = entry.film_path();
    if !path.is_file() {
        bail!("the film of licence {id} is not downloaded: run `tangible download {id}`");
    }
    let key = ctx
        .wallet()?
        .unwrap_key(&stored.wrapped_key, &stored.context)
        .context("unwrapping the film key with the wallet")?;
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let header = read_header(&path)?;
    anyhow::ensure!(
        header.edition.film_id == entry.licence.film_id
            && header.edition.quality == entry.licence.quality,
        "the file is edition {} which is not this licence's edition",
        header.edition
    );
    Ok((key, file))
}

/// Unwraps the key with the wallet and decrypts the licence's film segment by segment into
/// `out`, hashing the plaintext. Returns the bytes written and the SHA-256, or `None` when the
/// reader of `out` went away (a player closing the pipe).
pub(super) fn decrypt_into(
    ctx: &mut Ctx,
    entry: &Entry,
    out: &mut dyn Write,
    show_progress: bool,
) -> anyhow::Result<Option<(u64, [u8; 32])>> {
    let (key, file) = unlock_film(ctx, entry)?;
    // Mapped: AES-GCM reads the ciphertext straight from the page cache (no read() copy).
    #[cfg(unix)]
    let mut reader = MappedFilm::open(&key, &file).context("opening the film")?;
    #[cfg(not(unix))]
    let mut reader = FilmReader::new_seekable(&key, BufReader::with_capacity(1 << 20, file))
        .context("opening the film")?;
    let h = reader.header();
    let bar = output::bytes_bar(h.plaintext_len, "decrypting");
    if !show_progress || ctx.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut written = 0u64;
    let mut sha = Sha256::new();
    while let Some(segment) = reader.next_segment().context("decrypting the film")? {
        sha.update(segment);
        match out.write_all(segment) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(None),
            Err(e) => return Err(e).context("writing the decrypted film"),
        }
        written += segment.len() as u64;
        bar.set_position(written);
    }
    match out.flush() {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(None),
        Err(e) => return Err(e).context("writing the decrypted film"),
    }
    bar.finish_and_clear();
    Ok(Some((written, sha.finalize().into())))
}

pub(super) fn check_master_hash(digest: &[u8; 32], cert: &SignedCertificate) -> anyhow::Result<()> {
    anyhow::ensure!(
        *digest == cert.certificate.masterHash.0,
        "the decrypted film's SHA-256 0x{} differs from the master hash {} registered on chain",
        hex::encode(digest),
        cert.certificate.masterHash
    );
    Ok(())
}
