//! `studio register | film | upload | statement`: the studio side, against the API's studio
//! endpoints (signed in as the studio's admin wallet).

use anyhow::Context;
use serde::Serialize;
use tangible_api_types::catalogue::{FilmView, Statement};
use tangible_api_types::error::codes;
use tangible_api_types::studios::{
    FilmCreated, MasterPublished, NewEdition, NewFilm, NewStudio, ResaleFloor, ResaleFloorRequest,
    StudioApplication, StudioApplications, StudioCreated,
};

use super::Ctx;
use crate::cli::StudioCommand;
use crate::output;

pub(super) async fn run(ctx: &mut Ctx, cmd: StudioCommand) -> anyhow::Result<()> {
    match cmd {
        StudioCommand::Register { name, royalty } => {
            let royalty = match royalty {
                Some(a) => a,
                None => ctx.address()?,
            };
            let api = ctx.authed_api().await?;
            let registered: Registered = api
                .post(
                    "/v1/studios",
                    &NewStudio {
                        name,
                        royalty_address: royalty.to_string(),
                        commission_bps: None,
                        admin_address: None,
                    },
                )
                .await
                .context("registering the studio")?;
            match registered {
                Registered::Studio(created) => show(ctx, &created, "Studio registered"),
                Registered::Application(app) => {
                    show(ctx, &app, "Studio application sent");
                    if !ctx.json {
                        println!(
                            "A platform admin must approve application {} before the studio exists; `tangible studio applications` shows where it stands.",
                            app.application_id
                        );
                    }
                }
            }
        }
        StudioCommand::Applications => {
            let api = ctx.authed_api().await?;
            let list: StudioApplications = api
                .get("/v1/studios/applications", &[])
                .await
                .context("listing the studio applications")?;
            show_applications(ctx, &list.applications);
        }
        StudioCommand::Film {
            studio,
            title,
            year,
            editions,
        } => {
            let api = ctx.authed_api().await?;
            let editions = editions
                .iter()
                .map(|(q, p)| NewEdition {
                    quality: q.as_str().to_owned(),
                    price_cents: p.get(),
                })
                .collect();
            let created: FilmCreated = api
                .post(
                    &format!("/v1/studios/{studio}/films"),
                    &NewFilm {
                        title,
                        year,
                        editions,
                    },
                )
                .await
                .context("registering the film")?;
            show(ctx, &created, "Film registered");
        }
        StudioCommand::Upload {
            film,
            quality,
            price,
            file,
        } => {
            // A missing or unreadable file fails before signing in (which may ask a password).
            std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let api = ctx.authed_api().await?;
            let published = upload(ctx, &api, film, quality, price, &file).await?;
            // Return once buyers can see it: the catalogue is the indexer's mirror of the
            // chain, a moment behind the transaction.
            let listed = wait_listed(&api, film, quality, &published.master_hash).await;
            if !listed {
                eprintln!(
                    "warning: the {quality} edition of film {film} is on chain but not yet in the \
                     catalogue (the indexer is behind); buyers will see it shortly"
                );
            }
            let mut v = serde_json::to_value(&published)?;
            v["listed"] = listed.into();
            show(ctx, &v, "Master uploaded");
        }
        StudioCommand::ResaleFloor {
            film,
            quality,
            floor,
        } => {
            let api = ctx.authed_api().await?;
            let set: ResaleFloor = api
                .put(
                    &format!("/v1/editions/{film}-{quality}/resale-floor"),
                    &ResaleFloorRequest {
                        floor_cents: floor.get(),
                    },
                )
                .await
                .context("setting the resale floor")?;
            show(ctx, &set, "Resale floor set");
        }
        StudioCommand::Withdraw { studio } => super::credit::studio_withdraw(ctx, studio).await?,
        StudioCommand::Statement {
            studio,
            from,
            to,
            csv,
        } => {
            let api = ctx.api()?;
            let mut q = Vec::new();
            if let Some(f) = from {
                q.push(("from", f));
            }
            if let Some(t) = to {
                q.push(("to", t));
            }
            if csv {
                q.push(("format", "csv".to_owned()));
                let resp = api
                    .http()
                    .get(api.url(&format!("/v1/studios/{studio}/statement")))
                    .query(&q)
                    .send()
                    .await
                    .context("fetching the statement")?;
                let status = resp.status();
                let text = resp.text().await?;
                anyhow::ensure!(status.is_success(), "statement: {status}: {text}");
                print!("{text}");
                return Ok(());
            }
            let st: Statement = api
                .get(&format!("/v1/studios/{studio}/statement"), &q)
                .await
                .context("fetching the statement")?;
            if ctx.json {
                output::json(&st);
            } else {
                println!("Studio {studio}: {} sales", st.sales);
                println!("  gross     {} €", output::euros(st.gross_cents));
                println!("  studio    {} €", output::euros(st.studio_cents));
                println!("  platform  {} €", output::euros(st.platform_cents));
                println!("  sellers   {} €", output::euros(st.seller_cents));
            }
        }
    }
    Ok(())
}

