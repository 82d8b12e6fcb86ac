// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TangibleMarketTest} from "./TangibleMarketTest.sol";
import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {TangibleRegistry} from "../../src/TangibleRegistry.sol";

/// @dev Internal balances: deposits (the operator float) and withdrawals by accounts, studios and the platform.
contract TangibleMarketBalancesTest is TangibleMarketTest {
    // ------------------------------------------------------------------ balances

    function test_deposit() public {
        euro.mint(carol, 50 * 1e6);
        vm.startPrank(carol);
        euro.approve(address(market), 50 * 1e6);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Deposited(carol, 50 * 1e6);
        market.deposit(50 * 1e6);
        vm.stopPrank();
        assertEq(_credit(carol), 50 * 1e6);
        assertEq(euro.balanceOf(carol), 0);
    }

    function test_deposit_reverts() public {
        vm.expectRevert(ITangibleMarket.MarketZeroAmount.selector);
        vm.prank(carol);
        market.deposit(0);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 1)
        );
        vm.prank(carol);
        market.deposit(1);
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(carol);
        market.deposit(1);
    }

    function test_withdraw_floatToTheTreasury() public {
        vm.prank(admin);
        market.setTreasury(carol);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(operator, carol, 10 * 1e6);
        vm.prank(operator);
        market.withdraw(carol, 10 * 1e6);
        assertEq(euro.balanceOf(carol), 10 * 1e6);
        assertEq(_credit(operator), FLOAT - 10 * 1e6);
    }

    function test_withdraw_reverts() public {
        vm.startPrank(carol);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        market.withdraw(address(0), 1);
        vm.expectRevert(ITangibleMarket.MarketZeroAmount.selector);
        market.withdraw(carol, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketInsufficientBalance.selector, carol, 0, 1)
        );
        market.withdraw(carol, 1);
        vm.stopPrank();
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(operator);
        market.withdraw(operator, 1);
    }

    function test_withdrawStudio_byRecipientAdminOperator() public {
        _buyCrypto(alice, HD, alice);
        (uint64 studioCents,) = _expectedPrimary(PRICE_HD, 1000);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(royalty, royalty, uint256(studioCents) * UNITS);
        vm.prank(royalty);
        market.withdrawStudio(studioId);
        assertEq(euro.balanceOf(royalty), uint256(studioCents) * UNITS);
        assertEq(_studioCredit(), 0);

        _buyCrypto(alice, HD, alice);
        vm.prank(studioAdmin);
        market.withdrawStudio(studioId);
        _buyCrypto(alice, HD, alice);
        vm.prank(operator);
        market.withdrawStudio(studioId);
        assertEq(euro.balanceOf(royalty), 3 * uint256(studioCents) * UNITS);
        assertEq(euro.balanceOf(studioAdmin), 0);
    }

    function test_withdrawStudio_reverts() public {
        vm.expectRevert(ITangibleMarket.MarketZeroAmount.selector);
        vm.prank(royalty);
        market.withdrawStudio(studioId);
        _buyCrypto(alice, HD, alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.withdrawStudio(studioId);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(3)));
        vm.prank(royalty);
        market.withdrawStudio(3);
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(royalty);
        market.withdrawStudio(studioId);
    }

    function test_withdrawPlatform() public {
        _buyCrypto(alice, HD, alice);
        (, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(platform, platform, uint256(platformCents) * UNITS);
        vm.prank(operator);
        market.withdrawPlatform();
        assertEq(euro.balanceOf(platform), uint256(platformCents) * UNITS);
        assertEq(market.platformCreditCents(), 0);
        _buyCrypto(alice, HD, alice);
        vm.prank(admin);
        market.withdrawPlatform();
        assertEq(euro.balanceOf(platform), 2 * uint256(platformCents) * UNITS);
    }

    function test_withdrawPlatform_reverts() public {
        vm.expectRevert(ITangibleMarket.MarketZeroAmount.selector);
        vm.prank(admin);
        market.withdrawPlatform();
        _buyCrypto(alice, HD, alice);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketUnauthorizedAccount.selector, platform));
        vm.prank(platform);
        market.withdrawPlatform();
        vm.prank(admin);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(admin);
        market.withdrawPlatform();
    }
}
