//! Differential test of the split rule: the Rust copy (`tangible_domain::Split`) against the
//! deployed contract on anvil, over many random prices and commissions, through real sales.
//! Set `TANGIBLE_SEED` to replay a run and `TANGIBLE_DIFF_ROUNDS` to change its length.

use alloy::primitives::{Address, U256, keccak256};
use alloy::rpc::types::TransactionReceipt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tangible_chain::bindings::TangibleMarket::{self, SaleSettled, TangibleMarketErrors};
use tangible_domain::{Cents, MAX_COMMISSION_BPS, MIN_RESALE_PRICE, Split, SplitError};

use crate::fixture::{Chain, chain, mined};

fn rounds() -> usize {
    std::env::var("TANGIBLE_DIFF_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

fn rng() -> StdRng {
    let seed = std::env::var("TANGIBLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("split differential: TANGIBLE_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// A price spread over every order of magnitude from `min` to `u64::MAX` cents.
fn random_price(rng: &mut StdRng, min: u64) -> u64 {
    let bits = rng.random_range(1..=64u32);
    let top = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    rng.random_range(min..=top.max(min))
}

fn sale(receipt: &TransactionReceipt) -> SaleSettled {
    let mut sales = receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<SaleSettled>().ok());
    let s = sales.next().expect("a SaleSettled event").inner.data;
    assert!(sales.next().is_none(), "one SaleSettled per sale");
    s
}

/// Studio and platform accruals (`uint64` cents) plus the recipient's withdrawable balance (units):
/// a share is credited to one or the other (the accrual moves to the balance when it would
/// overflow), so their sum is what the recipient is owed.
async fn owed(c: &Chain, units_per_cent: U256) -> (U256, U256) {
    let market = c.market();
    let studio = market.studio(c.studio_id).call().await.unwrap().creditCents;
    let platform = market.platformCreditCents().call().await.unwrap();
    let royalty_balance = market
        .balanceOfCredit(c.accounts.royalty)
        .call()
        .await
        .unwrap();
    let platform_balance = market
        .balanceOfCredit(c.accounts.platform)
        .call()
        .await
        .unwrap();
    (
        U256::from(studio) * units_per_cent + royalty_balance,
        U256::from(platform) * units_per_cent + platform_balance,
    )
}

#[tokio::test]
async fn primary_split_matches_the_contract() {
    let c = chain().await;
    let market = c.market();
    let buyer = c.accounts.buyers[0];
    let units_per_cent = market.unitsPerCent().call().await.unwrap();
    let mut rng = rng();
    // Two sales at the largest price first: their studio shares exceed a uint64 accrual together
    // (the contract once reverted with panic 0x11 there), then random prices and commissions.
    let randoms = (0..rounds()).map(|_| {
        (
            random_price(&mut rng, 1),
            rng.random_range(0..=MAX_COMMISSION_BPS),
        )
    });
    let mut rounds = vec![(u64::MAX, 0), (u64::MAX, MAX_COMMISSION_BPS)];
    rounds.extend(randoms);
    for (price, bps) in rounds {
        mined(market.setStudioCommission(c.studio_id, bps)).await;
        mined(
            market
                .updateEdition(c.film_id, 2, keccak256("master"), price, "re-encode".into())
                .from(c.accounts.studio_admin),
        )
        .await;
        let (studio_before, platform_before) = owed(&c, units_per_cent).await;
        let receipt = mined(market.buyPrimary(c.film_id, 2, price, buyer).from(buyer)).await;

        let on_chain = sale(&receipt);
        let rust = Split::primary(Cents(price), bps).expect("valid primary sale");
        assert_eq!(on_chain.priceCents, price);
        assert_eq!(
            (on_chain.studioCents, on_chain.platformCents),
            (rust.studio.get(), rust.platform.get()),
            "price {price} commission {bps}"
        );
        assert_eq!(on_chain.sellerCents, 0);
        assert_eq!(on_chain.studio, c.accounts.royalty);
        assert_eq!(on_chain.platform, c.accounts.platform);
        // Each share is owed to its recipient exactly once.
        let (studio_after, platform_after) = owed(&c, units_per_cent).await;
        assert_eq!(
            studio_after - studio_before,
            U256::from(rust.studio.get()) * units_per_cent,
            "studio owed, price {price} commission {bps}"
        );
        assert_eq!(
            platform_after - platform_before,
            U256::from(rust.platform.get()) * units_per_cent,
            "platform owed, price {price} commission {bps}"
        );
    }
    // The overflowing accrual was moved to the royalty recipient's balance, not lost.
    assert!(
        market
            .balanceOfCredit(c.accounts.royalty)
            .call()
            .await
            .unwrap()
            > U256::ZERO
    );
    // Both copies refuse a commission above the bound, for that reason.
    let err = market
        .setStudioCommission(c.studio_id, MAX_COMMISSION_BPS + 1)
        .call()
        .await
        .expect_err("contract accepted a commission above the bound");
    match err.as_decoded_interface_error::<TangibleMarketErrors>() {
        Some(TangibleMarketErrors::RegistryInvalidCommission(e)) => {
            assert_eq!(
                (e.commissionBps, e.maxBps),
                (MAX_COMMISSION_BPS + 1, MAX_COMMISSION_BPS)
            );
        }
        other => panic!("expected RegistryInvalidCommission, got {other:?} ({err})"),
    }
    assert_eq!(
        Split::primary(Cents(1300), MAX_COMMISSION_BPS + 1),
        Err(SplitError::CommissionTooHigh {
            bps: MAX_COMMISSION_BPS + 1,
            max: MAX_COMMISSION_BPS
        })
    );
}

#[tokio::test]
async fn resale_split_matches_the_contract() {
    let c = chain().await;
    let market = c.market();
    let [a, b] = c.accounts.buyers;
    let units_per_cent = market.unitsPerCent().call().await.unwrap();

    let receipt = mined(market.buyPrimary(c.film_id, 2, 1300, a).from(a)).await;
    let mut licence = sale(&receipt).licenceId;
    let (mut seller, mut buyer): (Address, Address) = (a, b);

    // Both copies agree on the minimum: every price below it is refused, the minimum accepted.
    for p in 0..MIN_RESALE_PRICE.get() {
        assert_eq!(
            Split::resale(Cents(p)),
            Err(SplitError::BelowMinimum {
                price: Cents(p),
                min: MIN_RESALE_PRICE
            })
        );
        let err = market
            .list(licence, p)
            .from(seller)
            .call()
            .await
            .expect_err(&format!("contract listed at {p} cents"));
        match err.as_decoded_interface_error::<TangibleMarketErrors>() {
            Some(TangibleMarketErrors::MarketPriceBelowMinimum(e)) => {
                assert_eq!((e.priceCents, e.minimumCents), (p, MIN_RESALE_PRICE.get()));
            }
            other => panic!(
                "listing at {p} cents: expected MarketPriceBelowMinimum, got {other:?} ({err})"
            ),
        }
    }

    let mut rng = rng();
    let boundary = (MIN_RESALE_PRICE.get()..MIN_RESALE_PRICE.get() + 30).collect::<Vec<_>>();
    let randoms = (0..rounds()).map(|_| random_price(&mut rng, MIN_RESALE_PRICE.get()));
    for price in boundary.into_iter().chain(randoms) {
        let credit_before = market.balanceOfCredit(seller).call().await.unwrap();
        let listed = mined(market.list(licence, price).from(seller)).await;
        let offer_id = listed
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<TangibleMarket::OfferListed>().ok())
            .expect("OfferListed")
            .inner
            .data
            .offerId;
        let receipt = mined(market.buyOffer(offer_id, price, buyer).from(buyer)).await;

        let on_chain = sale(&receipt);
        let rust = Split::resale(Cents(price)).expect("valid resale");
        assert_eq!(
            (
                on_chain.sellerCents,
                on_chain.studioCents,
                on_chain.platformCents
            ),
            (rust.seller.get(), rust.studio.get(), rust.platform.get()),
            "price {price}"
        );
        assert_eq!(
            (on_chain.seller, on_chain.studio, on_chain.platform),
            (seller, c.accounts.royalty, c.accounts.platform)
        );
        let credit_after = market.balanceOfCredit(seller).call().await.unwrap();
        assert_eq!(
            credit_after - credit_before,
            U256::from(rust.seller.get()) * units_per_cent
        );

        // The seller's licence is revoked; the buyer holds the new one.
        assert!(market.ownerOf(licence).call().await.is_err());
        licence = on_chain.licenceId;
        assert_eq!(market.ownerOf(licence).call().await.unwrap(), buyer);
        std::mem::swap(&mut seller, &mut buyer);
    }
}
