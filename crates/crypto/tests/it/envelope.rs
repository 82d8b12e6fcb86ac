//! Envelope encryption of edition keys and KEK rotation.

use tangible_crypto::envelope::{self, EnvelopeError, Kek, KeyRing, SealedEditionKey};
use tangible_crypto::{EditionId, FilmKey};

#[test]
fn seal_open_round_trip() {
    let kek = Kek::generate("kek-1").unwrap();
    let key = FilmKey::generate();
    let edition = EditionId::new(5, 1);
    let sealed = envelope::seal(&kek, edition, &key);
    assert_eq!(sealed.kek_id, "kek-1");
    assert_eq!(
        envelope::open(&kek, &sealed).unwrap().expose_secret(),
        key.expose_secret()
    );
    let json = serde_json::to_string(&sealed).unwrap();
    let back: SealedEditionKey = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sealed);
}

#[test]
fn sealed_key_is_bound_to_its_edition() {
    let kek = Kek::generate("kek-1").unwrap();
    let mut sealed = envelope::seal(&kek, EditionId::new(5, 1), &FilmKey::generate());
    sealed.edition = EditionId::new(5, 2);
    assert!(matches!(
        envelope::open(&kek, &sealed),
        Err(EnvelopeError::Corrupted { .. })
    ));
    sealed.edition = EditionId::new(6, 1);
    assert!(matches!(
        envelope::open(&kek, &sealed),
        Err(EnvelopeError::Corrupted { .. })
    ));
}

#[test]
fn wrong_kek_is_refused() {
    let kek = Kek::generate("kek-1").unwrap();
    let sealed = envelope::seal(&kek, EditionId::new(5, 1), &FilmKey::generate());
    // Same id, other bytes.
    let impostor = Kek::generate("kek-1").unwrap();
    assert!(matches!(
        envelope::open(&impostor, &sealed),
        Err(EnvelopeError::Corrupted { .. })
    ));
    // Other id.
    let other = Kek::generate("kek-2").unwrap();
    assert!(matches!(
        envelope::open(&other, &sealed),
        Err(EnvelopeError::UnknownKek { .. })
    ));
    // Tampered ciphertext.
    let mut bad = sealed;
    bad.ciphertext[3] ^= 1;
    assert!(envelope::open(&kek, &bad).is_err());
}

#[test]
fn rotation_rewraps_without_changing_the_film_key() {
    let old = Kek::from_hex("kek-2026-10", &"11".repeat(32)).unwrap();
    let new = Kek::from_hex("kek-2026-11", &format!("0x{}", "22".repeat(32))).unwrap();
    let keys: Vec<(EditionId, FilmKey)> = (0..5)
        .map(|i| (EditionId::new(i, (i % 3) as u8), FilmKey::generate()))
        .collect();
    let sealed: Vec<SealedEditionKey> = keys
        .iter()
        .map(|(e, k)| envelope::seal(&old, *e, k))
        .collect();

    // During rotation both KEKs are configured; new seals use the new one.
    let ring = KeyRing::new(new.clone(), vec![old.clone()]);
    assert!(sealed.iter().all(|s| ring.needs_rotation(s)));
    let rotated: Vec<SealedEditionKey> = sealed.iter().map(|s| ring.rotate(s).unwrap()).collect();
    for ((edition, key), r) in keys.iter().zip(&rotated) {
        assert_eq!(r.kek_id, "kek-2026-11");
        assert_eq!(r.edition, *edition);
        assert!(!ring.needs_rotation(r));
        // Rotating again is a no-op.
        assert_eq!(&ring.rotate(r).unwrap(), r);
        // After rotation the old KEK can be dropped from configuration.
        let only_new = KeyRing::new(new.clone(), vec![]);
        assert_eq!(
            only_new.open(r).unwrap().expose_secret(),
            key.expose_secret()
        );
    }
    // Sealed keys not yet rotated are refused once the old KEK is gone.
    let only_new = KeyRing::new(new.clone(), vec![]);
    assert!(matches!(
        only_new.open(&sealed[0]),
        Err(EnvelopeError::UnknownKek { .. })
    ));
    // The single-step helper agrees.
    let r = envelope::rewrap(&old, &new, &sealed[1]).unwrap();
    assert_eq!(
        envelope::open(&new, &r).unwrap().expose_secret(),
        keys[1].1.expose_secret()
    );
}

#[test]
fn kek_from_config_is_validated_and_never_printed() {
    assert!(Kek::from_hex("k", "zz").is_err());
    assert!(Kek::from_hex("k", &"ab".repeat(31)).is_err());
    assert!(Kek::from_hex("", &"ab".repeat(32)).is_err());
    let kek = Kek::from_hex("k", &"ab".repeat(32)).unwrap();
    let shown = format!("{kek:?}");
    assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    let key = FilmKey::from_bytes([0xcd; 32]);
    let shown = format!("{key:?} {:?}", KeyRing::new(kek, vec![]));
    assert!(!shown.contains("cd") && !shown.contains("205"), "{shown}");
}
