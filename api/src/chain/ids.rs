//! The ids the API derives exactly as the contract does: a card payment's reference and the
//! licence id its settlement mints.

use alloy::primitives::{B256, U256, keccak256};

/// Bit set in every card licence id (see `cardLicenceId` in the contract).
const CARD_ID_FLAG: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// A licence id's generation bits (192-199), clear in every card licence id: the contract stores
/// a licence resold in stablecoin in its seller's slot, one generation up.
const GENERATION_MASK: U256 = U256::from_limbs([0, 0, 0, 0xff]);

/// The payment reference of a Stripe PaymentIntent: `keccak256(pi id)`.
pub fn payment_ref(payment_intent_id: &str) -> B256 {
    keccak256(payment_intent_id.as_bytes())
}

/// The payment reference of the reinstatement of a PaymentIntent's purchase (a dispute closed
/// won): `keccak256(pi id ‖ "/reinstatement")`, so the new licence is settled once, with its
/// own id, never confused with the first settlement.
pub fn reinstatement_ref(payment_intent_id: &str) -> B256 {
    keccak256(format!("{payment_intent_id}/reinstatement").as_bytes())
}

/// The licence id a card settlement with `payment_ref` mints (the contract's `cardLicenceId`).
pub fn card_licence_id(payment_ref: B256) -> U256 {
    (U256::from_be_bytes(keccak256(payment_ref.as_slice()).0) | CARD_ID_FLAG) & !GENERATION_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_licence_ids_have_the_top_bit_and_depend_on_the_payment() {
        let a = card_licence_id(payment_ref("pi_1"));
        let b = card_licence_id(payment_ref("pi_2"));
        assert!(a.bit(255) && b.bit(255));
        assert!(
            (192..200).all(|bit| !a.bit(bit) && !b.bit(bit)),
            "generation 0"
        );
        assert_ne!(a, b);
    }
}
