// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {TangibleMarketTest} from "./TangibleMarketTest.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {TangibleRegistry} from "../../src/TangibleRegistry.sol";
import {deployMarket} from "../utils/DeployMarket.sol";
import {TangibleMarketAdmin} from "../../src/TangibleMarketAdmin.sol";

contract OneDecimalToken is ERC20("One", "ONE") {
    function decimals() public pure override returns (uint8) {
        return 1;
    }
}

contract EighteenDecimalToken is ERC20("Eighteen", "E18") {
    function decimals() public pure override returns (uint8) {
        return 18;
    }
}

/// @dev Deployment, revocation by the operator, and governance: the platform address, pausing.
contract TangibleMarketAdminTest is TangibleMarketTest {
    // ------------------------------------------------------------------ constructor

    function test_constructor() public view {
        assertEq(address(market.token()), address(euro));
        assertEq(market.unitsPerCent(), UNITS);
        assertTrue(market.hasRole(bytes32(0), admin));
        assertTrue(market.hasRole(settlerRole, operator));
        assertTrue(market.hasRole(revokerRole, operator));
        assertTrue(market.hasRole(registrarRole, operator));
        assertEq(market.platform(), platform);
        assertEq(market.holdPeriod(), 3 days);
        assertFalse(market.paused());
        assertEq(market.nextLicenceId(), 1 + 0); // no crypto sale in the fixture
        assertEq(market.nextOfferId(), 1);
    }

    function test_constructor_unitsPerCentFor18Decimals() public {
        TangibleMarket m = deployMarket(new EighteenDecimalToken(), admin, address(0), platform);
        assertEq(m.unitsPerCent(), 1e16);
        assertFalse(m.hasRole(settlerRole, address(0)));
        assertFalse(m.hasRole(revokerRole, address(0)));
        assertFalse(m.hasRole(registrarRole, address(0)));
    }

    function test_constructor_reverts() public {
        TangibleMarketAdmin module = new TangibleMarketAdmin(euro);
        OneDecimalToken one = new OneDecimalToken();
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidToken.selector, address(one)));
        new TangibleMarketAdmin(one); // the module, deployed first, refuses it (the market checks again)
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        new TangibleMarket(euro, address(0), operator, platform, module);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        new TangibleMarket(euro, admin, operator, address(0), module);
    }

    /// @dev The admin module runs on the market's storage with the market's stablecoin: one built for another
    /// token, or an address without code, is refused.
    function test_constructor_refusesAModuleOfAnotherTokenOrWithoutCode() public {
        TangibleMarketAdmin other = new TangibleMarketAdmin(new EighteenDecimalToken());
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidModule.selector, address(other)));
        new TangibleMarket(euro, admin, operator, platform, other);
        address codeless = makeAddr("codeless");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidModule.selector, codeless));
        new TangibleMarket(euro, admin, operator, platform, TangibleMarketAdmin(codeless));
    }

    // ------------------------------------------------------------------ revoke

    function test_revoke_cancelsActiveOffer() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.prank(operator);
        market.pause(); // revocation stays possible while paused
        vm.expectEmit(address(market));
        emit ITangibleMarket.OfferCancelled(offerId);
        vm.expectEmit(address(market));
        emit IERC721.Transfer(alice, address(0), id);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(id, alice, 1, 0);
        vm.prank(operator);
        market.revoke(id, 1);
        assertFalse(market.offer(offerId).active);
        assertTrue(market.licence(id).revoked);
        assertEq(market.licence(id).reason, 1);
        assertEq(market.balanceOf(alice), 0);
    }

    function test_revoke_withoutOffer() public {
        uint256 id = _buyCard(HD, alice, REF);
        uint256 floatBefore = _credit(operator);
        vm.recordLogs();
        vm.prank(operator);
        market.revoke(id, 2);
        // SaleClawedBack (the card sale is still pending) + Transfer + LicenceRevoked, no OfferCancelled
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        assertEq(logs[0].topics[0], ITangibleMarket.SaleClawedBack.selector);
        assertEq(logs[1].topics[0], IERC721.Transfer.selector);
        assertEq(logs[2].topics[0], TangibleLicence.LicenceRevoked.selector);
        assertEq(market.licence(id).reason, 2);
        assertEq(_credit(operator) - floatBefore, uint256(PRICE_HD) * UNITS); // back to the float

        // A crypto licence has nothing pending: Transfer + LicenceRevoked only.
        uint256 id2 = _buyCrypto(alice, HD, alice);
        vm.recordLogs();
        vm.prank(operator);
        market.revoke(id2, 2);
        assertEq(vm.getRecordedLogs().length, 2);
    }

    function test_revoke_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.expectRevert(_unauthorized(admin, revokerRole));
        vm.prank(admin);
        market.revoke(id, 1);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceInvalidReason.selector, 0));
        market.revoke(id, 0);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceInvalidReason.selector, 4));
        market.revoke(id, 4);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 55));
        market.revoke(55, 1);
        market.revoke(id, 3);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
        market.revoke(id, 1);
        vm.stopPrank();
        assertEq(market.licence(id).reason, 3);
    }

    // ------------------------------------------------------------------ admin

    function test_setPlatform_flushesFeesToPrevious() public {
        _buyCrypto(alice, HD, alice);
        (, uint64 platformCents) = _expectedPrimary(PRICE_HD, 1000);
        vm.expectEmit(address(market));
        emit ITangibleMarket.PlatformChanged(platform, carol);
        vm.prank(admin);
        market.setPlatform(carol);
        assertEq(market.platform(), carol);
        assertEq(market.platformCreditCents(), 0);
        assertEq(_credit(platform), uint256(platformCents) * UNITS);
        // new fees accrue for the new platform, which withdraws them
        _buyCrypto(alice, HD, alice);
        assertEq(market.platformCreditCents(), platformCents);
        vm.prank(admin);
        market.withdrawPlatform();
        assertEq(euro.balanceOf(carol), uint256(platformCents) * UNITS);
        assertEq(euro.balanceOf(platform), 0);
    }

    function test_setPlatform_reverts() public {
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        market.setPlatform(carol);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        vm.prank(admin);
        market.setPlatform(address(0));
    }

    function test_pauseUnpause() public {
        vm.expectEmit(address(market));
        emit ITangibleMarket.Paused(operator);
        vm.prank(operator);
        market.pause();
        assertTrue(market.paused());
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(admin);
        market.pause();
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        market.unpause();
        vm.expectEmit(address(market));
        emit ITangibleMarket.Unpaused(admin);
        vm.prank(admin);
        market.unpause();
        assertFalse(market.paused());
        vm.expectRevert(ITangibleMarket.ExpectedPause.selector);
        vm.prank(admin);
        market.unpause();
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        market.pause();
    }

    function test_registryWorksWhilePaused() public {
        vm.prank(operator);
        market.pause();
        vm.prank(studioAdmin);
        market.registerFilm(studioId, "Paused but open", 2026);
        assertEq(market.filmCount(), 2);
    }
}
