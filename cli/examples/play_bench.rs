//! Throughput of `tangible play`'s loopback film server next to the mapped decrypt of the same
//! file, in one run (issue 15 target: server ≥ 0.8× mapped decrypt).
//!
//! ```text
//! cargo run --release -p tangible-cli --example play_bench               # 1 GiB
//! cargo run --release -p tangible-cli --example play_bench -- --mib 256  # quick
//! ```
//!
//! 1. Encrypts a film of the given size (1 MiB segments) into a temp dir.
//! 2. Mapped decrypt: file → `io::sink()` through `film::decrypt_file` (memory map, one thread):
//!    the ceiling a server built on the same reader can approach.
//! 3. Loopback server: [`FilmServer`] (the server `tangible play` runs, on a 2-worker runtime as
//!    in the CLI) answers one `GET` for the whole film; a client thread reads it from a plain
//!    TCP socket into a 1 MiB buffer and throws it away (what a player's HTTP reader does).
//!    Time from the request to the last byte.
//! 4. The transport's ceiling: a bare loopback TCP stream of the same length (a thread writing a
//!    1 MiB buffer, no HTTP, no decryption) read by the same client: what any loopback server
//!    can deliver to a player on this machine.
//!
//! Passes alternate; each figure is the best of five by wall-clock time (the machine may be
//! shared). Prints the figures, the ratios, the target and the machine; then where the time
//! goes: the CPU time per GB of each path (all threads, from `/proc/self/task/*/schedstat`; the
//! reader's apart; lowest of the passes) and the throughput that CPU time alone would allow on
//! the machine's cores, idle. A path whose wall-clock figure is far below that bound is waiting
//! (for the other processes of a loaded machine, or on the loopback socket), not computing.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tangible_cli::film_server::FilmServer;
use tangible_crypto::film::{self, EditionId, FilmKey, Header};

const MIB: u64 = 1 << 20;
const PASSES: usize = 5;
const TARGET: f64 = 0.8;

/// Pseudo-random plaintext without holding it all: one random MiB, repeated.
struct Repeating {
    block: Vec<u8>,
    pos: usize,
    left: u64,
}

impl Read for Repeating {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = out
            .len()
            .min(self.block.len() - self.pos)
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos = (self.pos + n) % self.block.len();
        self.left -= n as u64;
        Ok(n)
    }
}

fn mib_arg() -> u64 {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--mib" {
            return args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--mib takes a number");
        }
    }
    std::env::var("TANGIBLE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Reads the whole answer to one GET from a plain socket; returns the body bytes received.
fn fetch(url: &str) -> io::Result<u64> {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut s = TcpStream::connect(authority)?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = vec![0u8; MIB as usize];
    let mut total = 0u64;
    let mut header_end = None;
    let mut head = Vec::new();
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if header_end.is_none() {
            head.extend_from_slice(&buf[..n.min(4096)]);
            header_end = head
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4);
        }
        total += n as u64;
    }
    let head_len = header_end.expect("an HTTP answer") as u64;
    Ok(total - head_len)
}

/// A bare TCP sender of `len` bytes per connection, for the transport's ceiling.
fn bare_sender(len: u64) -> io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        let block = vec![7u8; MIB as usize];
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { break };
            let mut req = [0u8; 1024];
            let _ = c.read(&mut req);
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
            let mut left = len;
            while left > 0 {
                let n = left.min(MIB) as usize;
                if c.write_all(&block[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
            // Close after the client does, so that no reset cuts the end of the stream.
            let _ = c.shutdown(std::net::Shutdown::Write);
            let _ = io::copy(&mut c, &mut io::sink());
        }
    });
    Ok(format!("http://{addr}/bare"))
}

