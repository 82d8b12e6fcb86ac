//! Sign-In with Ethereum: exact text, strict parse, sign and verify.

use alloy::primitives::address;
use chrono::{DateTime, Duration, TimeZone, Utc};
use tangible_crypto::siwe::{self, Expectations, SiweError, SiweMessage};
use tangible_crypto::wallet::Wallet;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn message(wallet: &Wallet) -> SiweMessage {
    SiweMessage {
        domain: "tangible.example".into(),
        address: wallet.address(),
        statement: Some("Sign in to Tangible.".into()),
        uri: "https://tangible.example/login".into(),
        chain_id: 31337,
        nonce: "a1B2c3D4e5".into(),
        issued_at: at("2026-11-23T09:00:00Z"),
        expiration_time: Some(at("2026-11-23T09:10:00Z")),
        not_before: None,
        request_id: None,
        resources: vec![],
    }
}

const fn expect<'a>(now: DateTime<Utc>) -> Expectations<'a> {
    Expectations {
        domain: "tangible.example",
        chain_id: 31337,
        nonce: "a1B2c3D4e5",
        now,
    }
}

#[test]
fn exact_eip4361_text() {
    // The example of EIP-4361 (with the test mnemonic's address).
    let w = Wallet::from_mnemonic("test test test test test test test test test test test junk")
        .unwrap();
    let text = message(&w).to_string();
    let expected = "tangible.example wants you to sign in with your Ethereum account:\n\
0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n\
\n\
Sign in to Tangible.\n\
\n\
URI: https://tangible.example/login\n\
Version: 1\n\
Chain ID: 31337\n\
Nonce: a1B2c3D4e5\n\
Issued At: 2026-11-23T09:00:00Z\n\
Expiration Time: 2026-11-23T09:10:00Z";
    assert_eq!(text, expected);
    assert_eq!(
        w.address(),
        address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    );
}

#[test]
fn parse_round_trip_with_all_fields() {
    let w = Wallet::generate();
    let mut m = message(&w);
    m.not_before = Some(at("2026-11-23T08:59:00Z"));
    m.request_id = Some("req-17".into());
    m.resources = vec![
        "https://tangible.example/terms".into(),
        "ipfs://bafy".into(),
    ];
    let text = m.to_string();
    assert!(text.ends_with("Resources:\n- https://tangible.example/terms\n- ipfs://bafy"));
    assert_eq!(SiweMessage::parse(&text).unwrap(), m);
    // Without statement there are two empty lines.
    m.statement = None;
    let text = m.to_string();
    assert!(
        text.contains(&format!("{}\n\n\nURI: ", w.address().to_checksum(None))),
        "{text}"
    );
    assert_eq!(SiweMessage::parse(&text).unwrap(), m);
}

#[test]
fn parse_is_strict() {
    let w = Wallet::generate();
    let good = message(&w).to_string();
    let lower = good.replace(
        &w.address().to_checksum(None),
        &format!("{:#x}", w.address()).to_lowercase(),
    );
    let cases = [
        good.replace("Version: 1", "Version: 2"),
        good.replace("Chain ID: 31337", "Chain ID: +31337"),
        good.replace("Chain ID: 31337", "Chain ID: 0x7a69"),
        good.replace("Nonce: a1B2c3D4e5", "Nonce: short"),
        good.replace("Nonce: a1B2c3D4e5", "Nonce: a1B2c3D4e5!"),
        good.replace("Issued At: 2026-11-23T09:00:00Z", "Issued At: yesterday"),
        good.replace("URI: ", "Uri: "),
        good.replace(" wants you", " want you"),
        format!("{good}\n"),
        format!("{good}\nUnknown: field"),
        good.replace("\n\nURI", "\nURI"),
        good.replace("Expiration Time", "Expires"),
        lower,
        String::new(),
    ];
    for text in cases {
        assert!(
            matches!(SiweMessage::parse(&text), Err(SiweError::Parse { .. })),
            "accepted:\n{text}"
        );
    }
}

