//! Demo masters: deterministic bytes standing in for a film, generated into the data directory
//! and uploaded through the API.

use std::io::Write;
use std::path::Path;

use alloy::primitives::B256;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tangible_domain::Quality;

/// Whether an OpenAPI path is the master upload (`/v1/editions/{id}/master`, see
/// `api/README.md`).
pub fn is_master_route(path: &str) -> bool {
    path.starts_with("/v1/editions/{") && path.ends_with("}/master")
}

/// Writes `len` deterministic bytes for `(film, quality)` to `path` (the same bytes on every
/// run, so a test can regenerate them and a played film can be compared byte for byte).
pub fn generate_master(path: &Path, film_id: u64, quality: Quality, len: usize) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    // splitmix64: fast, seeded, and good enough to make every block of the file different.
    let mut state = film_id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(quality.code()) + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len());
        for chunk in buf[..n].chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        out.write_all(&buf[..n])?;
        left -= n;
    }
    out.flush()?;
    Ok(())
}

/// Signs in to the API with a wallet (EIP-4361 message from `/v1/auth/nonce`, EIP-191
/// signature) and returns the bearer token.
pub async fn login(
    http: &reqwest::Client,
    api_url: &str,
    wallet: &PrivateKeySigner,
) -> Result<String> {
    let nonce: Value = http
        .post(format!("{api_url}/v1/auth/nonce"))
        .json(&json!({ "address": wallet.address().to_string() }))
        .send()
        .await?
        .error_for_status()
        .context("POST /v1/auth/nonce")?
        .json()
        .await?;
    let Some(message) = nonce["message"].as_str() else {
        bail!("/v1/auth/nonce returned no message: {nonce}");
    };
    let signature = wallet.sign_message_sync(message.as_bytes())?;
    let login: Value = http
        .post(format!("{api_url}/v1/auth/login"))
        .json(&json!({
            "message": message,
            "signature": format!("0x{}", hex::encode(signature.as_bytes())),
        }))
        .send()
        .await?
        .error_for_status()
        .context("POST /v1/auth/login")?
        .json()
        .await?;
    login["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("/v1/auth/login returned no token: {login}"))
}

/// What the API answered to an upload.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// SHA-256 of the plaintext master, registered on chain.
    pub master_hash: B256,
    /// BLAKE3 of the encrypted file (its P2P and HTTP address).
    pub blob_hash: String,
}

/// Uploads a master file as the studio admin (`PUT /v1/editions/{film}-{quality}/master`).
pub async fn upload_master(
    http: &reqwest::Client,
    api_url: &str,
    token: &str,
    film_id: u64,
    quality: Quality,
    path: &Path,
) -> Result<Uploaded> {
    // Demo masters are a few MiB: read whole, so the request carries its Content-Length.
    let body = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let edition = format!("{film_id}-{quality}");
    let r = http
        .put(format!("{api_url}/v1/editions/{edition}/master"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .with_context(|| format!("uploading the {edition} master"))?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("uploading the {edition} master: {status} {v}");
    }
    let master_hash = v["master_hash"]
        .as_str()
        .and_then(|h| h.parse::<B256>().ok())
        .with_context(|| format!("upload answer without a master hash: {v}"))?;
    let blob_hash = v["blob_hash"].as_str().unwrap_or_default().to_owned();
    Ok(Uploaded {
        master_hash,
        blob_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_deterministic_and_distinct_per_edition() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        generate_master(&p("a"), 1, Quality::Hd, 100_003).unwrap();
        generate_master(&p("b"), 1, Quality::Hd, 100_003).unwrap();
        generate_master(&p("c"), 1, Quality::Uhd4k, 100_003).unwrap();
        let (a, b, c) = (
            std::fs::read(p("a")).unwrap(),
            std::fs::read(p("b")).unwrap(),
            std::fs::read(p("c")).unwrap(),
        );
        assert_eq!(a.len(), 100_003);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Not a constant fill: the first and second 64 KiB blocks differ.
        assert_ne!(a[..65536 / 2], a[65536..65536 + 65536 / 2]);
    }
}
