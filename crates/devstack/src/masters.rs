//! Demo masters through the API: the studio admin's sign-in and the master upload (the masters
//! themselves are real films from [`crate::films`]).

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
