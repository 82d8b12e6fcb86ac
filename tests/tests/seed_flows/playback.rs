//! `tangible play` as a viewer uses it, on a real film: a studio uploads a short H.264/AAC MP4
//! made with ffmpeg (testsrc2 + a tone, `+faststart`), a buyer pays by card and downloads it.
//!
//! * With a player (`--player`, here a script that runs `ffprobe` and `ffmpeg -ss <middle>` on
//!   the URL it is given): the frames decoded after seeking to the middle carry the middle's
//!   timestamps, and `play` ends when the player does.
//! * Without one (`--no-player --json`): the URL is on 127.0.0.1 with a 128-bit token; the
//!   socket listens on loopback only (read in `/proc/net/tcp`, and refused on the machine's
//!   other address); without the token or with another one: 403; the film served is the master.
//! * After both, no file in the home, the `HOME` or the temp directory given to the client
//!   holds the master's bytes.
//! * A revoked licence (see [`revoked_does_not_play`]) is refused while the API answers.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tangible_e2e::User;

use super::World;

/// An API address nothing listens on: the client is offline.
pub(super) const OFFLINE: (&str, &str) = ("TANGIBLE_API_URL", "http://127.0.0.1:9");

/// A 10 s 640×360 H.264/AAC MP4 (keyframe every second, moov first) of about 4 MB: several
/// 1 MiB segments.
fn make_film(path: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=10",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=10"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-b:v",
            "3M",
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ])
        .arg(path)
        .output()
        .expect("ffmpeg runs (installed by scripts/bootstrap.sh)");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

/// Polls `f` every 300 ms until it returns `Some`, for at most 30 s.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A studio publishes the ffmpeg film in HD; `buyer` buys it by card and downloads it.
fn publish_and_buy(w: &World, buyer: &User) -> (String, Vec<u8>) {
    let admin = User::new("playback-studio", &w.endpoints).expect("a user home");
    admin.json(&["wallet", "new"]);
    let studio =
        super::studio::approved_studio(w, &admin, "playback-approver", "Testcard Pictures (e2e)");
    let studio_id = studio["studio_id"].as_u64().unwrap().to_string();
    let film = admin.json(&[
        "studio",
        "film",
        "--studio",
        &studio_id,
        "--title",
        "Test Card (e2e)",
        "--year",
        "2026",
        "--edition",
        "hd=4.00",
    ]);
    let film_id = film["film_id"].as_u64().unwrap().to_string();
    let master_path = admin.home().join("test-card.mp4");
    let master = make_film(&master_path);
    assert!(
        master.len() > 3 << 20,
        "several segments: {} bytes",
        master.len()
    );
    admin.json(&[
        "studio",
        "upload",
        &film_id,
        "--quality",
        "hd",
        master_path.to_str().unwrap(),
    ]);
    eventually("the edition in the catalogue", || {
        let f = buyer.json(&["films", &film_id]);
        f["editions"]
            .as_array()?
            .iter()
            .any(|e| e["quality"] == "hd" && e["active"] == true)
            .then_some(())
    });
    let bought = buyer.json(&["buy", &film_id, "--quality", "hd", "--test-card"]);
    let licence = bought["licence_id"].as_str().unwrap().to_owned();
    buyer.json(&["download", &licence]);
    (licence, master)
}

/// Fresh `HOME` and `TMPDIR` for one run of the client, scanned afterwards.
struct Dirs {
    home: tempfile::TempDir,
    tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Self {
        let d = || {
            tempfile::Builder::new()
                .prefix("tangible-e2e-play-")
                .tempdir()
                .unwrap()
        };
        Self {
            home: d(),
            tmp: d(),
        }
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("HOME", self.home.path().to_str().unwrap()),
            ("TMPDIR", self.tmp.path().to_str().unwrap()),
        ]
    }
}

