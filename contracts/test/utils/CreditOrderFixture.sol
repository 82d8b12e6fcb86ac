// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {ClearanceFixture} from "./ClearanceFixture.sol";

/// @dev What the credit order tests share ({CreditOrdersTest}, {CreditOrderSignaturesTest}): the order's fields as
/// signed, the spender with its credit, and the helpers that sign and relay orders.
abstract contract CreditOrderFixture is ClearanceFixture {
    /// @dev A credit order's fields, as signed (see `CREDIT_ORDER_TYPEHASH`).
    struct CreditOrder {
        address account;
        uint8 action;
        uint256 target;
        uint64 amountCents;
        address to;
        uint32 nonce;
        uint256 deadline;
    }

    uint8 internal constant BUY_PRIMARY = 3;
    uint8 internal constant BUY_OFFER = 4;
    uint8 internal constant WITHDRAW = 5;
    uint64 internal constant CREDIT_CENTS = 100_000; // 1,000 EUR, deposited by the spender
    uint256 internal constant CREDIT = CREDIT_CENTS * UNITS;

    address internal spender;
    uint256 internal spenderKey;
    uint256 internal operatorKey;
    address internal relayer = makeAddr("relayer");
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        // dave (the fixture's makeAddr("dave")): one of the accounts {_assertConserved} counts.
        (spender, spenderKey) = makeAddrAndKey("dave");
        (, operatorKey) = makeAddrAndKey("operator"); // the fixture's operator, makeAddr("operator")
        _deposit(spender, CREDIT);
        deadline = block.timestamp + 1 hours;
    }

    // ------------------------------------------------------------------ helpers

    /// @dev `account`'s order at its current nonce, valid for an hour.
    function _order(address account, uint8 action, uint256 target, uint64 amountCents, address to)
        internal
        view
        returns (CreditOrder memory)
    {
        return CreditOrder(account, action, target, amountCents, to, market.orderNonce(account), deadline);
    }

    /// @dev The EIP-712 digest of `o`, built here from the type string (not from the market's constant).
    function _digest(CreditOrder memory o) internal view returns (bytes32) {
        bytes32 typeHash = keccak256(
            "CreditOrder(address account,uint8 action,uint256 target,uint64 amountCents,address to,uint32 nonce,uint256 deadline)"
        );
        bytes32 structHash = keccak256(
            abi.encode(typeHash, o.account, o.action, o.target, o.amountCents, o.to, o.nonce, o.deadline)
        );
        return keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _relay(CreditOrder memory o, bytes memory sig) internal returns (uint256) {
        vm.prank(relayer);
        return market.relayCreditOrder(o.account, o.action, o.target, o.amountCents, o.to, o.deadline, sig);
    }

    /// @dev `o` signed by `spender` and relayed.
    function _spend(CreditOrder memory o) internal returns (uint256) {
        return _relay(o, _sign(spenderKey, _digest(o)));
    }

    /// @dev Signs `o` with `key`, then expects its submission to revert with `err` (the signing, which reads the
    /// market, done before the expectation).
    function _expectRefused(uint256 key, CreditOrder memory o, bytes memory err) internal {
        bytes memory sig = _sign(key, _digest(o));
        vm.expectRevert(err);
        _relay(o, sig);
    }

    function _edition(uint8 quality) internal view returns (uint256) {
        return (uint256(filmId) << 8) | quality;
    }

    function _invalidSignature(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, account);
    }

    /// @dev `bob`'s crypto licence (clean: nothing pending) listed at `price`.
    function _bobsOffer(uint64 price) internal returns (uint256 licenceId, uint256 offerId) {
        licenceId = _crypto(bob, HD, bob);
        offerId = _list(bob, licenceId, price);
    }
}
