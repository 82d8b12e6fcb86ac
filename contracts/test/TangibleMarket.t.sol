// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors, IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";

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

contract TangibleMarketTest is TangibleTest {
    bytes32 internal constant REF = keccak256("pi_3OvKq2LkdIwHu7ix0");
    address internal stranger = makeAddr("stranger");
    bytes32 internal operatorRole;

    function setUp() public override {
        super.setUp();
        vm.warp(1_800_000_000);
        operatorRole = market.OPERATOR_ROLE();
    }

    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor() public view {
        assertEq(address(market.token()), address(euro));
        assertEq(market.unitsPerCent(), UNITS);
        assertTrue(market.hasRole(bytes32(0), admin));
        assertTrue(market.hasRole(operatorRole, operator));
        assertEq(market.platform(), platform);
        assertEq(market.holdPeriod(), 3 days);
        assertFalse(market.paused());
        assertEq(market.nextLicenceId(), 1 + 0); // no crypto sale in the fixture
        assertEq(market.nextOfferId(), 1);
    }

    function test_constructor_unitsPerCentFor18Decimals() public {
        TangibleMarket m = new TangibleMarket(new EighteenDecimalToken(), admin, address(0), platform);
        assertEq(m.unitsPerCent(), 1e16);
        assertFalse(m.hasRole(operatorRole, address(0)));
    }

    function test_constructor_reverts() public {
        OneDecimalToken one = new OneDecimalToken();
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidToken.selector, address(one)));
        new TangibleMarket(one, admin, operator, platform);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        new TangibleMarket(euro, address(0), operator, platform);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        new TangibleMarket(euro, admin, operator, address(0));
    }

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
        market.updateEdition(filmId, SD, MASTER_SD, price);
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
        market.updateEdition(filmId, HD, MASTER_HD, 5000);
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
        assertEq(expectedId, uint256(keccak256(abi.encode(REF))) | (1 << 255));
        assertFalse(market.paymentRefUsed(REF));
        uint256 floatBefore = _credit(operator);
        uint256 tokenBefore = euro.balanceOf(address(market));
        (uint64 studioCents, uint64 platformCents) = _expectedPrimary(PRICE_4K, 1000);

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
        assertEq(_studioCredit(), studioCents);
        assertEq(market.platformCreditCents(), platformCents);
        assertEq(market.nextLicenceId(), 1); // sequential ids untouched
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
        vm.expectRevert(_unauthorized(stranger, operatorRole));
        vm.prank(stranger);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, REF);
        vm.expectRevert(_unauthorized(admin, operatorRole));
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
        bytes32 role = operatorRole;
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

        vm.prank(admin);
        market.setHoldPeriod(0);
        uint256 id2 = _buyCard(SD, alice, keccak256("other"));
        assertEq(market.licence(id2).holdUntil, 0);
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

    // ------------------------------------------------------------------ list / update / cancel

    function test_list() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.expectEmit(address(market));
        emit ITangibleMarket.OfferListed(1, id, alice, 1000);
        uint256 offerId = _list(alice, id, 1000);
        assertEq(offerId, 1);
        TangibleMarket.OfferInfo memory o = market.offer(offerId);
        assertEq(o.licenceId, id);
        assertEq(o.seller, alice);
        assertEq(o.priceCents, 1000);
        assertTrue(o.active);
        assertEq(market.activeOfferOf(id), offerId);
        assertEq(market.nextOfferId(), 2);
    }

    function test_list_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 777));
        _list(alice, 777, 1000);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotLicenceOwner.selector, bob, id));
        _list(bob, id, 1000);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceBelowMinimum.selector, 19, 20));
        _list(alice, id, 19);
        uint256 offerId = _list(alice, id, 20); // the minimum is accepted
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferExists.selector, id, offerId));
        _list(alice, id, 30);

        vm.prank(operator);
        market.revoke(id, 3);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
        _list(alice, id, 1000);
    }

    function test_list_revert_onHold_thenAllowed() public {
        uint256 id = _buyCard(SD, alice, REF);
        uint64 holdUntil = uint64(block.timestamp + 3 days);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketLicenceOnHold.selector, id, holdUntil));
        _list(alice, id, 1000);
        vm.warp(holdUntil - 1);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketLicenceOnHold.selector, id, holdUntil));
        _list(alice, id, 1000);
        vm.warp(holdUntil);
        _list(alice, id, 1000);
    }

    function test_list_revert_paused() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.prank(admin);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        _list(alice, id, 1000);
    }

    function test_updateOffer() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.expectEmit(address(market));
        emit ITangibleMarket.OfferUpdated(offerId, 1500);
        vm.prank(alice);
        market.updateOffer(offerId, 1500);
        assertEq(market.offer(offerId).priceCents, 1500);
    }

    function test_updateOffer_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceBelowMinimum.selector, 0, 20));
        market.updateOffer(offerId, 0);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 99));
        market.updateOffer(99, 1000);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotLicenceOwner.selector, bob, id));
        vm.prank(bob);
        market.updateOffer(offerId, 2000);
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(alice);
        market.updateOffer(offerId, 2000);
    }

    function test_cancelOffer_andRelist() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.prank(operator);
        market.pause(); // cancelling stays possible while paused
        vm.expectEmit(address(market));
        emit ITangibleMarket.OfferCancelled(offerId);
        vm.prank(alice);
        market.cancelOffer(offerId);
        TangibleMarket.OfferInfo memory o = market.offer(offerId);
        assertFalse(o.active);
        assertEq(o.priceCents, 0);
        assertEq(market.activeOfferOf(id), 0);
        vm.prank(admin);
        market.unpause();

        uint256 offerId2 = _list(alice, id, 1200);
        assertEq(offerId2, offerId + 1);
        assertFalse(market.offer(offerId).active); // the old offer id stays dead
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, offerId));
        vm.prank(bob);
        market.buyOffer(offerId, 1200, bob);
    }

    function test_cancelOffer_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotLicenceOwner.selector, bob, id));
        vm.prank(bob);
        market.cancelOffer(offerId);
        vm.prank(alice);
        market.cancelOffer(offerId);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, offerId));
        vm.prank(alice);
        market.cancelOffer(offerId);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 0));
        vm.prank(alice);
        market.cancelOffer(0);
    }

    function test_offer_revert_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 5));
        market.offer(5);
    }

    // ------------------------------------------------------------------ buyOffer

    function test_buyOffer() public {
        uint256 oldId = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, oldId, 800);
        _fund(bob, 100 * 1e6);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        uint256 newId = market.nextLicenceId();
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(800);
        assertEq(sellerCents, 640); // 8 EUR -> 6.40 / 1.20 / 0.40
        assertEq(studioCents, 120);
        assertEq(platformCents, 40);

        vm.expectEmit(address(market));
        emit IERC721.Transfer(alice, address(0), oldId);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(oldId, alice, 0, newId);
        vm.expectEmit(address(market));
        emit IERC721.Transfer(address(0), carol, newId);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceMinted(newId, carol, filmId, HD, 1_800_000_000, 0);
        vm.expectEmit(address(market));
        emit ITangibleMarket.OfferFilled(offerId, oldId, newId, carol);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            newId,
            offerId,
            bytes32(0),
            bob,
            800,
            alice,
            sellerCents,
            royalty,
            studioCents,
            platform,
            platformCents
        );
        vm.prank(bob);
        assertEq(market.buyOffer(offerId, 800, carol), newId);

        assertEq(market.ownerOf(newId), carol);
        assertEq(market.balanceOf(alice), 0);
        assertEq(market.balanceOf(carol), 1);
        TangibleLicence.LicenceInfo memory old = market.licence(oldId);
        assertTrue(old.revoked);
        assertEq(old.reason, 0);
        assertEq(old.owner, alice);
        assertEq(euro.balanceOf(bob), 100 * 1e6 - 800 * UNITS);
        assertEq(_credit(alice), uint256(sellerCents) * UNITS);
        assertEq(_studioCredit() - studioBefore, studioCents);
        assertEq(market.platformCreditCents() - platformBefore, platformCents);
        assertFalse(market.offer(offerId).active);
        assertEq(market.activeOfferOf(oldId), 0);

        // the seller withdraws its proceeds
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(alice, alice, uint256(sellerCents) * UNITS);
        vm.prank(alice);
        market.withdraw(alice, uint256(sellerCents) * UNITS);
        assertEq(euro.balanceOf(alice), uint256(sellerCents) * UNITS);
    }

    function testFuzz_buyOffer_split(uint64 price) public {
        price = uint64(bound(price, 20, 1e13));
        uint256 oldId = _buyCrypto(alice, SD, alice);
        uint256 offerId = _list(alice, oldId, price);
        _fund(bob, uint256(price) * UNITS);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        vm.prank(bob);
        market.buyOffer(offerId, price, bob);
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(price);
        assertEq(_credit(alice), uint256(sellerCents) * UNITS);
        assertEq(_studioCredit() - studioBefore, studioCents);
        assertEq(market.platformCreditCents() - platformBefore, platformCents);
        assertGt(studioCents, 0);
        assertGt(platformCents, 0);
        assertGt(sellerCents, 0);
        assertEq(euro.balanceOf(bob), 0);
    }

    function test_buyOffer_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        _fund(bob, 100 * 1e6);

        vm.startPrank(bob);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 42));
        market.buyOffer(42, 1000, bob);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 0));
        market.buyOffer(0, 0, bob);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0)));
        market.buyOffer(offerId, 1000, address(0));
        vm.stopPrank();

        // the seller raises the price in front of the buyer
        vm.prank(alice);
        market.updateOffer(offerId, 5000);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, 1000, 5000));
        vm.prank(bob);
        market.buyOffer(offerId, 1000, bob);

        vm.prank(bob);
        market.buyOffer(offerId, 5000, bob);
        // two buyers racing: the second one finds the offer gone
        _fund(carol, 100 * 1e6);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, offerId));
        vm.prank(carol);
        market.buyOffer(offerId, 5000, carol);
    }

    function test_buyOffer_revert_paused() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        _fund(bob, 100 * 1e6);
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        vm.prank(bob);
        market.buyOffer(offerId, 1000, bob);
    }

    function test_resaleChain_newOwnerCanRelist() public {
        uint256 id1 = _buyCrypto(alice, HD, alice);
        uint256 offer1 = _list(alice, id1, 1000);
        _fund(bob, 100 * 1e6);
        vm.prank(bob);
        uint256 id2 = market.buyOffer(offer1, 1000, bob);
        uint256 offer2 = _list(bob, id2, 1100);
        uint256 ref2 = market.cardLicenceId(REF);
        vm.prank(operator);
        uint256 id3 = market.settleCardOffer(offer2, 1100, carol, REF);
        assertEq(id3, ref2);
        assertEq(market.ownerOf(id3), carol);
        assertEq(market.licence(id3).holdUntil, block.timestamp + 3 days);
        assertEq(market.licence(id2).owner, bob);
        assertTrue(market.licence(id2).revoked);
        // old owners can no longer list
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id2));
        _list(bob, id2, 1000);
    }

    // ------------------------------------------------------------------ settleCardOffer

    function test_settleCardOffer() public {
        uint256 oldId = _buyCrypto(alice, UHD, alice);
        uint256 offerId = _list(alice, oldId, 1234);
        uint256 floatBefore = _credit(operator);
        uint256 newId = market.cardLicenceId(REF);
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(1234);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            newId,
            offerId,
            REF,
            operator,
            1234,
            alice,
            sellerCents,
            royalty,
            studioCents,
            platform,
            platformCents
        );
        vm.prank(operator);
        assertEq(market.settleCardOffer(offerId, 1234, bob, REF), newId);
        assertEq(floatBefore - _credit(operator), 1234 * UNITS);
        assertEq(_credit(alice), uint256(sellerCents) * UNITS);
        assertEq(market.ownerOf(newId), bob);
        assertTrue(market.paymentRefUsed(REF));
        assertEq(market.licence(oldId).reason, 0);
    }

    function test_settleCardOffer_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.expectRevert(_unauthorized(bob, operatorRole));
        vm.prank(bob);
        market.settleCardOffer(offerId, 1000, bob, REF);

        _buyCard(SD, carol, REF); // the reference is used by a primary sale
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPaymentRefUsed.selector, REF));
        market.settleCardOffer(offerId, 1000, bob, REF);
        vm.expectRevert(ITangibleMarket.MarketInvalidPaymentRef.selector);
        market.settleCardOffer(offerId, 1000, bob, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, 999, 1000));
        market.settleCardOffer(offerId, 999, bob, "ref-b");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 77));
        market.settleCardOffer(77, 999, bob, "ref-b");
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        market.settleCardOffer(offerId, 1000, bob, "ref-b");
        vm.stopPrank();
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
        vm.recordLogs();
        vm.prank(operator);
        market.revoke(id, 2);
        assertEq(vm.getRecordedLogs().length, 2); // Transfer + LicenceRevoked, no OfferCancelled
        assertEq(market.licence(id).reason, 2);
    }

    function test_revoke_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.expectRevert(_unauthorized(admin, operatorRole));
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

    function test_withdraw_floatToOtherAddress() public {
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