/// CPU time used so far, in nanoseconds, by all the threads of this process (server, reader,
/// sender) and by the calling thread (the reader): the first field of
/// `/proc/self/task/*/schedstat` and of `/proc/thread-self/schedstat`. Threads that ended are
/// not counted; none of the measured ones ends during a pass (tokio keeps its blocking threads
/// for ten seconds).
fn cpu_ns() -> (u64, u64) {
    let first = |p: std::path::PathBuf| -> Option<u64> {
        std::fs::read_to_string(p)
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let all = std::fs::read_dir("/proc/self/task").map_or(0, |tasks| {
        tasks
            .filter_map(|t| first(t.ok()?.path().join("schedstat")))
            .sum()
    });
    (
        all,
        first("/proc/thread-self/schedstat".into()).unwrap_or(0),
    )
}

/// One timed pass (or the best of several): wall-clock time, CPU time of the calling thread
/// (the reader) and of all the others (server or sender).
#[derive(Clone, Copy)]
struct Pass {
    wall: Duration,
    others_cpu: Duration,
    own_cpu: Duration,
}

impl Pass {
    const NONE: Self = Self {
        wall: Duration::MAX,
        others_cpu: Duration::MAX,
        own_cpu: Duration::MAX,
    };

    /// Runs `f`, timed.
    fn run<T>(f: impl FnOnce() -> T) -> (T, Self) {
        let ((c, o), t) = (cpu_ns(), Instant::now());
        let out = f();
        let wall = t.elapsed();
        let (c2, o2) = cpu_ns();
        let own = o2.saturating_sub(o);
        let all = c2.saturating_sub(c);
        (
            out,
            Self {
                wall,
                others_cpu: Duration::from_nanos(all.saturating_sub(own)),
                own_cpu: Duration::from_nanos(own),
            },
        )
    }

    /// Each figure the lower of the two (CPU time varies less from pass to pass than the
    /// wall clock on a shared machine, but still does).
    fn best(self, other: Self) -> Self {
        Self {
            wall: self.wall.min(other.wall),
            others_cpu: self.others_cpu.min(other.others_cpu),
            own_cpu: self.own_cpu.min(other.own_cpu),
        }
    }

    /// CPU time of all threads.
    fn cpu(self) -> Duration {
        self.others_cpu + self.own_cpu
    }
}

fn gbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), load {load} (1/5/15 min)")
}

fn main() -> anyhow::Result<()> {
    let mib = mib_arg();
    let len = mib * MIB;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.tgf");
    let key = FilmKey::generate();
    let header = Header::new(EditionId::new(1, 3), len)?;
    let block: Vec<u8> = (0..MIB).map(|_| rand::random::<u8>()).collect();
    film::encrypt(
        &key,
        &header,
        Repeating {
            block,
            pos: 0,
            left: len,
        },
        BufWriter::with_capacity(MIB as usize, File::create(&path)?),
    )?;
    println!("machine: {}", machine());
    println!(
        "film: {mib} MiB, 1 MiB segments, in {}",
        dir.path().display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = rt.block_on(FilmServer::start(key.clone(), File::open(&path)?))?;
    let url = server.url();
    // Warm the page cache and both paths once.
    film::decrypt_file(&key, &File::open(&path)?, io::sink())?;
    assert_eq!(fetch(&url)?, len, "the server sends the whole film");

    let bare_url = bare_sender(len)?;
    let (mut mapped, mut served, mut bare) = (Pass::NONE, Pass::NONE, Pass::NONE);
    for _ in 0..PASSES {
        let (got, pass) = Pass::run(|| fetch(&bare_url));
        assert_eq!(got?, len);
        bare = bare.best(pass);
        let (got, pass) = Pass::run(|| film::decrypt_file(&key, &File::open(&path)?, io::sink()));
        got?;
        mapped = mapped.best(pass);
        let (got, pass) = Pass::run(|| fetch(&url));
        assert_eq!(got?, len);
        served = served.best(pass);
    }
    rt.block_on(server.shutdown())?;
    let (m, s, b) = (
        gbps(len, mapped.wall),
        gbps(len, served.wall),
        gbps(len, bare.wall),
    );
    println!("mapped decrypt (film::decrypt_file → sink, 1 thread): {m:.2} GB/s");
    println!("loopback server (GET whole film, plain TCP reader):   {s:.2} GB/s");
    println!(
        "bare loopback TCP, same reader (no HTTP, no decryption): {b:.2} GB/s (the transport's ceiling)"
    );
    println!("ratio server / bare TCP: {:.2}", s / b);
    // Where the time goes: CPU seconds per GB of each path (lowest of the passes), the reader's
    // apart, and the throughput that CPU time alone would allow on this machine's cores if
    // nothing else ran and the work spread evenly over them (an upper bound: loopback TCP
    // does not spread evenly, see the bare stream's wall-clock figure).
    let per_gb = |d: Duration| d.as_secs_f64() / (len as f64 / 1e9);
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    println!(
        "CPU s per GB: mapped decrypt {:.3}; server {:.3} + reader {:.3}; bare sender {:.3} + reader {:.3}",
        per_gb(mapped.cpu()),
        per_gb(served.others_cpu),
        per_gb(served.own_cpu),
        per_gb(bare.others_cpu),
        per_gb(bare.own_cpu),
    );
    let bound = |p: Pass| cores / per_gb(p.cpu());
    println!(
        "CPU-time bounds on {cores} idle cores: server + reader {:.2} GB/s ({:.2}x mapped), \
         bare TCP + reader {:.2} GB/s ({:.2}x mapped)",
        bound(served),
        bound(served) / m,
        bound(bare),
        bound(bare) / m
    );
    println!(
        "ratio server / mapped: {:.2} (target ≥ {TARGET:.2}: {})",
        s / m,
        if s / m >= TARGET { "met" } else { "NOT met" }
    );
    println!("machine after: {}", machine());
    Ok(())
}
