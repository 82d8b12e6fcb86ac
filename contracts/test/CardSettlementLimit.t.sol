// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";

/// @dev The daily limit on card settlements (issue 13 item 1, audit M-4): a stolen operator key settles at most
/// the platform's daily limit of card money from the float, primary and resale together; the admin sets it.
contract CardSettlementLimitTest is TangibleTest {
    function _limitError(uint64 settled, uint64 price, uint64 limit) internal pure returns (bytes memory) {
        return
            abi.encodeWithSelector(ITangibleMarket.MarketCardSettlementLimit.selector, settled, price, limit);
    }

    function _setLimit(uint32 euros) internal {
        vm.prank(admin);
        market.setCardSettlementLimit(euros);
    }

    function test_theDefaultIs50000EurosADay() public view {
        (uint32 euros, uint64 today) = market.cardSettlementLimit();
        assertEq(euros, market.DEFAULT_CARD_SETTLEMENT_LIMIT_EUROS());
        assertEq(euros, 50_000);
        assertEq(today, 0);
    }

    /// The exploit bounded: a stolen key settling fake card purchases stops at the day's limit, primary and
    /// resale counted together; the next UTC day starts from zero.
    function test_cardSettlementsStopAtTheDailyLimitAndResumeTheNextDay() public {
        _setLimit(30); // 3,000 cents: two 4K (19.99 €) do not fit
        vm.warp(10 days + 1 hours);
        _buyCard(UHD, alice, keccak256("pi_1"));
        (, uint64 today) = market.cardSettlementLimit();
        assertEq(today, PRICE_4K);

        vm.expectRevert(_limitError(PRICE_4K, PRICE_4K, 3_000));
        vm.prank(operator);
        market.settleCardPrimary(filmId, UHD, PRICE_4K, bob, keccak256("pi_2"));

        // An offer at 10.01 € fits exactly (19.99 + 10.01 = 30.00), a cent more would not.
        uint256 mine = _buyCrypto(carol, SD, carol);
        uint256 offerId = _list(carol, mine, 1_002);
        vm.expectRevert(_limitError(PRICE_4K, 1_002, 3_000));
        vm.prank(operator);
        market.settleCardOffer(offerId, 1_002, bob, keccak256("pi_3"));
        vm.prank(carol);
        market.updateOffer(offerId, 1_001);
        vm.prank(operator);
        market.settleCardOffer(offerId, 1_001, bob, keccak256("pi_3"));
        (, today) = market.cardSettlementLimit();
        assertEq(today, 3_000);

        // Crypto sales are not counted.
        _buyCrypto(bob, UHD, bob);

        // The next UTC day.
        vm.warp(11 days);
        (, today) = market.cardSettlementLimit();
        assertEq(today, 0);
        _buyCard(UHD, alice, keccak256("pi_2"));
    }

    function test_onlyTheAdminSetsTheLimit() public {
        vm.expectRevert(_unauthorized(operator, market.DEFAULT_ADMIN_ROLE()));
        vm.prank(operator);
        market.setCardSettlementLimit(type(uint32).max);

        vm.expectEmit(address(market));
        emit ITangibleMarket.CardSettlementLimitChanged(0);
        _setLimit(0);
        // 0: no card settlement at all (say, while a stolen operator key is being replaced).
        vm.expectRevert(_limitError(0, PRICE_SD, 0));
        vm.prank(operator);
        market.settleCardPrimary(filmId, SD, PRICE_SD, bob, keccak256("pi_9"));
    }
}
