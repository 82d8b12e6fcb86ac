// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {deployMarket} from "./utils/DeployMarket.sol";
import {TangibleMarketAdmin} from "../src/TangibleMarketAdmin.sol";

contract DecimalsToken is ERC20("Decimals", "DEC") {
    uint8 private immutable _decimals;

    constructor(uint8 decimals_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}

/// @dev Accrued studio and platform earnings at the top of their uint64-cents range, and the cent-to-unit
/// scaling of every credit. Any uint64 price is a valid sale price, so a sale must never fail because earlier
/// sales filled an accumulator: accrued cents that would overflow are moved to the recipient's withdrawable
/// balance (`balanceOfCredit`, uint184 units) first.
contract AccrualTest is TangibleTest {
    uint64 internal constant MAX = type(uint64).max;

    function _buyAt(uint16 bps, uint64 price) internal returns (uint64 studioCents, uint64 platformCents) {
        vm.prank(admin);
        market.setStudioCommission(studioId, bps);
        vm.prank(studioAdmin);
        market.updateEdition(filmId, SD, MASTER_SD, price, "re-encode");
        _fund(alice, uint256(price) * UNITS);
        vm.prank(alice);
        market.buyPrimary(filmId, SD, price, alice);
        (studioCents, platformCents) = _expectedPrimary(price, bps);
    }

    /// @dev Everything the market owes, in units, equals the stablecoin it holds.
    function _assertConserved() internal view {
        uint256 owed = _credit(operator) + _credit(royalty) + _credit(platform) + _credit(alice)
            + _credit(bob) + (uint256(_studioCredit()) + market.platformCreditCents()) * UNITS;
        assertEq(owed, euro.balanceOf(address(market)), "owed == held");
    }

    /// @dev The reduced sequence of the Rust differential test (seed 16180381283759652767): the studio had
    /// accrued 9,198,501,715,223,794,887 cents, then a commission change, a price update to
    /// 17,728,840,138,580,676,673 cents and a buyPrimary. The studio's share of that sale plus its accrued
    /// cents exceed 2**64 - 1: the old contract's checked uint64 addition panicked (0x11).
    function test_buyPrimary_studioAccrualOverflowFlushesToBalance() public {
        (uint64 s1, uint64 p1) = _buyAt(1198, 10_450_000_000_000_000_000);
        assertEq(_studioCredit(), s1);
        (uint64 s2, uint64 p2) = _buyAt(706, 17_728_840_138_580_676_673);
        assertGt(uint256(s1) + s2, MAX, "the studio accumulator would overflow");

        // The earlier accrual moved to the royalty recipient's balance, the new share accrues.
        assertEq(_credit(royalty), uint256(s1) * UNITS);
        assertEq(_studioCredit(), s2);
        assertEq(market.platformCreditCents(), p1 + p2);
        _assertConserved();

        // Both parts can be withdrawn.
        vm.prank(royalty);
        market.withdrawStudio(studioId);
        vm.prank(royalty);
        market.withdraw(royalty, uint256(s1) * UNITS);
        assertEq(euro.balanceOf(royalty), (uint256(s1) + s2) * UNITS);
        _assertConserved();
    }

    /// @dev The platform accumulator (shared by every studio) overflows after four maximal sales at the highest
    /// commission; the studio withdraws in between so that only the platform's accrual is near the limit.
    function test_buyPrimary_platformAccrualOverflowFlushesToBalance() public {
        uint256 platformTotal;
        uint64 p;
        for (uint256 i = 0; i < 4; i++) {
            (, p) = _buyAt(3000, MAX);
            platformTotal += p;
            vm.prank(royalty);
            market.withdrawStudio(studioId);
        }
        assertGt(platformTotal, MAX, "the platform accumulator would overflow");
        assertEq(_credit(platform), (platformTotal - p) * UNITS); // the first three shares, flushed at the 4th
        assertEq(market.platformCreditCents(), p);
        _assertConserved();
    }

    /// @dev Resales credit the same accumulators: a resale at the maximal price after a maximal primary sale.
    function test_buyOffer_studioAccrualOverflowFlushesToBalance() public {
        (uint64 s1,) = _buyAt(0, MAX);
        uint256 id = market.nextLicenceId() - 1;
        uint256 offerId = _list(alice, id, MAX);
        _fund(bob, uint256(MAX) * UNITS);
        vm.prank(bob);
        market.buyOffer(offerId, MAX, bob);
        (uint64 seller, uint64 s2, uint64 p2) = _expectedResale(MAX);
        assertEq(_credit(royalty), uint256(s1) * UNITS);
        assertEq(_studioCredit(), s2);
        assertEq(market.platformCreditCents(), p2);
        assertEq(_credit(alice), uint256(seller) * UNITS);
        _assertConserved();
    }

    /// @dev The Rust differential test over the full uint64 range, in Solidity: any sequence of sales at any
    /// commission and price settles, splits exactly and keeps the market's books equal to its holdings.
    function testFuzz_salesAtAnyPriceSettleAndConserve(uint64[6] memory prices, uint16[6] memory bps) public {
        for (uint256 i = 0; i < prices.length; i++) {
            uint64 price = uint64(bound(prices[i], 1, MAX));
            uint16 c = uint16(bound(bps[i], 0, 3000));
            uint64 studioBefore = _studioCredit();
            uint64 platformBefore = market.platformCreditCents();
            uint256 royaltyBefore = _credit(royalty);
            uint256 platformBalBefore = _credit(platform);
            (uint64 s, uint64 p) = _buyAt(c, price);
            // Each share is credited exactly once, to the accumulator or (with the flushed accrual) to the
            // recipient's balance.
            assertEq(
                uint256(_studioCredit()) * UNITS + _credit(royalty),
                (uint256(studioBefore) + s) * UNITS + royaltyBefore,
                "studio"
            );
            assertEq(
                uint256(market.platformCreditCents()) * UNITS + _credit(platform),
                (uint256(platformBefore) + p) * UNITS + platformBalBefore,
                "platform"
            );
        }
        _assertConserved();
    }

    // ------------------------------------------------------------------ unit scaling

    /// @dev A resale credits the seller exactly `sellerCents * unitsPerCent` units: the split is in whole cents
    /// and the seller's share already holds the rounding remainder (price - studio - platform), so there is no
    /// sub-cent remainder to add. The buyer pays `price * unitsPerCent` and the three credits add up to it.
    function testFuzz_buyOffer_sellerCreditIsExactUnits(uint64 price, bool eighteenDecimals) public {
        // A card settlement is at most the day's card limit, itself at most 2**32 - 1 euros.
        price = uint64(bound(price, 20, uint256(type(uint32).max) * 100));
        if (eighteenDecimals) {
            market = deployMarket(new DecimalsToken(18), admin, operator, platform);
            _registerOn(market);
        }
        vm.prank(admin);
        market.setCardSettlementLimit(type(uint32).max);
        uint256 upc = market.unitsPerCent();
        assertEq(upc, eighteenDecimals ? 1e16 : 1e4);
        uint256 offerId = _cardLicenceOffered(price, upc);

        uint256 aliceBefore = _credit(alice);
        uint256 floatBefore = _credit(operator);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        vm.prank(operator);
        uint256 newId = market.settleCardOffer(offerId, price, bob, "ref2");
        _clearPendingResale(newId, price, aliceBefore);

        (uint64 seller, uint64 studio, uint64 plat) = _expectedResale(price);
        assertEq(_credit(alice) - aliceBefore, uint256(seller) * upc, "seller units");
        assertEq(floatBefore - _credit(operator), uint256(price) * upc, "paid units");
        assertEq(_studioCredit() - studioBefore, studio, "studio cents");
        assertEq(market.platformCreditCents() - platformBefore, plat, "platform cents");
        assertEq(uint256(seller) + studio + plat, price, "shares sum to the price");
    }

    /// @dev The card resale that minted `newId` (of a card licence still uncleared, so tainted) credits nothing
    /// before its clearAt: every share is pending. Clears it at clearAt.
    function _clearPendingResale(uint256 newId, uint64 price, uint256 aliceBefore) internal {
        TangibleMarket.PendingSale memory p = market.pendingSale(newId);
        (uint64 seller, uint64 studio, uint64 plat) = _expectedResale(price);
        assertEq(p.sellerCents, seller, "pending seller cents");
        assertEq(p.studioCents, studio, "pending studio cents");
        assertEq(p.platformCents, plat, "pending platform cents");
        assertTrue(p.tainted, "tainted");
        assertEq(_credit(alice), aliceBefore, "nothing credited before clearance");
        uint256[] memory ids = new uint256[](1);
        ids[0] = newId;
        vm.warp(p.clearAt);
        market.clearSales(ids);
    }

    /// @dev Funds the operator's float for an SD licence and a resale at `price`, settles the licence to alice by
    /// card and lists it at `price` once its hold has passed.
    function _cardLicenceOffered(uint64 price, uint256 upc) internal returns (uint256 offerId) {
        ERC20 t = ERC20(address(market.token()));
        uint256 floatNeeded = (uint256(price) + PRICE_SD) * upc;
        deal(address(t), operator, floatNeeded);
        vm.startPrank(operator);
        t.approve(address(market), type(uint256).max);
        market.deposit(floatNeeded);
        uint256 id = market.settleCardPrimary(filmId, SD, PRICE_SD, alice, "ref");
        vm.stopPrank();
        vm.warp(block.timestamp + market.holdPeriod());
        offerId = _list(alice, id, price);
    }

    /// @dev Balances are uint184 units and a uint64-cent share is scaled by `unitsPerCent`: tokens with more than
    /// 18 decimals are refused so that every scaled share (< 2**64 * 1e16 < 2**118) fits with room for 2**66
    /// maximal sales per account. From 39 decimals on, `uint184(cents * unitsPerCent)` would truncate.
    function test_constructor_decimalsBound() public {
        TangibleMarket m = deployMarket(new DecimalsToken(18), admin, operator, platform);
        assertEq(m.unitsPerCent(), 1e16);
        m = deployMarket(new DecimalsToken(2), admin, operator, platform);
        assertEq(m.unitsPerCent(), 1);
        uint8[3] memory refused = [19, 39, 255];
        for (uint256 i = 0; i < refused.length; i++) {
            DecimalsToken t = new DecimalsToken(refused[i]);
            vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidToken.selector, address(t)));
            new TangibleMarketAdmin(t); // the module, deployed first, refuses it (the market checks again)
        }
    }

    /// @dev Registers the fixture's studio, film and SD edition on market `m`.
    function _registerOn(TangibleMarket m) internal {
        vm.prank(operator);
        studioId = m.registerStudio(studioAdmin, royalty, "Studio Lumiere");
        vm.startPrank(operator);
        filmId = m.registerFilm(studioId, "Le Voyage", 1902);
        m.registerEdition(filmId, SD, MASTER_SD, PRICE_SD);
        vm.stopPrank();
    }
}
