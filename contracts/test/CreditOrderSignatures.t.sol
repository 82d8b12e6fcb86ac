// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {CreditOrderFixture} from "./utils/CreditOrderFixture.sol";
import {deployMarket} from "./utils/DeployMarket.sol";

/// @dev What binds a credit order's signature (issue 12 item 2): the account, the nonce (shared with resale orders),
/// the deadline, the chain, the market and the EIP-712 type; a signature bound otherwise is refused.
contract CreditOrderSignaturesTest is CreditOrderFixture {
    // ------------------------------------------------------------------ what binds a signature

    function test_replayedOrder_isRefused() public {
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        _relay(o, sig);
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);
        assertEq(euro.balanceOf(carol), 10_000 * UNITS, "paid once");

        // A purchase the same: its nonce is used.
        o = _order(spender, BUY_PRIMARY, _edition(SD), PRICE_SD, carol);
        sig = _sign(spenderKey, _digest(o));
        _ids.push(_relay(o, sig));
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);
        assertEq(market.balanceOf(carol), 1, "bought once");
        _assertConserved();
    }

    /// @dev Valid up to its deadline included, refused one second later.
    function test_expiredOrder_isRefused() public {
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOrderExpired.selector, deadline));
        _relay(o, sig);
        vm.warp(deadline);
        _relay(o, sig);
        assertEq(euro.balanceOf(carol), 10_000 * UNITS);
    }

    function test_otherChain_isRefused() public {
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);
        vm.chainId(chainId);
        _relay(o, sig);
    }

    function test_otherMarket_isRefused() public {
        TangibleMarket other = deployMarket(euro, admin, operator, platform);
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, carol);
        bytes32 structHash = keccak256(
            abi.encode(
                market.CREDIT_ORDER_TYPEHASH(),
                o.account,
                o.action,
                o.target,
                o.amountCents,
                o.to,
                o.nonce,
                o.deadline
            )
        );
        bytes memory sig =
            _sign(spenderKey, keccak256(abi.encodePacked("\x19\x01", other.domainSeparator(), structHash)));
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);
        assertEq(_credit(spender), CREDIT);
    }

    /// @dev Only the account's own key spends its credit: not another key, not an empty signature, not the
    /// operator relaying without one.
    function test_foreignSigner_isRefused() public {
        (address mallory, uint256 malloryKey) = makeAddrAndKey("mallory");
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, mallory);
        _expectRefused(malloryKey, o, _invalidSignature(spender));
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, "");
        vm.prank(operator);
        vm.expectRevert(_invalidSignature(spender));
        market.relayCreditOrder(spender, WITHDRAW, 0, 10_000, operator, deadline, "");
        // mallory's own signature over mallory's account is valid, and spends mallory's (empty) credit.
        CreditOrder memory m = _order(mallory, WITHDRAW, 0, 10_000, mallory);
        _expectRefused(
            malloryKey,
            m,
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, mallory, 0, 10_000 * UNITS
            )
        );
        assertEq(_credit(spender), CREDIT);
        assertEq(euro.balanceOf(mallory), 0);
    }

    /// @dev A signature covers every field: submitted with another recipient, amount, target, action or deadline,
    /// it is refused.
    function test_alteredOrder_isRefused() public {
        (, uint256 offerId) = _bobsOffer(900);
        CreditOrder memory o = _order(spender, BUY_OFFER, offerId, 900, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        CreditOrder memory x = _order(spender, BUY_OFFER, offerId, 900, fraudster); // another recipient
        vm.expectRevert(_invalidSignature(spender));
        _relay(x, sig);
        (, uint256 otherOffer) = _bobsOffer(900);
        x = _order(spender, BUY_OFFER, otherOffer, 900, carol); // another target
        vm.expectRevert(_invalidSignature(spender));
        _relay(x, sig);
        x.deadline = deadline + 1 days; // a later deadline
        x.target = offerId;
        vm.expectRevert(_invalidSignature(spender));
        _relay(x, sig);

        CreditOrder memory w = _order(spender, WITHDRAW, 0, 100, carol);
        sig = _sign(spenderKey, _digest(w));
        w.amountCents = 10_000; // another amount
        vm.expectRevert(_invalidSignature(spender));
        _relay(w, sig);
        w.amountCents = 100;
        w.to = fraudster;
        vm.expectRevert(_invalidSignature(spender));
        _relay(w, sig);
        // Another action: a withdrawal of 900 cents to carol, submitted as a purchase (the other fields the same).
        CreditOrder memory p = _order(spender, WITHDRAW, 0, 900, carol);
        sig = _sign(spenderKey, _digest(p));
        p.action = BUY_PRIMARY;
        vm.expectRevert(_invalidSignature(spender));
        _relay(p, sig);

        assertEq(_credit(spender), CREDIT, "nothing spent");
        assertEq(market.orderNonce(spender), 0, "no nonce consumed");
        // The original goes through.
        _ids.push(_relay(o, _sign(spenderKey, _digest(o))));
        assertEq(market.balanceOf(carol), 1);
    }

    /// @dev The two EIP-712 types share the domain and the nonce, never a signature: a resale `Order` signed by the
    /// account does not pass as a credit order with the same field values, nor a credit order as a resale order.
    function test_resaleOrderSignature_isNotACreditOrder() public {
        uint256 own = _crypto(spender, HD, spender);
        // A resale order (list `own` at 900) submitted as a credit order with the same values where they line up.
        bytes32 orderStruct = keccak256(
            abi.encode(market.ORDER_TYPEHASH(), spender, uint8(0), own, uint64(900), uint32(0), deadline)
        );
        bytes memory orderSig =
            _sign(spenderKey, keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), orderStruct)));
        for (uint8 a = BUY_PRIMARY; a <= WITHDRAW; a++) {
            vm.expectRevert(_invalidSignature(spender));
            vm.prank(relayer);
            market.relayCreditOrder(spender, a, own, 900, address(0), deadline, orderSig);
            vm.expectRevert(_invalidSignature(spender));
            vm.prank(relayer);
            market.relayCreditOrder(spender, a, 0, 900, spender, deadline, orderSig);
        }
        // A credit order signed with a resale action (0: list) is refused by both functions.
        CreditOrder memory c = _order(spender, 0, own, 900, address(0));
        bytes memory creditSig = _sign(spenderKey, _digest(c));
        vm.expectRevert(_invalidSignature(spender));
        vm.prank(relayer);
        market.relayOrder(spender, 0, own, 900, deadline, creditSig);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidOrder.selector, 0));
        _relay(c, creditSig);
        assertEq(market.activeOfferOf(own), 0, "nothing listed");
        assertEq(market.orderNonce(spender), 0);
        // The resale order itself still works where it belongs.
        vm.prank(relayer);
        market.relayOrder(spender, 0, own, 900, deadline, orderSig);
        assertTrue(market.activeOfferOf(own) != 0);
    }
}
