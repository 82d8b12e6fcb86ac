// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {ClearanceFixture} from "./utils/ClearanceFixture.sol";

/// @notice Card sales settled in one call ({TangibleMarketCore-settleCardPrimaryBatch}): each sale is what
/// {TangibleMarket-settleCardPrimary} makes (id, hold, float debit, daily limit, events, pending shares), the
/// batch is all or nothing, and the pending shares the batch's sales share one record per (edition, second)
/// ({TangibleMarketCore-PendingPool}) that {clearSales} and {revoke} settle sale by sale.
contract CardBatchTest is ClearanceFixture {
    /// @dev Storage slot of `_pools` (`forge inspect TangibleMarket storageLayout`).
    uint256 internal constant POOLS_SLOT = 20;

    /// @dev `n` recipients (alice, bob, carol, dave, ... cycling) and `n` references salted with `salt`.
    function _batch(uint256 n, string memory salt)
        internal
        view
        returns (address[] memory to, bytes32[] memory refs)
    {
        to = new address[](n);
        refs = new bytes32[](n);
        address[4] memory people = [alice, bob, carol, dave];
        for (uint256 i; i < n; ++i) {
            to[i] = people[i % 4];
            refs[i] = keccak256(abi.encode(salt, i));
        }
    }

    function _settleBatch(uint8 quality, uint64 price, address[] memory to, bytes32[] memory refs)
        internal
        returns (uint256[] memory ids)
    {
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, quality, price, to, refs);
        ids = new uint256[](refs.length);
        for (uint256 i; i < refs.length; ++i) {
            ids[i] = market.cardLicenceId(refs[i]);
            _ids.push(ids[i]);
        }
    }

    // ------------------------------------------------------------------ each sale is a card sale

    /// @dev Every sale of the batch is the card sale `settleCardPrimary` would have made: its card id, owner,
    /// hold, pending shares and clearance time, the events in the same order; the float pays the batch's total
    /// and the day's card settlements count it.
    function test_batch_eachSaleIsACardSale() public {
        (address[] memory to, bytes32[] memory refs) = _batch(3, "each");
        uint256 floatBefore = _credit(operator);
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);

        vm.recordLogs();
        uint256[] memory ids = _settleBatch(HD, PRICE_HD, to, refs);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(logs.length, 4 * 3, "four events per sale");
        for (uint256 i; i < 3; ++i) {
            assertEq(ids[i], market.cardLicenceId(refs[i]));
            assertTrue(market.paymentRefUsed(refs[i]));
            TangibleLicence.LicenceInfo memory l = market.licence(ids[i]);
            assertEq(l.owner, to[i]);
            assertEq(l.filmId, filmId);
            assertEq(l.quality, HD);
            assertEq(l.acquiredAt, T0);
            assertEq(l.holdUntil, T0 + market.holdPeriod(), "held like a card licence");
            TangibleMarket.PendingSale memory p = _pending(ids[i]);
            assertEq(p.clearAt, T0 + WINDOW);
            assertEq(p.studioCents, studioCents);
            assertEq(p.platformCents, platformCents);
            assertEq(p.sellerCents, 0);
            assertEq(p.studioId, studioId);
            assertEq(p.seller, address(0));
            assertFalse(p.tainted);
            // SalePending, Transfer, LicenceMinted, SaleSettled: as settleCardPrimary emits them.
            assertEq(logs[4 * i].topics[0], ITangibleMarket.SalePending.selector);
            assertEq(logs[4 * i].topics[1], bytes32(ids[i]));
            assertEq(logs[4 * i + 1].topics[0], keccak256("Transfer(address,address,uint256)"));
            assertEq(logs[4 * i + 2].topics[0], TangibleLicence.LicenceMinted.selector);
            assertEq(logs[4 * i + 3].topics[0], ITangibleMarket.SaleSettled.selector);
            assertEq(logs[4 * i + 3].topics[3], refs[i], "the sale names its payment");
        }
        assertEq(floatBefore - _credit(operator), 3 * uint256(PRICE_HD) * UNITS, "the float pays the total");
        (, uint64 settledToday) = market.cardSettlementLimit();
        assertEq(settledToday, 3 * uint256(PRICE_HD), "the daily limit counts the total");
        assertEq(market.balanceOf(alice), 1);
        _assertConserved();
    }

    /// @dev The same sale settled alone and in a batch leaves the same licence and pending record.
    function test_batch_sameRecordAsASingleSettlement() public {
        uint256 single = _card(SD, alice, "single");
        (address[] memory to, bytes32[] memory refs) = _batch(1, "batched");
        uint256 batched = _settleBatch(SD, PRICE_SD, to, refs)[0];
        TangibleMarket.PendingSale memory a = _pending(single);
        TangibleMarket.PendingSale memory b = _pending(batched);
        assertEq(abi.encode(a), abi.encode(b), "same pending record");
        TangibleLicence.LicenceInfo memory la = market.licence(single);
        TangibleLicence.LicenceInfo memory lb = market.licence(batched);
        assertEq(abi.encode(la), abi.encode(lb), "same licence");
    }

    // ------------------------------------------------------------------ all or nothing

    /// @dev A batch with one bad sale settles none: a reference used before, one repeated in the batch, address
    /// 0 as a recipient.
    function test_batch_allOrNothing() public {
        _card(SD, alice, "used");
        (address[] memory to, bytes32[] memory refs) = _batch(4, "aon");
        uint256 floatBefore = _credit(operator);

        refs[2] = "used";
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketPaymentRefUsed.selector, bytes32("used"))
        );
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, to, refs);

        refs[2] = refs[0];
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPaymentRefUsed.selector, refs[0]));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, to, refs);

        (, refs) = _batch(4, "aon");
        to[3] = address(0);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, to, refs);

        for (uint256 i; i < 4; ++i) {
            assertFalse(market.paymentRefUsed(refs[i]), "none settled");
        }
        assertEq(_credit(operator), floatBefore, "float untouched");
    }

    /// @dev The batch's checks: settler only, not while paused, 1 to MAX_CARD_BATCH sales with one reference
    /// each, the price expected, an active edition, the daily limit and the float for the whole batch.
    function test_batch_refusals() public {
        (address[] memory to, bytes32[] memory refs) = _batch(2, "refused");

        vm.expectRevert(_unauthorized(stranger, market.SETTLER_ROLE()));
        vm.prank(stranger);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, to, refs);

        (address[] memory none, bytes32[] memory noRefs) = _batch(0, "none");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidBatch.selector, 0, 0));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, none, noRefs);

        (address[] memory three,) = _batch(3, "three");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidBatch.selector, 3, 2));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, three, refs);

        uint256 max = market.MAX_CARD_BATCH();
        (address[] memory tooMany, bytes32[] memory tooManyRefs) = _batch(max + 1, "many");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidBatch.selector, max + 1, max + 1));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, tooMany, tooManyRefs);

        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, PRICE_HD, PRICE_SD)
        );
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_HD, to, refs);

        vm.prank(operator);
        market.withdrawEdition(filmId, SD);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketEditionInactive.selector, filmId, SD));
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, SD, PRICE_SD, to, refs);

        // The daily limit counts the whole batch: room for one HD sale, not two.
        vm.prank(admin);
        market.setCardSettlementLimit(uint32(PRICE_HD / 100) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketCardSettlementLimit.selector,
                0,
                2 * PRICE_HD,
                (uint64(PRICE_HD / 100) + 1) * 100
            )
        );
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, HD, PRICE_HD, to, refs);

        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, HD, PRICE_HD, to, refs);
    }

    /// @dev A float short of the batch's total settles none of it.
    function test_batch_floatShortOfTheTotal() public {
        (address[] memory to, bytes32[] memory refs) = _batch(2, "float");
        uint256 float = _credit(operator);
        vm.prank(operator);
        market.withdraw(admin, float - (2 * uint256(PRICE_HD) * UNITS - 1));
        uint256 left = _credit(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector,
                operator,
                left,
                2 * uint256(PRICE_HD) * UNITS
            )
        );
        vm.prank(operator);
        market.settleCardPrimaryBatch(filmId, HD, PRICE_HD, to, refs);
    }

    // ------------------------------------------------------------------ one pending record per (edition, second)

    /// @dev A batch's sales write no pending record each: one pool for the batch (licence slot, licence count,
    /// pool, float, daily counter), where settling them one by one writes a record per sale as well.
    function test_batch_writesOnePendingRecord() public {
        (address[] memory to, bytes32[] memory refs) = _batch(4, "slots");
        vm.record();
        _settleBatch(SD, PRICE_SD, to, refs);
        (, bytes32[] memory writes) = vm.accesses(address(market));
        assertEq(_distinct(writes), 4 + 4 + 1 + 1 + 1, "4 licences, 4 counts, pool, float, counters");

        (to, refs) = _batch(4, "one-by-one");
        vm.record();
        for (uint256 i; i < 4; ++i) {
            _card(SD, to[i], refs[i]);
        }
        (, writes) = vm.accesses(address(market));
        assertEq(_distinct(writes), 4 + 4 + 4 + 1 + 1, "a pending record per sale");
    }

    /// @dev A second batch of the edition in the same second joins the pool; after a price change within the
    /// second, the next batch's sales (other shares) get records of their own. Every sale clears its own shares.
    function test_batch_sameSecondJoinsOrKeepsItsOwn() public {
        (address[] memory to, bytes32[] memory refs) = _batch(2, "first");
        uint256[] memory first = _settleBatch(SD, PRICE_SD, to, refs);
        (to, refs) = _batch(2, "second");
        uint256[] memory second = _settleBatch(SD, PRICE_SD, to, refs);
        uint64 newPrice = PRICE_SD + 100;
        vm.prank(operator);
        market.updateEdition(filmId, SD, MASTER_SD, newPrice, "");
        (to, refs) = _batch(2, "third");
        uint256[] memory third = _settleBatch(SD, newPrice, to, refs);
        _assertConserved();

        (uint64 s1, uint64 p1) = _expectedPrimary(PRICE_SD, 1000);
        (uint64 s3, uint64 p3) = _expectedPrimary(newPrice, 1000);
        for (uint256 i; i < 2; ++i) {
            assertEq(_pending(first[i]).studioCents, s1);
            assertEq(_pending(second[i]).studioCents, s1);
            assertEq(_pending(third[i]).studioCents, s3);
            assertEq(_pending(third[i]).platformCents, p3);
        }

        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        vm.warp(T0 + WINDOW);
        uint256[] memory all = new uint256[](6);
        (all[0], all[1], all[2], all[3], all[4], all[5]) =
        (first[0], first[1], second[0], second[1], third[0], third[1]);
        assertEq(market.clearSales(all), 6);
        assertEq(_studioCredit() - studioBefore, 4 * s1 + 2 * s3);
        assertEq(market.platformCreditCents() - platformBefore, 4 * p1 + 2 * p3);
        for (uint256 i; i < 6; ++i) {
            _assertNothingPending(all[i]);
        }
        _assertConserved();
    }

    /// @dev Pooled sales clear one by one, once each, not before their clearance time; an id that only shares
    /// a pooled licence's slot (a later generation of it) has nothing pending.
    function test_batch_clearsSaleBySale() public {
        (address[] memory to, bytes32[] memory refs) = _batch(3, "clear");
        uint256[] memory ids = _settleBatch(HD, PRICE_HD, to, refs);
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);
        uint256 alias_ = ids[0] + (1 << 192);
        _assertNothingPending(alias_);

        vm.warp(T0 + WINDOW - 1);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(ids[0]);

        vm.warp(T0 + WINDOW);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(alias_);
        uint64 studioBefore = _studioCredit();
        _clear(ids[0]);
        assertEq(_studioCredit() - studioBefore, studioCents, "one sale's share");
        _assertNothingPending(ids[0]);
        assertEq(_pending(ids[1]).studioCents, studioCents, "the others still pending");
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        _clear(ids[0]); // once only
        _assertConserved();

        uint64 platformBefore = market.platformCreditCents();
        _clear(ids[1]);
        _clear(ids[2]);
        assertEq(market.platformCreditCents() - platformBefore, 2 * platformCents);
        _assertConserved();
    }

    /// @dev A chargeback inside the window claws back that one pooled sale (to the revoker, as any card sale);
    /// the batch's other sales still clear; after the window a revocation claws nothing back.
    function test_batch_revokeClawsBackOneSale() public {
        (address[] memory to, bytes32[] memory refs) = _batch(3, "revoke");
        uint256[] memory ids = _settleBatch(HD, PRICE_HD, to, refs);
        uint256 revokerBefore = _credit(operator);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleClawedBack(ids[1], operator, uint256(PRICE_HD) * UNITS);
        _revoke(ids[1], CHARGEBACK);
        assertEq(_credit(operator) - revokerBefore, uint256(PRICE_HD) * UNITS, "the whole price back");
        _assertNothingPending(ids[1]);
        assertTrue(market.licence(ids[1]).revoked);
        _assertConserved();

        vm.warp(T0 + WINDOW);
        uint256[] memory all = new uint256[](3);
        (all[0], all[1], all[2]) = (ids[0], ids[1], ids[2]);
        assertEq(market.clearSales(all), 2, "the two others");
        _revoke(ids[0], FRAUD);
        assertEq(_credit(operator) - revokerBefore, uint256(PRICE_HD) * UNITS, "nothing more after clearance");
        _assertConserved();
    }

    /// @dev A pooled licence resold by card inside its window: the resale is tainted until the pooled sale's
    /// clearance time, a chargeback of the first sale follows it to the buyer's licence and claws both back.
    function test_batch_pooledLicenceResoldThenChargedBack() public {
        (address[] memory to, bytes32[] memory refs) = _batch(2, "resold");
        uint256[] memory ids = _settleBatch(HD, PRICE_HD, to, refs);
        vm.warp(T0 + market.holdPeriod());
        uint256 offerId = _list(to[0], ids[0], 2_000);
        uint256 resold = _cardOffer(offerId, 2_000, fraudster, "resale");
        TangibleMarket.PendingSale memory p = _pending(resold);
        assertTrue(p.tainted);
        assertEq(p.taintedUntil, T0 + WINDOW, "the pooled sale's clearance time");
        _assertConserved();

        uint256 revokerBefore = _credit(operator);
        _revoke(ids[0], CHARGEBACK);
        assertEq(_credit(operator) - revokerBefore, (uint256(PRICE_HD) + 2_000) * UNITS, "both sales back");
        assertTrue(market.licence(resold).revoked, "the buyer's licence too");
        _assertNothingPending(ids[0]);
        _assertNothingPending(resold);
        assertEq(_pending(ids[1]).clearAt, T0 + WINDOW, "the other pooled sale untouched");
        _assertConserved();
    }

    /// @dev The pool's slot holds the batch's shares and count while any of its sales is pending, and is
    /// deleted (its gas refunded) with the last one, cleared or clawed back.
    function test_batch_poolDeletedWithItsLastSale() public {
        (address[] memory to, bytes32[] memory refs) = _batch(3, "last");
        uint256[] memory ids = _settleBatch(SD, PRICE_SD, to, refs);
        bytes32 slot = keccak256(abi.encode(uint256(filmId) << 40 | uint256(SD) << 32 | T0, POOLS_SLOT));
        assertEq(uint32(uint256(vm.load(address(market), slot)) >> 192), 3, "three pending in the pool");
        _revoke(ids[0], CHARGEBACK);
        assertEq(uint32(uint256(vm.load(address(market), slot)) >> 192), 2);
        vm.warp(T0 + WINDOW);
        _clear(ids[1]);
        assertEq(uint32(uint256(vm.load(address(market), slot)) >> 192), 1);
        _clear(ids[2]);
        assertEq(vm.load(address(market), slot), bytes32(0), "deleted");
        _assertConserved();
    }

    /// @dev The pool is keyed by the time as the licence slot keeps it (32 bits): past 2**32 seconds (year 2106)
    /// an SD and an HD batch of the same second still get pools of their own, each read back by its sales
    /// (found by the helper's attack review: the full timestamp spilled into the quality bits of the key).
    function test_batch_poolKeyUsesTheSlotsTime() public {
        vm.warp((uint256(1) << 32) + 1_000);
        (address[] memory to, bytes32[] memory refs) = _batch(1, "sd-2106");
        uint256 sd = _settleBatch(SD, PRICE_SD, to, refs)[0];
        (to, refs) = _batch(1, "hd-2106");
        uint256 hd = _settleBatch(HD, PRICE_HD, to, refs)[0];
        (uint64 sdStudio,) = _expectedPrimary(PRICE_SD, 1000);
        (uint64 hdStudio,) = _expectedPrimary(PRICE_HD, 1000);
        assertEq(_pending(sd).studioCents, sdStudio, "SD reads its own pool");
        assertEq(_pending(hd).studioCents, hdStudio, "HD reads its own pool");
    }

    function _distinct(bytes32[] memory slots) internal pure returns (uint256 n) {
        for (uint256 i; i < slots.length; ++i) {
            bool seen;
            for (uint256 j; j < i; ++j) {
                if (slots[j] == slots[i]) seen = true;
            }
            if (!seen) ++n;
        }
    }
}
