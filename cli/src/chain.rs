//! Stablecoin payments and resale listings sent from the wallet: approve + `buyPrimary` /
//! `buyOffer`, `list`, `cancelOffer`. Every call is simulated first so a revert is reported as
//! the contract's decoded error (e.g. `MarketOfferNotActive`) and nothing is sent.

use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use anyhow::{Context, bail};
use tangible_chain::Deployment;
use tangible_chain::bindings::TangibleMarket::{self, TangibleMarketErrors};
use tangible_chain::bindings::TestEuro;
use tangible_crypto::wallet::Wallet;

/// A connection to the market from the wallet.
pub struct Market {
    provider: DynProvider,
    deployment: Deployment,
    from: Address,
}

impl std::fmt::Debug for Market {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Market")
            .field("market", &self.deployment.contracts.market)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// A contract call error, with the revert decoded when it is one of the market's errors.
fn contract_err(e: alloy::contract::Error, what: &str) -> anyhow::Error {
    match e.as_decoded_interface_error::<TangibleMarketErrors>() {
        Some(decoded) => anyhow::anyhow!("{what}: the market refused: {decoded:?}"),
        None => anyhow::Error::new(e).context(what.to_owned()),
    }
}

impl Market {
    /// Connects to `rpc_url` for `deployment`, signing with `wallet` (read-only when `None`).
    pub async fn connect(
        rpc_url: &str,
        deployment: Deployment,
        wallet: Option<&Wallet>,
    ) -> anyhow::Result<Self> {
        let url = rpc_url
            .parse()
            .with_context(|| format!("invalid RPC URL {rpc_url:?}"))?;
        let (provider, from) = match wallet {
            Some(w) => (
                ProviderBuilder::new()
                    .wallet(EthereumWallet::from(w.signer().clone()))
                    .connect_http(url)
                    .erased(),
                w.address(),
            ),
            None => (
                ProviderBuilder::new().connect_http(url).erased(),
                Address::ZERO,
            ),
        };
        let chain_id = provider
            .get_chain_id()
            .await
            .context("cannot reach the chain node")?;
        if chain_id != deployment.chain_id {
            bail!(
                "the node at {rpc_url} serves chain {chain_id} but the deployment is on chain {} \
                 (set --rpc-url to a node of that chain)",
                deployment.chain_id
            );
        }
        Ok(Self {
            provider,
            deployment,
            from,
        })
    }

    /// The deployment.
    pub const fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    fn market(&self) -> TangibleMarket::TangibleMarketInstance<DynProvider> {
        TangibleMarket::new(self.deployment.contracts.market, self.provider.clone())
    }

    fn token(&self) -> TestEuro::TestEuroInstance<DynProvider> {
        TestEuro::new(self.deployment.contracts.stablecoin, self.provider.clone())
    }

    async fn send<D: alloy::contract::CallDecoder>(
        &self,
        call: alloy::contract::CallBuilder<&DynProvider, D>,
        what: &str,
    ) -> anyhow::Result<TransactionReceipt> {
        call.call_raw().await.map_err(|e| contract_err(e, what))?;
        let pending = call.send().await.map_err(|e| contract_err(e, what))?;
        let receipt = pending
            .with_timeout(Some(Duration::from_secs(120)))
            .get_receipt()
            .await
            .with_context(|| format!("{what}: waiting for the transaction"))?;
        if !receipt.status() {
            bail!("{what}: transaction {} failed", receipt.transaction_hash);
        }
        Ok(receipt)
    }

    /// Stablecoin units per cent.
    pub async fn units_per_cent(&self) -> anyhow::Result<U256> {
        let u = self
            .market()
            .unitsPerCent()
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the market's unit"))?;
        Ok(U256::from(u))
    }

    /// The price and status of an edition on chain.
    pub async fn edition_price(&self, film_id: u64, quality: u8) -> anyhow::Result<u64> {
        let e = self
            .market()
            .edition(film_id, quality)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the edition"))?;
        if !e.active {
            bail!("edition {film_id}/{quality} is not on sale");
        }
        Ok(e.priceCents)
    }

    /// An offer's price, if it is active.
    pub async fn offer_price(&self, offer_id: U256) -> anyhow::Result<u64> {
        let o = self
            .market()
            .offer(offer_id)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the offer"))?;
        if !o.active {
            bail!("offer {offer_id} is no longer active");
        }
        Ok(o.priceCents)
    }

    /// Approves the market for `cents` worth of stablecoin if the allowance is short.
    async fn ensure_allowance(&self, cents: u64) -> anyhow::Result<()> {
        let units = U256::from(cents) * self.units_per_cent().await?;
        let token = self.token();
        let market = self.deployment.contracts.market;
        let balance = token
            .balanceOf(self.from)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the stablecoin balance"))?;
        if balance < units {
            bail!(
                "the wallet holds {balance} stablecoin units, {units} are needed ({} €)",
                tangible_domain::Cents(cents)
            );
        }
        let allowance = token
            .allowance(self.from, market)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the allowance"))?;
        if allowance < units {
            self.send(token.approve(market, units), "approving the market")
                .await?;
        }
        Ok(())
    }

