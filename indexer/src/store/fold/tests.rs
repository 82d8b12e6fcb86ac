//! The fold alone, on hand-made events: no node, no database.

use alloy::primitives::{Address, B256, Bytes, U256};
use tangible_chain::bindings::TangibleMarket as M;

use super::fold;
use crate::IndexerError;
use crate::decode::{Event, RawEvent, TangibleEvent};

/// An event as the decoder makes it, at `block` (timestamp `block * 12`) and `log_index`.
fn at(block: u64, log_index: u64, decoded: TangibleEvent) -> Event {
    Event {
        raw: RawEvent {
            block_number: block,
            block_hash: B256::with_last_byte(block as u8),
            block_timestamp: Some(block * 12),
            tx_hash: B256::repeat_byte(log_index as u8 + 1),
            tx_index: 0,
            log_index,
            address: Address::repeat_byte(0xee),
            topics: Vec::new(),
            data: Bytes::new(),
        },
        name: None,
        decoded: Some(decoded),
    }
}

fn addr(b: u8) -> Address {
    Address::repeat_byte(b)
}

fn studio_updated(name: &str, bps: u16) -> TangibleEvent {
    TangibleEvent::StudioUpdated(M::StudioUpdated {
        studioId: 7,
        admin: addr(1),
        royaltyRecipient: addr(2),
        commissionBps: bps,
        name: name.to_owned(),
    })
}

fn sale(payer: Address, seller: Address, licence: u64) -> TangibleEvent {
    TangibleEvent::SaleSettled(M::SaleSettled {
        licenceId: U256::from(licence),
        offerId: U256::ZERO,
        paymentRef: B256::ZERO,
        payer,
        priceCents: 1000,
        seller,
        sellerCents: 0,
        studio: addr(9),
        studioCents: 900,
        platform: addr(8),
        platformCents: 100,
    })
}

/// A resale's `SaleSettled`: licence `licence` minted by filling offer `offer`, paid by `payer`.
fn resale(payer: Address, licence: U256, offer: U256) -> TangibleEvent {
    TangibleEvent::SaleSettled(M::SaleSettled {
        licenceId: licence,
        offerId: offer,
        paymentRef: B256::ZERO,
        payer,
        priceCents: 1000,
        seller: addr(0xc2),
        sellerCents: 800,
        studio: addr(9),
        studioCents: 150,
        platform: addr(8),
        platformCents: 50,
    })
}

/// A resale's mint may sit in an earlier batch (a page of the raw log can end between them):
/// its `SaleSettled` alone closes the offer, with the licence it minted; the buyer is read from
/// that licence's row when written.
#[test]
fn a_resale_fills_its_offer_without_its_mint_in_the_batch() {
    let events = [at(40, 0, resale(addr(0xd0), U256::from(70), U256::from(6)))];
    let p = fold(&events).unwrap();
    let filled = &p.offers.filled[&U256::from(6)];
    assert_eq!((filled.block, filled.filled), (40, Some(U256::from(70))));
    assert_eq!(p.sales.len(), 1, "and it is a sale");
}

#[test]
fn last_update_of_a_key_wins_and_keys_stay_apart() {
    let edition = |film: u64, quality: u8, price: u64| {
        TangibleEvent::EditionUpdated(M::EditionUpdated {
            filmId: film,
            quality,
            masterHash: B256::repeat_byte(quality),
            priceCents: price,
        })
    };
    let events = [
        at(10, 0, studio_updated("first", 100)),
        at(10, 1, edition(3, 1, 500)),
        at(11, 0, studio_updated("second", 200)),
        at(11, 1, edition(3, 2, 700)),
        at(12, 0, edition(3, 1, 600)),
    ];
    let p = fold(&events).unwrap();
    let studio = &p.catalogue.studio_updates;
    assert_eq!(studio.len(), 1);
    assert_eq!(
        (
            studio[&7].name.as_str(),
            studio[&7].commission_bps,
            studio[&7].block
        ),
        ("second", 200, 11)
    );
    let editions = &p.catalogue.edition_updates;
    assert_eq!(editions.len(), 2, "{editions:?}");
    assert_eq!(
        (editions[&(3, 1)].price_cents, editions[&(3, 1)].block),
        (600, 12)
    );
    assert_eq!(
        (editions[&(3, 2)].price_cents, editions[&(3, 2)].block),
        (700, 11)
    );
    assert_eq!(p.catalogue.touched_films(), vec![3]);
}

