//! `config`, `films`, `library`, `offers`: reading the catalogue and the local library.

use alloy::primitives::U256;
use serde_json::json;
use tangible_api_types::catalogue::{
    FilmQuery, FilmView, LicenceQuery, LicenceView, OfferQuery, OfferView, Page,
};

use super::Ctx;
use crate::output;

pub(super) async fn config(ctx: &mut Ctx, save: bool) -> anyhow::Result<()> {
    if save {
        let file = crate::config::ConfigFile::load(&ctx.home)?.merged(&ctx.overrides);
        file.save(&ctx.home)?;
        ctx.say(format!("Saved {}", ctx.home.config_file().display()));
    }
    // What the API publishes (chain, contracts, signer), if it answers.
    let platform = match ctx.platform().await {
        Ok(p) => Ok(p.cloned()),
        Err(e) => Err(format!("{e:#}")),
    };
    let pinned = std::fs::read_to_string(ctx.home.trust_file())
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| v["attestation_address"].clone());
    if ctx.json {
        let platform = match &platform {
            Ok(p) => json!(p),
            Err(e) => json!({ "error": e }),
        };
        output::json(&json!({
            "home": ctx.home.root(),
            "settings": ctx.settings,
            "platform": platform,
            "pinned_signer": pinned,
        }));
    } else {
        let s = &ctx.settings;
        println!("home:        {}", ctx.home.root().display());
        println!("api:         {}", s.api_url);
        println!("rpc:         {}", s.rpc_url);
        println!("stripe:      {}", s.stripe_url);
        let (deployment, signer) = match &platform {
            Ok(Some(p)) => (
                format!(
                    "chain {}, market {} (from the API)",
                    p.chain_id, p.deployment.contracts.market
                ),
                p.attestation_address
                    .as_deref()
                    .map(|a| format!("{a} (from the API)"))
                    .unwrap_or_else(|| "(the API issues no certificates)".into()),
            ),
            Ok(None) => ("(the API publishes none)".into(), "(none)".into()),
            Err(e) => (format!("(API unreachable: {e})"), "(none)".into()),
        };
        let deployment = s
            .deployment
            .as_ref()
            .map(|p| format!("{} (--deployment)", p.display()))
            .unwrap_or(deployment);
        let signer = s
            .attestation_address
            .map(|a| format!("{a} (--attestation-address)"))
            .unwrap_or(signer);
        println!("deployment:  {deployment}");
        println!("signer:      {signer}");
        if let Some(p) = pinned {
            println!(
                "pinned:      {} (trust.json)",
                p.as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn print_film(f: &FilmView) {
    println!(
        "#{} {} ({}) — {}",
        f.film_id, f.title, f.year, f.studio_name
    );
    for e in &f.editions {
        println!(
            "    {:<3} {:>8} €{}",
            e.quality,
            output::euros(e.price_cents),
            if !e.active {
                "  (withdrawn)"
            } else if !e.served {
                "  (not available: its film is not served)"
            } else {
                ""
            }
        );
    }
}

/// What `tangible films` narrows the catalogue to (`GET /v1/films`).
pub(super) struct FilmFilters {
    /// Title contains.
    pub(super) search: Option<String>,
    /// Studio.
    pub(super) studio: Option<i64>,
    /// Year.
    pub(super) year: Option<i32>,
    /// An edition of this quality on sale.
    pub(super) quality: Option<tangible_domain::Quality>,
    /// An edition on sale at this price or less.
    pub(super) max_price: Option<tangible_domain::Cents>,
}

pub(super) async fn films(
    ctx: &Ctx,
    id: Option<u64>,
    filters: FilmFilters,
    limit: i64,
) -> anyhow::Result<()> {
    let api = ctx.api()?;
    if let Some(id) = id {
        let film: FilmView = api.get(&format!("/v1/films/{id}"), &[]).await?;
        if ctx.json {
            output::json(&film);
        } else {
            print_film(&film);
        }
        return Ok(());
    }
    let query = FilmQuery {
        q: filters.search,
        studio_id: filters.studio,
        year: filters.year,
        quality: filters.quality.map(|q| q.as_str().to_owned()),
        max_price: filters
            .max_price
            .map(|c| i64::try_from(c.get()).unwrap_or(i64::MAX)),
        limit: Some(limit.clamp(1, 100)),
        cursor: None,
    };
    let page: Page<FilmView> = api.get_with("/v1/films", &query).await?;
    if ctx.json {
        output::json(&page.items);
    } else if page.items.is_empty() {
        println!("No film found.");
    } else {
        for f in &page.items {
            print_film(f);
        }
    }
    Ok(())
}

pub(super) async fn library(ctx: &Ctx) -> anyhow::Result<()> {
    let lib = ctx.library();
    let local = lib.list()?;
    let address = ctx.address()?;
    let now = crate::commands::trust::now();
    // Online part: what the API's mirror says the wallet owns. Offline, show local only.
    let remote: Option<Vec<LicenceView>> = match ctx
        .api()?
        .get_with::<Page<LicenceView>, _>(
            "/v1/licences",
            &LicenceQuery {
                owner: address.to_string(),
                include_revoked: None,
                limit: Some(100),
                cursor: None,
            },
        )
        .await
    {
        Ok(p) => Some(p.items),
        Err(e) => {
            if !ctx.json {
                eprintln!("(offline: {e}; showing the local library only)");
            }
            None
        }
    };
    let mut ids: Vec<U256> = local
        .iter()
        .filter_map(|e| e.licence.licence_id.parse().ok())
        .collect();
    for r in remote.iter().flatten() {
        if let Ok(id) = r.licence_id.parse::<U256>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids.sort();
    let mut rows = Vec::new();
    for id in ids {
        let entry = local
            .iter()
            .find(|e| e.licence.licence_id == id.to_string());
        let r = remote
            .iter()
            .flatten()
            .find(|r| r.licence_id == id.to_string());
        let (film_id, quality) = match (entry, r) {
            (Some(e), _) => (
                e.licence.film_id as i64,
                tangible_domain::Quality::from_code(e.licence.quality)
                    .map(|q| q.as_str().to_owned())
                    .unwrap_or_else(|_| e.licence.quality.to_string()),
            ),
            (None, Some(r)) => (r.film_id, r.quality.clone()),
            (None, None) => continue,
        };
        let cert = entry.and_then(|e| e.certificate().ok().flatten());
        let valid_until = cert.as_ref().map(|c| c.certificate.validUntil);
        let cert_state = match valid_until {
            None => "none".to_owned(),
            Some(v) if v < now => "expired".to_owned(),
            Some(_) => "valid".to_owned(),
        };
        let file = match entry {
            Some(e) if e.has_film() => "downloaded",
            Some(_) | None => "not downloaded",
        };
        rows.push(json!({
            "licence_id": id.to_string(),
            "film_id": film_id,
            "quality": quality,
            "owned": r.map(|r| !r.revoked),
            "revoked": r.map(|r| r.revoked),
            "local_file": entry.is_some_and(|e| e.has_film()),
            "certificate": cert_state,
            "certificate_valid_until": valid_until,
        }));
        if !ctx.json {
            let until = valid_until
                .and_then(|v| chrono::DateTime::from_timestamp(v as i64, 0))
                .map(|d| format!(" until {}", d.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            println!(
                "licence {id}\n    film #{film_id} {quality} — {file}, certificate {cert_state}{until}{}",
                if r.is_none() && remote.is_some() {
                    " (not owned according to the API: run `tangible sync`)"
                } else {
                    ""
                }
            );
        }
    }
    if ctx.json {
        output::json(&rows);
    } else if rows.is_empty() {
        println!("Your library is empty.");
    }
    Ok(())
}

pub(super) async fn offers(
    ctx: &Ctx,
    film: Option<i64>,
    status: &str,
    mine: bool,
) -> anyhow::Result<()> {
    let query = OfferQuery {
        film_id: film,
        status: Some(status.to_owned()),
        min_price: None,
        max_price: None,
        limit: Some(100),
        cursor: None,
    };
    let page: Page<OfferView> = ctx.api()?.get_with("/v1/offers", &query).await?;
    let me = if mine { Some(ctx.address()?) } else { None };
    let items: Vec<&OfferView> = page
        .items
        .iter()
        .filter(|o| {
            me.is_none_or(|a| {
                o.seller_address
                    .parse::<alloy::primitives::Address>()
                    .is_ok_and(|s| s == a)
            })
        })
        .collect();
    if ctx.json {
        output::json(&items);
    } else if items.is_empty() {
        println!("No offer.");
    } else {
        for o in items {
            println!(
                "offer {} — film #{} {} at {} € by {} [{}] (licence {})",
                o.offer_id,
                o.film_id,
                o.quality,
                output::euros(o.price_cents),
                o.seller_address,
                o.status,
                o.licence_id
            );
        }
    }
    Ok(())
}

/// `balance`: the account's withdrawable credit, pending shares and latest money moves
/// (`GET /v1/accounts/{address}`).
pub(super) async fn balance(
    ctx: &Ctx,
    account: Option<alloy::primitives::Address>,
) -> anyhow::Result<()> {
    let address = match account {
        Some(a) => a,
        None => ctx.address()?,
    };
    let view: tangible_api_types::accounts::AccountView = ctx
        .api()?
        .get(&format!("/v1/accounts/{address}"), &[])
        .await?;
    if ctx.json {
        output::json(&view);
        return Ok(());
    }
    let per_cent: alloy::primitives::U256 = view.units_per_cent.parse()?;
    let cents = |units: &str| -> anyhow::Result<String> {
        let u: alloy::primitives::U256 = units.parse()?;
        let c = u / per_cent.max(alloy::primitives::U256::from(1));
        Ok(output::euros(i64::try_from(c).unwrap_or(i64::MAX)))
    };
    println!("account    {}", view.address);
    println!("available  {} €", cents(&view.credit_units)?);
    println!("pending    {} €", output::euros(view.pending_cents));
    for p in &view.pending {
        let when = chrono::DateTime::from_timestamp(p.clear_at, 0)
            .map_or_else(|| p.clear_at.to_string(), |t| t.to_rfc3339());
        println!(
            "  {} € as {} of the sale of licence {}, clears at {when} (chain time){}",
            output::euros(p.cents),
            p.role,
            p.licence_id,
            if p.tainted {
                ", the licence sold had not cleared"
            } else {
                ""
            }
        );
    }
    if !view.history.is_empty() {
        println!("latest moves:");
    }
    for m in &view.history {
        println!(
            "  block {} {}{} {} €{}  tx {}",
            m.block_number,
            m.kind,
            if m.pending { " (pending)" } else { "" },
            cents(&m.amount_units)?,
            m.licence_id
                .as_ref()
                .map(|l| format!(" licence {l}"))
                .or_else(|| m.to_address.as_ref().map(|t| format!(" to {t}")))
                .unwrap_or_default(),
            m.tx_hash
        );
    }
    Ok(())
}
