//! A seeder's announcement: "the iroh node `node` serves edition `edition` for wallet `wallet`
//! until `expires_at`", signed by the node's own key, so that nobody can announce a node they do
//! not run (and point downloaders at a victim's address). The API checks the signature and, from
//! the caller's session, the wallet; it lists live announcements as providers of the edition.

use iroh::{PublicKey, SecretKey, Signature};

use crate::error::{ContentError, Result};
use crate::p2p::ProviderAddr;

/// The message a node signs for one announcement (its every field on its own line). The
/// provider's whole address is signed, its direct addresses included: nobody can list someone
/// else's node, nor their own node at a victim's IP address.
pub fn message(edition: &str, wallet: &str, provider: &ProviderAddr, expires_at: u64) -> Vec<u8> {
    format!(
        "tangible provider announcement v2\nedition: {edition}\nwallet: {}\nnode: {}\naddress: {provider}\nexpires: {expires_at}\n",
        wallet.to_ascii_lowercase(),
        provider.0.id,
    )
    .into_bytes()
}

/// The announcement's signature by `key` (the key of `provider`'s node), as hex.
pub fn sign(
    key: &SecretKey,
    provider: &ProviderAddr,
    edition: &str,
    wallet: &str,
    expires_at: u64,
) -> String {
    let sig = key.sign(&message(edition, wallet, provider, expires_at));
    hex::encode(sig.to_bytes())
}

/// Checks that `signature_hex` is `provider`'s node signature of the announcement (of this
/// very address).
pub fn verify(
    provider: &ProviderAddr,
    edition: &str,
    wallet: &str,
    expires_at: u64,
    signature_hex: &str,
) -> Result<()> {
    let bad = |detail: &str| ContentError::Parse {
        kind: "provider announcement signature",
        detail: detail.to_owned(),
    };
    let bytes = hex::decode(signature_hex.trim_start_matches("0x")).map_err(|_| bad("not hex"))?;
    let bytes: [u8; Signature::LENGTH] = bytes.try_into().map_err(|_| bad("not 64 bytes"))?;
    let signature = Signature::from_bytes(&bytes);
    let node: PublicKey = provider.0.id;
    node.verify(&message(edition, wallet, provider, expires_at), &signature)
        .map_err(|_| bad("not the node's signature of this announcement"))
}

#[cfg(test)]
mod tests {
    use iroh::EndpointAddr;

    use super::*;

    fn provider(key: &SecretKey) -> ProviderAddr {
        ProviderAddr(EndpointAddr::new(key.public()))
    }

    #[test]
    fn only_the_node_signs_its_own_announcement() {
        let key = SecretKey::generate();
        let other = SecretKey::generate();
        let wallet = "0xAbC0000000000000000000000000000000000001";
        let sig = sign(&key, &provider(&key), "7-hd", wallet, 1_000);
        verify(&provider(&key), "7-hd", wallet, 1_000, &sig).unwrap();
        // The wallet's case does not matter; every other field does.
        verify(&provider(&key), "7-hd", &wallet.to_lowercase(), 1_000, &sig).unwrap();
        assert!(verify(&provider(&other), "7-hd", wallet, 1_000, &sig).is_err());
        assert!(verify(&provider(&key), "7-4k", wallet, 1_000, &sig).is_err());
        assert!(
            verify(
                &provider(&key),
                "7-hd",
                "0x0000000000000000000000000000000000000002",
                1_000,
                &sig
            )
            .is_err()
        );
        assert!(verify(&provider(&key), "7-hd", wallet, 1_001, &sig).is_err());
        // The node's own id at another address (a victim's): not what it signed.
        let elsewhere = ProviderAddr(EndpointAddr::from_parts(
            key.public(),
            [iroh::TransportAddr::Ip("192.0.2.7:4433".parse().unwrap())],
        ));
        assert!(verify(&elsewhere, "7-hd", wallet, 1_000, &sig).is_err());
        assert!(verify(&provider(&key), "7-hd", wallet, 1_000, "00").is_err());
        assert!(verify(&provider(&key), "7-hd", wallet, 1_000, "zz").is_err());
    }
}
