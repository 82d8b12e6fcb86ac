//! Cross-check of the ECIES scheme against an independent Python implementation
//! (`tests/ecies_crosscheck.py`, using the `cryptography` package).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;
use tangible_crypto::FilmKey;
use tangible_crypto::ecies::{self, WrappedKey};

use super::ecies::{ctx, random_secret};

/// This crate's folder, read when the test runs (cargo sets it), so a test binary reused by
/// another clone sharing the target directory looks at its own clone.
fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test"))
}

/// The project's Python (with `cryptography`), else `python3` if it has the package.
pub(super) fn python() -> Option<PathBuf> {
    let venv = manifest_dir().join("../../.tools/venv/bin/python");
    [venv, PathBuf::from("python3")].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import cryptography.hazmat.primitives.ciphers.aead"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn run(py: &PathBuf, input: serde_json::Value) -> serde_json::Value {
    run_script(py, "ecies_crosscheck.py", input)
}

/// Runs `tests/<script>` with one JSON request on stdin and returns its JSON answer.
pub(super) fn run_script(
    py: &PathBuf,
    script: &str,
    input: serde_json::Value,
) -> serde_json::Value {
    let script = manifest_dir().join("tests").join(script);
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python output is JSON")
}

#[test]
fn python_implementation_agrees() {
    // scripts/bootstrap.sh (run by every make target) installs `cryptography`.
    let py = python().expect(
        "no Python with the `cryptography` package for the ECIES cross-check: run scripts/bootstrap.sh",
    );
    let sk = random_secret();
    let c = ctx();
    let context = json!({
        "licence_id": format!("{:#x}", c.licence_id),
        "film_id": c.film_id,
        "quality": c.quality,
        "chain_id": c.chain_id,
    });

    // Rust wraps, Python unwraps.
    let key = FilmKey::generate();
    let wrapped = ecies::wrap_key(&key, &sk.public_key(), &c);
    let out = run(
        &py,
        json!({
            "op": "unwrap",
            "secret_key": hex::encode(sk.to_bytes()),
            "context": context,
            "wrapped": wrapped,
        }),
    );
    assert_eq!(out["key"], hex::encode(key.expose_secret()));

    // Python unwrapping under another licence id must fail there too.
    let mut other = context.clone();
    other["licence_id"] = json!(format!(
        "{:#x}",
        c.licence_id + alloy::primitives::U256::from(1)
    ));
    let out = run(
        &py,
        json!({ "op": "unwrap", "secret_key": hex::encode(sk.to_bytes()), "context": other, "wrapped": wrapped }),
    );
    assert_eq!(out["error"], "InvalidTag");

    // Python wraps, Rust unwraps.
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    let key = FilmKey::generate();
    let out = run(
        &py,
        json!({
            "op": "wrap",
            "public_key": hex::encode(sk.public_key().to_encoded_point(true).as_bytes()),
            "context": context,
            "key": hex::encode(key.expose_secret()),
        }),
    );
    let wrapped: WrappedKey = serde_json::from_value(out["wrapped"].clone()).unwrap();
    let back = ecies::unwrap_key(&wrapped, &sk, &c).unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
}
