// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm, VmSafe} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleMarketAdmin} from "../src/TangibleMarketAdmin.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";

/// @notice Clearance of card money (audit H-1 and H-2, `shared/reviews/contracts-audit-2026-12-02.md`): the shares
/// of a card-paid sale, and of any sale of a licence whose own sale is still pending ("tainted"), stay pending
/// until `clearAt`; {TangibleMarket-clearSales} credits them afterwards, {TangibleMarket-revoke} gives them back
/// before (to the operator's float for a card-paid sale, to the buyer for a crypto-paid tainted one) and follows a
/// licence resold while uncleared to the licence that replaced it. Also the clearance period's governance, the
/// market's books with pending money, and the admin module the market delegates to.
contract ClearanceTest is TangibleTest {
    uint32 internal constant T0 = 1_800_000_000;
    uint32 internal constant WINDOW = 120 days; // DEFAULT_CLEARANCE_PERIOD
    uint8 internal constant CHARGEBACK = 1;
    uint8 internal constant FRAUD = 2;
    bytes32 internal constant REF_L1 = keccak256("pi_card_L1");

    address internal fraudster = makeAddr("fraudster");
    address internal mule = makeAddr("mule"); // the fraudster's second wallet
    address internal dave = makeAddr("dave");
    address internal stranger = makeAddr("stranger");

    /// @dev Every licence minted by the helpers below, for {_assertConserved}.
    uint256[] internal _ids;

    function setUp() public override {
        super.setUp();
        vm.warp(T0);
    }

    // ------------------------------------------------------------------ helpers

    function _card(uint8 quality, address recipient, bytes32 ref) internal returns (uint256 id) {
        id = _buyCard(quality, recipient, ref);
        _ids.push(id);
    }

    function _crypto(address buyer, uint8 quality, address recipient) internal returns (uint256 id) {
        id = _buyCrypto(buyer, quality, recipient);
        _ids.push(id);
    }

    /// @dev The operator settles a card payment of `offerId`.
    function _cardOffer(uint256 offerId, uint64 price, address recipient, bytes32 ref)
        internal
        returns (uint256 id)
    {
        vm.prank(operator);
        id = market.settleCardOffer(offerId, price, recipient, ref);
        _ids.push(id);
    }

    /// @dev `buyer` pays `offerId` in stablecoin.
    function _cryptoOffer(address buyer, uint256 offerId, uint64 price, address recipient)
        internal
        returns (uint256 id)
    {
        _fund(buyer, uint256(price) * UNITS);
        vm.prank(buyer);
        id = market.buyOffer(offerId, price, recipient);
        _ids.push(id);
    }

    function _pending(uint256 id) internal view returns (TangibleMarket.PendingSale memory) {
        return market.pendingSale(id);
    }

    function _pendingUnits(uint256 id) internal view returns (uint256) {
        TangibleMarket.PendingSale memory p = market.pendingSale(id);
        return (uint256(p.sellerCents) + p.studioCents + p.platformCents) * UNITS;
    }

    function _clear(uint256 id) internal {
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        vm.prank(stranger); // anyone
        market.clearSales(ids);
    }

    function _revoke(uint256 id, uint8 reason) internal {
        vm.prank(operator);
        market.revoke(id, reason);
    }

    function _assertNothingPending(uint256 id) internal view {
        TangibleMarket.PendingSale memory p = market.pendingSale(id);
        assertEq(p.clearAt, 0, "clearAt");
        assertEq(uint256(p.sellerCents) + p.studioCents + p.platformCents, 0, "no shares");
        assertEq(p.seller, address(0), "no seller");
        assertFalse(p.tainted, "not tainted");
    }

    /// @dev The market holds exactly what it owes: every withdrawable balance, the studio's and the platform's
    /// accruals and every pending share (in units).
    function _assertConserved() internal view {
        address[12] memory accounts = [
            operator,
            admin,
            platform,
            royalty,
            studioAdmin,
            alice,
            bob,
            carol,
            dave,
            fraudster,
            mule,
            stranger
        ];
        uint256 owed = (uint256(_studioCredit()) + market.platformCreditCents()) * UNITS;
        for (uint256 i = 0; i < accounts.length; i++) {
            owed += _credit(accounts[i]);
        }
        for (uint256 i = 0; i < _ids.length; i++) {
            owed += _pendingUnits(_ids[i]);
        }
        assertEq(euro.balanceOf(address(market)), owed, "held == balances + accruals + pending");
    }

    function _countLogs(Vm.Log[] memory logs, bytes32 topic0) internal view returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter == address(market) && logs[i].topics[0] == topic0) n++;
        }
    }

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
        uint256 l2 = market.nextLicenceId();
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

    // ------------------------------------------------------------------ clearSales

    /// @dev `clearSales` skips what it cannot clear (nothing pending, not yet due) and reverts only when it cleared
    /// nothing at all: before `clearAt`, for an id never minted, a crypto sale credited at once, a sale already
    /// cleared, an empty batch.
    function test_clearSales_nothingDueReverts() public {
        uint256 id = _card(HD, alice, REF_L1);
        uint256 cryptoId = _crypto(alice, HD, alice);
        vm.warp(T0 + WINDOW - 1);
        uint256[4] memory single = [id, 777, cryptoId, type(uint256).max];
        for (uint256 i = 0; i < single.length; i++) {
            vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
            _clear(single[i]);
        }
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        market.clearSales(new uint256[](0));
        assertEq(_pending(id).clearAt, T0 + WINDOW, "still pending");

        vm.warp(T0 + WINDOW);
        _clear(id);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(id); // once only
        _assertConserved();
    }

    /// @dev After clearAt anyone credits exactly the shares {SaleSettled} named: the seller's balance, the
    /// studio's and the platform's accruals; the record is deleted.
    function test_clearSales_creditsTheSaleSettledShares() public {
        uint256 own = _crypto(alice, UHD, alice);
        uint256 offerId = _list(alice, own, 1_234);
        uint256 aliceBefore = _credit(alice);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(1_234);
        uint256 id = _cardOffer(offerId, 1_234, bob, REF_L1);
        assertEq(_credit(alice), aliceBefore);

        vm.warp(T0 + WINDOW);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleCleared(id);
        vm.prank(stranger);
        assertEq(market.clearSales(ids), 1, "one sale cleared");
        assertEq(_credit(alice) - aliceBefore, uint256(sellerCents) * UNITS, "seller");
        assertEq(_studioCredit() - studioBefore, studioCents, "studio");
        assertEq(market.platformCreditCents() - platformBefore, platformCents, "platform");
        _assertNothingPending(id);
        _assertConserved();

        // The recipients withdraw.
        vm.prank(alice);
        market.withdraw(alice, uint256(sellerCents) * UNITS);
        vm.prank(royalty);
        market.withdrawStudio(studioId);
        vm.prank(admin);
        market.withdrawPlatform();
        _assertConserved();
    }

    /// @dev A batch clears several sales (primary and resale) in one call and skips the ids it cannot clear: one
    /// not due yet, one someone else cleared first (front-running the batch does not make it fail), one clawed
    /// back, one never minted. It returns how many it cleared.
    function test_clearSales_batchSkipsWhatItCannotClear() public {
        uint256 a = _card(SD, alice, "a");
        uint256 b = _card(HD, bob, "b");
        uint256 own = _crypto(carol, UHD, carol);
        uint256 c = _cardOffer(_list(carol, own, 5_000), 5_000, dave, "c");
        uint256 gone = _card(SD, carol, "gone");
        _revoke(gone, CHARGEBACK); // clawed back: nothing pending
        vm.warp(T0 + 1 days);
        uint256 late = _card(SD, dave, "late");
        (uint64 studioDue, uint64 platformDue, uint64 sellerDue) = _dueOfBatch();
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();

        vm.warp(T0 + WINDOW);
        _clear(b); // someone clears one sale of the operator's batch first
        uint256[] memory ids = new uint256[](6);
        (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]) = (a, b, late, c, gone, 777);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleCleared(a);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleCleared(c);
        vm.recordLogs();
        vm.prank(operator);
        assertEq(market.clearSales(ids), 2, "a and c");
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleCleared.selector), 2);
        assertEq(_studioCredit() - studioBefore, studioDue);
        assertEq(market.platformCreditCents() - platformBefore, platformDue);
        assertEq(_credit(carol), uint256(sellerDue) * UNITS);
        _assertNothingPending(a);
        _assertNothingPending(b);
        _assertNothingPending(c);
        assertEq(_pending(late).clearAt, T0 + 1 days + WINDOW, "not due: skipped, still pending");
        _assertConserved();

        // The same batch again clears nothing.
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        market.clearSales(ids);
        vm.warp(T0 + 1 days + WINDOW);
        assertEq(market.clearSales(ids), 1, "late, once due");
        _assertNothingPending(late);
        _assertConserved();
    }

    /// @dev The shares of the batch's sales a, b (card primaries, SD and HD) and c (a card resale at 50 EUR).
    function _dueOfBatch() internal pure returns (uint64 studio, uint64 plat, uint64 seller) {
        (uint64 s1, uint64 p1) = _expectedPrimary(PRICE_SD, 1000);
        (uint64 s2, uint64 p2) = _expectedPrimary(PRICE_HD, 1000);
        (uint64 seller3, uint64 s3, uint64 p3) = _expectedResale(5_000);
        return (s1 + s2 + s3, p1 + p2 + p3, seller3);
    }

    /// @dev Clearing stays open while the market is paused (it only moves internal credits); withdrawing does not.
    function test_clearSales_whilePaused() public {
        uint256 id = _card(HD, alice, REF_L1);
        vm.warp(T0 + WINDOW);
        vm.prank(operator);
        market.pause();
        _clear(id);
        (uint64 studioCents,) = _expectedPrimary(PRICE_HD, 1000);
        assertEq(_studioCredit(), studioCents);
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(royalty);
        market.withdrawStudio(studioId);
        _assertConserved();
    }

    // ------------------------------------------------------------------ setClearancePeriod

    function test_setClearancePeriod() public {
        assertEq(market.clearancePeriod(), WINDOW);
        assertEq(market.DEFAULT_CLEARANCE_PERIOD(), WINDOW);
        uint256 before = _card(SD, alice, "before");

        vm.expectEmit(address(market));
        emit ITangibleMarket.ClearancePeriodChanged(7 days);
        vm.prank(admin);
        market.setClearancePeriod(7 days);
        assertEq(market.clearancePeriod(), 7 days);
        uint256 afterId = _card(SD, bob, "after");
        assertEq(_pending(afterId).clearAt, T0 + 7 days, "new sales use the new period");
        assertEq(_pending(before).clearAt, T0 + WINDOW, "earlier sales keep theirs");

        // A card sale of the uncleared licence waits for the later of the two clearances.
        vm.warp(T0 + 3 days);
        uint256 resold = _cardOffer(_list(alice, before, 1_000), 1_000, carol, "resale");
        assertEq(_pending(resold).clearAt, T0 + WINDOW, "the licence sold clears later than the card");

        vm.prank(admin);
        market.setClearancePeriod(180 days); // the maximum
        assertEq(market.MAX_CLEARANCE_PERIOD(), 180 days);
        assertEq(market.clearancePeriod(), 180 days);
    }

    function test_setClearancePeriod_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInvalidClearancePeriod.selector, uint32(180 days + 1), uint32(180 days)
            )
        );
        vm.prank(admin);
        market.setClearancePeriod(180 days + 1);
        address[3] memory refused = [operator, studioAdmin, stranger];
        for (uint256 i = 0; i < refused.length; i++) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, refused[i], bytes32(0)
                )
            );
            vm.prank(refused[i]);
            market.setClearancePeriod(0);
        }
        assertEq(market.clearancePeriod(), WINDOW);
    }

    /// @dev A clearance period of 0 does not skip the record: the card sale is recorded with `clearAt == now`
    /// ({SalePending} still emitted), is clearable at once, in the same block, and is never clawed back (the
    /// window `[now, now)` is empty); a resale of its licence is not tainted.
    function test_setClearancePeriod_zeroClearsAtOnce() public {
        vm.prank(admin);
        market.setClearancePeriod(0);
        uint256 id = market.cardLicenceId(REF_L1);
        _ids.push(id);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(id, T0, false);
        vm.prank(operator);
        market.settleCardPrimary(filmId, HD, PRICE_HD, alice, REF_L1);
        assertEq(_pending(id).clearAt, T0);
        assertEq(_studioCredit(), 0, "pending until cleared, even for 0 seconds");

        vm.recordLogs();
        _revoke(id, CHARGEBACK);
        assertEq(_countLogs(vm.getRecordedLogs(), ITangibleMarket.SaleClawedBack.selector), 0, "not clawed");
        assertEq(_credit(operator), FLOAT - uint256(PRICE_HD) * UNITS);
        _clear(id); // same block
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);

        // A resale of a card licence whose clearAt is now is clean (with no hold either, in the same block).
        vm.prank(admin);
        market.setHoldPeriod(0);
        uint256 other = _card(SD, bob, "other");
        assertEq(_pending(other).clearAt, T0);
        uint256 l2 = _cryptoOffer(carol, _list(bob, other, 1_000), 1_000, carol);
        _assertNothingPending(l2);
        assertEq(market.licence(l2).holdUntil, 0);
        (uint64 sellerCents,,) = _expectedResale(1_000);
        assertEq(_credit(bob), uint256(sellerCents) * UNITS, "credited at once");
        _assertConserved();
    }

    // ------------------------------------------------------------------ conservation

    /// @dev A mixed scenario (crypto and card primaries and resales, tainted resales, a chargeback through a
    /// chain, a fraud revocation, clearances, withdrawals, a platform and a royalty change): after every step the
    /// market holds exactly the balances, the accruals and the pending shares.
    function test_conservation_mixedScenario() public {
        uint256 c1 = _crypto(alice, HD, alice);
        uint256 k1 = _card(UHD, bob, "k1");
        uint256 k2 = _card(SD, carol, "k2");
        _assertConserved();
        uint256 r1 = _cardOffer(_list(alice, c1, 4_321), 4_321, dave, "r1"); // card, clean
        _assertConserved();
        vm.warp(T0 + 3 days);
        uint256 t1 = _cryptoOffer(alice, _list(bob, k1, 777), 777, alice); // tainted, crypto
        uint256 t2 = _cardOffer(_list(carol, k2, 999), 999, fraudster, "t2"); // tainted, card
        _assertConserved();
        vm.warp(T0 + 6 days);
        uint256 t3 = _cryptoOffer(mule, _list(fraudster, t2, 5_000), 5_000, mule); // tainted twice
        _assertConserved();

        _revoke(k2, CHARGEBACK); // unwinds k2, t2 (to the float) and t3 (to the mule), revokes t3
        assertEq(_credit(mule), 5_000 * UNITS);
        assertFalse(market.isValid(t3));
        _assertConserved();
        _revoke(t1, FRAUD); // a live tainted licence: its buyer gets its stablecoin back
        assertEq(_credit(alice), 777 * UNITS);
        _assertConserved();

        vm.prank(admin);
        market.setPlatform(stranger);
        vm.prank(studioAdmin);
        market.updateStudio(studioId, studioAdmin, dave, "Studio Lumiere");
        _assertConserved();

        vm.warp(T0 + 6 days + WINDOW);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (k1, r1);
        market.clearSales(ids);
        _assertConserved();
        for (uint256 i = 0; i < _ids.length; i++) {
            _assertNothingPending(_ids[i]);
        }

        uint256 aliceCredit = _credit(alice);
        vm.prank(alice);
        market.withdraw(alice, aliceCredit);
        vm.prank(mule);
        market.withdraw(mule, 5_000 * UNITS);
        vm.prank(dave);
        market.withdrawStudio(studioId);
        vm.prank(admin);
        market.withdrawPlatform();
        uint256 float = _credit(operator);
        vm.prank(operator);
        market.withdraw(admin, float);
        _assertConserved();
    }

    // ------------------------------------------------------------------ the admin module

    /// @dev The module the market delegates its cold functions to is a contract of its own (the market's first
    /// creation). Called directly, it runs on its own storage, where nobody holds a role: whoever calls, nothing
    /// of the market changes (no call reaches the market, no slot of it is written).
    function test_adminModule_calledDirectlyChangesNothingOfTheMarket() public {
        address module = vm.computeCreateAddress(address(market), 1);
        assertGt(module.code.length, 0, "the module is deployed");
        assertEq(address(TangibleMarketAdmin(module).token()), address(euro));
        assertFalse(TangibleMarketAdmin(module).hasRole(bytes32(0), admin), "no role in the module");
        uint256 pendingId = _card(HD, alice, REF_L1);
        uint256 cryptoId = _crypto(bob, SD, bob);
        bytes32 op = market.OPERATOR_ROLE();
        uint256[] memory ids = new uint256[](1);
        ids[0] = pendingId;

        bytes[] memory calls = new bytes[](24);
        calls[0] = abi.encodeCall(TangibleMarket.registerStudio, (stranger, stranger, "rogue"));
        calls[1] = abi.encodeCall(TangibleMarket.updateStudio, (studioId, stranger, stranger, "rogue"));
        calls[2] = abi.encodeCall(TangibleMarket.setStudioCommission, (studioId, 3000));
        calls[3] = abi.encodeCall(TangibleMarket.setStudioFilmQuota, (studioId, 999, 0));
        calls[4] = abi.encodeCall(TangibleMarket.registerFilm, (studioId, "rogue", 2026));
        calls[5] = abi.encodeCall(TangibleMarket.registerEdition, (filmId, SD, keccak256("rogue-master"), 1));
        calls[6] =
            abi.encodeCall(TangibleMarket.updateEdition, (filmId, SD, keccak256("rogue-master"), 1, "rogue"));
        calls[7] = abi.encodeCall(TangibleMarket.withdrawEdition, (filmId, SD));
        calls[8] = abi.encodeCall(TangibleMarket.reactivateEdition, (filmId, SD));
        calls[9] = abi.encodeCall(TangibleMarket.suspendEdition, (filmId, SD, "rogue"));
        calls[10] = abi.encodeCall(TangibleMarket.unsuspendEdition, (filmId, SD, "rogue"));
        calls[11] = abi.encodeCall(TangibleMarket.setBaseURI, ("https://rogue/"));
        calls[12] = abi.encodeCall(TangibleMarket.revoke, (pendingId, CHARGEBACK));
        calls[13] = abi.encodeCall(TangibleMarket.revoke, (cryptoId, FRAUD));
        calls[14] = abi.encodeCall(TangibleMarket.clearSales, (ids));
        calls[15] = abi.encodeCall(TangibleMarket.clearSales, (new uint256[](0)));
        calls[16] = abi.encodeCall(TangibleMarket.setPlatform, (stranger));
        calls[17] = abi.encodeCall(TangibleMarket.setTreasury, (stranger));
        calls[18] = abi.encodeCall(TangibleMarket.setHoldPeriod, (0));
        calls[19] = abi.encodeCall(TangibleMarket.setClearancePeriod, (0));
        calls[20] = abi.encodeCall(IAccessControl.grantRole, (bytes32(0), stranger));
        calls[21] = abi.encodeCall(IAccessControl.grantRole, (op, stranger));
        calls[22] = abi.encodeCall(IAccessControl.revokeRole, (op, operator));
        calls[23] = abi.encodeCall(IAccessControl.renounceRole, (bytes32(0), admin));

        address[4] memory callers = [admin, operator, studioAdmin, stranger];
        vm.warp(T0 + WINDOW); // the pending sale is clearable: only the market's own clearSales may clear it
        vm.startStateDiffRecording();
        for (uint256 c = 0; c < callers.length; c++) {
            for (uint256 i = 0; i < calls.length; i++) {
                vm.prank(callers[c]);
                (bool ok,) = module.call(calls[i]);
                // Only a call that changes nothing anywhere succeeds: renouncing a role one does not hold in
                // the module.
                assertEq(ok, i == 23 && callers[c] == admin, "only a no-op succeeds");
            }
        }
        Vm.AccountAccess[] memory accesses = vm.stopAndReturnStateDiff();
        uint256 moduleCalls;
        for (uint256 i = 0; i < accesses.length; i++) {
            if (accesses[i].account == module && accesses[i].kind == VmSafe.AccountAccessKind.Call) {
                moduleCalls++;
            }
            assertTrue(accesses[i].account != address(market), "no call reaches the market");
            for (uint256 j = 0; j < accesses[i].storageAccesses.length; j++) {
                Vm.StorageAccess memory s = accesses[i].storageAccesses[j];
                assertTrue(s.account != address(market), "no slot of the market touched");
                assertFalse(s.isWrite && !s.reverted, "no storage written anywhere");
            }
        }

        assertEq(moduleCalls, callers.length * calls.length, "every call recorded");

        // The market is as it was: roles, registry, pending sale, configuration.
        assertTrue(market.hasRole(bytes32(0), admin));
        assertTrue(market.hasRole(op, operator));
        assertFalse(market.hasRole(op, stranger));
        assertEq(market.studio(studioId).royaltyRecipient, royalty);
        assertEq(market.studioCount(), 1);
        assertTrue(market.isValid(pendingId) && market.isValid(cryptoId));
        assertEq(_pending(pendingId).clearAt, T0 + WINDOW);
        assertEq(market.platform(), platform);
        assertEq(market.treasury(), admin);
        assertEq(market.holdPeriod(), 3 days);
        assertEq(market.clearancePeriod(), WINDOW);
        assertEq(market.tokenURI(cryptoId), "");

        // Through the market, the same code acts on the market.
        _clear(pendingId);
        _assertNothingPending(pendingId);
    }
}
