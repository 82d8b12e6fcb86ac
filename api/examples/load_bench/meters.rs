//! What a phase costs beyond its latencies: the server's own step timers, the disk's flush
//! floor while it runs, and the CPU time of each process of the benchmark.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

/// A `metrics` recorder installed before the API starts (so the API's own Prometheus recorder
/// is not the global one): keeps the server's `key_release_step_seconds{step}` and the
/// key-release handler's `http_request_duration_seconds` in exact HDR histograms, so the
/// server-side time of each step under load can be put next to the client's latencies.
#[derive(Default)]
pub(crate) struct StepRecorder {
    series: Mutex<std::collections::BTreeMap<String, Arc<StepHistogram>>>,
}

struct StepHistogram(Mutex<Histogram<u64>>);

impl metrics::HistogramFn for StepHistogram {
    fn record(&self, seconds: f64) {
        self.0
            .lock()
            .unwrap()
            .saturating_record(((seconds * 1e6) as u64).max(1));
    }
}

impl StepRecorder {
    fn series_name(key: &metrics::Key) -> Option<String> {
        let label = |name: &str| {
            key.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_owned())
        };
        match key.name() {
            "key_release_step_seconds" => label("step"),
            "http_request_duration_seconds"
                if label("path").as_deref() == Some("/v1/licences/{id}/key") =>
            {
                Some(format!("handler, status {}", label("status")?))
            }
            _ => None,
        }
    }

    /// Prints and clears every series.
    pub(crate) fn print_and_reset(&self) {
        for (name, h) in self.series.lock().unwrap().iter() {
            let mut h = h.0.lock().unwrap();
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            println!(
                "  server {name:<20} n {:>6}  p50 {:>6.2} ms  p99 {:>6.2} ms  p99.9 {:>6.2} ms  max {:>7.2} ms",
                h.len(),
                ms(0.5),
                ms(0.99),
                ms(0.999),
                h.max() as f64 / 1000.0
            );
            h.reset();
        }
    }
}

impl metrics::Recorder for &'static StepRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        let Some(name) = StepRecorder::series_name(key) else {
            return metrics::Histogram::noop();
        };
        let h = self
            .series
            .lock()
            .unwrap()
            .entry(name)
            .or_insert_with(|| {
                Arc::new(StepHistogram(Mutex::new(
                    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
                )))
            })
            .clone();
        metrics::Histogram::from_arc(h)
    }
}

/// Times `fdatasync` of an 8 KiB append every 10 ms in the folder PostgreSQL's data lives in
/// (the same disk as its WAL), while a phase runs: a commit waits for one such flush, so this
/// is the floor of a durable commit's latency at that moment.
pub(crate) struct FsyncProbe {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Histogram<u64>>,
}

impl FsyncProbe {
    pub(crate) fn start() -> Result<Self> {
        use std::io::Write;
        let mut file = tempfile::tempfile_in(std::env::temp_dir())?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            let page = [0u8; 8192];
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                if file
                    .write_all(&page)
                    .and_then(|()| file.sync_data())
                    .is_ok()
                {
                    h.saturating_record(t.elapsed().as_micros() as u64);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            h
        });
        Ok(Self { stop, thread })
    }

    pub(crate) fn finish(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Ok(h) = self.thread.join() {
            let ms = |v: u64| v as f64 / 1000.0;
            println!(
                "  disk: fdatasync of 8 KiB (every 10 ms, beside the WAL) n {}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                h.len(),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max())
            );
        }
    }
}

/// CPU seconds used so far by the processes of this benchmark, to attribute a phase's cost:
/// this process (the API's runtime and the load generator), the PostgreSQL cluster (postmaster
/// and its backends) and anvil; plus the whole machine's busy time (other work included).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cpu {
    this: f64,
    postgres: f64,
    anvil: f64,
    machine_busy: f64,
}

impl Cpu {
    const fn ticks_per_sec() -> f64 {
        100.0 // USER_HZ on Linux
    }

    /// (ppid, utime + stime in ticks) of a process.
    fn stat(pid: u32) -> Option<(u32, u64)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &text[text.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // After "pid (comm) ": state ppid … utime is field 14 of the line, i.e. index 11 here.
        Some((
            f.get(1)?.parse().ok()?,
            f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
        ))
    }

    pub(crate) fn sample(pg_port: u16, anvil_pid: u32) -> Self {
        let secs = |t: u64| t as f64 / Self::ticks_per_sec();
        let this = Self::stat(std::process::id()).map_or(0.0, |(_, t)| secs(t));
        let anvil = Self::stat(anvil_pid).map_or(0.0, |(_, t)| secs(t));
        let port_arg = format!("-p\0{pg_port}\0");
        let mut procs = Vec::new();
        let mut postmaster = None;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some((ppid, t)) = Self::stat(pid) {
                procs.push((pid, ppid, t));
            }
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.contains("postgres") && cmd.contains(&port_arg) {
                postmaster = Some(pid);
            }
        }
        let postgres = postmaster.map_or(0.0, |pm| {
            secs(
                procs
                    .iter()
                    .filter(|(pid, ppid, _)| *pid == pm || *ppid == pm)
                    .map(|(_, _, t)| t)
                    .sum(),
            )
        });
        let machine_busy = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let cpu = s
                    .lines()
                    .next()?
                    .split_whitespace()
                    .skip(1)
                    .map(|v| v.parse::<u64>().unwrap_or(0))
                    .collect::<Vec<_>>();
                // user nice system idle iowait irq softirq steal
                Some(secs(
                    cpu.iter().take(8).sum::<u64>() - cpu.get(3)? - cpu.get(4)?,
                ))
            })
            .unwrap_or(0.0);
        Self {
            this,
            postgres,
            anvil,
            machine_busy,
        }
    }

    pub(crate) fn print_since(&self, before: &Self, requests: u64, wall: Duration) {
        let per = |v: f64| v / requests.max(1) as f64 * 1e6;
        let (this, pg, anvil, busy) = (
            self.this - before.this,
            self.postgres - before.postgres,
            self.anvil - before.anvil,
            self.machine_busy - before.machine_busy,
        );
        println!(
            "  cpu: api+generator {this:.2} s ({:.0} µs/req), postgres {pg:.2} s ({:.0} µs/req), anvil {anvil:.2} s ({:.0} µs/req); machine busy {busy:.1} of {:.1} core-s",
            per(this),
            per(pg),
            per(anvil),
            wall.as_secs_f64() * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
        );
    }
}
