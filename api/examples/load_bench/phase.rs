//! The open-loop load generator and a phase's report.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::meters::{Cpu, FsyncProbe};

/// Latencies of one load phase.
pub(crate) struct Phase {
    pub(crate) hist: Histogram<u64>,
    /// (scheduled offset from the phase start, latency), µs, of every request.
    samples: Vec<(u64, u64)>,
    pub(crate) errors: u64,
    pub(crate) sent: u64,
    pub(crate) elapsed: Duration,
}

impl Phase {
    /// When the slow requests (over `slow_us`) were scheduled: per 100 ms slot of the second
    /// (a periodic stall, e.g. a block being mined every second, piles up in one or two slots)
    /// and the longest run of consecutive slow requests.
    fn print_tail_shape(&self, slow_us: u64) {
        let mut slots = [0u64; 10];
        let (mut run, mut longest) = (0u64, 0u64);
        for &(at, us) in &self.samples {
            if us > slow_us {
                slots[((at / 100_000) % 10) as usize] += 1;
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        let slow: u64 = slots.iter().sum();
        println!(
            "  over {} ms: {slow} requests; by 100 ms slot of the second {slots:?}; longest consecutive run {longest}",
            slow_us / 1000
        );
    }

    /// Prints the phase: its latencies; for a phase run under an fsync `probe`, the disk's flush
    /// times meanwhile and when its slow requests (over 25 ms) were scheduled; then the CPU it
    /// used since `before`. Returns the CPU sample `now` took at its end.
    pub(crate) fn report(
        &self,
        name: &str,
        rate: u64,
        probe: Option<FsyncProbe>,
        before: &Cpu,
        now: impl Fn() -> Cpu,
    ) -> Cpu {
        self.print(name, rate);
        if let Some(probe) = probe {
            probe.finish();
            self.print_tail_shape(25_000);
        }
        let after = now();
        after.print_since(before, self.sent, self.elapsed);
        after
    }

    fn print(&self, name: &str, rate: u64) {
        let ms = |v: u64| v as f64 / 1000.0;
        println!(
            "{name:<28} rate {rate}/s  sent {:>6}  errors {:>4}  throughput {:>7.1} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  max {:>8.2} ms",
            self.sent,
            self.errors,
            self.sent as f64 / self.elapsed.as_secs_f64(),
            ms(self.hist.value_at_quantile(0.50)),
            ms(self.hist.value_at_quantile(0.90)),
            ms(self.hist.value_at_quantile(0.99)),
            ms(self.hist.value_at_quantile(0.999)),
            ms(self.hist.max()),
        );
    }
}

/// Sends `rate × secs` requests open-loop at fixed intervals; latency is measured from each
/// request's scheduled start.
pub(crate) async fn load<F, Fut>(rate: u64, secs: u64, make: F) -> Phase
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + 'static,
{
    load_n(rate, rate * secs, make).await
}

/// Sends `n` requests open-loop at `rate` per second (see [`load`]).
pub(crate) async fn load_n<F, Fut>(rate: u64, n: u64, make: F) -> Phase
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + 'static,
{
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
    ));
    let errors = Arc::new(Mutex::new(0u64));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut tasks = Vec::with_capacity(n as usize);
            for i in 0..n {
                let at = start + Duration::from_nanos(i * 1_000_000_000 / rate);
                tokio::time::sleep_until(at).await;
                let fut = make(i);
                let (hist, errors, samples) = (hist.clone(), errors.clone(), samples.clone());
                tasks.push(tokio::task::spawn_local(async move {
                    let ok = fut.await;
                    let us = at.elapsed().as_micros() as u64;
                    hist.lock().unwrap().saturating_record(us.max(1));
                    samples
                        .lock()
                        .unwrap()
                        .push(((at - start).as_micros() as u64, us));
                    if !ok {
                        *errors.lock().unwrap() += 1;
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
    let elapsed = start.elapsed();
    let hist = hist.lock().unwrap().clone();
    let errors = *errors.lock().unwrap();
    let mut samples = std::mem::take(&mut *samples.lock().unwrap());
    samples.sort_unstable();
    Phase {
        hist,
        samples,
        errors,
        sent: n,
        elapsed,
    }
}

/// Sends `req`: true when it is answered 2xx (the body is read whole).
pub(crate) async fn send_ok(req: reqwest::RequestBuilder) -> bool {
    match req.send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}
