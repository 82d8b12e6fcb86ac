//! Signed orders: resale orders (`TangibleMarket.relayOrder`) and credit orders
//! (`relayCreditOrder`: buy with one's credit, withdraw it). The EIP-712 types and domain an
//! account signs, so that someone else (the API's operator) can submit the order for an account
//! that holds no ETH. The contract checks the same signature on chain; these give clients the
//! hash to sign and the API the signer to check before it spends gas.

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};

use crate::bindings::TangibleMarket;

alloy::sol! {
    /// A seller's resale order, as the contract hashes it (`ORDER_TYPEHASH`).
    #[derive(Debug, PartialEq, Eq)]
    struct Order {
        address seller;
        uint8 action;
        uint256 target;
        uint64 priceCents;
        uint32 nonce;
        uint256 deadline;
    }

    /// An account's order spending or withdrawing its credit, as the contract hashes it
    /// (`CREDIT_ORDER_TYPEHASH`). Same domain and nonce sequence as [`Order`].
    #[derive(Debug, PartialEq, Eq)]
    struct CreditOrder {
        address account;
        uint8 action;
        uint256 target;
        uint64 amountCents;
        address to;
        uint32 nonce;
        uint256 deadline;
    }
}

/// What an order does (`action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// List licence `target` at `priceCents`.
    List = 0,
    /// Reprice offer `target` to `priceCents`.
    Reprice = 1,
    /// Cancel offer `target` (`priceCents` 0).
    Cancel = 2,
}

/// What a credit order does (`action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditAction {
    /// Buy edition `target` ([`edition_target`]) for `to` at `amountCents`.
    BuyPrimary = 3,
    /// Buy offer `target` for `to` at `amountCents`.
    BuyOffer = 4,
    /// Pay `amountCents` of the balance to `to` (`target` 0).
    Withdraw = 5,
}

/// A credit order's `target` for edition `(film_id, quality)`: `film_id << 8 | quality`.
pub fn edition_target(film_id: u64, quality: u8) -> U256 {
    (U256::from(film_id) << 8) | U256::from(quality)
}

/// The EIP-712 domain of the market `market` on chain `chain_id`.
pub const fn domain(chain_id: u64, market: Address) -> Eip712Domain {
    eip712_domain! {
        name: "Tangible",
        version: "1",
        chain_id: chain_id,
        verifying_contract: market,
    }
}

impl Order {
    /// An order of `seller` with nonce `nonce`.
    pub fn new(
        seller: Address,
        action: OrderAction,
        target: U256,
        price_cents: u64,
        nonce: u32,
        deadline: u64,
    ) -> Self {
        Self {
            seller,
            action: action as u8,
            target,
            priceCents: price_cents,
            nonce,
            deadline: U256::from(deadline),
        }
    }

    /// The hash the seller signs (EIP-712 `\x19\x01 ‖ domain ‖ struct`).
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        self.eip712_signing_hash(domain)
    }

    /// The address that signed `signature` over this order (see [`recover`]).
    pub fn signer(&self, domain: &Eip712Domain, signature: &[u8]) -> Option<Address> {
        recover(self.digest(domain), signature)
    }

    /// The market call that carries out this order (`relayOrder`), for
    /// `TangibleMarketInstance::call_builder`.
    pub const fn relay_call(&self, signature: Bytes) -> TangibleMarket::relayOrderCall {
        TangibleMarket::relayOrderCall {
            seller: self.seller,
            action: self.action,
            target: self.target,
            priceCents: self.priceCents,
            deadline: self.deadline,
            signature,
        }
    }
}

impl CreditOrder {
    /// A credit order of `account` with nonce `nonce`.
    pub fn new(
        account: Address,
        action: CreditAction,
        (target, amount_cents, to): (U256, u64, Address),
        nonce: u32,
        deadline: u64,
    ) -> Self {
        Self {
            account,
            action: action as u8,
            target,
            amountCents: amount_cents,
            to,
            nonce,
            deadline: U256::from(deadline),
        }
    }

    /// The hash the account signs (EIP-712 `\x19\x01 ‖ domain ‖ struct`).
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        self.eip712_signing_hash(domain)
    }

    /// The address that signed `signature` over this order (see [`recover`]).
    pub fn signer(&self, domain: &Eip712Domain, signature: &[u8]) -> Option<Address> {
        recover(self.digest(domain), signature)
    }

    /// The market call that carries out this order (`relayCreditOrder`), for
    /// `TangibleMarketInstance::call_builder`.
    pub const fn relay_call(&self, signature: Bytes) -> TangibleMarket::relayCreditOrderCall {
        TangibleMarket::relayCreditOrderCall {
            account: self.account,
            action: self.action,
            target: self.target,
            amountCents: self.amountCents,
            to: self.to,
            deadline: self.deadline,
            signature,
        }
    }
}

/// The address that signed `signature` (65 bytes `r ‖ s ‖ v`) over `digest`, if the signature
/// is well formed (a contract account's ERC-1271 signature recovers nothing useful: only the
/// chain can check it).
fn recover(digest: B256, signature: &[u8]) -> Option<Address> {
    let sig = Signature::try_from(signature).ok()?;
    sig.recover_address_from_prehash(&digest).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;

    #[test]
    fn a_signed_order_recovers_its_seller_and_nothing_else() {
        let key = PrivateKeySigner::random();
        let market = Address::repeat_byte(7);
        let d = domain(31337, market);
        let order = Order::new(key.address(), OrderAction::List, U256::from(5), 800, 0, 99);
        let sig = key.sign_hash_sync(&order.digest(&d)).unwrap().as_bytes();
        assert_eq!(order.signer(&d, &sig), Some(key.address()));
        // Another chain, another market, another price: another signer.
        assert_ne!(order.signer(&domain(1, market), &sig), Some(key.address()));
        assert_ne!(
            order.signer(&domain(31337, Address::repeat_byte(8)), &sig),
            Some(key.address())
        );
        let mut cheaper = order.clone();
        cheaper.priceCents = 20;
        assert_ne!(cheaper.signer(&d, &sig), Some(key.address()));
        assert_eq!(order.signer(&d, &sig[..64]), None);
    }

    #[test]
    fn a_credit_order_is_not_a_resale_order() {
        let key = PrivateKeySigner::random();
        let d = domain(31337, Address::repeat_byte(7));
        let to = Address::repeat_byte(9);
        let credit = CreditOrder::new(
            key.address(),
            CreditAction::Withdraw,
            (U256::ZERO, 640, to),
            3,
            99,
        );
        let sig = key.sign_hash_sync(&credit.digest(&d)).unwrap().as_bytes();
        assert_eq!(credit.signer(&d, &sig), Some(key.address()));
        let mut elsewhere = credit.clone();
        elsewhere.to = Address::repeat_byte(10);
        assert_ne!(elsewhere.signer(&d, &sig), Some(key.address()));
        // The same fields as a resale order hash to another digest (another type).
        let resale = Order::new(key.address(), OrderAction::List, U256::ZERO, 640, 3, 99);
        assert_ne!(resale.digest(&d), credit.digest(&d));
        assert_eq!(edition_target(42, 2), U256::from((42u64 << 8) | 2));
    }
}
