// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm, VmSafe} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleMarketAdmin} from "../src/TangibleMarketAdmin.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {ClearanceFixture} from "./utils/ClearanceFixture.sol";

/// @notice Clearing pending card money ({TangibleMarket-clearSales}), the clearance period's governance, the
/// market's books with pending money, and the admin module the market delegates to.
contract ClearSalesTest is ClearanceFixture {
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
            vm.expectRevert(_unauthorized(refused[i], bytes32(0)));
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

    /// @dev The module the market delegates its cold functions to is a contract of its own (deployed before the
    /// market). Called directly, it runs on its own storage, where nobody holds a role: whoever calls, nothing
    /// of the market changes (no call reaches the market, no slot of it is written).
    function test_adminModule_calledDirectlyChangesNothingOfTheMarket() public {
        address module = market.adminModule();
        assertEq(module, address(adminModule), "the market names its module");
        assertGt(module.code.length, 0, "the module is deployed");
        assertEq(address(TangibleMarketAdmin(module).token()), address(euro));
        assertFalse(TangibleMarketAdmin(module).hasRole(bytes32(0), admin), "no role in the module");
        uint256 pendingId = _card(HD, alice, REF_L1);
        uint256 cryptoId = _crypto(bob, SD, bob);
        bytes32 op = market.SETTLER_ROLE();
        uint256[] memory ids = new uint256[](1);
        ids[0] = pendingId;

        bytes[] memory calls = new bytes[](27);
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
        calls[24] = abi.encodeCall(TangibleMarket.withdrawStudio, (studioId));
        calls[25] = abi.encodeCall(TangibleMarket.withdrawPlatform, ());
        address[] memory to = new address[](1);
        to[0] = stranger;
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = keccak256("rogue-ref");
        calls[26] = abi.encodeCall(TangibleMarket.settleCardPrimaryBatch, (filmId, SD, PRICE_SD, to, refs));

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
