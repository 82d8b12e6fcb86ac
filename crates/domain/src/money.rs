//! EUR amounts in cents.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of euros in cents: `13.00 €` is `Cents(1300)`.
///
/// Serialized as a plain integer so JSON clients never meet floating point.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub u64);

/// Errors in parsing or converting an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not a euro amount such as `8`, `8.5` or `8.00`.
    #[error("invalid euro amount {0:?}: expected digits with at most two decimals, e.g. 8.00")]
    Invalid(String),
    /// The amount does not fit the integer type.
    #[error("euro amount {0:?} is too large")]
    Overflow(String),
    /// The stablecoin has fewer than two decimals, so a cent cannot be represented.
    #[error("a stablecoin with {0} decimals cannot represent cents (needs at least 2)")]
    TooFewDecimals(u8),
}

impl Cents {
    /// Zero euros.
    pub const ZERO: Self = Self(0);

    /// The raw number of cents.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Token units for this amount on a stablecoin with `decimals` decimals
    /// (`1 cent = 10^(decimals-2)` units), exact by construction.
    pub fn to_token_units(self, decimals: u8) -> Result<u128, MoneyError> {
        let per_cent = units_per_cent(decimals)?;
        Ok(u128::from(self.0) * per_cent)
    }

    /// The amount in cents for `units` of a stablecoin with `decimals` decimals, if it is a
    /// whole number of cents.
    pub fn from_token_units(units: u128, decimals: u8) -> Result<Option<Self>, MoneyError> {
        let per_cent = units_per_cent(decimals)?;
        if !units.is_multiple_of(per_cent) {
            return Ok(None);
        }
        let cents =
            u64::try_from(units / per_cent).map_err(|_| MoneyError::Overflow(units.to_string()))?;
        Ok(Some(Self(cents)))
    }
}

fn units_per_cent(decimals: u8) -> Result<u128, MoneyError> {
    if decimals < 2 {
        return Err(MoneyError::TooFewDecimals(decimals));
    }
    10u128
        .checked_pow(u32::from(decimals - 2))
        .ok_or(MoneyError::TooFewDecimals(decimals))
}

impl fmt::Display for Cents {
    /// `1300` prints as `13.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Cents {
    type Err = MoneyError;

    /// Parses `8`, `8.5`, `8.00` or `8,00` (no sign, no exponent, at most two decimals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || MoneyError::Invalid(s.to_owned());
        let t = s.trim();
        let (whole, frac) = match t.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
            return Err(invalid());
        }
        if t.contains(['.', ',']) && frac.is_empty() {
            return Err(invalid());
        }
        let overflow = || MoneyError::Overflow(s.to_owned());
        let euros: u64 = whole.parse().map_err(|_| overflow())?;
        let cents: u64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u64>().map_err(|_| invalid())? * 10,
            _ => frac.parse().map_err(|_| invalid())?,
        };
        euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .map(Cents)
            .ok_or_else(overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_euros() {
        assert_eq!("13.00".parse::<Cents>().unwrap(), Cents(1300));
        assert_eq!("8".parse::<Cents>().unwrap(), Cents(800));
        assert_eq!("8.5".parse::<Cents>().unwrap(), Cents(850));
        assert_eq!("0,07".parse::<Cents>().unwrap(), Cents(7));
        assert_eq!(Cents(640).to_string(), "6.40");
        assert_eq!(Cents(5).to_string(), "0.05");
    }

    #[test]
    fn rejects_malformed_amounts() {
        for bad in [
            "", "-1", "1.234", "1.", ".5", "1e3", "abc", "1.2.3", " 1 . 2",
        ] {
            assert!(bad.parse::<Cents>().is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            "99999999999999999999".parse::<Cents>(),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn converts_to_token_units_exactly() {
        assert_eq!(Cents(1300).to_token_units(6).unwrap(), 13_000_000);
        assert_eq!(Cents(1300).to_token_units(18).unwrap(), 13 * 10u128.pow(18));
        assert_eq!(
            Cents::from_token_units(13_000_000, 6).unwrap(),
            Some(Cents(1300))
        );
        assert_eq!(Cents::from_token_units(13_000_001, 6).unwrap(), None);
        assert_eq!(
            Cents(1).to_token_units(1),
            Err(MoneyError::TooFewDecimals(1))
        );
    }
}
