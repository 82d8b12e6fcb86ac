//! ECIES key wrapping: round trip, binding to licence context and recipient, malformed input.

use alloy::primitives::U256;
use k256::SecretKey;
use tangible_crypto::FilmKey;
use tangible_crypto::ecies::{self, EciesError, KeyReleaseContext, WrappedKey};

pub(crate) fn random_secret() -> SecretKey {
    use rand::RngCore;
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(sk) = SecretKey::from_slice(&bytes) {
            return sk;
        }
    }
}

pub(crate) fn ctx() -> KeyReleaseContext {
    KeyReleaseContext {
        licence_id: U256::from(0x1234_5678_9abc_u64) << 100,
        film_id: 42,
        quality: 2,
        chain_id: 31337,
    }
}

#[test]
fn wrap_then_unwrap() {
    let sk = random_secret();
    let key = FilmKey::generate();
    let wrapped = ecies::wrap_key(&key, &sk.public_key(), &ctx());
    assert_eq!(wrapped.ephemeral_public_key.len(), 33);
    assert_eq!(wrapped.ciphertext.len(), 48);
    let back = ecies::unwrap_key(&wrapped, &sk, &ctx()).unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    // Two wraps of the same key differ (fresh ephemeral key and nonce).
    let again = ecies::wrap_key(&key, &sk.public_key(), &ctx());
    assert_ne!(again.ephemeral_public_key, wrapped.ephemeral_public_key);
    assert_ne!(again.ciphertext, wrapped.ciphertext);
}

#[test]
fn wrapped_for_one_licence_cannot_be_unwrapped_as_another() {
    let sk = random_secret();
    let wrapped = ecies::wrap_key(&FilmKey::generate(), &sk.public_key(), &ctx());
    let base = ctx();
    let others = [
        KeyReleaseContext {
            licence_id: base.licence_id + U256::from(1),
            ..base
        },
        KeyReleaseContext {
            film_id: 43,
            ..base
        },
        KeyReleaseContext { quality: 1, ..base },
        KeyReleaseContext {
            chain_id: 8453,
            ..base
        },
    ];
    for other in others {
        assert!(
            matches!(
                ecies::unwrap_key(&wrapped, &sk, &other),
                Err(EciesError::Unwrap)
            ),
            "{other}"
        );
    }
}

#[test]
fn only_the_recipient_can_unwrap() {
    let owner = random_secret();
    let wrapped = ecies::wrap_key(&FilmKey::generate(), &owner.public_key(), &ctx());
    assert!(matches!(
        ecies::unwrap_key(&wrapped, &random_secret(), &ctx()),
        Err(EciesError::Unwrap)
    ));
}

#[test]
fn tampering_is_detected() {
    let sk = random_secret();
    let wrapped = ecies::wrap_key(&FilmKey::generate(), &sk.public_key(), &ctx());
    for i in 0..wrapped.ciphertext.len() {
        let mut bad = wrapped.clone();
        bad.ciphertext[i] ^= 1;
        assert!(ecies::unwrap_key(&bad, &sk, &ctx()).is_err());
    }
    for i in 0..12 {
        let mut bad = wrapped.clone();
        bad.nonce[i] ^= 0x80;
        assert!(ecies::unwrap_key(&bad, &sk, &ctx()).is_err());
    }
    // Another valid ephemeral key.
    let mut bad = wrapped.clone();
    bad.ephemeral_public_key =
        ecies::wrap_key(&FilmKey::generate(), &sk.public_key(), &ctx()).ephemeral_public_key;
    assert!(matches!(
        ecies::unwrap_key(&bad, &sk, &ctx()),
        Err(EciesError::Unwrap)
    ));
    let mut bad = wrapped.clone();
    bad.ephemeral_public_key[1] ^= 1; // most likely not on the curve, else a wrong key
    assert!(ecies::unwrap_key(&bad, &sk, &ctx()).is_err());
    let mut bad = wrapped.clone();
    bad.ephemeral_public_key.truncate(32);
    assert!(matches!(
        ecies::unwrap_key(&bad, &sk, &ctx()),
        Err(EciesError::Malformed(_))
    ));
    let mut bad = wrapped;
    bad.version = 2;
    assert!(matches!(
        ecies::unwrap_key(&bad, &sk, &ctx()),
        Err(EciesError::UnsupportedVersion(2))
    ));
}

#[test]
fn wrapped_key_json_round_trip() {
    let sk = random_secret();
    let key = FilmKey::generate();
    let wrapped = ecies::wrap_key(&key, &sk.public_key(), &ctx());
    let json = serde_json::to_string(&wrapped).unwrap();
    assert!(json.contains("\"ephemeral_public_key\":\"0x"), "{json}");
    let back: WrappedKey = serde_json::from_str(&json).unwrap();
    assert_eq!(back, wrapped);
    assert_eq!(
        ecies::unwrap_key(&back, &sk, &ctx())
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );
    assert!(
        serde_json::from_str::<WrappedKey>(&json.replace("\"version\"", "\"extra\":1,\"version\""))
            .is_err()
    );
}

#[test]
fn public_key_forms() {
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    let pk = random_secret().public_key();
    let compressed = pk.to_encoded_point(true);
    let uncompressed = pk.to_encoded_point(false);
    assert_eq!(ecies::parse_public_key(compressed.as_bytes()).unwrap(), pk);
    assert_eq!(
        ecies::parse_public_key(uncompressed.as_bytes()).unwrap(),
        pk
    );
    assert_eq!(
        ecies::parse_public_key(&uncompressed.as_bytes()[1..]).unwrap(),
        pk
    );
    assert!(ecies::parse_public_key(&[3u8; 10]).is_err());
    assert!(ecies::parse_public_key(&[0u8; 33]).is_err());
}