#[test]
fn sign_and_verify() {
    let w = Wallet::generate();
    let m = message(&w);
    let (text, sig) = m.sign(&w).unwrap();
    let now = at("2026-11-23T09:01:00Z");
    let ok = siwe::verify(&text, &sig.as_bytes(), &expect(now)).unwrap();
    assert_eq!(ok.address(), w.address());
    assert_eq!(ok.public_key, w.public_key());
    assert_eq!(ok.message, m);
}

#[test]
fn tampered_message_or_other_signer_is_refused() {
    let w = Wallet::generate();
    let (text, sig) = message(&w).sign(&w).unwrap();
    let now = at("2026-11-23T09:01:00Z");
    // Tampered text (still well-formed): recovers another address.
    let tampered = text.replace("Sign in to Tangible.", "Sign in to Tangible!");
    assert!(matches!(
        siwe::verify(&tampered, &sig.as_bytes(), &expect(now)),
        Err(SiweError::AddressMismatch { .. })
    ));
    // A message claiming to be from another address, signed by this wallet.
    let victim = Wallet::generate();
    let claimed = SiweMessage {
        address: victim.address(),
        ..message(&w)
    }
    .to_string();
    let sig2 = w.sign_message(claimed.as_bytes()).unwrap();
    assert!(matches!(
        siwe::verify(&claimed, &sig2.as_bytes(), &expect(now)),
        Err(SiweError::AddressMismatch { address, recovered })
            if address == victim.address() && recovered == w.address()
    ));
    // Signing for another address is refused on the client.
    assert!(matches!(
        SiweMessage {
            address: victim.address(),
            ..message(&w)
        }
        .sign(&w),
        Err(SiweError::WrongWallet { .. })
    ));
    // Garbage signature.
    assert!(matches!(
        siwe::verify(&text, &[1u8; 10], &expect(now)),
        Err(SiweError::BadSignature)
    ));
}

#[test]
fn domain_chain_nonce_and_time_are_checked() {
    let w = Wallet::generate();
    let (text, sig) = message(&w).sign(&w).unwrap();
    let sig = sig.as_bytes();
    let now = at("2026-11-23T09:01:00Z");
    let check = |e: Expectations<'_>| siwe::verify(&text, &sig, &e);
    assert!(matches!(
        check(Expectations {
            domain: "evil.example",
            ..expect(now)
        }),
        Err(SiweError::DomainMismatch { .. })
    ));
    assert!(matches!(
        check(Expectations {
            chain_id: 1,
            ..expect(now)
        }),
        Err(SiweError::ChainMismatch {
            expected: 1,
            found: 31337
        })
    ));
    assert!(matches!(
        check(Expectations {
            nonce: "zzzzzzzzzz",
            ..expect(now)
        }),
        Err(SiweError::NonceMismatch)
    ));
    assert!(matches!(
        check(expect(at("2026-11-23T09:10:00Z"))),
        Err(SiweError::Expired(_))
    ));
    assert!(matches!(
        check(expect(Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap())),
        Err(SiweError::IssuedInFuture(_))
    ));
    // Small clock skew is tolerated.
    check(expect(at("2026-11-23T09:00:00Z") - Duration::seconds(30))).unwrap();

    let mut m = message(&w);
    m.not_before = Some(at("2026-11-23T09:05:00Z"));
    let (text, sig) = m.sign(&w).unwrap();
    assert!(matches!(
        siwe::verify(&text, &sig.as_bytes(), &expect(now)),
        Err(SiweError::NotYetValid(_))
    ));
}

#[test]
fn fields_with_line_breaks_cannot_be_signed() {
    let w = Wallet::generate();
    let m = SiweMessage {
        statement: Some("a\nURI: https://evil".into()),
        ..message(&w)
    };
    assert!(matches!(m.sign(&w), Err(SiweError::InvalidField(_))));
}
