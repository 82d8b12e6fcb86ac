//! The studio side of the client, as a studio's admin runs it: a fresh wallet registers a
//! studio and a film with two declared editions, uploads a master with `tangible studio
//! upload`, a buyer pays by card, downloads and plays it, and `tangible studio statement`
//! shows the studio's share of that sale. Bad input (an unknown film, an undeclared quality)
//! is refused with a message that names the problem. The client refuses a tampered library
//! file and, after the studio re-uploads the edition, the old film (see
//! `refuses_a_tampered_or_replaced_film`).

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tangible_devstack::films::{FilmSpec, generate_film};
use tangible_domain::{Cents, Quality, Split};
use tangible_e2e::User;

use super::money::get_json;
use super::{World, play_to_vec, sync_reports};

/// Polls `f` every 300 ms until it returns `Some`, for at most 30 s.
async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Writes the HD edition of `title` (a real 6 s film from the devstack's film cache, encoded
/// the first time) to `path`, as the studio's master.
fn studio_film(title: &str, path: &std::path::Path) {
    let spec = FilmSpec::edition(title, Quality::Hd, 6);
    tokio::task::block_in_place(|| generate_film(&spec, path, |l| eprintln!("{l}")))
        .unwrap_or_else(|e| panic!("generating the {title} film: {e:#}"));
}

/// `verify --decrypt` of `licence` (expected to fail): its checks, and `play`'s refusal.
fn refusals(buyer: &User, licence: &str) -> (Value, String) {
    let r = buyer.run(&["--json", "verify", "--decrypt", licence], &[]);
    assert!(!r.ok, "verify --decrypt should fail: {}", r.stdout);
    // The report, then (on failure, with --json) the error as JSON too.
    let checks: Value = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("checks").is_some())
        .unwrap_or_else(|| panic!("verify printed no report: {}", r.stdout));
    let played = play_to_vec(buyer, licence, &[]).expect_err("play should refuse");
    (checks["checks"].clone(), played)
}

/// The client refuses a film that is not the one registered on chain: a library file with one
/// byte flipped fails its segment's authentication, and a film that decrypts cleanly but is an
/// older master (the studio re-uploaded the edition, same key, new master hash; the buyer
/// synced the new certificate and kept the old file) fails the master-hash check. Downloading
/// again brings the new master, which plays.
async fn refuses_a_tampered_or_replaced_film(
    w: &World,
    (admin, film_id): (&User, &str),
    buyer: &User,
    licence: &str,
    master: &[u8],
) {
    let film_path = buyer.licence_dir(licence).join("film.tgf");
    let original = std::fs::read(&film_path).unwrap();

    // One byte flipped in the last segment (its ciphertext, before the tag).
    let mut tampered = original.clone();
    let at = tampered.len() - 100;
    tampered[at] ^= 0x01;
    std::fs::write(&film_path, &tampered).unwrap();
    let (checks, played) = refusals(buyer, licence);
    let master_check = checks["master"]["detail"].as_str().unwrap_or_default();
    assert!(
        checks["master"]["ok"] == false
            && master_check.contains("segment")
            && master_check.contains("does not authenticate"),
        "verify names the tampered segment: {checks}"
    );
    assert_eq!(
        checks["file"]["ok"], false,
        "the file's hash differs: {checks}"
    );
    assert!(
        played.contains("segment") && played.contains("does not authenticate"),
        "play names the tampered segment: {played}"
    );
    std::fs::write(&film_path, &original).unwrap();
    let v = buyer.json(&["verify", "--decrypt", licence]);
    assert_eq!(v["ok"], true, "the restored file verifies: {v}");

    // The studio uploads another master (a recut: the same edition, another film) to it.
    let film_id_n: u64 = film_id.parse().unwrap();
    let new_path = admin.home().join("metropolis-hd-recut.mp4");
    studio_film("Metropolis (recut)", &new_path);
    let new_master = std::fs::read(&new_path).unwrap();
    assert!(new_master != master);
    let new_sha = B256::from_slice(&Sha256::digest(&new_master));
    let up = admin.json(&[
        "studio",
        "upload",
        film_id,
        "--quality",
        "hd",
        new_path.to_str().unwrap(),
    ]);
    assert_eq!(up["master_hash"], new_sha.to_string().as_str(), "{up}");
    let on_chain = w
        .market()
        .edition(film_id_n, Quality::Hd.code())
        .call()
        .await
        .unwrap();
    assert_eq!(
        on_chain.masterHash, new_sha,
        "the new master hash is on chain"
    );

    // The buyer syncs (a certificate naming the new master hash) and keeps the old file.
    let synced = buyer.json(&["sync"]);
    assert!(
        sync_reports(&synced, licence, &[("action", "renewed")]),
        "{synced}"
    );
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(buyer.licence_dir(licence).join("certificate.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        cert["certificate"]["masterHash"],
        new_sha.to_string().as_str(),
        "the renewed certificate names the new master: {cert}"
    );
    assert!(
        std::fs::read(&film_path).unwrap() == original,
        "the old film is kept"
    );
    let (checks, played) = refusals(buyer, licence);
    assert_eq!(
        checks["file"]["ok"], true,
        "the old file is intact: {checks}"
    );
    assert_eq!(checks["certificate"]["ok"], true, "{checks}");
    let master_check = checks["master"]["detail"].as_str().unwrap_or_default();
    assert!(
        checks["master"]["ok"] == false
            && master_check.contains("differs from the master hash")
            && master_check.contains(&new_sha.to_string()),
        "verify refuses the old master: {checks}"
    );
    assert!(
        played.contains("differs from the master hash"),
        "play refuses the old master: {played}"
    );

    // Downloading again fetches the new file, which verifies and plays.
    buyer.json(&["download", licence]);
    assert!(std::fs::read(&film_path).unwrap() != original);
    let v = buyer.json(&["verify", "--decrypt", licence]);
    assert_eq!(v["ok"], true, "the new film verifies: {v}");
    let played = play_to_vec(buyer, licence, &[]).expect("the new master plays");
    assert!(played == new_master, "the buyer plays the new master");
}

/// `studio`'s wallet applies for a studio named `name`, and the devstack's platform admin (the
/// operator's key, a home named `approver`) approves it: the approved application, with the
/// studio's id. The application waits until then: no studio to register films in.
pub(super) fn approved_studio(w: &World, studio: &User, approver: &str, name: &str) -> Value {
    let application = studio.json(&["studio", "register", "--name", name]);
    assert_eq!(application["state"], "pending", "{application}");
    let id = application["application_id"].as_i64().unwrap().to_string();
    let mine = studio.json(&["studio", "applications"]);
    assert_eq!(mine[0]["application_id"].as_i64().unwrap().to_string(), id);
    assert_eq!(mine[0]["state"], "pending");
    let again = studio.fails(&["studio", "register", "--name", name], &[]);
    assert!(again.contains("application_pending"), "{again}");

    let admin = User::new(approver, &w.endpoints).expect("a user home");
    admin.import_key(&w.stack.demo.operator.private_key);
    let approved = admin.json(&[
        "admin",
        "approve-studio",
        &id,
        "--reason",
        "rights verified",
    ]);
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["admin_address"], application["admin_address"]);
    assert!(approved["studio_id"].as_u64().is_some(), "{approved}");
    approved
}

