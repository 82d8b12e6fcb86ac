//! Demo films: short, real, deterministic videos that the stack uploads as masters, so a
//! player shows a picture and a test can still compare a played film with its master byte for
//! byte.
//!
//! A film is `ffmpeg`'s `testsrc2` pattern at 24 frames/s with the film's title and edition
//! burned in at the top and a running timecode (`HH:MM:SS.mmm`, from the frame's timestamp)
//! at the bottom, and a 440 Hz tone that beeps at 880 Hz once a second. It is encoded as
//! H.264 (High profile, yuv420p, a keyframe every 24 frames = every second and no other,
//! so a seek lands on the exact second) and AAC-LC in an MP4 whose `moov` (the complete
//! sample index) is at the front (`-movflags +faststart`).
//!
//! Why `+faststart` rather than a fragmented MP4 (measured with headless Chromium 156 and
//! ffmpeg 5.1 against a range-capable HTTP server throttled to 4 MB/s, the 12 s HD film,
//! seeking to 80 %): with the index at the front Chromium reads the file from byte 0, gets
//! the metadata in one request (29–57 ms) and seeks with one range request starting near the
//! keyframe before 9.6 s (byte 4,325,376 of 5.7 MB), first frame after 208–251 ms;
//! `ffmpeg -ss 9.6 -i <url>` made two requests (589,824 bytes read). A fragmented MP4
//! (`frag_keyframe+empty_moov+default_base_moof`) has no index: both Chromium and ffmpeg
//! hopped through every fragment of the file at open (Chromium: 13 range requests and 1.5 MB
//! read before the metadata; ffmpeg: 1.7 MB read for the seek), one request per second of
//! film. With `+global_sidx` Chromium first read the file's tail, then seeked well, but made
//! three times the requests of `+faststart` for the same result. Chromium's `<video>` and
//! ffmpeg (mpv reads through ffmpeg's demuxer) play a `+faststart` MP4 progressively, so it is
//! the layout every client here streams and seeks.
//!
//! Deterministic: the same parameters and the same ffmpeg build give the same bytes (one
//! encoder thread, `bitexact` flags, no metadata or creation time). Generated films are cached
//! under `$XDG_CACHE_HOME/tangible/films/` (else `~/.cache/tangible/films/`), named by a hash
//! of every parameter, the ffmpeg build (`ffmpeg -version`) and the font; a film is encoded
//! into a temporary file of that folder and renamed into place, so concurrent generations
//! never expose a partial file. [`generate_film`] copies the cached film to where it is asked.
//! `ffmpeg -version` does not name the libx264 build: after an upgrade of libx264 alone, a
//! fresh encoding may differ from the cached film (both are valid; the stack uses the cached
//! one everywhere; clear the folder to re-encode).

use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use alloy::primitives::keccak256;
use anyhow::{Context, Result, bail};
use tangible_domain::Quality;

/// Frames per second of every demo film.
pub const FPS: u32 = 24;

/// The font of the burned-in text (Debian's `fonts-dejavu-core`, installed by `make tools`).
pub const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// x264's constant quality: the 12 s HD film comes out at about 5.5 MiB (several 1 MiB
/// segments of the encrypted format), the 4 s 4K film about the same.
const CRF: u32 = 26;

/// What to say when ffmpeg or its font is missing.
const INSTALL_HINT: &str = "run `make tools` (installs ffmpeg and fonts-dejavu-core)";

/// One film to generate: every parameter that changes its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilmSpec {
    /// The title burned in at the top.
    pub title: String,
    /// The edition named after the title (`HD 1920x1080`).
    pub label: String,
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Length in whole seconds.
    pub seconds: u32,
}

impl FilmSpec {
    /// The edition of `title` in `quality` (SD 854x480, HD 1920x1080, 4K 3840x2160), `seconds`
    /// long.
    pub fn edition(title: &str, quality: Quality, seconds: u32) -> Self {
        let (width, height) = dimensions(quality);
        let name = match quality {
            Quality::Sd => "SD",
            Quality::Hd => "HD",
            Quality::Uhd4k => "4K",
        };
        Self {
            title: title.to_owned(),
            label: format!("{name} {width}x{height}"),
            width,
            height,
            seconds,
        }
    }

