//! What a started stack hands back about its demo: the studio, the film and its editions, and
//! anvil's development accounts in their roles (operator, studio, platform, buyers, attestation).

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use tangible_chain::deploy::DemoCatalogue;
use tangible_domain::{Cents, Quality};

use crate::chain;

/// A development account of anvil (well-known key, local chain only). `Debug` shows the
/// address only.
#[derive(Clone, PartialEq, Eq)]
pub struct DevAccount {
    /// Its index among anvil's default accounts.
    pub index: usize,
    /// The address.
    pub address: Address,
    /// The private key, `0x` + 64 hex characters.
    pub private_key: String,
}

impl std::fmt::Debug for DevAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevAccount")
            .field("index", &self.index)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// One demo edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEdition {
    /// HD or 4K.
    pub quality: Quality,
    /// The on-chain price (HD 9.00 €, 4K 13.00 €).
    pub price: Cents,
    /// The master hash registered on chain.
    pub master_hash: B256,
    /// The generated plaintext master, when generated.
    pub master_file: Option<PathBuf>,
    /// Whether the master was uploaded through the API (its content is served).
    pub uploaded: bool,
}

/// The demo catalogue and the accounts of the local chain.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    /// The studio's id ("Studio Méliès").
    pub studio_id: u32,
    /// The studio's name.
    pub studio_name: String,
    /// The film's id ("Le Voyage dans la Lune", 1902).
    pub film_id: u64,
    /// The film's title.
    pub film_title: String,
    /// The film's year.
    pub film_year: u16,
    /// HD and 4K.
    pub editions: Vec<DemoEdition>,
    /// Deployer, admin and operator (the API's settlement key; holds the card float).
    pub operator: DevAccount,
    /// The studio's admin and royalty recipient.
    pub studio: DevAccount,
    /// The platform treasury.
    pub platform: DevAccount,
    /// Accounts for buyers, each with 10,000 tEUR and 10,000 ETH.
    pub buyers: Vec<DevAccount>,
    /// The key signing licence certificates (the API's attestation key).
    pub attestation: DevAccount,
}

impl DemoInfo {
    /// The edition of a quality.
    pub fn edition(&self, quality: Quality) -> Option<&DemoEdition> {
        self.editions.iter().find(|e| e.quality == quality)
    }

    /// The demo registered on chain as `catalogue`, with its `editions` (masters generated or
    /// uploaded by then).
    pub(crate) fn new(catalogue: &DemoCatalogue, editions: Vec<DemoEdition>) -> Self {
        Self {
            studio_id: catalogue.studio_id,
            studio_name: "Studio Méliès".to_owned(),
            film_id: catalogue.film_id,
            film_title: FILM_TITLE.to_owned(),
            film_year: 1902,
            editions,
            operator: account(chain::OPERATOR),
            studio: account(chain::STUDIO),
            platform: account(chain::PLATFORM),
            buyers: chain::BUYERS.map(account).collect(),
            attestation: account(chain::ATTESTATION),
        }
    }
}

/// The demo film's title (also burned into its demo masters).
pub(crate) const FILM_TITLE: &str = "Le Voyage dans la Lune";

/// The editions registered on chain, with no master generated or uploaded yet.
pub(crate) fn registered_editions(catalogue: &DemoCatalogue) -> Vec<DemoEdition> {
    catalogue
        .editions
        .iter()
        .map(|(quality, hash, price)| DemoEdition {
            quality: *quality,
            price: *price,
            master_hash: *hash,
            master_file: None,
            uploaded: false,
        })
        .collect()
}

/// Anvil's default account number `i`.
pub(crate) fn account(i: usize) -> DevAccount {
    let signer = &chain::signers()[i];
    DevAccount {
        index: i,
        address: signer.address(),
        private_key: chain::ANVIL_KEYS[i].to_owned(),
    }
}