/// Files under `dir` (recursively) holding `needle`.
fn files_holding(dir: &Path, needle: &[u8], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            files_holding(&p, needle, found);
        } else if t.is_file()
            && std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        {
            found.push(p);
        }
    }
}

/// No plaintext of `master` in the user's home, the run's `HOME` and `TMPDIR`, or a file of the
/// system temp directory written since `since`.
fn assert_no_plaintext(user: &User, dirs: &Dirs, master: &[u8], since: std::time::SystemTime) {
    let mid = master.len() / 2;
    let needle = &master[mid..mid + 4096];
    let mut found = Vec::new();
    for d in [user.home(), dirs.home.path(), dirs.tmp.path()] {
        files_holding(d, needle, &mut found);
    }
    for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        let recent = e
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| t >= since);
        if recent
            && std::fs::read(e.path()).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        {
            found.push(e.path());
        }
    }
    assert!(
        found.is_empty(),
        "plaintext of the film on disk after play: {found:?}"
    );
}

/// The first `pts_time` of the frames `ffmpeg -copyts -ss <t>` decodes (showinfo), and how
/// many frames it decoded.
fn showinfo_pts(log: &str) -> Vec<f64> {
    log.split("pts_time:")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next()?.parse().ok())
        .collect()
}

/// `tangible play` with a player script that probes the URL and decodes frames after seeking
/// to the middle; returns the script's findings (duration, middle, showinfo log).
fn play_with_ffmpeg(buyer: &User, licence: &str, dirs: &Dirs) -> (f64, f64, String) {
    let out = dirs.home.path().join("player-out");
    std::fs::create_dir_all(&out).unwrap();
    let script = dirs.home.path().join("player.sh");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
set -e
url="$1"
echo "$url" > {out}/url
d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$url")
mid=$(awk -v d="$d" 'BEGIN {{ printf "%.2f", d / 2 }}')
echo "$d" > {out}/duration
echo "$mid" > {out}/mid
ffmpeg -hide_banner -nostdin -copyts -ss "$mid" -i "$url" -frames:v 3 -vf showinfo -an -f null - 2> {out}/ffmpeg.log
"#,
            out = out.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let started = Instant::now();
    let r = buyer.run(
        &["play", licence, "--player", script.to_str().unwrap()],
        &dirs.env(),
    );
    assert!(r.ok, "play with a player: {}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Serving licence") && r.stdout.contains("player.sh"),
        "play says what it serves and with what: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Stopped serving"),
        "play stops when the player exits: {}",
        r.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    let num = |f: &str| read(f).trim().parse::<f64>().unwrap_or(f64::NAN);
    (num("duration"), num("mid"), read("ffmpeg.log"))
}

/// A `play --no-player --json` running in the background.
struct Serving {
    child: Child,
    first: Value,
}

impl Serving {
    fn start(user: &User, licence: &str, extra: &[(&str, &str)]) -> Self {
        let mut child = user
            .command(&["--json", "play", licence, "--no-player"], extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let first = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "play printed no URL: {line}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            }
        };
        Self { child, first }
    }

    fn url(&self) -> &str {
        self.first["url"].as_str().unwrap()
    }

    /// SIGTERM (as Ctrl-C would), then the exit status and output.
    fn stop(self) -> std::process::Output {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.child.wait_with_output().unwrap()
    }
}

/// Listening sockets on `port` in `/proc/net/tcp{,6}`: their local addresses (hex).
fn listeners(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            let Some((addr, p)) = f.get(1).and_then(|a| a.split_once(':')) else {
                continue;
            };
            if f.get(3) == Some(&"0A") && u16::from_str_radix(p, 16) == Ok(port) {
                out.push(addr.to_owned());
            }
        }
    }
    out
}

/// The machine's address on its default route, if it has one other than loopback.
fn outward_address() -> Option<Ipv4Addr> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // A UDP connect only picks the route; nothing is sent.
    s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(a) if !a.is_loopback() && !a.is_unspecified() => Some(a),
        _ => None,
    }
}

