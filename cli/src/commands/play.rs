//! `play` and `export`: watching a licence's film.
//!
//! `play` serves the film decrypted on a loopback-only HTTP address ([`FilmServer`]) and opens
//! the user's video player on it (`--player`, `TANGIBLE_PLAYER`, else the first of mpv, vlc and
//! ffplay on `PATH`); the server stops when the player exits, or on Ctrl-C without one. The
//! plaintext never touches the disk. While the film is served, the whole film is decrypted
//! once in the background and its SHA-256 compared with the master hash registered on chain
//! (remembered in `<licence>/verified.json` for the same file and master, so later plays skip
//! it); a mismatch, like a segment that does not authenticate, stops playback.
//!
//! `export` writes the plaintext to a file, with a warning: it is the only command that does.
//!
//! Both first check the right to watch: with the API when it answers (ownership and revocation
//! on chain, through a fresh certificate, which is stored), else — offline — with the cached
//! certificate and its 30-day lease ([`check_certificate`]).

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alloy::primitives::U256;
use anyhow::Context;
use serde_json::json;
use sha2::{Digest, Sha256};
use tangible_crypto::certificate::SignedCertificate;
use tangible_crypto::film::{FilmKey, MappedFilm};

use super::content::licence_refusal;
use super::trust::{accept_certificate, check_certificate, online_signer};
use super::verify::{check_master_hash, decrypt_into, unlock_film};
use super::{Ctx, seed};
use crate::api::ApiError;
use crate::chain::parse_id;
use crate::cli::SeedArgs;
use crate::film_server::FilmServer;
use crate::library::Entry;
use crate::output;

/// How long the API gets to answer the licence check before the client plays offline.
const ONLINE_CHECK_TIMEOUT: Duration = Duration::from_secs(8);

/// Players tried, in order, when none is named: program and the arguments before the URL.
const KNOWN_PLAYERS: [(&str, &[&str]); 3] = [
    ("mpv", &[]),
    ("vlc", &["--play-and-exit"]),
    ("ffplay", &["-autoexit", "-loglevel", "warning"]),
];

/// What allowed this play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authority {
    /// The API: owned by this wallet, not revoked (a fresh certificate was issued).
    Api,
    /// The cached certificate, the API being unreachable.
    CachedCertificate,
}

impl Authority {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::CachedCertificate => "cached_certificate",
        }
    }
}

/// Why the online check did not give a certificate.
enum Online {
    /// No answer (or a server error): play offline on the cached certificate.
    Unreachable(anyhow::Error),
    /// The API refused: revoked, not owned, unknown.
    Refused(ApiError),
    /// Anything else (a certificate that does not verify, a changed signer): fail.
    Failed(anyhow::Error),
}

/// Whether an error means the API could not be reached (no answer, or a 5xx).
fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<ApiError>()
            .is_some_and(|a| a.status().is_none_or(|s| s >= 500))
            || c.downcast_ref::<reqwest::Error>()
                .is_some_and(|r| r.is_connect() || r.is_timeout())
    })
}

async fn fresh_certificate(ctx: &mut Ctx, id: U256) -> Result<SignedCertificate, Online> {
    let api = ctx.authed_api().await.map_err(|e| {
        if is_unreachable(&e) {
            Online::Unreachable(e)
        } else {
            Online::Failed(e)
        }
    })?;
    match api
        .get::<SignedCertificate>(&format!("/v1/licences/{id}/certificate"), &[])
        .await
    {
        Ok(cert) => Ok(cert),
        Err(e) if matches!(e.status(), Some(403 | 404 | 410)) => Err(Online::Refused(e)),
        Err(e) if e.status().is_none_or(|s| s >= 500) => Err(Online::Unreachable(e.into())),
        Err(e) => Err(Online::Failed(e.into())),
    }
}

/// The right to watch `entry`: the API's word when it answers, else the cached certificate.
async fn authorise(ctx: &mut Ctx, entry: &Entry) -> anyhow::Result<(SignedCertificate, Authority)> {
    let id: U256 = entry.licence.licence_id.parse()?;
    let online = tokio::time::timeout(ONLINE_CHECK_TIMEOUT, fresh_certificate(ctx, id))
        .await
        .unwrap_or_else(|_| {
            Err(Online::Unreachable(anyhow::anyhow!(
                "no answer within {} s",
                ONLINE_CHECK_TIMEOUT.as_secs()
            )))
        });
    match online {
        Ok(cert) => {
            let signer = online_signer(ctx, cert.recover_signer()?).await?;
            accept_certificate(ctx, entry, &cert, signer)?;
            Ok((cert, Authority::Api))
        }
        Err(Online::Refused(e)) => Err(licence_refusal(e, id).context(format!(
            "the API refuses licence {id} to this wallet: it cannot be played \
             (`tangible sync` erases its local copy)"
        ))),
        Err(Online::Failed(e)) => Err(e.context(format!("checking licence {id} with the API"))),
        Err(Online::Unreachable(e)) => {
            tracing::info!(target: "tangible::cli", error = %format!("{e:#}"), "API unreachable: offline play");
            if !ctx.json {
                eprintln!(
                    "The API at {} cannot be reached: the cached certificate decides (offline).",
                    ctx.settings.api_url
                );
            }
            Ok((check_certificate(ctx, entry)?, Authority::CachedCertificate))
        }
    }
}

