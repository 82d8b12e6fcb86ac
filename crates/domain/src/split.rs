//! The split of a sale between seller, studio and platform — the single Rust copy of the rule.

use serde::{Deserialize, Serialize};

use crate::Cents;

/// Basis points: 1 bps = 0.01 %, 10,000 bps = 100 %.
pub type Bps = u16;

/// 100 % in basis points.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// The studio's share of a resale: 15 %.
pub const STUDIO_RESALE_BPS: Bps = 1_500;
/// The platform's share of a resale: 5 %.
pub const PLATFORM_RESALE_BPS: Bps = 500;
/// Upper bound of a studio's primary-sale commission: 30 %.
pub const MAX_COMMISSION_BPS: Bps = 3_000;
/// Primary-sale commission of a studio registered without one: 10 %.
pub const DEFAULT_COMMISSION_BPS: Bps = 1_000;
/// The lowest resale price at which every share is at least one cent (5 % of 20 cents = 1).
pub const MIN_RESALE_PRICE: Cents = Cents(20);

/// Why a price cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A resale below [`MIN_RESALE_PRICE`] would leave a share at zero.
    #[error(
        "resale price {price} € is below the minimum of {min} € (every share must be at least 0.01 €)"
    )]
    BelowMinimum {
        /// The price asked.
        price: Cents,
        /// The minimum resale price.
        min: Cents,
    },
    /// A primary commission above [`MAX_COMMISSION_BPS`].
    #[error("commission of {bps} bps exceeds the maximum of {max} bps")]
    CommissionTooHigh {
        /// The commission asked.
        bps: Bps,
        /// The maximum commission.
        max: Bps,
    },
    /// A primary sale at a price of zero.
    #[error("a sale price must be greater than zero")]
    ZeroPrice,
}

/// How one sale's price is divided. The shares always sum to the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The sale price.
    pub price: Cents,
    /// What the seller receives (zero on a primary sale).
    pub seller: Cents,
    /// What the studio receives.
    pub studio: Cents,
    /// What the platform receives.
    pub platform: Cents,
}

/// `floor(amount * bps / 10_000)`, without overflow for any `u64` amount.
fn share(amount: u64, bps: Bps) -> u64 {
    // u64 * u16 fits in u128; the result is at most `amount`, so it fits back in u64.
    (u128::from(amount) * u128::from(bps) / u128::from(BPS_DENOMINATOR)) as u64
}

impl Split {
    /// A resale: studio `floor(15 %)`, platform `floor(5 %)`, seller the rest (so the seller
    /// receives the rounding remainder). 8 € gives 6.40 / 1.20 / 0.40.
    pub fn resale(price: Cents) -> Result<Self, SplitError> {
        if price < MIN_RESALE_PRICE {
            return Err(SplitError::BelowMinimum {
                price,
                min: MIN_RESALE_PRICE,
            });
        }
        let studio = share(price.0, STUDIO_RESALE_BPS);
        let platform = share(price.0, PLATFORM_RESALE_BPS);
        Ok(Self {
            price,
            seller: Cents(price.0 - studio - platform),
            studio: Cents(studio),
            platform: Cents(platform),
        })
    }

    /// A primary sale: the platform takes `floor(price * commission / 10_000)`, the studio the
    /// rest.
    pub fn primary(price: Cents, commission_bps: Bps) -> Result<Self, SplitError> {
        if price == Cents::ZERO {
            return Err(SplitError::ZeroPrice);
        }
        if commission_bps > MAX_COMMISSION_BPS {
            return Err(SplitError::CommissionTooHigh {
                bps: commission_bps,
                max: MAX_COMMISSION_BPS,
            });
        }
        let platform = share(price.0, commission_bps);
        Ok(Self {
            price,
            seller: Cents::ZERO,
            studio: Cents(price.0 - platform),
            platform: Cents(platform),
        })
    }

    /// The royalty a resale at `price` owes the studio (ERC-2981 reports the same 15 %).
    pub fn resale_royalty(price: Cents) -> Cents {
        Cents(share(price.0, STUDIO_RESALE_BPS))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_seed_example_splits_8_euros() {
        let s = Split::resale(Cents(800)).unwrap();
        assert_eq!(
            (s.seller, s.studio, s.platform),
            (Cents(640), Cents(120), Cents(40))
        );
    }

    #[test]
    fn rounding_remainder_goes_to_the_seller() {
        // 0.99 €: studio floor(14.85) = 14, platform floor(4.95) = 4, seller 81.
        let s = Split::resale(Cents(99)).unwrap();
        assert_eq!(
            (s.seller, s.studio, s.platform),
            (Cents(81), Cents(14), Cents(4))
        );
    }

    #[test]
    fn resale_minimum_keeps_every_share_positive() {
        assert_eq!(
            Split::resale(Cents(19)),
            Err(SplitError::BelowMinimum {
                price: Cents(19),
                min: MIN_RESALE_PRICE
            })
        );
        let s = Split::resale(MIN_RESALE_PRICE).unwrap();
        assert!(s.seller.0 > 0 && s.studio.0 > 0 && s.platform.0 > 0);
    }

    #[test]
    fn primary_commission_is_bounded() {
        let s = Split::primary(Cents(1300), DEFAULT_COMMISSION_BPS).unwrap();
        assert_eq!((s.studio, s.platform), (Cents(1170), Cents(130)));
        assert!(matches!(
            Split::primary(Cents(1300), 3_001),
            Err(SplitError::CommissionTooHigh { .. })
        ));
        assert_eq!(Split::primary(Cents(0), 1_000), Err(SplitError::ZeroPrice));
    }

    proptest! {
        #[test]
        fn resale_shares_sum_to_the_price(price in MIN_RESALE_PRICE.0..=u64::MAX) {
            let s = Split::resale(Cents(price)).unwrap();
            prop_assert_eq!(u128::from(s.seller.0) + u128::from(s.studio.0) + u128::from(s.platform.0), u128::from(price));
            prop_assert!(s.studio.0 > 0 && s.platform.0 > 0 && s.seller.0 > 0);
            // Exact floors, checked by the defining inequality rather than the same formula.
            prop_assert!(u128::from(s.studio.0) * 10_000 <= u128::from(price) * 1_500);
            prop_assert!((u128::from(s.studio.0) + 1) * 10_000 > u128::from(price) * 1_500);
            prop_assert!(u128::from(s.platform.0) * 10_000 <= u128::from(price) * 500);
            prop_assert!((u128::from(s.platform.0) + 1) * 10_000 > u128::from(price) * 500);
        }

        #[test]
        fn primary_shares_sum_to_the_price(price in 1u64..=u64::MAX, bps in 0u16..=MAX_COMMISSION_BPS) {
            let s = Split::primary(Cents(price), bps).unwrap();
            prop_assert_eq!(u128::from(s.studio.0) + u128::from(s.platform.0), u128::from(price));
            prop_assert_eq!(s.seller, Cents::ZERO);
            prop_assert!(u128::from(s.platform.0) * 10_000 <= u128::from(price) * u128::from(bps));
        }
    }
}