    /// ffmpeg's arguments to encode this film into `out` (run in a folder holding the title as
    /// `title.txt` and the font as `font.ttf`, so that neither needs escaping in the filter).
    fn ffmpeg_args(&self, out: &Path) -> Vec<String> {
        let (w, h, s) = (self.width, self.height, self.seconds);
        // Title and edition at the top, the running timecode at the bottom, both on a dark box.
        let boxed = "fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=(w-tw)/2";
        let filter = format!(
            "drawtext=fontfile=font.ttf:textfile=title.txt:expansion=none:{boxed}:y=h/12:\
             fontsize=h/18,\
             drawtext=fontfile=font.ttf:text='%{{pts\\:hms}}':{boxed}:y=h-h/6:fontsize=h/10"
        );
        let mut args: Vec<String> = [
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-fflags",
            "+bitexact",
            "-filter_threads",
            "1",
            "-f",
            "lavfi",
            "-i",
        ]
        .map(str::to_owned)
        .into();
        args.push(format!("testsrc2=size={w}x{h}:rate={FPS}:duration={s}"));
        args.extend(["-f", "lavfi", "-i"].map(str::to_owned));
        args.push(format!(
            "sine=frequency=440:beep_factor=2:sample_rate=48000:duration={s}"
        ));
        args.extend(["-vf".to_owned(), filter]);
        let gop = FPS.to_string();
        let crf = CRF.to_string();
        args.extend(
            [
                "-map",
                "0:v",
                "-map",
                "1:a",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                &crf,
                "-threads",
                "1",
                "-pix_fmt",
                "yuv420p",
                "-g",
                &gop,
                "-keyint_min",
                &gop,
                "-sc_threshold",
                "0",
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                "-map_metadata",
                "-1",
                "-map_chapters",
                "-1",
                "-flags:v",
                "+bitexact",
                "-flags:a",
                "+bitexact",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
            ]
            .map(str::to_owned),
        );
        args.push(out.display().to_string());
        args
    }

    /// The title file's contents: title and edition.
    fn title_text(&self) -> String {
        format!("{} — {}", self.title, self.label)
    }

    /// The cache file's name: readable parameters, then a hash of everything that changes the
    /// bytes (the arguments, the title, the ffmpeg build, the font).
    fn cache_name(&self, ffmpeg_version: &str, font: &[u8]) -> String {
        let mut key = String::new();
        for a in self.ffmpeg_args(Path::new("out.mp4")) {
            let _ = writeln!(key, "{a}");
        }
        let _ = write!(key, "{}\n{ffmpeg_version}\n", self.title_text());
        let mut bytes = key.into_bytes();
        bytes.extend_from_slice(font);
        let hash = keccak256(&bytes);
        format!(
            "film-{}x{}-{}s-{}.mp4",
            self.width,
            self.height,
            self.seconds,
            &hex::encode(hash)[..16]
        )
    }
}

/// How long each edition of the stack's demo film runs ([`crate::StackOptions::demo_films`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoFilms {
    /// The SD edition's length in seconds (the demo catalogue has none today).
    pub sd_seconds: u32,
    /// The HD edition's length: 12 s is about 5.5 MiB, several 1 MiB segments.
    pub hd_seconds: u32,
    /// The 4K edition's length: 4 s, about 5.7 MiB (4K costs the most to encode).
    pub uhd_seconds: u32,
}

impl Default for DemoFilms {
    fn default() -> Self {
        Self {
            sd_seconds: 12,
            hd_seconds: 12,
            uhd_seconds: 4,
        }
    }
}

impl DemoFilms {
    /// The length of the edition in `quality`.
    pub const fn seconds(&self, quality: Quality) -> u32 {
        match quality {
            Quality::Sd => self.sd_seconds,
            Quality::Hd => self.hd_seconds,
            Quality::Uhd4k => self.uhd_seconds,
        }
    }

    /// The film of `title`'s edition in `quality`.
    pub fn spec(&self, title: &str, quality: Quality) -> FilmSpec {
        FilmSpec::edition(title, quality, self.seconds(quality))
    }
}

/// Width and height of an edition's film.
pub const fn dimensions(quality: Quality) -> (u32, u32) {
    match quality {
        Quality::Sd => (854, 480),
        Quality::Hd => (1920, 1080),
        Quality::Uhd4k => (3840, 2160),
    }
}

/// Where generated films are kept: `$XDG_CACHE_HOME/tangible/films`, else
/// `$HOME/.cache/tangible/films`, else the temporary directory's `tangible-films`.
pub fn cache_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(x) = nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("tangible/films");
    }
    if let Some(home) = nonempty("HOME") {
        return PathBuf::from(home).join(".cache/tangible/films");
    }
    std::env::temp_dir().join("tangible-films")
}