/// Prints an answer of the API (as JSON with `--json`, else pretty-printed after `what`).
fn show<T: Serialize>(ctx: &Ctx, v: &T, what: &str) {
    if ctx.json {
        output::json(v);
    } else {
        println!("{what}:");
        println!(
            "{}",
            serde_json::to_string_pretty(v).unwrap_or_else(|e| e.to_string())
        );
    }
}

/// Waits (up to 60 s) until the catalogue lists `film`'s `quality` edition with `master_hash`.
async fn wait_listed(
    api: &crate::api::Api,
    film: u64,
    quality: tangible_domain::Quality,
    master_hash: &str,
) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(f) = api.get::<FilmView>(&format!("/v1/films/{film}"), &[]).await
            && f.editions
                .iter()
                .any(|e| e.quality == quality.as_str() && e.master_hash == master_hash)
        {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Streams the master file to the API with a progress bar (never held in memory).
async fn upload(
    ctx: &Ctx,
    api: &crate::api::Api,
    film: u64,
    quality: tangible_domain::Quality,
    price: Option<tangible_domain::Cents>,
    file: &std::path::Path,
) -> anyhow::Result<MasterPublished> {
    use futures::StreamExt;
    let f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let size = f.metadata().await?.len();
    let bar = output::bytes_bar(size, "uploading");
    if ctx.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let bar2 = bar.clone();
    let stream = tokio_util::io::ReaderStream::with_capacity(f, 1 << 20).inspect(move |chunk| {
        if let Ok(c) = chunk {
            bar2.inc(c.len() as u64);
        }
    });
    let path = format!("/v1/editions/{film}-{}/master", quality.as_str());
    let mut req = api.authed_request(reqwest::Method::PUT, &path);
    if let Some(p) = price {
        req = req.query(&[("price_cents", p.get().to_string())]);
    }
    let what = format!("uploading the {quality} master of film {film}");
    let resp = req
        .header(reqwest::header::CONTENT_LENGTH, size)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(reqwest::Body::wrap_stream(stream))
        .timeout(std::time::Duration::from_secs(3600))
        .send()
        .await
        .with_context(|| what.clone())?;
    bar.finish_and_clear();
    let answer = crate::api::decode::<MasterPublished>(&reqwest::Method::PUT, &path, resp).await;
    match answer {
        Ok(v) => Ok(v),
        // The API names its query parameter; the client's flag is --price.
        Err(e)
            if e.code() == Some(codes::INVALID_FIELD) && e.to_string().contains("price_cents") =>
        {
            Err(anyhow::Error::new(e).context(format!(
                "{what}: the film was registered without a {quality} edition: give its price \
                 with --price EUROS (e.g. --price 9.00)"
            )))
        }
        Err(e) => Err(anyhow::Error::new(e).context(what)),
    }
}

/// What `POST /v1/studios` answers: the studio (201, a platform admin) or an application (202).
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Registered {
    Studio(StudioCreated),
    Application(StudioApplication),
}

/// Prints studio applications, one line each (or JSON).
pub(super) fn show_applications(ctx: &Ctx, apps: &[StudioApplication]) {
    if ctx.json {
        output::json(&apps);
        return;
    }
    if apps.is_empty() {
        println!("No studio application.");
        return;
    }
    for a in apps {
        let outcome = match (a.studio_id, &a.reason) {
            (Some(id), _) => format!("studio {id}"),
            (None, Some(r)) => format!("\"{r}\""),
            (None, None) => String::new(),
        };
        println!(
            "application {:>5}  {:<11} {:<30} admin {}  applied {}  {}",
            a.application_id,
            a.state.as_str(),
            a.name,
            a.admin_address,
            a.applied_at.format("%Y-%m-%d %H:%M"),
            outcome
        );
    }
}
