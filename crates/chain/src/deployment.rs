//! The deployment file, `deployments/<chain-id>.json`: where the contracts live on one chain.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

/// Errors reading or writing a deployment file.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The file could not be read or written.
    #[error("deployment file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid deployment description.
    #[error("deployment file {path} is malformed: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// The addresses of Tangible's contracts on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contracts {
    /// `TangibleRegistry`: studios, films and editions.
    pub registry: Address,
    /// `TangibleLicence`: the ERC-721 licences.
    pub licence: Address,
    /// `TangibleMarket`: primary sales, resale offers and the split.
    pub market: Address,
    /// The EUR stablecoin the market settles in.
    pub stablecoin: Address,
}

impl Contracts {
    /// The four addresses, for log filters.
    pub const fn all(&self) -> [Address; 4] {
        [self.registry, self.licence, self.market, self.stablecoin]
    }
}

/// One deployment of Tangible: chain, first block, contracts and the accounts given roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The EIP-155 chain id.
    pub chain_id: u64,
    /// The block of the first contract creation; indexing starts here.
    pub deployment_block: u64,
    /// The contracts' addresses.
    pub contracts: Contracts,
    /// The account holding the operator role (card settlement, revocation, registration).
    pub operator: Address,
    /// The account credited with the platform's shares.
    pub platform: Address,
}

impl Deployment {
    /// The conventional file name under a deployments folder: `<chain-id>.json`.
    pub fn file_in(dir: &Path, chain_id: u64) -> PathBuf {
        dir.join(format!("{chain_id}.json"))
    }

    /// Reads a deployment file.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeploymentError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DeploymentError::Malformed {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the deployment file atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), DeploymentError> {
        let io = |source| DeploymentError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("a deployment always serializes");
        std::fs::write(&tmp, text + "\n").map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_file_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let d = Deployment {
            chain_id: 31337,
            deployment_block: 7,
            contracts: Contracts {
                registry: Address::repeat_byte(1),
                licence: Address::repeat_byte(2),
                market: Address::repeat_byte(3),
                stablecoin: Address::repeat_byte(4),
            },
            operator: Address::repeat_byte(5),
            platform: Address::repeat_byte(6),
        };
        let path = Deployment::file_in(dir.path(), d.chain_id);
        d.save(&path).unwrap();
        assert_eq!(Deployment::load(&path).unwrap(), d);

        std::fs::write(&path, "{\"chain_id\": 1}").unwrap();
        assert!(matches!(
            Deployment::load(&path),
            Err(DeploymentError::Malformed { .. })
        ));
        assert!(matches!(
            Deployment::load(&dir.path().join("missing.json")),
            Err(DeploymentError::Io { .. })
        ));
    }
}
