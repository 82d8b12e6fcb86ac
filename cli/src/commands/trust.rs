//! Which certificates the client trusts, and when: the platform's certificate signer (pinned
//! in `<home>/trust.json` on first use, a change refused unless accepted), a certificate
//! fetched online checked before it is stored, and the offline check `verify` and `play` make
//! (signature, owner, lease) against the client's clock.

use alloy::primitives::Address;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use tangible_crypto::certificate::{CertificateError, Expectations, SignedCertificate};

use super::Ctx;
use crate::library::Entry;

/// Test-only clock override: Unix seconds used as "now" for certificate checks. Lets the
/// end-to-end tests play "after the lease" without waiting 30 days. Compiled in only with the
/// `test-clock` feature (the e2e tests build the client with it): a shipped client must not let
/// its user move the offline lease.
#[cfg(feature = "test-clock")]
pub(crate) const TEST_NOW_ENV: &str = "TANGIBLE_TEST_NOW";

/// Current time for certificate checks (Unix seconds).
pub(crate) fn now() -> u64 {
    #[cfg(feature = "test-clock")]
    if let Some(t) = std::env::var(TEST_NOW_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return t;
    }
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default()
}

/// The certificate signer pinned in `<home>/trust.json`, if any.
fn pinned_signer(ctx: &Ctx) -> anyhow::Result<Option<Address>> {
    let path = ctx.home.trust_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let v: Value = serde_json::from_str(&text).context("reading trust.json")?;
    v["attestation_address"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .map(Some)
        .context("trust.json holds no attestation address")
}

fn pin_signer(ctx: &Ctx, signer: Address, from: &str) -> anyhow::Result<()> {
    crate::home::write_private(
        &ctx.home.trust_file(),
        serde_json::to_string_pretty(&json!({
            "attestation_address": signer,
            "learned_from": from,
            "api_url": ctx.settings.api_url,
        }))?
        .as_bytes(),
    )?;
    if !ctx.json {
        eprintln!("Pinned the platform's certificate signer {signer} ({from}).");
    }
    Ok(())
}

/// The signer certificates must be signed by, offline: configured, else pinned.
pub(super) fn trusted_signer(ctx: &Ctx) -> anyhow::Result<Address> {
    if let Some(a) = ctx.settings.attestation_address {
        return Ok(a);
    }
    pinned_signer(ctx)?.context(
        "no certificate signer known yet: run `tangible download` or `tangible sync` online \
         once (or pass --attestation-address)",
    )
}

/// The signer certificates must be signed by, online. `--attestation-address` wins. Else the
/// signer the API publishes at `/v1/config` is pinned on first use; a later change is refused
/// unless `--accept-signer-change`. An API without `/v1/config`: the signer of the first
/// certificate (`first_seen`) is pinned.
pub(super) async fn online_signer(ctx: &mut Ctx, first_seen: Address) -> anyhow::Result<Address> {
    if let Some(a) = ctx.settings.attestation_address {
        return Ok(a);
    }
    let pinned = pinned_signer(ctx)?;
    let announced = ctx
        .platform()
        .await?
        .and_then(|p| p.attestation_address.clone());
    let announced = announced
        .map(|a| {
            a.parse::<Address>()
                .with_context(|| format!("the API announces a signer {a:?} that is not an address"))
        })
        .transpose()?;
    match (pinned, announced) {
        (Some(p), Some(a)) if p == a => Ok(p),
        (Some(p), Some(a)) if ctx.accept_signer_change => {
            pin_signer(
                ctx,
                a,
                "/v1/config, change accepted with --accept-signer-change",
            )?;
            eprintln!("warning: the certificate signer changed from {p} to {a}");
            Ok(a)
        }
        (Some(p), Some(a)) => bail!(
            "the platform's certificate signer CHANGED: pinned {p}, but the API at {} now \
             announces {a}. Certificates signed by the new key are refused. If the platform \
             announced a key rotation, accept it with `tangible --accept-signer-change sync`; \
             otherwise the API may be misconfigured or not the platform's.",
            ctx.settings.api_url
        ),
        (Some(p), None) => Ok(p),
        (None, Some(a)) => {
            pin_signer(
                ctx,
                a,
                "published by the API at /v1/config, trusted on first use",
            )?;
            Ok(a)
        }
        (None, None) => {
            pin_signer(
                ctx,
                first_seen,
                "signer of the first certificate, trusted on first use",
            )?;
            Ok(first_seen)
        }
    }
}

/// Checks a certificate just fetched online against `signer` and stores it.
pub(super) fn accept_certificate(
    ctx: &Ctx,
    entry: &Entry,
    cert: &SignedCertificate,
    signer: Address,
) -> anyhow::Result<()> {
    let owner = ctx.address()?;
    cert.verify(&Expectations {
        signer,
        owner,
        now: u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default(),
    })
    .context("the API's certificate does not verify")?;
    let l = &entry.licence;
    let c = &cert.certificate;
    anyhow::ensure!(
        c.licenceId.to_string() == l.licence_id && c.filmId == l.film_id && c.quality == l.quality,
        "the certificate is for another licence"
    );
    entry.save_certificate(cert)
}

/// The certificate check shared by `verify` and `play`, with a user-facing message.
pub(super) fn check_certificate(ctx: &Ctx, entry: &Entry) -> anyhow::Result<SignedCertificate> {
    let id = &entry.licence.licence_id;
    let cert = entry.certificate()?.with_context(|| {
        format!("no certificate for licence {id}: go online and run `tangible sync`")
    })?;
    let signer = trusted_signer(ctx)?;
    let owner = ctx.address()?;
    match cert.verify(&Expectations {
        signer,
        owner,
        now: now(),
    }) {
        Ok(()) => {}
        Err(CertificateError::Expired { valid_until, .. }) => {
            let when = chrono::DateTime::from_timestamp(valid_until as i64, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| valid_until.to_string());
            bail!(
                "the certificate of licence {id} expired on {when}: its offline lease is over. \
                 Go online and run `tangible sync` to renew it"
            );
        }
        Err(e) => return Err(e).context(format!("the certificate of licence {id} is not valid")),
    }
    let c = &cert.certificate;
    anyhow::ensure!(
        c.licenceId.to_string() == *id
            && c.filmId == entry.licence.film_id
            && c.quality == entry.licence.quality,
        "the stored certificate is for another licence"
    );
    Ok(cert)
}
