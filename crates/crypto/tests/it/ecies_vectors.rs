//! Key-wrapping vectors shared with the web client (`tests/vectors/ecies-v1.json`): edition keys
//! wrapped by this crate's [`ecies::wrap_key`] to fixed recipient keys and licence contexts, with
//! cases that must not open (another licence, another recipient, an altered tag). This test
//! checks the committed file against the crate (every `opens` vector unwraps to its `key`, every
//! other is refused); the browser's unwrap (`web/src/ecies.ts`) is checked against the same file
//! by vitest. Regenerate with `TANGIBLE_WRITE_VECTORS=1 cargo test -p tangible-crypto --test it
//! -- ecies_vectors` (wrapping is randomised: ephemeral key and nonce are fresh each time).

use std::path::PathBuf;

use alloy::primitives::U256;
use k256::SecretKey;
use serde::{Deserialize, Serialize};
use tangible_crypto::FilmKey;
use tangible_crypto::ecies::{self, KeyReleaseContext, WrappedKey};

use super::ecies::random_secret;

#[derive(Serialize, Deserialize)]
struct Vectors {
    scheme: String,
    note: String,
    vectors: Vec<Vector>,
}

/// Integers as decimal strings (a licence id is 256 bits; JavaScript numbers stop at 2^53).
#[derive(Serialize, Deserialize)]
struct Context {
    licence_id: String,
    film_id: String,
    quality: u8,
    chain_id: String,
}

#[derive(Serialize, Deserialize)]
struct Vector {
    name: String,
    /// The recipient's (licence owner's) secret key, 32 bytes hex.
    recipient_secret_key: String,
    /// The context the unwrapping side uses.
    context: Context,
    wrapped: WrappedKey,
    /// Whether it must open; then to `key`.
    opens: bool,
    key: Option<String>,
}

fn path() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test"))
        .join("tests/vectors/ecies-v1.json")
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn to_ctx(c: &Context) -> KeyReleaseContext {
    KeyReleaseContext {
        licence_id: c.licence_id.parse().expect("licence id"),
        film_id: c.film_id.parse().expect("film id"),
        quality: c.quality,
        chain_id: c.chain_id.parse().expect("chain id"),
    }
}

fn from_ctx(c: &KeyReleaseContext) -> Context {
    Context {
        licence_id: c.licence_id.to_string(),
        film_id: c.film_id.to_string(),
        quality: c.quality,
        chain_id: c.chain_id.to_string(),
    }
}

fn secret(hex_key: &str) -> SecretKey {
    SecretKey::from_slice(&hex::decode(hex_key.trim_start_matches("0x")).unwrap())
        .expect("secret key")
}

fn generate() -> Vectors {
    let mut vectors = Vec::new();
    let mut push = |name: &str,
                    sk: &SecretKey,
                    wrap_ctx: KeyReleaseContext,
                    open_ctx: KeyReleaseContext,
                    opens: bool| {
        let key = FilmKey::generate();
        let mut wrapped = ecies::wrap_key(&key, &sk.public_key(), &wrap_ctx);
        if name == "altered-tag" {
            *wrapped.ciphertext.last_mut().unwrap() ^= 0x01;
        }
        let recipient = if name == "other-recipient" {
            random_secret()
        } else {
            sk.clone()
        };
        vectors.push(Vector {
            name: name.to_owned(),
            recipient_secret_key: hex0x(&recipient.to_bytes()),
            context: from_ctx(&open_ctx),
            wrapped,
            opens,
            key: opens.then(|| hex0x(key.expose_secret())),
        });
    };
    let typical = KeyReleaseContext {
        licence_id:
            "112101637942157366411592196137478291624718916734131094542788425327846573731846"
                .parse()
                .unwrap(),
        film_id: 1,
        quality: 2,
        chain_id: 31337,
    };
    let small = KeyReleaseContext {
        licence_id: U256::from(1),
        film_id: 7,
        quality: 0,
        chain_id: 1,
    };
    let max = KeyReleaseContext {
        licence_id: U256::MAX,
        film_id: u64::MAX,
        quality: 2,
        chain_id: u64::MAX,
    };
    let sk = random_secret();
    push("typical", &sk, typical, typical, true);
    push("small-values", &random_secret(), small, small, true);
    push("max-values", &random_secret(), max, max, true);
    let next_licence = KeyReleaseContext {
        licence_id: typical.licence_id + U256::from(1),
        ..typical
    };
    push("other-licence", &sk, typical, next_licence, false);
    push(
        "other-film",
        &sk,
        typical,
        KeyReleaseContext {
            film_id: 2,
            ..typical
        },
        false,
    );
    push(
        "other-quality",
        &sk,
        typical,
        KeyReleaseContext {
            quality: 1,
            ..typical
        },
        false,
    );
    push(
        "other-chain",
        &sk,
        typical,
        KeyReleaseContext {
            chain_id: 1,
            ..typical
        },
        false,
    );
    push("other-recipient", &sk, typical, typical, false);
    push("altered-tag", &sk, typical, typical, false);
    Vectors {
        scheme: "tangible/ecies/v1".to_owned(),
        note: "Written by crates/crypto/tests/it/ecies_vectors.rs with ecies::wrap_key; checked there and by web/src/test/ecies.test.ts."
            .to_owned(),
        vectors,
    }
}

#[test]
fn ecies_vectors_open_with_the_crate() {
    if std::env::var_os("TANGIBLE_WRITE_VECTORS").is_some() {
        let json = serde_json::to_string_pretty(&generate()).unwrap();
        std::fs::write(path(), json + "\n").unwrap();
    }
    let v: Vectors = serde_json::from_str(
        &std::fs::read_to_string(path()).expect("tests/vectors/ecies-v1.json"),
    )
    .unwrap();
    assert_eq!(v.scheme, "tangible/ecies/v1");
    assert!(
        v.vectors.iter().filter(|x| x.opens).count() >= 3
            && v.vectors.iter().filter(|x| !x.opens).count() >= 3
    );
    for x in &v.vectors {
        let got = ecies::unwrap_key(
            &x.wrapped,
            &secret(&x.recipient_secret_key),
            &to_ctx(&x.context),
        );
        if x.opens {
            let key = got.unwrap_or_else(|e| panic!("{}: {e}", x.name));
            assert_eq!(Some(hex0x(key.expose_secret())), x.key, "{}", x.name);
        } else {
            assert!(
                matches!(got, Err(ecies::EciesError::Unwrap)),
                "{} must not open",
                x.name
            );
            assert!(x.key.is_none(), "{}", x.name);
        }
    }
}