    /// Pays a primary edition in stablecoin; returns the licence minted and the transaction.
    pub async fn buy_primary(
        &self,
        film_id: u64,
        quality: u8,
        price_cents: u64,
    ) -> anyhow::Result<(U256, B256)> {
        self.ensure_allowance(price_cents).await?;
        let market = self.market();
        let receipt = self
            .send(
                market.buyPrimary(film_id, quality, price_cents, self.from),
                "buying the edition",
            )
            .await?;
        let licence = minted_licence(&receipt)?;
        Ok((licence, receipt.transaction_hash))
    }

    /// Buys a resale offer in stablecoin; returns the licence minted and the transaction.
    pub async fn buy_offer(
        &self,
        offer_id: U256,
        price_cents: u64,
    ) -> anyhow::Result<(U256, B256)> {
        self.ensure_allowance(price_cents).await?;
        let market = self.market();
        let receipt = self
            .send(
                market.buyOffer(offer_id, price_cents, self.from),
                "buying the offer",
            )
            .await?;
        let licence = minted_licence(&receipt)?;
        Ok((licence, receipt.transaction_hash))
    }

    /// Submits the wallet's own signed credit order (`relayCreditOrder`: the `--direct` path of
    /// `buy --credit`); returns the licence minted and the transaction.
    pub async fn relay_credit_order(
        &self,
        order: &tangible_chain::orders::CreditOrder,
        signature: alloy::primitives::Bytes,
    ) -> anyhow::Result<(U256, B256)> {
        let call = order.relay_call(signature);
        let receipt = self
            .send(self.market().call_builder(&call), "buying with the credit")
            .await?;
        let licence = minted_licence(&receipt)?;
        Ok((licence, receipt.transaction_hash))
    }

    /// Pays `units` of the wallet's credit to `to` (`withdraw`); returns the transaction.
    pub async fn withdraw(&self, to: Address, units: U256) -> anyhow::Result<B256> {
        let market = self.market();
        let receipt = self
            .send(market.withdraw(to, units), "withdrawing the credit")
            .await?;
        Ok(receipt.transaction_hash)
    }

    /// Lists a licence for resale; returns the offer id and the transaction.
    pub async fn list(&self, licence_id: U256, price_cents: u64) -> anyhow::Result<(U256, B256)> {
        let market = self.market();
        let receipt = self
            .send(market.list(licence_id, price_cents), "listing the licence")
            .await?;
        let offer = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<TangibleMarket::OfferListed>().ok())
            .map(|l| l.inner.data.offerId)
            .context("the listing transaction has no OfferListed event")?;
        Ok((offer, receipt.transaction_hash))
    }

    /// Changes an offer's price.
    pub async fn update_offer(&self, offer_id: U256, price_cents: u64) -> anyhow::Result<B256> {
        let market = self.market();
        let receipt = self
            .send(
                market.updateOffer(offer_id, price_cents),
                "repricing the offer",
            )
            .await?;
        Ok(receipt.transaction_hash)
    }

    /// Cancels an offer.
    pub async fn cancel_offer(&self, offer_id: U256) -> anyhow::Result<B256> {
        let market = self.market();
        let receipt = self
            .send(market.cancelOffer(offer_id), "cancelling the offer")
            .await?;
        Ok(receipt.transaction_hash)
    }

    /// ETH (wei) and stablecoin (cents) balances of `who`.
    pub async fn balances(&self, who: Address) -> anyhow::Result<(U256, U256)> {
        let eth = self
            .provider
            .get_balance(who)
            .await
            .context("reading the ETH balance")?;
        let units = self
            .token()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the stablecoin balance"))?;
        let per_cent = self.units_per_cent().await?.max(U256::from(1));
        Ok((eth, units / per_cent))
    }
}

/// The licence id of the `LicenceMinted` event in a receipt.
fn minted_licence(receipt: &TransactionReceipt) -> anyhow::Result<U256> {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<TangibleMarket::LicenceMinted>().ok())
        .map(|l| l.inner.data.licenceId)
        .context("the transaction has no LicenceMinted event")
}

/// Parses a licence or offer id (decimal, or 0x hex).
pub fn parse_id(s: &str, what: &str) -> anyhow::Result<U256> {
    let s = s.trim();
    let v = match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16).ok(),
        None => U256::from_str_radix(s, 10).ok(),
    };
    v.filter(|v| !v.is_zero())
        .with_context(|| format!("{s:?} is not a valid {what} id"))
}

impl Market {
    /// A licence's film, quality, owner and revocation, read on chain.
    pub async fn licence(&self, licence_id: U256) -> anyhow::Result<(u64, u8, Address, bool)> {
        let l = self
            .market()
            .licence(licence_id)
            .call()
            .await
            .map_err(|e| contract_err(e, "reading the licence"))?;
        Ok((l.filmId, l.quality, l.owner, l.revoked))
    }
}
