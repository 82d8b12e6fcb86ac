//! The wire format, pinned: JSON as the API sends it (the field names `web/src/api-types.ts` declares)
//! goes through the types and comes back identical, so a renamed, retyped or dropped field
//! fails here.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{LoginRequest, NonceResponse};
use crate::catalogue::{FilmView, LicenceView, OfferView, Page};
use crate::config::PublicConfig;
use crate::error::{ErrorBody, codes};
use crate::health::Readiness;
use crate::purchases::{PrimaryPurchaseRequest, PurchaseView};

/// `wire` read as `T` and written back is `wire` again.
fn round_trip<T: Serialize + DeserializeOwned>(wire: Value) -> T {
    let typed: T = serde_json::from_value(wire.clone()).expect("the wire JSON reads as the type");
    assert_eq!(serde_json::to_value(&typed).unwrap(), wire);
    typed
}

#[test]
fn a_purchase_view_keeps_the_api_field_names() {
    let view: PurchaseView = round_trip(json!({
        "purchase_id": "0b8a3f4e-7d2c-4a51-9e0f-2f4d5c6b7a81",
        "kind": "primary",
        "state": "fulfilled",
        "film_id": 1,
        "quality": "hd",
        "offer_id": null,
        "buyer_address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "amount": 1300,
        "currency": "eur",
        "payment_intent_id": "pi_1",
        "licence_id": "340282366920938463463374607431768211457",
        "tx_hash": "0xabc",
        "failure_code": null,
        "failure_message": null,
        "refund_id": null,
        "revoked_tx_hash": null,
        "receipt_email_on_file": true,
        "receipt_sent_at": "2026-12-02T10:00:01.000Z",
        "attempts": [{
            "kind": "settle", "attempt": 1, "outcome": "fulfilled", "tx_hash": "0xabc",
            "detail": null, "at": "2026-12-02T10:00:00Z"
        }, {
            "kind": "receipt", "attempt": 1, "outcome": "sent", "tx_hash": null,
            "detail": "to b***@example.com", "at": "2026-12-02T10:00:01Z"
        }]
    }));
    assert_eq!(
        view.purchase_id.to_string(),
        "0b8a3f4e-7d2c-4a51-9e0f-2f4d5c6b7a81"
    );
    assert_eq!(view.amount, 1300);
}

#[test]
fn a_licence_page_keeps_its_timestamps_and_cursor() {
    let page: Page<LicenceView> = round_trip(json!({
        "items": [{
            "licence_id": "7",
            "owner_address": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "film_id": 1,
            "quality": "4k",
            "tx_hash": "0xdef",
            "acquired_at": "2026-12-02T10:00:00Z",
            "hold_until": null,
            "revoked": false,
            "revoked_reason": null,
            "replaced_by": null
        }],
        "next_cursor": "7"
    }));
    assert_eq!(
        page.items[0].acquired_at.to_rfc3339(),
        "2026-12-02T10:00:00+00:00"
    );
}

#[test]
fn an_edition_from_an_api_without_served_reads_as_served() {
    let edition: crate::catalogue::EditionView = serde_json::from_value(json!({
        "edition_id": "1-hd", "quality": "hd", "price_cents": 1300, "active": true,
        "master_hash": "0x00"
    }))
    .unwrap();
    assert!(edition.served);
}

#[test]
fn films_offers_config_and_readiness_keep_their_shapes() {
    round_trip::<FilmView>(json!({
        "film_id": 1, "studio_id": 2, "studio_name": "Studio", "title": "Film", "year": 2026,
        "editions": [{"edition_id": "1-hd", "quality": "hd", "price_cents": 1300, "active": true,
                      "master_hash": "0x00", "resale_floor_cents": 0, "served": true}]
    }));
    round_trip::<OfferView>(json!({
        "offer_id": "3", "licence_id": "7", "film_id": 1, "quality": "hd",
        "seller_address": "0x00", "price_cents": 900, "status": "active", "buyer_address": null,
        "listed_block": 42, "listed_tx": "0x01", "below_floor": false
    }));
    round_trip::<PublicConfig<Value>>(json!({
        "api_version": "v1", "server_version": "0.1.0", "chain_id": 31337,
        "deployment": {"chain_id": 31337, "deployment_block": 1},
        "stablecoin": {"address": "0x00", "decimals": 6, "units_per_cent": "10000"},
        "attestation_address": null, "certificate_validity_secs": 604800, "currency": "eur",
        "stripe_publishable_key": null, "siwe": {"domain": "localhost", "uri": "http://localhost"},
        "stripe_js_url": "https://js.stripe.com/v3/"
    }));
    // `detail` is left out when a check passed.
    round_trip::<Readiness>(json!({
        "status": "not_ready",
        "database": {"status": "ok"},
        "rpc": {"status": "error", "detail": "connection refused"},
        "stripe": {"status": "ok"},
        "operator_float_cents": null,
        "warnings": []
    }));
}

#[test]
fn a_nonce_without_address_has_no_message_field() {
    let nonce: NonceResponse = round_trip(json!({
        "nonce": "abc", "domain": "localhost", "uri": "http://localhost", "chain_id": 31337,
        "issued_at": "2026-12-02T10:00:00Z", "expiration_time": "2026-12-02T10:10:00Z",
        "statement": "Sign in to Tangible."
    }));
    assert_eq!(nonce.message, None);
}

#[test]
fn the_error_body_is_code_and_message_under_error() {
    let body: ErrorBody = round_trip(json!({
        "error": {"code": "not_owner", "message": "licence 7 is not yours"}
    }));
    assert_eq!(body.error.code, codes::NOT_OWNER);
}

#[test]
fn request_bodies_refuse_unknown_fields() {
    let ok = json!({"film_id": 1, "quality": "hd", "buyer_address": "0x00"});
    round_trip::<PrimaryPurchaseRequest>(ok);
    let with_email = json!({"film_id": 1, "quality": "hd", "buyer_address": "0x00",
        "receipt_email": "b@example.com"});
    round_trip::<PrimaryPurchaseRequest>(with_email);
    let extra = json!({"film_id": 1, "quality": "hd", "buyer_address": "0x00", "price": 1});
    assert!(serde_json::from_value::<PrimaryPurchaseRequest>(extra).is_err());
    assert!(serde_json::from_value::<LoginRequest>(json!({"message": "m"})).is_err());
}

#[test]
fn a_page_from_a_probe_row_has_a_cursor() {
    let page = Page::from_probe(vec![1, 2, 3], 2, |n| n.to_string());
    assert_eq!(page.items, [1, 2]);
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
    let last = Page::from_probe(vec![1, 2], 2, |n| n.to_string());
    assert_eq!(last.next_cursor, None);
}
