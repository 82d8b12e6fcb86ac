//! Which AES-256-GCM implementation seals and opens film segments: `ring` or aws-lc-rs.
//!
//! Both give the same bytes (AES-256-GCM is a standard), and the film code reports the same
//! errors whichever runs, but their speed depends on the CPU: on a CPU with AVX-512 and VAES,
//! aws-lc-rs (AWS-LC) has a VAES-AVX512 AES-GCM and runs far ahead of `ring` 0.17; on an AVX2-only
//! CPU with VAES, `ring` carries BoringSSL's VAES-AVX2 code and AWS-LC falls back to older
//! AES-NI code, at half the speed (figures in the crate's `README.md`).
//!
//! So the backend is chosen once per process, at the first film operation:
//! * [`BACKEND_ENV`] (`TANGIBLE_AES_BACKEND=ring` or `aws-lc`) names it; any other non-empty value
//!   makes every film operation fail with [`UnknownAesBackend`] (a typo must not silently
//!   measure);
//! * otherwise both are timed opening the same 64 KiB buffer in place (best of eight, alternated,
//!   well under a millisecond all told) and the faster one is kept ([`BackendChoice::Measured`]).
//!
//! [`with_backend`] overrides the choice on the current thread (tests, benchmarks).

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable that names the film AES-256-GCM backend: `ring` or `aws-lc`.
pub const BACKEND_ENV: &str = "TANGIBLE_AES_BACKEND";

/// An AES-256-GCM implementation the film code can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AesBackend {
    /// `ring` 0.17 (BoringSSL's assembly: VAES-AVX2 AES-GCM).
    Ring,
    /// aws-lc-rs over AWS-LC (VAES-AVX512 AES-GCM where the CPU has AVX-512).
    AwsLc,
}

impl AesBackend {
    /// Every backend, in a fixed order.
    pub const ALL: [Self; 2] = [Self::Ring, Self::AwsLc];

    /// The name [`BACKEND_ENV`] takes and [`fmt::Display`] prints: `ring` or `aws-lc`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::AwsLc => "aws-lc",
        }
    }
}

impl fmt::Display for AesBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value of [`BACKEND_ENV`] that names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{BACKEND_ENV}={value:?} names no AES-256-GCM backend: set it to \"ring\" or \"aws-lc\", or \
     unset it to let the film code measure both and keep the faster"
)]
pub struct UnknownAesBackend {
    /// The value as given (lossily decoded if it was not UTF-8).
    pub value: String,
}

impl FromStr for AesBackend {
    type Err = UnknownAesBackend;

    /// `ring`, or `aws-lc` (also `aws-lc-rs`, `awslc`); case and surrounding blanks ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ring" => Ok(Self::Ring),
            "aws-lc" | "aws-lc-rs" | "awslc" | "aws_lc" => Ok(Self::AwsLc),
            _ => Err(UnknownAesBackend { value: s.into() }),
        }
    }
}

/// How the process's backend was chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BackendChoice {
    /// Named by [`BACKEND_ENV`].
    Configured(AesBackend),
    /// Both timed at the first film operation; the faster kept.
    Measured {
        /// The faster backend.
        backend: AesBackend,
        /// `ring`'s best in-place open of the probe buffer, GB/s.
        ring_gbps: f64,
        /// aws-lc-rs's best in-place open of the same buffer, GB/s.
        aws_lc_gbps: f64,
    },
}

impl BackendChoice {
    /// The chosen backend.
    pub const fn backend(&self) -> AesBackend {
        match *self {
            Self::Configured(b) | Self::Measured { backend: b, .. } => b,
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured(b) => write!(f, "{b} (set by {BACKEND_ENV})"),
            Self::Measured {
                backend,
                ring_gbps,
                aws_lc_gbps,
            } => write!(
                f,
                "{backend} (measured at start-up over {} KiB: ring {ring_gbps:.2} GB/s, aws-lc \
                 {aws_lc_gbps:.2} GB/s)",
                PROBE_LEN / 1024
            ),
        }
    }
}

