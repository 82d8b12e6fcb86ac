use super::*;

/// The top-level MP4 boxes of a file, in order.
fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        names.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        assert!(size >= 8, "box of size {size} at {at}");
        at += size;
    }
    names
}

/// The keyframes' timestamps of a film's video, in seconds.
fn keyframe_times(film: &Path) -> Vec<f64> {
    let args = [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-skip_frame",
        "nokey",
        "-show_entries",
        "frame=pts_time",
        "-of",
        "csv=p=0",
        film.to_str().unwrap(),
    ]
    .map(str::to_owned);
    let out = run("ffprobe", &args, None).unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(',').next().filter(|t| !t.is_empty()))
        .map(|t| t.parse::<f64>().unwrap())
        .collect()
}

/// The demo editions the stack uploads are H.264/AAC MP4s of their size and length, with
/// the index at the front (`ftyp`, `moov`, then `mdat`), a keyframe on every second, and a
/// frame at 5 s; the HD film spans several 1 MiB segments.
#[test]
fn demo_editions_are_seekable_h264_aac_films_of_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let demo = DemoFilms::default();
    for (quality, (w, h), seconds) in [
        (Quality::Hd, (1920, 1080), 12),
        (Quality::Uhd4k, (3840, 2160), 4),
    ] {
        let path = dir.path().join(format!("{quality}.mp4"));
        generate_film(&demo.spec("Le Voyage dans la Lune", quality), &path, |l| {
            eprintln!("{l}")
        })
        .unwrap();
        let p = probe(path.to_str().unwrap()).unwrap();
        assert_eq!((p.width, p.height), (w, h), "{quality}: {p:?}");
        assert!(
            (p.duration - f64::from(seconds)).abs() < 0.1,
            "{quality}: {p:?}"
        );
        assert_eq!(p.frames, u64::from(seconds * FPS), "{quality}: {p:?}");
        assert_eq!(
            (
                p.video_codec.as_str(),
                p.pix_fmt.as_str(),
                p.audio_codec.as_str()
            ),
            ("h264", "yuv420p", "aac"),
            "{quality}"
        );
        assert!(p.format.contains("mp4"), "{p:?}");

        let bytes = std::fs::read(&path).unwrap();
        let boxes = top_level_boxes(&bytes);
        let at = |name: &str| boxes.iter().position(|b| b == name);
        assert_eq!(boxes.first().map(String::as_str), Some("ftyp"), "{boxes:?}");
        assert!(at("moov").unwrap() < at("mdat").unwrap(), "{boxes:?}");
        let keys = keyframe_times(&path);
        let expected: Vec<f64> = (0..seconds).map(f64::from).collect();
        assert_eq!(keys, expected, "{quality}: one keyframe per second");
        if quality == Quality::Hd {
            let len = bytes.len();
            assert!((4 << 20..=8 << 20).contains(&len), "HD film of {len} bytes");
            let shown = frame_at(path.to_str().unwrap(), 5.0).unwrap();
            assert_eq!(shown, Some(5.0), "the frame shown at 5 s");
            // Past the end there is no frame: the check can fail.
            assert_eq!(frame_at(path.to_str().unwrap(), 13.0).unwrap(), None);
        }
    }
}

/// Two encodings of the same film, not cached, are byte for byte the same; another title
/// gives other bytes.
#[test]
fn encoding_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = DemoFilms::default().spec("Le Voyage dans la Lune", Quality::Hd);
    let other = FilmSpec {
        title: "Metropolis".to_owned(),
        ..spec.clone()
    };
    let [a, b, c] = ["a.mp4", "b.mp4", "c.mp4"].map(|n| dir.path().join(n));
    std::thread::scope(|s| {
        s.spawn(|| encode_film(&spec, &a).unwrap());
        s.spawn(|| encode_film(&spec, &b).unwrap());
    });
    encode_film(&other, &c).unwrap();
    let [a, b, c] = [a, b, c].map(|p| std::fs::read(p).unwrap());
    assert!(a.len() > 1 << 20);
    assert!(
        a == b,
        "two encodings differ ({} and {} bytes)",
        a.len(),
        b.len()
    );
    assert!(a != c, "the title does not change the film");
}

/// The cache encodes a film once (one line said), hands the same file after, keys it by
/// every parameter, and two processes filling it at once leave one whole film and no
/// temporary file.
#[test]
fn the_cache_encodes_once_and_survives_concurrent_fills() {
    let cache = tempfile::tempdir().unwrap();
    let spec = FilmSpec::edition("Cache", Quality::Sd, 2);
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let say = |l: &str| said.lock().unwrap().push(l.to_owned());
    let (first, second) = std::thread::scope(|s| {
        let one = s.spawn(|| cached_film_in(cache.path(), &spec, say).unwrap());
        let two = s.spawn(|| cached_film_in(cache.path(), &spec, say).unwrap());
        (one.join().unwrap(), two.join().unwrap())
    });
    assert_eq!(first, second);
    let lines = said.lock().unwrap().clone();
    assert!(
        !lines.is_empty()
            && lines
                .iter()
                .all(|l| l.starts_with("encoding demo film SD 854x480 2 s (first time")),
        "{lines:?}"
    );
    let fresh = cache.path().join("fresh.mp4");
    encode_film(&spec, &fresh).unwrap();
    assert!(std::fs::read(&first).unwrap() == std::fs::read(&fresh).unwrap());
    std::fs::remove_file(&fresh).unwrap();
    let left: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "one film and no temporary file: {left:?}");

    // Cached now: nothing said, the same file; another length is another film.
    said.lock().unwrap().clear();
    assert_eq!(cached_film_in(cache.path(), &spec, say).unwrap(), first);
    assert!(said.lock().unwrap().is_empty());
    let longer = FilmSpec {
        seconds: 3,
        ..spec.clone()
    };
    let version = ffmpeg_version().unwrap();
    let font = font().unwrap();
    assert_ne!(
        spec.cache_name(version, &font),
        longer.cache_name(version, &font)
    );
    assert_ne!(
        spec.cache_name(version, &font),
        spec.cache_name(&format!("{version}x"), &font)
    );
}

/// Without ffmpeg on the PATH, the error says to run `make tools`.
#[test]
fn a_missing_program_says_how_to_install_it() {
    let err = run("ffmpeg-not-installed-here", &[], None).unwrap_err();
    assert!(err.to_string().contains("make tools"), "{err}");
}
