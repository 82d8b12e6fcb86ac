// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";
import {ClearanceFixture} from "./utils/ClearanceFixture.sol";

/// @notice Clearance of card money (audit H-1 and H-2, `shared/reviews/contracts-audit-2026-12-02.md`): the shares
/// of a card-paid sale, and of any sale of a licence whose own sale is still pending ("tainted"), stay pending
/// until `clearAt`; {TangibleMarket-clearSales} credits them afterwards, {TangibleMarket-revoke} gives them back
/// before (to the operator's float for a card-paid sale, to the buyer for a crypto-paid tainted one) and follows a
/// licence resold while uncleared to the licence that replaced it.
contract ClearanceTest is ClearanceFixture {
    // ------------------------------------------------------------------ audit H-1: a stolen card cashes out

    /// @dev H-1's exploit, replayed: the fraudster buys a licence in stablecoin, lists it at 5,000 EUR and has it
    /// "bought" with a stolen card through the normal card flow. The 4,000 EUR seller share is pending, not
    /// withdrawable in the next block; the chargeback inside the window gives the whole 5,000 EUR back to the
    /// float and revokes the card licence, and nobody is ever credited with anything from that sale.
    function test_H1_aStolenCardNoLongerCashesOut() public {
        uint256 own = _crypto(fraudster, HD, fraudster);
        uint256 offerId = _list(fraudster, own, 500_000);
        uint256 floatBefore = _credit(operator);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(500_000);
        assertEq(sellerCents, 400_000, "the 4,000 EUR share");

        uint256 stolenId = market.cardLicenceId("stolen-card");
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(stolenId, T0 + WINDOW, false);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            stolenId,
            offerId,
            "stolen-card",
            operator,
            500_000,
            fraudster,
            sellerCents,
            royalty,
            studioCents,
            platform,
            platformCents
        );
        uint256 cardId = _cardOffer(offerId, 500_000, mule, "stolen-card");
        assertEq(cardId, stolenId);

        TangibleMarket.PendingSale memory p = _pending(cardId);
        assertEq(p.sellerCents, sellerCents);
        assertEq(p.studioCents, studioCents);
        assertEq(p.platformCents, platformCents);
        assertEq(p.clearAt, T0 + WINDOW);
        assertEq(p.studioId, studioId);
        assertEq(p.seller, fraudster);
        assertFalse(p.tainted, "a card sale of a clean licence");
        assertEq(floatBefore - _credit(operator), 500_000 * UNITS, "paid from the float");
        assertEq(_credit(fraudster), 0, "nothing credited");
        assertEq(_studioCredit(), studioBefore);
        assertEq(market.platformCreditCents(), platformBefore);
        _assertConserved();

        // The next block: the withdrawal of the 4,000 EUR fails, and the sale cannot be cleared early.
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, fraudster, 0, uint256(sellerCents) * UNITS
            )
        );
        vm.prank(fraudster);
        market.withdraw(fraudster, uint256(sellerCents) * UNITS);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(cardId);

        // The chargeback, 60 days later: the whole price goes back to the float, the card licence is revoked.
        vm.warp(T0 + 60 days);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(cardId, operator, 500_000 * UNITS);
        vm.expectEmit(address(market));
        emit IERC721.Transfer(mule, address(0), cardId);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(cardId, mule, CHARGEBACK, 0);
        _revoke(cardId, CHARGEBACK);
        assertEq(_credit(operator), floatBefore, "the float is whole again");
        assertFalse(market.isValid(cardId));
        assertEq(market.licence(cardId).reason, CHARGEBACK);
        _assertNothingPending(cardId);
        _assertConserved();

        // After the window: nothing to clear, nobody was credited from that sale.
        vm.warp(T0 + WINDOW + 1 days);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(cardId);
        assertEq(_credit(fraudster), 0);
        assertEq(_credit(mule), 0);
        assertEq(_studioCredit(), studioBefore);
        assertEq(market.platformCreditCents(), platformBefore);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, fraudster, 0, uint256(sellerCents) * UNITS
            )
        );
        vm.prank(fraudster);
        market.withdraw(fraudster, uint256(sellerCents) * UNITS);
        _assertConserved();
    }

    /// @dev The window is `[payment, clearAt)`: a chargeback one second before `clearAt` still claws the sale
    /// back; from `clearAt` on, revoking the licence leaves the sale standing (no {SaleClawedBack}) and anyone
    /// clears it to its recipients.
    function test_H1_afterTheWindowNothingIsClawedBack() public {
        uint256 own = _crypto(fraudster, HD, fraudster);
        uint256 early = _card(SD, alice, "early");
        uint256 cardId = _cardOffer(_list(fraudster, own, 500_000), 500_000, mule, "late");
        uint256 floatAfterSales = _credit(operator);

        // One second before its clearAt, the primary card sale is still clawed back.
        vm.warp(T0 + WINDOW - 1);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(early, operator, uint256(PRICE_SD) * UNITS);
        _revoke(early, CHARGEBACK);
        assertEq(_credit(operator), floatAfterSales + uint256(PRICE_SD) * UNITS);

        // At clearAt, the resale is not.
        vm.warp(T0 + WINDOW);
        vm.recordLogs();
        _revoke(cardId, CHARGEBACK);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2, "Transfer + LicenceRevoked only");
        assertEq(_countLogs(logs, ITangibleMarket.SaleClawedBack.selector), 0);
        assertFalse(market.isValid(cardId));
        assertEq(_credit(operator), floatAfterSales + uint256(PRICE_SD) * UNITS, "the float gets nothing");
        assertEq(_pending(cardId).clearAt, T0 + WINDOW, "still recorded, clearable");
        _assertConserved();

        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(500_000);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        _clear(cardId);
        assertEq(_credit(fraudster), uint256(sellerCents) * UNITS);
        assertEq(_studioCredit() - studioBefore, studioCents);
        assertEq(market.platformCreditCents() - platformBefore, platformCents);
        _assertNothingPending(cardId);
        _assertConserved();
    }

    /// @dev The stolen card buys a licence that is itself uncleared (the fraudster's own card purchase, listed at
    /// 5,000 EUR once its hold passed): the card sale is tainted, and its chargeback still refunds the float, not
    /// the card buyer's wallet (which could withdraw the stablecoin at once: the H-1 cash-out again).
    function test_H1_aTaintedCardSaleIsRefundedToTheFloatNotToItsBuyer() public {
        uint256 first = _card(SD, fraudster, "card-A");
        vm.warp(T0 + 3 days);
        uint256 offerId = _list(fraudster, first, 500_000);
        uint256 floatBefore = _credit(operator);
        uint256 cardId = market.cardLicenceId("stolen-card");
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(cardId, T0 + 3 days + WINDOW, true);
        _cardOffer(offerId, 500_000, mule, "stolen-card");
        assertTrue(_pending(cardId).tainted);

        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(cardId, operator, 500_000 * UNITS);
        _revoke(cardId, CHARGEBACK);
        assertEq(_credit(operator), floatBefore, "the float is whole again");
        assertEq(_credit(mule), 0, "the card buyer's wallet gets nothing");
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, mule, 0, 500_000 * UNITS
            )
        );
        vm.prank(mule);
        market.withdraw(mule, 500_000 * UNITS);

        // The same through the chain: the chargeback of card A unwinds both sales to the float.
        uint256 second = _card(SD, fraudster, "card-B");
        vm.warp(block.timestamp + 3 days);
        _cardOffer(_list(fraudster, second, 500_000), 500_000, mule, "stolen-card-2");
        vm.recordLogs();
        _revoke(second, CHARGEBACK);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleClawedBack.selector), 2);
        assertEq(_credit(mule), 0);
        assertEq(_credit(operator), floatBefore, "both card payments back in the float");
        _assertConserved();
    }

    /// @dev A dispute that arrives after the first card payment cleared unwinds nothing, not even a later card
    /// sale of the same licence still pending for its own payment (its buyer paid honestly).
    function test_aLateDisputeDoesNotUnwindALaterCardSale() public {
        uint256 first = _card(SD, fraudster, "card-late");
        vm.warp(T0 + 3 days);
        uint256 offerId = _list(fraudster, first, 900);
        uint256 second = _cardOffer(offerId, 900, carol, "card-honest");
        TangibleMarket.PendingSale memory p = _pending(second);
        assertTrue(p.tainted);
        assertEq(p.taintedUntil, T0 + WINDOW, "the first payment's clearance time");
        assertEq(p.clearAt, T0 + 3 days + WINDOW, "its own, later");
        // The first payment's window closes; the second's is still open.
        vm.warp(T0 + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, first));
        _revoke(first, CHARGEBACK);
        assertEq(_owner(second), carol, "the honest card buyer keeps the licence");
        assertEq(_pending(second).clearAt, T0 + 3 days + WINDOW, "its sale still pending");
        // Its own dispute still unwinds it.
        _revoke(second, CHARGEBACK);
        _assertNothingPending(second);
        _assertConserved();
    }

    // ------------------------------------------------------------------ audit H-2: laundering by resale

    /// @dev H-2 (b): a card-bought licence, its hold over, sold for 0.20 EUR to the buyer's second wallet. The new
    /// licence is tainted: its sale is pending until the card sale clears, and it is on hold like a card licence
    /// although paid in stablecoin.
    function test_H2_aSelfSaleIsTaintedAndHeld() public {
        uint256 l1 = _card(SD, alice, REF_L1);
        vm.warp(T0 + 3 days);
        uint256 offerId = _list(alice, l1, 20);
        uint256 l2 = _resaleId(l1);
        _ids.push(l2);
        _fund(bob, 20 * UNITS);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(l2, T0 + WINDOW, true);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceMinted(l2, bob, filmId, SD, T0 + 3 days, T0 + 6 days);
        vm.prank(bob);
        market.buyOffer(offerId, 20, bob);

        TangibleMarket.PendingSale memory p = _pending(l2);
        assertEq(p.clearAt, T0 + WINDOW, "the card sale's clearAt, passed on");
        assertTrue(p.tainted);
        assertEq(p.seller, alice);
        assertEq(uint256(p.sellerCents) + p.studioCents + p.platformCents, 20);
        assertEq(_credit(alice), 0, "the seller is not credited");
        assertEq(market.licence(l2).holdUntil, T0 + 6 days, "held although paid in stablecoin");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketLicenceOnHold.selector, l2, T0 + 6 days));
        _list(bob, l2, 20);
        _assertConserved();
    }

    /// @dev H-2 (a) and (b): the chargeback of the card sale follows the licence to the one that replaced it,
    /// revokes that one (the film does not stay owned), refunds its buyer the full price and the float the card
    /// payment; the seller, studio and platform get nothing.
    function test_H2_aChargebackFollowsTheLicenceToItsSuccessor() public {
        uint256 l1 = _card(SD, alice, REF_L1);
        vm.warp(T0 + 3 days);
        uint256 l2 = _cryptoOffer(bob, _list(alice, l1, 20), 20, bob);
        vm.warp(T0 + 30 days);

        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l1, operator, uint256(PRICE_SD) * UNITS);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l2, bob, 20 * UNITS);
        vm.expectEmit(address(market));
        emit IERC721.Transfer(bob, address(0), l2);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(l2, bob, CHARGEBACK, 0);
        _revoke(l1, CHARGEBACK);

        assertFalse(market.isValid(l2));
        assertEq(market.licence(l2).reason, CHARGEBACK);
        assertEq(market.licence(l1).reason, 0, "l1 stays recorded as resold");
        assertEq(market.balanceOf(bob), 0);
        assertEq(_credit(bob), 20 * UNITS, "the buyer gets its full price back");
        assertEq(_credit(operator), FLOAT, "the float gets the card payment back");
        assertEq(_credit(alice), 0);
        assertEq(_studioCredit(), 0);
        assertEq(market.platformCreditCents(), 0);
        _assertNothingPending(l1);
        _assertNothingPending(l2);
        _assertConserved();

        // Nothing left to unwind: a second chargeback is refused, as before.
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, l1));
        _revoke(l1, CHARGEBACK);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, l2));
        _revoke(l2, CHARGEBACK);
    }

    /// @dev Three resales of a card-bought licence (stablecoin, card, stablecoin): each sale waits for the latest
    /// clearance on its way, and one chargeback unwinds all four sales and revokes the last licence.
    function test_H2_aChargebackUnwindsAThreeHopChain() public {
        uint256 l1 = _card(SD, alice, REF_L1); // clears at T0 + WINDOW
        vm.warp(T0 + 3 days);
        uint256 l2 = _cryptoOffer(bob, _list(alice, l1, 1_000), 1_000, bob);
        vm.warp(T0 + 6 days);
        uint256 l3 = _cardOffer(_list(bob, l2, 2_000), 2_000, carol, "card-carol");
        vm.warp(T0 + 9 days);
        uint256 l4 = _cryptoOffer(dave, _list(carol, l3, 3_000), 3_000, dave);

        assertEq(_pending(l2).clearAt, T0 + WINDOW);
        assertEq(_pending(l3).clearAt, T0 + 6 days + WINDOW, "its own card clearance, later");
        assertEq(_pending(l4).clearAt, T0 + 6 days + WINDOW, "passed on");
        assertTrue(_pending(l2).tainted && _pending(l3).tainted && _pending(l4).tainted);
        assertEq(market.licence(l4).holdUntil, T0 + 12 days);
        assertEq(_credit(alice) + _credit(bob) + _credit(carol), 0, "no seller credited");
        _assertConserved();

        vm.warp(T0 + 100 days);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l1, operator, uint256(PRICE_SD) * UNITS);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l2, bob, 1_000 * UNITS);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l3, operator, 2_000 * UNITS);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(l4, dave, 3_000 * UNITS);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(l4, dave, CHARGEBACK, 0);
        _revoke(l1, CHARGEBACK);

        assertEq(_credit(operator), FLOAT, "both card payments back in the float");
        assertEq(_credit(bob), 1_000 * UNITS);
        assertEq(_credit(dave), 3_000 * UNITS);
        assertEq(_credit(alice) + _credit(carol), 0);
        assertEq(_studioCredit(), 0);
        assertEq(market.platformCreditCents(), 0);
        for (uint256 i = 0; i < _ids.length; i++) {
            _assertNothingPending(_ids[i]);
            assertFalse(market.isValid(_ids[i]));
        }
        _assertConserved();
    }

    /// @dev With no hold, a fraudster can chain resales quickly: one revocation follows at most 32 resales (33
    /// sales unwound), and revoking the last licence it reached goes on from there.
    function test_H2_aLongChainIsUnwoundInStepsOf32Hops() public {
        vm.prank(admin);
        market.setHoldPeriod(0);
        uint256[] memory chain = new uint256[](35);
        chain[0] = _card(SD, alice, REF_L1);
        for (uint256 i = 1; i < chain.length; i++) {
            (address seller, address buyer) = i % 2 == 1 ? (alice, bob) : (bob, alice);
            chain[i] = _cryptoOffer(buyer, _list(seller, chain[i - 1], 20), 20, buyer);
        }
        assertTrue(market.isValid(chain[34]));

        vm.recordLogs();
        _revoke(chain[0], CHARGEBACK);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleClawedBack.selector), 33, "33 sales");
        _assertNothingPending(chain[32]);
        assertEq(_pending(chain[33]).clearAt, T0 + WINDOW, "beyond the cap: still pending");
        assertTrue(market.isValid(chain[34]), "not reached yet");
        _assertConserved();

        // The first licence has nothing left to unwind; the last one reached goes on.
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, chain[0]));
        _revoke(chain[0], CHARGEBACK);
        vm.recordLogs();
        _revoke(chain[32], CHARGEBACK);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleClawedBack.selector), 2);
        assertFalse(market.isValid(chain[34]));
        assertEq(market.licence(chain[34]).reason, CHARGEBACK);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, chain[34]));
        _revoke(chain[34], CHARGEBACK);

        // Each buyer got back what it paid, the float the card payment; nobody was credited with a share.
        assertEq(_credit(operator), FLOAT);
        assertEq(_credit(alice), 17 * 20 * UNITS, "alice bought 17 times");
        assertEq(_credit(bob), 17 * 20 * UNITS, "bob bought 17 times");
        assertEq(_studioCredit(), 0);
        assertEq(market.platformCreditCents(), 0);
        _assertConserved();
    }

    /// @dev A chain whose middle licence the operator already revoked for fraud (which unwound that sale and the
    /// ones after it) stops there: the chargeback of the first sale claws back that sale only.
    function test_H2_aChainStopsAtALicenceRevokedForFraud() public {
        uint256 l1 = _card(SD, alice, REF_L1);
        vm.warp(T0 + 3 days);
        uint256 l2 = _cryptoOffer(bob, _list(alice, l1, 1_000), 1_000, bob);
        vm.warp(T0 + 6 days);
        uint256 l3 = _cryptoOffer(carol, _list(bob, l2, 2_000), 2_000, carol);

        // Fraud found on l2 (already resold): its sale and l3's are unwound, l3 is revoked.
        vm.recordLogs();
        _revoke(l2, FRAUD);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleClawedBack.selector), 2);
        assertEq(market.licence(l3).reason, FRAUD);
        assertEq(market.licence(l2).reason, 0, "l2 stays recorded as resold");
        assertEq(_credit(bob), 1_000 * UNITS);
        assertEq(_credit(carol), 2_000 * UNITS);
        assertEq(_pending(l1).clearAt, T0 + WINDOW, "the first sale is untouched");

        // The chargeback of l1 unwinds l1's sale and stops at l2 (nothing pending there any more).
        vm.recordLogs();
        _revoke(l1, CHARGEBACK);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "SaleClawedBack of l1 only");
        assertEq(logs[0].topics[0], ITangibleMarket.SaleClawedBack.selector);
        assertEq(uint256(logs[0].topics[1]), l1);
        assertEq(_credit(operator), FLOAT);
        assertEq(_credit(bob), 1_000 * UNITS);
        assertEq(_credit(carol), 2_000 * UNITS);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, l1));
        _revoke(l1, CHARGEBACK);
        _assertConserved();
    }

    /// @dev Once the card sale cleared, a resale of its licence is clean again: credited at once, no hold, no
    /// pending record, and a later revocation of the first licence has nothing to follow.
    function test_H2_aResaleAfterClearanceIsCreditedAtOnce() public {
        uint256 l1 = _card(SD, alice, REF_L1);
        vm.warp(T0 + WINDOW);
        uint256 offerId = _list(alice, l1, 1_000);
        vm.recordLogs();
        uint256 l2 = _cryptoOffer(bob, offerId, 1_000, bob);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SalePending.selector), 0);
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(1_000);
        assertEq(_credit(alice), uint256(sellerCents) * UNITS);
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);
        assertEq(market.licence(l2).holdUntil, 0);
        _assertNothingPending(l2);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, l1));
        _revoke(l1, CHARGEBACK);
        _clear(l1); // the card sale itself is still to be cleared
        _assertConserved();
    }
}