static CHOICE: OnceLock<Result<BackendChoice, UnknownAesBackend>> = OnceLock::new();

thread_local! {
    static OVERRIDE: Cell<Option<AesBackend>> = const { Cell::new(None) };
}

/// The process's backend and how it was chosen: [`BACKEND_ENV`] if set, else a measurement, made
/// once (the first call pays for it: well under a millisecond). Ignores [`with_backend`].
///
/// # Errors
/// [`UnknownAesBackend`] if [`BACKEND_ENV`] is set to something else than a backend's name.
pub fn backend_choice() -> Result<BackendChoice, UnknownAesBackend> {
    CHOICE
        .get_or_init(|| {
            let value = std::env::var_os(BACKEND_ENV);
            choose(value.as_deref().map(|v| v.to_string_lossy()).as_deref())
        })
        .clone()
}

/// The backend a film operation started now on this thread uses: the [`with_backend`] override,
/// else [`backend_choice`].
///
/// # Errors
/// As [`backend_choice`] (not when an override is in force).
pub fn current_backend() -> Result<AesBackend, UnknownAesBackend> {
    match OVERRIDE.with(Cell::get) {
        Some(b) => Ok(b),
        None => backend_choice().map(|c| c.backend()),
    }
}

/// Runs `f` with every film encoder and decoder created on this thread during it using `backend`
/// (they keep it after `f` returns). For tests and benchmarks; nests, and restores the previous
/// setting even if `f` panics.
pub fn with_backend<T>(backend: AesBackend, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<AesBackend>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(backend))));
    f()
}

/// The choice for a value of [`BACKEND_ENV`] (`None` or empty: measure).
fn choose(value: Option<&str>) -> Result<BackendChoice, UnknownAesBackend> {
    match value {
        Some(v) if !v.trim().is_empty() => v.parse().map(BackendChoice::Configured),
        _ => Ok(measure()),
    }
}

/// Bytes each backend opens per timed call when measuring.
const PROBE_LEN: usize = 64 << 10;
/// Timed calls per backend, alternated; the best counts.
const PROBE_ROUNDS: usize = 8;

