//! The money of a sale, checked against sources outside the project: the balances it moved
//! on chain (the buyer's stablecoin or the operator's float, the studio's and the platform's
//! accruals) and, for a card, the PaymentIntent in localstripe.

use alloy::primitives::{Address, B256, U256, keccak256};
use serde_json::Value;
use tangible_chain::bindings::{TangibleMarket, TestEuro};

use super::{Pay, World};

/// Balances a sale moves, read on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ledger {
    /// The buyer's stablecoin (tEUR units).
    pub(super) wallet: U256,
    /// The operator's float in the market (units), which pays card sales.
    pub(super) float: U256,
    /// The demo studio's accrued earnings (cents).
    pub(super) studio_cents: u64,
    /// The platform's accrued fees (cents).
    pub(super) platform_cents: u64,
}

/// The pending shares of a sale (`pendingSale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) seller: Address,
    pub(super) seller_cents: u64,
    pub(super) studio_cents: u64,
    pub(super) platform_cents: u64,
    /// Unix seconds; 0: nothing pending.
    pub(super) clear_at: u32,
    pub(super) tainted: bool,
}

/// The JSON answer to `request`, which must succeed (`what` names it in the panic).
pub(super) async fn get_json(request: reqwest::RequestBuilder, what: &str) -> Value {
    request
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect(what)
        .json()
        .await
        .expect("JSON")
}

impl World {
    /// The balances a sale paid by `buyer` moves, read on chain.
    pub(super) async fn ledger(&self, buyer: Address) -> Ledger {
        let market = self.market();
        let token = TestEuro::new(
            self.stack.deployment.contracts.stablecoin,
            self.provider.clone(),
        );
        Ledger {
            wallet: token.balanceOf(buyer).call().await.unwrap(),
            float: market
                .balanceOfCredit(self.stack.demo.operator.address)
                .call()
                .await
                .unwrap(),
            studio_cents: market
                .studio(self.stack.demo.studio_id)
                .call()
                .await
                .unwrap()
                .creditCents,
            platform_cents: market.platformCreditCents().call().await.unwrap(),
        }
    }

    /// The pending shares of the sale that minted `licence` (`clear_at == 0`: none).
    pub(super) async fn pending_of(&self, licence: &str) -> Pending {
        let id: U256 = licence.parse().unwrap();
        let p = self.market().pendingSale(id).call().await.unwrap();
        Pending {
            seller: p.seller,
            seller_cents: p.sellerCents,
            studio_cents: p.studioCents,
            platform_cents: p.platformCents,
            clear_at: p.clearAt,
            tainted: p.tainted,
        }
    }

    /// Moves the chain's clock past the clearance time of the sale that minted `licence` and
    /// waits for the API's maintenance loop to credit it (`clearSales`, from the indexer's
    /// mirror of `SalePending`).
    pub(super) async fn clear_when_due(&self, licence: &str) {
        use alloy::providers::Provider;
        let pending = self.pending_of(licence).await;
        assert_ne!(pending.clear_at, 0, "{licence} has a pending sale");
        let head = (self.provider)
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp;
        let wait = u64::from(pending.clear_at).saturating_sub(head) + 1;
        let _: Value = (self.provider)
            .raw_request("evm_increaseTime".into(), [wait])
            .await
            .unwrap();
        let _: Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.pending_of(licence).await.clear_at != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the API never cleared the sale of {licence}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// Stablecoin units per euro cent.
    pub(super) async fn per_cent(&self) -> U256 {
        U256::from(self.market().unitsPerCent().call().await.unwrap())
    }

    /// The PaymentIntent of card purchase `purchase_id` as localstripe holds it, and its id.
    async fn stripe_intent(&self, purchase_id: &str) -> (String, Value) {
        let http = reqwest::Client::new();
        let url = format!("{}/v1/purchases/{purchase_id}", self.endpoints.api_url);
        let view = get_json(http.get(url), "the purchase").await;
        let pi = view["payment_intent_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a card purchase has a PaymentIntent: {view}"))
            .to_owned();
        let url = format!("{}/v1/payment_intents/{pi}", self.endpoints.stripe_url);
        let request = http
            .get(url)
            .basic_auth(&self.endpoints.stripe_key, Some(""));
        let intent = get_json(request, "localstripe knows the PaymentIntent").await;
        (pi, intent)
    }

    /// Checks the money of a sale of `cents` against the sources outside the project: who paid
    /// (the buyer's stablecoin, or the operator's float for a card, the other one untouched),
    /// and for a card the PaymentIntent in localstripe whose `keccak256(id)` is the sale's
    /// payment reference.
    pub(super) async fn check_paid(
        &self,
        (pay, cents): (Pay, u64),
        buyer: Address,
        (before, after): (&Ledger, &Ledger),
        sale: &TangibleMarket::SaleSettled,
        bought: &Value,
    ) {
        let amount = U256::from(cents) * self.per_cent().await;
        let (wallet, float, payer) = match pay {
            Pay::Crypto => (amount, U256::ZERO, buyer),
            Pay::Card => (U256::ZERO, amount, self.stack.demo.operator.address),
        };
        assert_eq!(
            before.wallet.checked_sub(after.wallet),
            Some(wallet),
            "{pay:?}: the buyer's stablecoin debit"
        );
        assert_eq!(
            before.float.checked_sub(after.float),
            Some(float),
            "{pay:?}: the operator float's debit"
        );
        assert_eq!(sale.payer, payer, "{pay:?}: the payer named by the sale");
        match pay {
            Pay::Crypto => assert_eq!(sale.paymentRef, B256::ZERO),
            Pay::Card => {
                let purchase = bought["purchase_id"].as_str().expect("a card purchase id");
                let (pi, intent) = self.stripe_intent(purchase).await;
                assert_eq!(
                    keccak256(pi.as_bytes()),
                    sale.paymentRef,
                    "the sale settles PaymentIntent {pi}"
                );
                assert_eq!(intent["amount"].as_u64(), Some(cents), "{intent}");
                assert_eq!(intent["currency"], "eur", "{intent}");
                assert_eq!(intent["status"], "succeeded", "{intent}");
            }
        }
    }
}
