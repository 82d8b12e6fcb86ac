//! The chain from the API's side: reads (prices, offers, licences, the operator's float) and the
//! operator's writes (card settlement, revocation, and the registry calls made on behalf of
//! studios: studios, films, editions), with contract reverts decoded.
//!
//! Every write is signed by the operator key, which holds the market's three platform key roles
//! (settler, revoker, registrar): the registry lets `REGISTRAR_ROLE` act for any studio, so the API checks the caller's authority itself (see `routes::studios`) before
//! sending.
//!
//! Every write goes through the `sender` module (`chain/sender.rs`): the operator's nonces are
//! allocated in Postgres, one send at a time across all API instances, with gaps (a
//! transaction the node lost) recovered, so that instances sharing the key never race for a
//! nonce (see that module for the design and why it was chosen over an elected sender).

use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, PendingTransactionBuilder, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use sqlx::PgPool;
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket::{self, TangibleMarketErrors};
use tangible_chain::bindings::TestEuro;
use tokio::sync::OnceCell;

mod credit;
pub use credit::CreditRelayed;
mod history;
mod ids;
mod orders;
mod registry;
mod sender;

pub use history::{FloatMovement, FloatMovementKind, Settlement};
pub use ids::{card_licence_id, payment_ref, reinstatement_ref};

use alloy::network::TransactionBuilder;

/// Errors of a chain call.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The contract reverted with one of its errors.
    #[error("contract reverted: {0:?}")]
    Reverted(Box<TangibleMarketErrors>),
    /// The transaction was mined but failed.
    #[error("transaction {0} failed")]
    Failed(B256),
    /// The node could not be reached or gave no usable answer (retry later).
    #[error("rpc: {0}")]
    Rpc(String),
    /// The transaction was sent but no receipt came in time: it may still be mined.
    #[error("transaction {hash} sent, no receipt yet: {why}")]
    NotMined {
        /// The transaction sent.
        hash: B256,
        /// Why the wait ended.
        why: String,
    },
}

/// An edition as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub struct Edition {
    /// Price in cents (0: not registered).
    pub price_cents: u64,
    /// On primary sale.
    pub active: bool,
    /// The encrypted master's hash.
    pub master_hash: B256,
    /// Lowest resale price, cents (0: the market's minimum only).
    pub resale_floor_cents: u64,
    /// Lowest primary price the edition ever had, cents: the floor is at most half of it.
    pub lowest_price_cents: u64,
}

impl Edition {
    /// The highest resale floor the market accepts once the price is `price_cents`: half the
    /// lowest primary price the edition ever had (the contract's `MAX_RESALE_FLOOR_BPS`).
    pub fn max_resale_floor_cents(&self, price_cents: u64) -> u64 {
        self.lowest_price_cents.min(price_cents) / 2
    }
}

/// An offer as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// The licence offered.
    pub licence_id: U256,
    /// The seller.
    pub seller: Address,
    /// Price in cents (0 when inactive).
    pub price_cents: u64,
    /// Still buyable.
    pub active: bool,
}

/// A licence as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub struct Licence {
    /// Current (or, if revoked, last) owner; zero for a licence resold in stablecoin into its
    /// slot (see [`Licence::resold_in_slot`]).
    pub owner: Address,
    /// Film.
    pub film_id: u64,
    /// Quality code.
    pub quality: u8,
    /// Revoked (resold, charged back, fraud).
    pub revoked: bool,
    /// Why, when revoked: [`REVOKED_FOR_RESALE`] (replaced by its buyer's licence), 1
    /// chargeback, 2 fraud, 3 other (the contract's `REASON_*`).
    pub revoke_reason: u8,
}

/// The revocation reason of a licence replaced by a resale (`REASON_RESALE`): its sale stands.
pub const REVOKED_FOR_RESALE: u8 = 0;

impl Licence {
    /// Revoked for something other than a resale (a chargeback, a refund, fraud): the money
    /// of its sale no longer stands for a licence.
    pub const fn revoked_unsold(&self) -> bool {
        self.revoked && self.revoke_reason != REVOKED_FOR_RESALE
    }

    /// Resold in stablecoin and replaced in its storage slot by its buyer's licence (one
    /// generation up): the chain no longer records its last owner (its events do).
    pub fn resold_in_slot(&self) -> bool {
        self.revoked && self.revoke_reason == REVOKED_FOR_RESALE && self.owner.is_zero()
    }
}