/// Times both backends opening one [`PROBE_LEN`] buffer in place (the same bytes, alternated,
/// best of [`PROBE_ROUNDS`] each) and keeps the faster.
fn measure() -> BackendChoice {
    use aws_lc_rs::aead as awslc;
    use ring::aead as rg;

    // Nothing secret here: a fixed key over zeros, only to time the code.
    let key = [0x5a_u8; 32];
    let aad = [0u8; super::HEADER_LEN];
    let ring_key = rg::LessSafeKey::new(
        rg::UnboundKey::new(&rg::AES_256_GCM, &key).expect("32-byte AES-256 key"),
    );
    let aws_key = awslc::LessSafeKey::new(
        awslc::UnboundKey::new(&awslc::AES_256_GCM, &key).expect("32-byte AES-256 key"),
    );
    let nonce = [0u8; 12];
    // GCM with a fixed nonce is an involution on the data: sealing the ciphertext gives back the
    // plaintext, with the tag that authenticates it. Opening alternately with the two tags keeps
    // every open successful and full work.
    let seal = |buf: &mut [u8]| -> [u8; 16] {
        let tag = ring_key
            .seal_in_place_separate_tag(
                rg::Nonce::assume_unique_for_key(nonce),
                rg::Aad::from(&aad),
                buf,
            )
            .expect("probe within AES-GCM limits");
        tag.as_ref().try_into().expect("16-byte tag")
    };
    let mut buf = vec![0u8; PROBE_LEN];
    let tag_of_ciphertext = seal(&mut buf);
    let mut copy = buf.clone();
    let tag_of_plaintext = seal(&mut copy);
    let tags = [tag_of_ciphertext, tag_of_plaintext];
    let mut turn = 0usize;

    let mut ring_best = Duration::MAX;
    let mut aws_best = Duration::MAX;
    // One untimed round first: first-call set-up, page faults of the buffer.
    for round in 0..=PROBE_ROUNDS {
        for backend in AesBackend::ALL {
            let tag = tags[turn % 2];
            turn += 1;
            let start = Instant::now();
            let ok = match backend {
                AesBackend::Ring => ring_key
                    .open_in_place_separate_tag(
                        rg::Nonce::assume_unique_for_key(nonce),
                        rg::Aad::from(&aad),
                        rg::Tag::from(tag),
                        &mut buf,
                        0..,
                    )
                    .is_ok(),
                AesBackend::AwsLc => aws_key
                    .open_in_place_separate_tag(
                        awslc::Nonce::assume_unique_for_key(nonce),
                        awslc::Aad::from(&aad),
                        &tag,
                        &mut buf,
                    )
                    .is_ok(),
            };
            let took = start.elapsed();
            assert!(ok, "the probe authenticates under either backend");
            if round > 0 {
                let best = match backend {
                    AesBackend::Ring => &mut ring_best,
                    AesBackend::AwsLc => &mut aws_best,
                };
                *best = (*best).min(took);
            }
        }
    }
    let gbps = |d: Duration| PROBE_LEN as f64 / d.as_secs_f64().max(1e-9) / 1e9;
    let (ring_gbps, aws_lc_gbps) = (gbps(ring_best), gbps(aws_best));
    BackendChoice::Measured {
        backend: if aws_lc_gbps > ring_gbps {
            AesBackend::AwsLc
        } else {
            AesBackend::Ring
        },
        ring_gbps,
        aws_lc_gbps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for b in AesBackend::ALL {
            assert_eq!(b.to_string().parse::<AesBackend>(), Ok(b));
        }
        assert_eq!(" AWS-LC-RS ".parse::<AesBackend>(), Ok(AesBackend::AwsLc));
    }

    #[test]
    fn a_bad_setting_is_an_error_that_says_what_to_write() {
        let err = choose(Some("openssl")).unwrap_err();
        assert_eq!(err.value, "openssl");
        let msg = err.to_string();
        assert!(
            msg.contains(BACKEND_ENV) && msg.contains("\"openssl\"") && msg.contains("\"ring\""),
            "{msg}"
        );
    }

    #[test]
    fn a_setting_is_taken_and_an_empty_one_measures() {
        assert_eq!(
            choose(Some("ring")),
            Ok(BackendChoice::Configured(AesBackend::Ring))
        );
        assert_eq!(
            choose(Some("aws-lc")),
            Ok(BackendChoice::Configured(AesBackend::AwsLc))
        );
        for unset in [None, Some(""), Some("  ")] {
            let Ok(BackendChoice::Measured {
                backend,
                ring_gbps,
                aws_lc_gbps,
            }) = choose(unset)
            else {
                panic!("{unset:?} measures");
            };
            assert!(ring_gbps > 0.0 && aws_lc_gbps > 0.0);
            let faster = if aws_lc_gbps > ring_gbps {
                AesBackend::AwsLc
            } else {
                AesBackend::Ring
            };
            assert_eq!(backend, faster);
        }
    }

    #[test]
    fn with_backend_overrides_this_thread_only_and_restores() {
        let outer = current_backend().expect("no bad setting in the test environment");
        with_backend(AesBackend::Ring, || {
            assert_eq!(current_backend(), Ok(AesBackend::Ring));
            with_backend(AesBackend::AwsLc, || {
                assert_eq!(current_backend(), Ok(AesBackend::AwsLc));
            });
            assert_eq!(current_backend(), Ok(AesBackend::Ring));
            let other = std::thread::spawn(current_backend).join().unwrap();
            assert_eq!(other, backend_choice().map(|c| c.backend()));
        });
        let _ = std::panic::catch_unwind(|| with_backend(AesBackend::AwsLc, || panic!("boom")));
        assert_eq!(current_backend(), Ok(outer));
    }
}