async fn loopback_and_token(buyer: &User, licence: &str, master: &[u8], dirs: &Dirs) {
    let serving = Serving::start(buyer, licence, &dirs.env());
    let url = serving.url().to_owned();
    assert_eq!(
        serving.first["content_type"], "video/mp4",
        "{}",
        serving.first
    );
    assert_eq!(serving.first["bytes"].as_u64(), Some(master.len() as u64));
    assert_eq!(serving.first["checked_with"], "api", "{}", serving.first);
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let addr: SocketAddr = authority.parse().unwrap();
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST, "{url}");
    let (token, name) = path.split_once('/').unwrap();
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "a 128-bit token: {url}"
    );
    // Loopback only: the one listening socket is 127.0.0.1 (0100007F), and the machine's other
    // address refuses the port.
    assert_eq!(
        listeners(addr.port()),
        ["0100007F"],
        "listens on 127.0.0.1 only"
    );
    if let Some(ip) = outward_address() {
        assert!(
            TcpStream::connect_timeout(&(ip, addr.port()).into(), Duration::from_secs(2)).is_err(),
            "the server accepts on {ip}"
        );
    }
    // Without the token, with another one: 403. With it: the master, byte for byte.
    let http = reqwest::Client::new();
    let base = format!("http://{authority}");
    let other = format!("{:032x}", u128::from_str_radix(token, 16).unwrap() ^ 1);
    for u in [
        format!("{base}/{name}"),
        format!("{base}/{other}/{name}"),
        format!("{base}/"),
    ] {
        let r = http.get(&u).send().await.unwrap();
        assert_eq!(r.status(), 403, "{u}");
    }
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.bytes().await.unwrap() == master,
        "the film served is the master"
    );
    let out = serving.stop();
    let last: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    assert_eq!(last["stopped"], true, "stops on SIGTERM: {last}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(super) async fn playback_flow(w: &World, buyer: &User) {
    let since = std::time::SystemTime::now();
    let (licence, master) = publish_and_buy(w, buyer);

    // With a player: it seeks to the middle and decodes frames of the middle.
    let dirs = Dirs::new();
    let (duration, mid, log) = play_with_ffmpeg(buyer, &licence, &dirs);
    assert!(
        duration > 9.5 && duration < 10.5,
        "ffprobe reads the 10 s film over the URL: {duration}"
    );
    assert!((mid - duration / 2.0).abs() < 0.01, "{mid}");
    let pts = showinfo_pts(&log);
    assert!(pts.len() >= 2, "frames decoded after the seek: {log}");
    assert!(
        pts[0] >= mid - 0.001 && pts[0] < mid + 0.2,
        "the first frame decoded after seeking to {mid} s is at {} s: {log}",
        pts[0]
    );
    assert_no_plaintext(buyer, &dirs, &master, since);

    // Without a player: loopback, token, the master.
    let dirs = Dirs::new();
    loopback_and_token(buyer, &licence, &master, &dirs).await;
    assert_no_plaintext(buyer, &dirs, &master, since);
}

/// A licence resold (revoked on chain) whose copy is still on the seller's device: `play`
/// refuses it while the API answers, whatever the cached certificate says; offline, the
/// cached certificate decides (its lease is the documented offline window).
pub(super) fn revoked_does_not_play(seller: &User, licence: &str) {
    let r = seller.run(&["play", licence, "--player", "true"], &[]);
    assert!(
        !r.ok && r.stderr.contains("revoked"),
        "a revoked licence must not play while the API answers: {}{}",
        r.stdout,
        r.stderr
    );
    let offline = seller.run(&["--json", "play", licence, "--player", "true"], &[OFFLINE]);
    assert!(
        offline.ok,
        "offline, the cached certificate decides: {}",
        offline.stderr
    );
    assert!(
        offline
            .stdout
            .contains("\"checked_with\":\"cached_certificate\""),
        "{}",
        offline.stdout
    );
}