/// Runs `ffmpeg`/`ffprobe` with `args`, or says how to install it when it is missing.
fn run(program: &str, args: &[String], dir: Option<&Path>) -> Result<Output> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = match cmd.output() {
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "{program} is not installed (the demo films are generated with ffmpeg): \
             {INSTALL_HINT}"
        ),
        r => r.with_context(|| format!("running {program}"))?,
    };
    if !out.status.success() {
        bail!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// `ffmpeg -version`, read once per process (part of every cache key).
fn ffmpeg_version() -> Result<&'static str> {
    static VERSION: OnceLock<String> = OnceLock::new();
    if let Some(v) = VERSION.get() {
        return Ok(v);
    }
    let out = run("ffmpeg", &["-version".to_owned()], None)?;
    Ok(VERSION.get_or_init(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The burned-in text's font, or how to install it.
fn font() -> Result<Vec<u8>> {
    std::fs::read(FONT)
        .map_err(|e| anyhow::anyhow!("reading the demo films' font {FONT}: {e}; {INSTALL_HINT}"))
}

/// Encodes `spec` into `out` (not cached; [`generate_film`] caches). ffmpeg writes into a
/// temporary folder next to `out`, and the film is renamed into place once complete.
pub fn encode_film(spec: &FilmSpec, out: &Path) -> Result<()> {
    let font = font()?;
    encode_with_font(spec, out, &font)
}

fn encode_with_font(spec: &FilmSpec, out: &Path, font: &[u8]) -> Result<()> {
    if !spec.width.is_multiple_of(2) || !spec.height.is_multiple_of(2) || spec.seconds == 0 {
        bail!("a demo film needs even dimensions and at least 1 s: {spec:?}");
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".film-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary folder in {}", parent.display()))?;
    std::fs::write(work.path().join("title.txt"), spec.title_text())?;
    std::fs::write(work.path().join("font.ttf"), font)?;
    let partial = work.path().join("film.mp4");
    run(
        "ffmpeg",
        &spec.ffmpeg_args(Path::new("film.mp4")),
        Some(work.path()),
    )
    .with_context(|| format!("encoding the demo film {spec:?}"))?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving the film into {}", out.display()))?;
    Ok(())
}

/// The cached film of `spec` in [`cache_dir`], encoded first if needed (saying so once through
/// `say`).
pub fn cached_film(spec: &FilmSpec, say: impl Fn(&str)) -> Result<PathBuf> {
    cached_film_in(&cache_dir(), spec, say)
}

/// The cached film of `spec` in the cache folder `dir`.
fn cached_film_in(dir: &Path, spec: &FilmSpec, say: impl Fn(&str)) -> Result<PathBuf> {
    let font = font()?;
    let path = dir.join(spec.cache_name(ffmpeg_version()?, &font));
    if path.is_file() {
        return Ok(path);
    }
    say(&format!(
        "encoding demo film {} {} s (first time; cached in {})",
        spec.label,
        spec.seconds,
        dir.display()
    ));
    encode_with_font(spec, &path, &font)?;
    Ok(path)
}

/// Writes the film of `spec` to `dest` (a copy of the cached film, encoded first if needed;
/// `say` hears one line when it is).
pub fn generate_film(spec: &FilmSpec, dest: &Path, say: impl Fn(&str)) -> Result<()> {
    let cached = cached_film(spec, say)?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    // A copy, not a hard link: whoever owns `dest` may change it (a test tampering with a
    // master) without touching the cache.
    std::fs::copy(&cached, dest)
        .with_context(|| format!("copying {} to {}", cached.display(), dest.display()))?;
    Ok(())
}

/// What `ffprobe` reports about a film.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The container's formats (`mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    /// The container's duration in seconds.
    pub duration: f64,
    /// The first video stream's codec (`h264`).
    pub video_codec: String,
    /// Its pixel format (`yuv420p`).
    pub pix_fmt: String,
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Its number of frames.
    pub frames: u64,
    /// The first audio stream's codec (`aac`).
    pub audio_codec: String,
}

/// Reads a film's container and streams with `ffprobe` (a path or an `http://` URL).
pub fn probe(film: &str) -> Result<Probe> {
    let args = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        film,
    ]
    .map(str::to_owned);
    let out = run("ffprobe", &args, None)?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("ffprobe's JSON")?;
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let of = |kind: &str| {
        streams
            .iter()
            .find(|s| s["codec_type"] == kind)
            .cloned()
            .with_context(|| format!("{film} has no {kind} stream"))
    };
    let (video, audio) = (of("video")?, of("audio")?);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let number = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .or_else(|| v.as_f64())
    };
    Ok(Probe {
        format: text(&v["format"]["format_name"]),
        duration: number(&v["format"]["duration"]).context("ffprobe reported no duration")?,
        video_codec: text(&video["codec_name"]),
        pix_fmt: text(&video["pix_fmt"]),
        width: video["width"].as_u64().unwrap_or(0).try_into()?,
        height: video["height"].as_u64().unwrap_or(0).try_into()?,
        frames: number(&video["nb_frames"]).unwrap_or(0.0) as u64,
        audio_codec: text(&audio["codec_name"]),
    })
}

/// Decodes the video frame shown at `seconds` (`ffmpeg -ss <seconds> -i <film> -frames:v 1`)
/// and returns its timestamp in seconds, or `None` when there is no frame there.
pub fn frame_at(film: &str, seconds: f64) -> Result<Option<f64>> {
    let args = [
        "-hide_banner",
        "-nostdin",
        "-copyts",
        "-ss",
        &seconds.to_string(),
        "-i",
        film,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        "showinfo",
        "-f",
        "null",
        "-",
    ]
    .map(str::to_owned);
    let out = run("ffmpeg", &args, None)?;
    // showinfo logs `... n:   0 pts:  61440 pts_time:5 ...` for each frame it passes
    // (`-copyts`: the film's own timestamps, not restarted at the seek point).
    let log = String::from_utf8_lossy(&out.stderr);
    let shown = log
        .lines()
        .filter(|l| l.contains("Parsed_showinfo"))
        .find_map(|l| {
            let t = l.split("pts_time:").nth(1)?.split_whitespace().next()?;
            t.parse::<f64>().ok()
        });
    Ok(shown)
}

#[cfg(test)]
mod tests;