pub(super) async fn studio_flow(w: &World, buyer: &User) {
    let admin = User::new("studio-admin", &w.endpoints).expect("a user home");
    let wallet = admin.json(&["wallet", "new"]);
    let admin_addr: Address = wallet["address"].as_str().unwrap().parse().unwrap();
    let addr = |v: &Value| v.as_str().and_then(|a| a.parse::<Address>().ok());

    // A studio (applied for, approved by the platform) and a film, with HD and 4K declared at
    // 5.00 and 7.50 €.
    let studio = approved_studio(w, &admin, "studio-approver", "Studio Lumière (e2e)");
    assert_eq!(addr(&studio["admin_address"]), Some(admin_addr));
    assert_eq!(addr(&studio["royalty_address"]), Some(admin_addr));
    let studio_id = studio["studio_id"].as_u64().unwrap().to_string();
    let commission = tangible_domain::DEFAULT_COMMISSION_BPS;
    let film = admin.json(&[
        "studio",
        "film",
        "--studio",
        &studio_id,
        "--title",
        "Metropolis (e2e)",
        "--year",
        "1927",
        "--edition",
        "hd=5.00",
        "--edition",
        "4k=7.50",
    ]);
    let film_id = film["film_id"].as_u64().unwrap();
    let declared: Vec<(&str, &str)> = film["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["quality"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        declared,
        [("hd", "awaiting_master"), ("4k", "awaiting_master")],
        "{film}"
    );
    let film_id_s = film_id.to_string();

    // A master of a few MiB (a real film; not a multiple of the 1 MiB segment).
    let master_path = admin.home().join("metropolis-hd.mp4");
    studio_film("Metropolis", &master_path);
    let master = std::fs::read(&master_path).unwrap();
    assert!(
        master.len() > 2 << 20 && !master.len().is_multiple_of(1 << 20),
        "a master of several segments, the last one partial: {} bytes",
        master.len()
    );
    let sha = B256::from_slice(&Sha256::digest(&master));
    let master_arg = master_path.to_str().unwrap();
    const fn upload<'a>(film: &'a str, quality: &'a str, master: &'a str) -> [&'a str; 6] {
        ["studio", "upload", film, "--quality", quality, master]
    }

    // Bad input first: an unknown film, and a quality that was not declared (no price).
    let unknown = admin.fails(&upload("999999", "hd", master_arg), &[]);
    assert!(
        unknown.contains("film 999999") && unknown.contains("no film"),
        "an unknown film is named: {unknown}"
    );
    let undeclared = admin.fails(&upload(&film_id_s, "sd", master_arg), &[]);
    assert!(
        undeclared.contains("--price") && undeclared.contains("sd"),
        "an undeclared quality asks for a price: {undeclared}"
    );
    // Someone who is not the studio's admin cannot upload to its film.
    let not_admin = buyer.fails(&upload(&film_id_s, "hd", master_arg), &[]);
    assert!(not_admin.contains("not the admin"), "{not_admin}");

    // The upload: the master hash on chain is the SHA-256 of the file.
    let up = admin.json(&upload(&film_id_s, "hd", master_arg));
    assert_eq!(up["master_hash"], sha.to_string().as_str(), "{up}");
    assert_eq!(up["size"].as_u64(), Some(master.len() as u64));
    let on_chain = w
        .market()
        .edition(film_id, Quality::Hd.code())
        .call()
        .await
        .expect("the edition is on chain");
    assert_eq!(on_chain.masterHash, sha);
    assert_eq!(on_chain.priceCents, 500);
    assert!(on_chain.active);

    // The resale floor: at most half the price, the studio admin's only.
    let film_arg = film_id_s.as_str();
    let floor =
        move |price: &'static str| ["studio", "resale-floor", film_arg, "--quality", "hd", price];
    let too_high = admin.fails(&floor("2.51"), &[]);
    assert!(too_high.contains("half"), "{too_high}");
    let not_admin = buyer.fails(&floor("1.00"), &[]);
    assert!(not_admin.contains("admin"), "{not_admin}");
    let set = admin.json(&floor("2.50"));
    assert_eq!(set["floor_cents"], 250, "{set}");
    let on_chain = w
        .market()
        .edition(film_id, Quality::Hd.code())
        .call()
        .await
        .unwrap();
    assert_eq!(on_chain.resaleFloorCents, 250);

    // The content endpoint serves the encrypted file.
    let content_url = format!("{}/v1/editions/{film_id}-hd/content", w.endpoints.api_url);
    let content = get_json(
        reqwest::Client::new().get(&content_url),
        "the content endpoint answers",
    )
    .await;
    assert_eq!(content["master_hash"], sha.to_string().as_str());
    assert!(content["size"].as_u64().unwrap() > master.len() as u64);

    // The catalogue lists the HD edition once the indexer has mirrored it; a buyer pays by
    // card, downloads and plays the studio's master.
    eventually("the HD edition in the catalogue", || {
        let f = buyer.json(&["films", &film_id_s]);
        f["editions"]
            .as_array()?
            .iter()
            .any(|e| e["quality"] == "hd" && e["active"] == true)
            .then_some(())
    })
    .await;
    let bought = buyer.json(&["buy", &film_id_s, "--quality", "hd", "--test-card"]);
    let licence = bought["licence_id"].as_str().unwrap().to_owned();
    buyer.json(&["download", &licence]);
    let played = play_to_vec(buyer, &licence, &[]).expect("the buyer plays");
    assert!(played == master, "the buyer plays the studio's master");
    refuses_a_tampered_or_replaced_film(w, (&admin, &film_id_s), buyer, &licence, &master).await;

    // The royalty statement shows the sale and the studio's share.
    let expected = Split::primary(Cents(500), commission).unwrap();
    let statement = eventually("the sale in the statement", || {
        let s = admin.json(&["studio", "statement", &studio_id]);
        (s["sales"] == 1).then_some(s)
    })
    .await;
    assert_eq!(statement["gross_cents"], 500);
    assert_eq!(
        statement["studio_cents"].as_u64(),
        Some(expected.studio.get())
    );
    assert_eq!(
        statement["platform_cents"].as_u64(),
        Some(expected.platform.get())
    );
    assert_eq!(statement["lines"][0]["licence_id"], licence.as_str());
    let csv = admin.run(&["studio", "statement", &studio_id, "--csv"], &[]);
    assert!(csv.ok, "{}", csv.stderr);
    let total = csv.stdout.lines().last().unwrap_or_default();
    assert!(
        total.starts_with("TOTAL") && total.contains(&format!(",{},", expected.studio.get())),
        "CSV total line: {total}"
    );
}
