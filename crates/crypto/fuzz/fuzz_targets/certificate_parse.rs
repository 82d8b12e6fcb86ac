//! Fuzz the certificate JSON parser and verifier: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tangible_crypto::certificate::{Expectations, SignedCertificate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cert) = SignedCertificate::from_json(text) {
        let _ = cert.recover_signer();
        let e = Expectations {
            signer: cert.certificate.owner,
            owner: cert.certificate.owner,
            now: 1_800_000_000,
        };
        let _ = cert.verify(&e);
        // Round trip must re-parse to the same value.
        let again = SignedCertificate::from_json(&cert.to_json()).expect("re-parse");
        assert_eq!(again, cert);
    }
});