/// A studio as the chain sees it.
#[derive(Debug, Clone)]
pub struct Studio {
    /// The wallet allowed to manage the studio.
    pub admin: Address,
    /// Receives the studio's earnings.
    pub royalty_recipient: Address,
    /// Primary commission of the platform, basis points.
    pub commission_bps: u16,
    /// Earnings cleared and not yet withdrawn, cents (`withdrawStudio` pays them).
    pub credit_cents: u64,
    /// Name.
    pub name: String,
}

/// The stablecoin the market settles in, as the chain sees it (immutable once deployed).
#[derive(Debug, Clone, Copy)]
pub struct Stablecoin {
    /// ERC-20 `decimals()`.
    pub decimals: u8,
    /// Token units per euro cent (the market's `unitsPerCent`).
    pub units_per_cent: U256,
}

/// The API's chain client (operator wallet).
pub struct ChainClient {
    /// Kept only to scrub it from error messages (it may embed a provider's API key).
    rpc_url: String,
    provider: DynProvider,
    deployment: Deployment,
    operator: Address,
    sender: sender::Sender,
    stablecoin: OnceCell<Stablecoin>,
    /// How long a sent transaction's receipt is waited for.
    receipt_timeout: Duration,
}

impl std::fmt::Debug for ChainClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainClient")
            .field("chain_id", &self.deployment.chain_id)
            .field("market", &self.deployment.contracts.market)
            .field("operator", &self.operator)
            .finish_non_exhaustive()
    }
}

impl ChainClient {
    /// An RPC error, with the node URL scrubbed from its text.
    fn rpc_err(&self, e: impl std::fmt::Display) -> ChainError {
        ChainError::Rpc(
            e.to_string()
                .replace(&self.rpc_url, "<rpc-url>")
                .replace(self.rpc_url.trim_end_matches('/'), "<rpc-url>"),
        )
    }

    /// A contract error: the decoded revert, or an RPC error.
    /// `Ok(None)` when the call reverted with an error `absent` recognises as "no such
    /// thing", else the error.
    fn absent_if<T>(
        &self,
        e: alloy::contract::Error,
        absent: impl Fn(&TangibleMarketErrors) -> bool,
    ) -> Result<Option<T>, ChainError> {
        match self.contract_err(e) {
            ChainError::Reverted(r) if absent(&r) => Ok(None),
            other => Err(other),
        }
    }

    fn contract_err(&self, e: alloy::contract::Error) -> ChainError {
        match e.as_decoded_interface_error::<TangibleMarketErrors>() {
            Some(decoded) => ChainError::Reverted(Box::new(decoded)),
            None => self.rpc_err(e),
        }
    }

