//! Film qualities: one encrypted master and one price per quality.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The quality of an edition. The on-chain code is the `u8` discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Standard definition (code 0, `"sd"`).
    Sd = 0,
    /// High definition (code 1, `"hd"`).
    Hd = 1,
    /// 4K UHD (code 2, `"4k"`).
    #[serde(rename = "4k")]
    Uhd4k = 2,
}

/// A quality name or code that Tangible does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quality {0:?}: expected sd, hd or 4k")]
pub struct ParseQualityError(pub String);

impl Quality {
    /// Every quality, in code order.
    pub const ALL: [Self; 3] = [Self::Sd, Self::Hd, Self::Uhd4k];

    /// The on-chain code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The quality for an on-chain code.
    pub fn from_code(code: u8) -> Result<Self, ParseQualityError> {
        Self::ALL
            .into_iter()
            .find(|q| q.code() == code)
            .ok_or_else(|| ParseQualityError(code.to_string()))
    }

    /// The API/CLI name: `sd`, `hd` or `4k`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sd => "sd",
            Self::Hd => "hd",
            Self::Uhd4k => "4k",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quality {
    type Err = ParseQualityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sd" => Ok(Self::Sd),
            "hd" => Ok(Self::Hd),
            "4k" | "uhd" | "uhd4k" => Ok(Self::Uhd4k),
            _ => Err(ParseQualityError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for q in Quality::ALL {
            assert_eq!(q.as_str().parse::<Quality>().unwrap(), q);
            assert_eq!(Quality::from_code(q.code()).unwrap(), q);
            let json = serde_json::to_string(&q).unwrap();
            assert_eq!(json, format!("\"{}\"", q.as_str()));
        }
        assert!(Quality::from_code(3).is_err());
        assert!("8k".parse::<Quality>().is_err());
    }
}
