// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TangibleMarketTest} from "./TangibleMarketTest.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {TangibleRegistry} from "../../src/TangibleRegistry.sol";

/// @dev Primary sales: paid in stablecoin ({buyPrimary}) or settled by the operator for a card payment
/// ({settleCardPrimary}), and the hold period of card-paid licences.
contract TangibleMarketPrimaryTest is TangibleMarketTest {
    // ------------------------------------------------------------------ buyPrimary

    function test_buyPrimary() public {
        _fund(alice, 100 * 1e6);
        uint256 marketBefore = euro.balanceOf(address(market));
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            1, 0, bytes32(0), alice, PRICE_HD, address(0), 0, royalty, studioCents, platform, platformCents
        );
        vm.prank(alice);
        uint256 id = market.buyPrimary(filmId, HD, PRICE_HD, bob);
        assertEq(id, 1);
        assertEq(market.ownerOf(id), bob);
        assertEq(euro.balanceOf(alice), 100 * 1e6 - uint256(PRICE_HD) * UNITS);
        assertEq(euro.balanceOf(address(market)) - marketBefore, uint256(PRICE_HD) * UNITS);
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);
        assertEq(studioCents, 1170); // 13.00 EUR at 10 %: 11.70 / 1.30
        assertEq(platformCents, 130);
        assertEq(market.nextLicenceId(), 2);
    }

    function testFuzz_buyPrimary_commissionSplit(uint16 bps, uint64 price) public {
        bps = uint16(bound(bps, 0, 3000));
        price = uint64(bound(price, 1, 1e12));
        vm.prank(admin);
        market.setStudioCommission(studioId, bps);
        vm.prank(studioAdmin);
        market.updateEdition(filmId, SD, MASTER_SD, price, "re-encode");
        _fund(alice, uint256(price) * UNITS);
        vm.prank(alice);
        market.buyPrimary(filmId, SD, price, alice);
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(price, bps);
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);
        assertEq(uint256(_studioCredit()) + market.platformCreditCents(), price);
        assertEq(euro.balanceOf(alice), 0);
    }

    function test_buyPrimary_reverts() public {
        _fund(alice, 100 * 1e6);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        market.buyPrimary(filmId, HD, PRICE_HD, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, uint64(9), HD)
        );
        market.buyPrimary(9, HD, PRICE_HD, alice);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, 1200, PRICE_HD));
        market.buyPrimary(filmId, HD, 1200, alice);
        vm.stopPrank();

        vm.prank(studioAdmin);
        market.withdrawEdition(filmId, HD);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketEditionInactive.selector, filmId, HD));
        vm.prank(alice);
        market.buyPrimary(filmId, HD, PRICE_HD, alice);
    }

    function test_buyPrimary_revert_studioRaisedPriceInFront() public {
        _fund(alice, 100 * 1e6);
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, MASTER_HD, 5000, "re-encode");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, PRICE_HD, 5000));
        vm.prank(alice);
        market.buyPrimary(filmId, HD, PRICE_HD, alice);
    }

    function test_buyPrimary_revert_insufficientAllowance() public {
        euro.mint(alice, 100 * 1e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector,
                address(market),
                0,
                uint256(PRICE_HD) * UNITS
            )
        );
        vm.prank(alice);
        market.buyPrimary(filmId, HD, PRICE_HD, alice);
    }

    function test_buyPrimary_revert_paused() public {
        _fund(alice, 100 * 1e6);
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(alice);
        market.buyPrimary(filmId, HD, PRICE_HD, alice);
    }

    // ------------------------------------------------------------------ settleCardPrimary

    function test_settleCardPrimary() public {
        uint256 expectedId = market.cardLicenceId(REF);
        assertEq(expectedId >> 255, 1);
        assertEq(expectedId, (uint256(keccak256(abi.encode(REF))) | (1 << 255)) & ~(uint256(0xff) << 192));
        assertFalse(market.paymentRefUsed(REF));
        uint256 floatBefore = _credit(operator);
        uint256 tokenBefore = euro.balanceOf(address(market));
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_4K, 1000);
        uint32 clearAt = 1_800_000_000 + 120 days;

        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(expectedId, clearAt, false);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceMinted(
            expectedId, alice, filmId, UHD, 1_800_000_000, 1_800_000_000 + 3 days
        );
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            expectedId,
            0,
            REF,
            operator,
            PRICE_4K,
            address(0),
            0,
            royalty,
            studioCents,
            platformCents == 0 ? platform : platform,
            platformCents
        );
        uint256 id = _buyCard(UHD, alice, REF);

        assertEq(id, expectedId);
        assertEq(market.ownerOf(id), alice);
        assertEq(market.licence(id).holdUntil, 1_800_000_000 + 3 days);
        assertTrue(market.paymentRefUsed(REF));
        assertEq(floatBefore - _credit(operator), uint256(PRICE_4K) * UNITS);
        assertEq(euro.balanceOf(address(market)), tokenBefore); // no token moved: paid from the float
        assertEq(market.nextLicenceId(), 1); // sequential ids untouched

        // The studio's and the platform's shares are pending for the clearance period (120 days by default).
        TangibleMarket.PendingSale memory p = market.pendingSale(id);
        assertEq(p.studioCents, studioCents);
        assertEq(p.platformCents, platformCents);
        assertEq(p.sellerCents, 0);
        assertEq(p.clearAt, clearAt);
        assertEq(p.studioId, studioId);
        assertEq(p.seller, address(0));
        assertFalse(p.tainted);
        assertEq(_studioCredit(), 0);
        assertEq(market.platformCreditCents(), 0);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        vm.warp(clearAt - 1);
        vm.expectRevert(ITangibleMarket.MarketNothingCleared.selector);
        market.clearSales(ids);

        // Once cleared (by anyone), they are credited exactly.
        vm.warp(clearAt);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleCleared(id);
        vm.prank(stranger);
        market.clearSales(ids);
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);
        assertEq(market.pendingSale(id).clearAt, 0);
    }

    function test_settleCardPrimary_revert_paymentRefUsed_forever() public {
        uint256 id = _buyCard(SD, alice, REF);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPaymentRefUsed.selector, REF));
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, REF);
        // a chargeback revocation does not free the reference
        market.revoke(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPaymentRefUsed.selector, REF));
        market.settleCardPrimary(filmId, HD, PRICE_HD, bob, REF);
        vm.stopPrank();
        assertTrue(market.paymentRefUsed(REF));
    }

    function test_settleCardPrimary_reverts() public {
        vm.expectRevert(_unauthorized(stranger, settlerRole));
        vm.prank(stranger);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, REF);
        vm.expectRevert(_unauthorized(admin, settlerRole));
        vm.prank(admin);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, REF);

        vm.startPrank(operator);
        vm.expectRevert(ITangibleMarket.MarketInvalidPaymentRef.selector);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, 799, PRICE_SD));
        market.settleCardPrimary(filmId, SD, 799, alice, REF);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        market.settleCardPrimary(filmId, SD, PRICE_SD, address(0), REF);
        market.withdrawEdition(filmId, SD);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketEditionInactive.selector, filmId, SD));
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, REF);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        market.settleCardPrimary(filmId, HD, PRICE_HD, alice, REF);
        vm.stopPrank();
        assertFalse(market.paymentRefUsed(REF));
    }

    function test_settleCardPrimary_revert_insufficientFloat() public {
        bytes32 role = settlerRole;
        vm.prank(admin);
        market.grantRole(role, carol);
        _deposit(carol, 5 * 1e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, carol, 5 * 1e6, uint256(PRICE_HD) * UNITS
            )
        );
        vm.prank(carol);
        market.settleCardPrimary(filmId, HD, PRICE_HD, alice, REF);
    }

    function test_holdPeriod_setAndApplied() public {
        vm.expectEmit(address(market));
        emit ITangibleMarket.HoldPeriodChanged(1 days);
        vm.prank(admin);
        market.setHoldPeriod(1 days);
        assertEq(market.holdPeriod(), 1 days);
        uint256 id = _buyCard(SD, alice, REF);
        assertEq(market.licence(id).holdUntil, block.timestamp + 1 days);

        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketLicenceOnHold.selector, id, block.timestamp + 1 days)
        );
        _list(alice, id, 500);

        vm.prank(admin);
        market.setHoldPeriod(0);
        uint256 id2 = _buyCard(SD, alice, keccak256("other"));
        // No hold: it ends the moment the licence is minted (a card licence's hold is minting time + period).
        assertEq(market.licence(id2).holdUntil, block.timestamp);
        assertEq(market.licence(id2).holdUntil, market.licence(id2).acquiredAt);
        _list(alice, id2, 500); // no hold: listable at once
    }

    function test_setHoldPeriod_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketInvalidHoldPeriod.selector, 90 days + 1, 90 days)
        );
        vm.prank(admin);
        market.setHoldPeriod(90 days + 1);
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        market.setHoldPeriod(1);
    }
}