#[test]
fn a_user_is_first_seen_at_its_first_event_and_the_zero_address_is_nobody() {
    let (alice, bob) = (addr(0xa1), addr(0xb0));
    let events = [
        at(20, 0, sale(alice, Address::ZERO, 1)),
        at(21, 0, sale(bob, alice, 2)),
        at(22, 0, sale(alice, bob, 3)),
    ];
    let p = fold(&events).unwrap();
    let seen = &p.users.first_seen;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[&alice], (20, Some(20 * 12)));
    assert_eq!(seen[&bob], (21, Some(21 * 12)));
    // Every sale kept, in chain order, with its amounts.
    let licences: Vec<U256> = p.sales.iter().map(|s| s.ev.licenceId).collect();
    assert_eq!(licences, [1, 2, 3].map(U256::from));
    assert_eq!(
        (
            p.sales[0].price_cents,
            p.sales[0].studio_cents,
            p.sales[0].kind()
        ),
        (1000, 900, "primary")
    );
}

#[test]
fn closures_and_revocations_keep_what_the_event_says() {
    let events = [
        at(
            30,
            0,
            TangibleEvent::OfferCancelled(M::OfferCancelled {
                offerId: U256::from(4),
            }),
        ),
        at(
            30,
            1,
            TangibleEvent::LicenceMinted(M::LicenceMinted {
                licenceId: U256::from(51),
                owner: addr(0xc0),
                filmId: 3,
                quality: 1,
                acquiredAt: 360,
                holdUntil: 0,
            }),
        ),
        at(30, 2, resale(addr(0xd0), U256::from(51), U256::from(5))),
        at(30, 3, sale(addr(0xd1), Address::ZERO, 52)),
        at(
            31,
            0,
            TangibleEvent::LicenceRevoked(M::LicenceRevoked {
                licenceId: U256::from(50),
                owner: addr(0xc1),
                reason: 2,
                replacedBy: U256::ZERO,
            }),
        ),
        at(
            31,
            1,
            TangibleEvent::LicenceRevoked(M::LicenceRevoked {
                licenceId: U256::from(60),
                owner: addr(0xc1),
                reason: 1,
                replacedBy: U256::from(61),
            }),
        ),
    ];
    let p = fold(&events).unwrap();
    let cancelled = &p.offers.cancelled[&U256::from(4)];
    assert_eq!((cancelled.block, cancelled.filled), (30, None));
    assert!(!p.offers.cancelled.contains_key(&U256::from(5)));
    let filled = &p.offers.filled[&U256::from(5)];
    assert_eq!(filled.filled, Some(U256::from(51)));
    assert_eq!(filled.tx, events[2].raw.tx_hash);
    assert_eq!(p.offers.filled.len(), 1, "a primary sale fills no offer");
    let revoked = &p.licences.revoked;
    assert_eq!(revoked[&U256::from(50)].replaced_by, None);
    assert_eq!(revoked[&U256::from(50)].reason, 2);
    assert_eq!(revoked[&U256::from(60)].replaced_by, Some(U256::from(61)));
    // The buyer is a user; a revoked licence's owner is not seen by the revocation.
    assert!(p.users.first_seen.contains_key(&addr(0xc0)));
    assert!(!p.users.first_seen.contains_key(&addr(0xc1)));
}

#[test]
fn a_value_above_bigint_is_refused_with_its_event() {
    let film = |id: u64| {
        TangibleEvent::FilmRegistered(M::FilmRegistered {
            filmId: id,
            studioId: 1,
            title: "t".to_owned(),
            year: 2026,
        })
    };
    let largest = [at(40, 0, film(i64::MAX as u64))];
    let ok = fold(&largest).unwrap();
    assert_eq!(ok.catalogue.films[0].id, i64::MAX);
    let err = fold(&[at(40, 0, film(1)), at(41, 3, film(i64::MAX as u64 + 1))]).unwrap_err();
    match err {
        IndexerError::Decode {
            event, log_index, ..
        } => assert_eq!((event, log_index), ("FilmRegistered", 3)),
        other => panic!("{other:?}"),
    }
}