/// A player command line, the URL to be added last.
#[derive(Debug)]
struct Player {
    program: String,
    args: Vec<String>,
}

impl Player {
    fn describe(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `--player` / `TANGIBLE_PLAYER` if given, else the first known player on `PATH`.
fn choose_player(given: Option<&str>) -> anyhow::Result<Option<Player>> {
    if let Some(cmd) = given.filter(|c| !c.trim().is_empty()) {
        let mut parts = cmd.split_whitespace().map(str::to_owned);
        let program = parts.next().context("--player names no command")?;
        return Ok(Some(Player {
            program,
            args: parts.collect(),
        }));
    }
    Ok(KNOWN_PLAYERS.iter().find_map(|(name, args)| {
        find_on_path(name).map(|p| Player {
            program: p.display().to_string(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        })
    }))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Ctrl-C, or (Unix) SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn player_exit(child: &mut Option<tokio::process::Child>) -> std::io::Result<ExitStatus> {
    match child {
        Some(c) => c.wait().await,
        None => std::future::pending().await,
    }
}

/// What `<licence>/verified.json` records: this master hash was checked on this file.
fn verified_stamp(cert: &SignedCertificate, file: &std::fs::File) -> anyhow::Result<String> {
    let meta = file.metadata()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(json!({
        "master_hash": cert.certificate.masterHash.to_string(),
        "size": meta.len(),
        "modified_ns": modified.to_string(),
    })
    .to_string())
}

/// Decrypts the whole film (no output) and compares its SHA-256 with the master hash; gives
/// up quietly (`Ok`) once `cancel` is set.
fn check_whole_film(
    key: &FilmKey,
    file: &std::fs::File,
    cert: &SignedCertificate,
    cancel: &AtomicBool,
) -> anyhow::Result<()> {
    let mut film = MappedFilm::open(key, file).context("opening the film")?;
    let mut sha = Sha256::new();
    while let Some(plain) = film.next_segment().context("decrypting the film")? {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        sha.update(plain);
    }
    check_master_hash(&sha.finalize().into(), cert)
}

pub(super) async fn play(
    ctx: &mut Ctx,
    licence: &str,
    player: Option<&str>,
    no_player: bool,
    seed_args: &SeedArgs,
) -> anyhow::Result<()> {
    let id = parse_id(licence, "licence")?;
    let entry = ctx.library().require(id)?;
    let (cert, authority) = authorise(ctx, &entry).await?;
    // The library is served to other owners while the film plays (announced when online).
    let store = if seed_args.no_seed {
        None
    } else {
        seed::open_home_store(ctx).await
    };
    let seeder = seed::beside(ctx, store.as_ref(), seed_args, authority == Authority::Api).await;
    let (key, file) = unlock_film(ctx, &entry)?;
    let player = if no_player {
        None
    } else {
        choose_player(player)?
    };
    let mut server = FilmServer::start(key.clone(), file.try_clone()?)
        .await
        .with_context(|| format!("serving the film of licence {id}"))?;
    let url = server.url();

    // The master hash, checked once per file and master, while the film plays.
    let stamp_path = entry.dir.join("verified.json");
    let stamp = verified_stamp(&cert, &file)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let mut master_check =
        (std::fs::read_to_string(&stamp_path).ok().as_deref() != Some(stamp.as_str())).then(|| {
            let (cert, cancel) = (cert.clone(), Arc::clone(&cancel));
            tokio::task::spawn_blocking(move || check_whole_film(&key, &file, &cert, &cancel))
        });

    let quality = tangible_domain::Quality::from_code(entry.licence.quality)
        .map(|q| q.as_str().to_owned())
        .unwrap_or_else(|_| entry.licence.quality.to_string());
    if ctx.json {
        output::json(&json!({
            "licence_id": id.to_string(),
            "url": url,
            "content_type": server.media().mime,
            "bytes": server.len(),
            "player": player.as_ref().map(Player::describe),
            "checked_with": authority.as_str(),
        }));
    } else {
        let checked = match authority {
            Authority::Api => "checked with the API".to_owned(),
            Authority::CachedCertificate => format!(
                "offline, on the certificate valid until {}",
                chrono::DateTime::from_timestamp(cert.certificate.validUntil as i64, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            ),
        };
        println!(
            "Serving licence {id} (film #{} {quality}, {:.1} MB {}; {checked}) at {url} \
             — loopback only, decrypted as it is read, nothing written to disk.",
            entry.licence.film_id,
            server.len() as f64 / 1e6,
            server.media().mime,
        );
        match (&player, no_player) {
            (Some(p), _) => println!("Opening {}; closing it stops the server.", p.describe()),
            (None, true) => println!("Open that address in a video player; Ctrl-C stops."),
            (None, false) => println!(
                "No player found (mpv, vlc or ffplay on PATH; or pass --player CMD): open that \
                 address in a video player; Ctrl-C stops."
            ),
        }
    }
    let mut child = match &player {
        Some(p) => Some(
            tokio::process::Command::new(&p.program)
                .args(&p.args)
                .arg(&url)
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting the player `{}`", p.describe()))?,
        ),
        None => None,
    };

    // Announcements last 10 minutes; a film plays longer.
    let mut renew = tokio::time::interval(seed::RENEW_EVERY);
    renew.reset();
    let outcome: anyhow::Result<()> = loop {
        tokio::select! {
            _ = renew.tick(), if seeder.is_some() => {
                if let Some(s) = &seeder {
                    s.renew().await;
                }
            }
            status = player_exit(&mut child) => {
                match status {
                    Ok(s) if !s.success() => eprintln!("The player exited with {s}."),
                    Ok(_) => {}
                    Err(e) => eprintln!("Waiting for the player failed: {e}"),
                }
                break Ok(());
            }
            () = interrupted() => break Ok(()),
            Some(failure) = server.failures().recv() => {
                break Err(anyhow::anyhow!(
                    "the film of licence {id} is damaged (bytes {}-{}: {}): playback stopped. \
                     Download it again with `tangible download {id}`",
                    failure.range.start(), failure.range.end(), failure.message
                ));
            }
            checked = async { master_check.as_mut().expect("guarded").await }, if master_check.is_some() => {
                master_check = None;
                match checked.context("the master hash check")? {
                    Ok(()) if cancel.load(Ordering::Relaxed) => {}
                    Ok(()) => {
                        if let Err(e) = crate::home::write_private(&stamp_path, stamp.as_bytes()) {
                            tracing::warn!(target: "tangible::cli", error = %format!("{e:#}"), "cannot record the master hash check");
                        }
                    }
                    Err(e) => break Err(e.context(format!(
                        "licence {id}: the film is not the one registered on chain: playback stopped"
                    ))),
                }
            }
        }
    };
    cancel.store(true, Ordering::Relaxed);
    if let Some(c) = &mut child {
        let _ = c.start_kill();
    }
    let (requests, bytes) = server.served();
    server.shutdown().await?;
    if let Some(s) = seeder {
        s.stop().await;
    }
    if let Some(store) = store {
        let _ = store.shutdown().await;
    }
    outcome?;
    if ctx.json {
        output::json(&json!({
            "licence_id": id.to_string(),
            "stopped": true,
            "requests": requests,
            "bytes_served": bytes,
        }));
    } else {
        println!("Stopped serving licence {id}: {bytes} bytes in {requests} requests.");
    }
    Ok(())
}

pub(super) async fn export(ctx: &mut Ctx, licence: &str, output_path: &Path) -> anyhow::Result<()> {
    let id = parse_id(licence, "licence")?;
    let entry = ctx.library().require(id)?;
    let (cert, _) = authorise(ctx, &entry).await?;
    let to_stdout = output_path == Path::new("-");
    let shown = if to_stdout {
        "standard output".to_owned()
    } else {
        output_path.display().to_string()
    };
    eprintln!(
        "warning: exporting licence {id} writes the film's plaintext to {shown}: anyone who gets \
         that copy can watch it without the licence, and it outlives a resale. \
         `tangible play {id}` plays without writing it to disk."
    );
    if to_stdout {
        let mut out = std::io::stdout().lock();
        let Some((_, digest)) = decrypt_into(ctx, &entry, &mut out, false)? else {
            // The reader closed the pipe: stop quietly.
            return Ok(());
        };
        return check_master_hash(&digest, &cert);
    }
    // Written next to the destination, renamed into place once the master hash matches.
    let mut part = output_path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let written = (|| -> anyhow::Result<u64> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&part)
            .with_context(|| format!("creating {}", part.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let (written, digest) =
            decrypt_into(ctx, &entry, &mut out, true)?.context("the output was closed")?;
        drop(out);
        check_master_hash(&digest, &cert)?;
        std::fs::rename(&part, output_path)
            .with_context(|| format!("writing {}", output_path.display()))?;
        Ok(written)
    })();
    let written = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if ctx.json {
        output::json(&json!({
            "licence_id": id.to_string(),
            "output": output_path,
            "bytes": written,
            "plaintext_on_disk": true,
        }));
    } else {
        println!(
            "Exported licence {id}: {written} bytes of plaintext to {}",
            output_path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::choose_player;

    #[test]
    fn a_named_player_keeps_its_arguments() {
        let p = choose_player(Some("mpv --fs --really-quiet"))
            .unwrap()
            .unwrap();
        assert_eq!(p.program, "mpv");
        assert_eq!(p.args, ["--fs", "--really-quiet"]);
        assert_eq!(p.describe(), "mpv --fs --really-quiet");
    }
}