    /// Connects to `rpc_url` with the operator's key; its nonces are allocated in `db` (shared
    /// by every instance using the key, see the `sender` module).
    pub fn new(
        rpc_url: &str,
        deployment: Deployment,
        operator_key: &str,
        db: PgPool,
    ) -> anyhow::Result<Self> {
        let signer: PrivateKeySigner = operator_key
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("operator_key is not a valid private key"))?;
        let operator = signer.address();
        let url = rpc_url
            .parse()
            .map_err(|e| anyhow::anyhow!("rpc_url: {e}"))?;
        let wallet = EthereumWallet::from(signer);
        let provider = ProviderBuilder::new()
            .wallet(wallet.clone())
            .connect_http(url)
            .erased();
        let sender = sender::Sender::new(db, deployment.chain_id, wallet, operator);
        Ok(Self {
            rpc_url: rpc_url.to_owned(),
            provider,
            deployment,
            operator,
            sender,
            stablecoin: OnceCell::new(),
            receipt_timeout: Duration::from_secs(60),
        })
    }

    /// Waits at most `timeout` for a transaction's receipt (then [`ChainError::NotMined`]).
    #[must_use]
    pub const fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// The deployment.
    pub const fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The operator's address.
    pub const fn operator(&self) -> Address {
        self.operator
    }

    fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }

    /// Checks the node answers and serves the deployment's chain.
    pub async fn check(&self) -> Result<(), ChainError> {
        let id = self
            .provider
            .get_chain_id()
            .await
            .map_err(|e| self.rpc_err(e))?;
        if id != self.deployment.chain_id {
            return Err(ChainError::Rpc(format!(
                "node serves chain {id}, the deployment is for chain {}",
                self.deployment.chain_id
            )));
        }
        Ok(())
    }

    /// The stablecoin's decimals and the market's units per cent: read from the chain once
    /// (both are fixed at deployment), then cached. An RPC failure is not cached.
    pub async fn stablecoin(&self) -> Result<Stablecoin, ChainError> {
        self.stablecoin
            .get_or_try_init(|| async {
                let token = TestEuro::new(self.deployment.contracts.stablecoin, &self.provider);
                let decimals = token.decimals().call().await.map_err(|e| self.rpc_err(e))?;
                let units_per_cent = self
                    .market()
                    .unitsPerCent()
                    .call()
                    .await
                    .map_err(|e| self.contract_err(e))?;
                Ok(Stablecoin {
                    decimals,
                    units_per_cent,
                })
            })
            .await
            .copied()
    }

    /// An edition, or `None` if it was never registered.
    pub async fn edition(&self, film_id: u64, quality: u8) -> Result<Option<Edition>, ChainError> {
        match self.market().edition(film_id, quality).call().await {
            Ok(info) if info.priceCents == 0 => Ok(None),
            Ok(info) => Ok(Some(Edition {
                price_cents: info.priceCents,
                active: info.active,
                master_hash: info.masterHash,
                resale_floor_cents: info.resaleFloorCents,
                lowest_price_cents: info.lowestPriceCents,
            })),
            Err(e) => self.absent_if(e, |r| {
                matches!(
                    r,
                    TangibleMarketErrors::RegistryEditionNotFound(_)
                        | TangibleMarketErrors::RegistryFilmNotFound(_)
                        | TangibleMarketErrors::RegistryInvalidQuality(_)
                )
            }),
        }
    }

    /// An offer, or `None` if it never existed.
    pub async fn offer(&self, offer_id: U256) -> Result<Option<Offer>, ChainError> {
        match self.market().offer(offer_id).call().await {
            Ok(o) => Ok(Some(Offer {
                licence_id: o.licenceId,
                seller: o.seller,
                price_cents: o.priceCents,
                active: o.active,
            })),
            Err(e) => self.absent_if(e, |r| {
                matches!(r, TangibleMarketErrors::MarketOfferNotActive(_))
            }),
        }
    }

    /// A licence, or `None` if it was never minted.
    pub async fn licence(&self, licence_id: U256) -> Result<Option<Licence>, ChainError> {
        match self.market().licence(licence_id).call().await {
            Ok(l) => Ok(Some(Licence {
                owner: l.owner,
                film_id: l.filmId,
                quality: l.quality,
                revoked: l.revoked,
                revoke_reason: l.reason,
            })),
            Err(e) => match self.contract_err(e) {
                ChainError::Reverted(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// True once `payment_ref` has settled a sale.
    pub async fn payment_ref_used(&self, payment_ref: B256) -> Result<bool, ChainError> {
        self.market()
            .paymentRefUsed(payment_ref)
            .call()
            .await
            .map_err(|e| self.contract_err(e))
    }

    /// The transaction that settled `payment_ref`, from its `SaleSettled` event.
    pub async fn settlement_tx(&self, payment_ref: B256) -> Result<Option<B256>, ChainError> {
        let filter = Filter::new()
            .address(self.deployment.contracts.market)
            .event_signature(TangibleMarket::SaleSettled::SIGNATURE_HASH)
            .topic3(payment_ref)
            .from_block(self.deployment.deployment_block);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| self.rpc_err(e))?;
        Ok(logs.first().and_then(|l| l.transaction_hash))
    }

    /// A film's title, from its `FilmRegistered` event (titles live in events only, and in the
    /// indexer's mirror); `None` if the film was never registered.
    pub async fn film_title(&self, film_id: u64) -> Result<Option<String>, ChainError> {
        let filter = Filter::new()
            .address(self.deployment.contracts.market)
            .event_signature(TangibleMarket::FilmRegistered::SIGNATURE_HASH)
            .topic1(B256::from(U256::from(film_id)))
            .from_block(self.deployment.deployment_block);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| self.rpc_err(e))?;
        Ok(logs.iter().find_map(|l| {
            l.log_decode::<TangibleMarket::FilmRegistered>()
                .ok()
                .map(|ev| ev.inner.data.title)
        }))
    }

    /// The market's daily limit on card settlements and what was settled today, both in cents.
    pub async fn card_settlement_limit(&self) -> Result<(u64, u64), ChainError> {
        let r = self
            .market()
            .cardSettlementLimit()
            .call()
            .await
            .map_err(|e| self.contract_err(e))?;
        Ok((u64::from(r.eurosPerDay) * 100, r.settledTodayCents))
    }

    /// The operator's float in cents (its withdrawable balance in the market).
    pub async fn operator_float_cents(&self) -> Result<u64, ChainError> {
        let units = self.credit_of(self.operator).await?;
        let per_cent = self.stablecoin().await?.units_per_cent.max(U256::from(1));
        Ok(u64::try_from(units / per_cent).unwrap_or(u64::MAX))
    }

    async fn send<D: alloy::contract::CallDecoder>(
        &self,
        purpose: &'static str,
        call: alloy::contract::CallBuilder<&DynProvider, D>,
    ) -> Result<B256, ChainError> {
        Ok(self.send_receipt(purpose, call).await?.transaction_hash)
    }

    /// Simulates, sends (through the `sender` module, which allocates the nonce) and waits for the
    /// receipt of a successful transaction. `purpose` names it in `api_operator_txs`.
    async fn send_receipt<D: alloy::contract::CallDecoder>(
        &self,
        purpose: &'static str,
        call: alloy::contract::CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, ChainError> {
        let call = call.from(self.operator);
        // Simulate first: a revert is decoded here and nothing is sent.
        call.call_raw().await.map_err(|e| self.contract_err(e))?;
        let gas = call
            .estimate_gas()
            .await
            .map_err(|e| self.contract_err(e))?;
        // Sends are pipelined: the state the estimate read may change before this one is
        // mined (the chain charges only the gas used).
        let req = call
            .into_transaction_request()
            .with_gas_limit(gas.saturating_add(gas / 5));
        let req = sender::with_fees(&self.provider, req)
            .await
            .map_err(|e| self.rpc_err(e))?;
        let hash = self
            .sender
            .send(&self.provider, req, purpose)
            .await
            .map_err(|e| self.rpc_err(e))?;
        let receipt = PendingTransactionBuilder::new(self.provider.root().clone(), hash)
            .with_timeout(Some(self.receipt_timeout))
            .get_receipt()
            .await
            // Sent: whatever ended the wait, the caller must be told the hash (a retry would
            // send a second transaction).
            .map_err(|e| ChainError::NotMined {
                hash,
                why: self.rpc_err(e).to_string(),
            })?;
        if !receipt.status() {
            return Err(ChainError::Failed(receipt.transaction_hash));
        }
        Ok(receipt)
    }

    /// The first event `E` the market emitted in `receipt`.
    fn event<E: SolEvent>(&self, receipt: &TransactionReceipt) -> Result<E, ChainError> {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == self.deployment.contracts.market)
            .find_map(|l| E::decode_log(&l.inner).ok().map(|d| d.data))
            .ok_or_else(|| {
                ChainError::Rpc(format!(
                    "transaction {} has no {} event",
                    receipt.transaction_hash,
                    E::SIGNATURE
                ))
            })
    }

    /// The chain's latest block number.
    pub async fn head(&self) -> Result<u64, ChainError> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| self.rpc_err(e))
    }

    /// `account`'s withdrawable balance in the market, stablecoin units (`balanceOfCredit`).
    pub async fn credit_of(&self, account: Address) -> Result<U256, ChainError> {
        self.market()
            .balanceOfCredit(account)
            .call()
            .await
            .map_err(|e| self.contract_err(e))
    }

    /// The timestamp of the chain's latest block, unix seconds (the clock the contract's
    /// clearance times are read against).
    pub async fn head_timestamp(&self) -> Result<u64, ChainError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| self.rpc_err(e))?
            .ok_or_else(|| ChainError::Rpc("the node has no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// Credits the pending shares of the sales that minted `licence_ids` whose clearance time
    /// has passed (`clearSales`; the contract skips the others and reverts only when none was
    /// due).
    pub async fn clear_sales(&self, licence_ids: Vec<U256>) -> Result<B256, ChainError> {
        let market = self.market();
        self.send("clearSales", market.clearSales(licence_ids))
            .await
    }

    /// Settles a card payment for a primary sale (`settleCardPrimary`).
    pub async fn settle_card_primary(
        &self,
        film_id: u64,
        quality: u8,
        price_cents: u64,
        recipient: Address,
        payment_ref: B256,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "settleCardPrimary",
            market.settleCardPrimary(film_id, quality, price_cents, recipient, payment_ref),
        )
        .await
    }

    /// Settles a card payment for a resale offer (`settleCardOffer`).
    pub async fn settle_card_offer(
        &self,
        offer_id: U256,
        price_cents: u64,
        recipient: Address,
        payment_ref: B256,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "settleCardOffer",
            market.settleCardOffer(offer_id, price_cents, recipient, payment_ref),
        )
        .await
    }

    /// Revokes a licence (`reason`: 1 chargeback, 2 fraud, 3 other).
    pub async fn revoke(&self, licence_id: U256, reason: u8) -> Result<B256, ChainError> {
        let market = self.market();
        self.send("revoke", market.revoke(licence_id, reason)).await
    }
}
