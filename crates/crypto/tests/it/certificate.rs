//! EIP-712 licence certificates: sign, verify offline, every failure distinct.

use alloy::primitives::{Address, B256, U256, address};
use alloy::signers::local::PrivateKeySigner;
use tangible_crypto::certificate::{
    CertificateError, Expectations, LicenceCertificate, SignedCertificate,
};

const ISSUED: u64 = 1_795_000_000;
const LEASE: u64 = 30 * 24 * 3600;

fn cert(owner: Address) -> LicenceCertificate {
    LicenceCertificate {
        licenceId: U256::from(77u64),
        owner,
        filmId: 42,
        quality: 1,
        masterHash: B256::repeat_byte(0x5a),
        chainId: 31337,
        licenceContract: address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
        issuedAt: ISSUED,
        validUntil: ISSUED + LEASE,
    }
}

struct Fixture {
    platform: PrivateKeySigner,
    owner: Address,
    signed: SignedCertificate,
}

fn fixture() -> Fixture {
    let platform = PrivateKeySigner::random();
    let owner = PrivateKeySigner::random().address();
    let signed = cert(owner).sign(&platform).unwrap();
    Fixture {
        platform,
        owner,
        signed,
    }
}

const fn expect(f: &Fixture, now: u64) -> Expectations {
    Expectations {
        signer: f.platform.address(),
        owner: f.owner,
        now,
    }
}

#[test]
fn valid_certificate_verifies_inside_its_window() {
    let f = fixture();
    for now in [ISSUED, ISSUED + 1, ISSUED + LEASE / 2, ISSUED + LEASE] {
        f.signed.verify(&expect(&f, now)).unwrap();
    }
    assert_eq!(f.signed.recover_signer().unwrap(), f.platform.address());
}

#[test]
fn json_round_trip_then_verify() {
    let f = fixture();
    let json = f.signed.to_json();
    assert!(json.contains("\"licenceId\""), "{json}");
    let parsed = SignedCertificate::from_json(&json).unwrap();
    assert_eq!(parsed, f.signed);
    parsed.verify(&expect(&f, ISSUED + 10)).unwrap();
}

#[test]
fn every_tampered_field_is_caught() {
    let f = fixture();
    let base = f.signed.certificate.clone();
    let tampered = [
        LicenceCertificate {
            licenceId: base.licenceId + U256::from(1),
            ..base.clone()
        },
        LicenceCertificate {
            filmId: 43,
            ..base.clone()
        },
        LicenceCertificate {
            quality: 2,
            ..base.clone()
        },
        LicenceCertificate {
            masterHash: B256::repeat_byte(0x5b),
            ..base.clone()
        },
        LicenceCertificate {
            chainId: 1,
            ..base.clone()
        },
        LicenceCertificate {
            licenceContract: Address::repeat_byte(1),
            ..base.clone()
        },
        LicenceCertificate {
            issuedAt: ISSUED - 1,
            ..base.clone()
        },
        LicenceCertificate {
            validUntil: ISSUED + LEASE * 12,
            ..base
        },
    ];
    for c in tampered {
        let forged = SignedCertificate {
            certificate: c,
            signature: f.signed.signature.clone(),
        };
        let err = forged.verify(&expect(&f, ISSUED + 10)).unwrap_err();
        assert!(matches!(err, CertificateError::WrongSigner { .. }), "{err}");
    }
    // Changing the owner to the attacker: caught by the signature, not only the owner check.
    let attacker = PrivateKeySigner::random().address();
    let forged = SignedCertificate {
        certificate: LicenceCertificate {
            owner: attacker,
            ..base
        },
        signature: f.signed.signature.clone(),
    };
    let e = Expectations {
        owner: attacker,
        ..expect(&f, ISSUED + 10)
    };
    assert!(matches!(
        forged.verify(&e),
        Err(CertificateError::WrongSigner { .. })
    ));
}

#[test]
fn wrong_signer_is_refused() {
    let f = fixture();
    let rogue = PrivateKeySigner::random();
    let signed = cert(f.owner).sign(&rogue).unwrap();
    let err = signed.verify(&expect(&f, ISSUED + 10)).unwrap_err();
    assert!(
        matches!(err, CertificateError::WrongSigner { expected, recovered }
            if expected == f.platform.address() && recovered == rogue.address()),
        "{err}"
    );
}

#[test]
fn wrong_owner_is_refused() {
    let f = fixture();
    let someone = PrivateKeySigner::random().address();
    let e = Expectations {
        owner: someone,
        ..expect(&f, ISSUED + 10)
    };
    assert!(matches!(
        f.signed.verify(&e),
        Err(CertificateError::WrongOwner { .. })
    ));
}

#[test]
fn expired_and_not_yet_valid() {
    let f = fixture();
    assert!(matches!(
        f.signed.verify(&expect(&f, ISSUED + LEASE + 1)),
        Err(CertificateError::Expired { .. })
    ));
    assert!(matches!(
        f.signed.verify(&expect(&f, ISSUED - 1)),
        Err(CertificateError::NotYetValid { .. })
    ));
    let inverted = LicenceCertificate {
        issuedAt: ISSUED + 5,
        validUntil: ISSUED,
        ..cert(f.owner)
    };
    let signed = inverted.sign(&f.platform).unwrap();
    assert!(matches!(
        signed.verify(&expect(&f, ISSUED + 2)),
        Err(CertificateError::InvalidWindow { .. })
    ));
}

#[test]
fn malformed_inputs_are_errors() {
    let f = fixture();
    let mut bad = f.signed.clone();
    bad.signature = bad.signature.slice(..64);
    assert!(matches!(
        bad.verify(&expect(&f, ISSUED)),
        Err(CertificateError::BadSignature)
    ));
    for json in [
        "",
        "{}",
        "null",
        "{\"certificate\": 1, \"signature\": \"0x\"}",
        &f.signed
            .to_json()
            .replace("\"signature\"", "\"extra\": 1, \"signature\""),
        &format!("{} trailing", f.signed.to_json()),
        &" ".repeat(tangible_crypto::certificate::MAX_JSON_LEN + 1),
    ] {
        assert!(
            matches!(
                SignedCertificate::from_json(json),
                Err(CertificateError::Malformed(_))
            ),
            "{json:.80}"
        );
    }
}

#[test]
fn signing_hash_depends_on_domain() {
    // The digest follows EIP-712: the domain separator binds name, version, chain and contract.
    let c = cert(Address::ZERO);
    let d = c.domain();
    assert_eq!(d.name.as_deref(), Some("Tangible"));
    assert_eq!(d.version.as_deref(), Some("1"));
    assert_eq!(d.chain_id, Some(U256::from(31337)));
    assert_eq!(d.verifying_contract, Some(c.licenceContract));
    let mut other = c.clone();
    other.chainId = 10;
    assert_ne!(c.signing_hash(), other.signing_hash());
}
