// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {TangibleMarketTest} from "./TangibleMarketTest.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";

/// @dev Resale offers: listed, updated, cancelled, and filled in stablecoin ({buyOffer}) or by card
/// ({settleCardOffer}).
contract TangibleMarketOffersTest is TangibleMarketTest {
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

    /// @dev The licence a resale minted is sold on in turn: its id is the resale id of that licence, and the primary
    /// sequence goes on where it was.
    function test_buyOffer_resoldLicenceGetsTheResaleIdOfItsOwnId() public {
        uint256 first = _buyCrypto(alice, HD, alice);
        _fund(bob, 100 * 1e6);
        uint256 offerId = _list(alice, first, 800);
        vm.prank(bob);
        uint256 second = market.buyOffer(offerId, 800, bob);
        _fund(carol, 100 * 1e6);
        offerId = _list(bob, second, 900);
        vm.prank(carol);
        uint256 third = market.buyOffer(offerId, 900, carol);
        assertEq(second, _resaleId(first));
        assertEq(third, _resaleId(second));
        assertEq(market.ownerOf(third), carol);
        assertEq(_buyCrypto(alice, HD, alice), first + 1, "the primary sequence is untouched by resales");
    }

    function test_buyOffer() public {
        uint256 oldId = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, oldId, 800);
        _fund(bob, 100 * 1e6);
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        uint256 newId = _resaleId(oldId);
        uint256 nextPrimary = market.nextLicenceId();
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

        assertEq(market.resaleLicenceId(oldId), newId);
        assertEq(market.nextLicenceId(), nextPrimary, "a resale writes no counter");
        assertEq(newId, oldId + (1 << 192), "the next generation of the licence sold, in its slot");
        assertEq(market.ownerOf(newId), carol);
        assertEq(market.balanceOf(alice), 0);
        assertEq(market.balanceOf(carol), 1);
        TangibleLicence.LicenceInfo memory old = market.licence(oldId);
        assertTrue(old.revoked);
        assertEq(old.reason, 0);
        assertEq(old.owner, address(0), "replaced in its slot: its owner is in its events");
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
        uint64 studioBefore = _studioCredit();
        uint64 platformBefore = market.platformCreditCents();
        uint32 clearAt = 1_800_000_000 + 120 days;
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(newId, clearAt, false);
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
        assertEq(market.ownerOf(newId), bob);
        assertTrue(market.paymentRefUsed(REF));
        assertEq(market.licence(oldId).reason, 0);

        // Every share is pending for the clearance period: nothing credited to the seller, studio or platform.
        TangibleMarket.PendingSale memory p = market.pendingSale(newId);
        assertEq(p.sellerCents, sellerCents);
        assertEq(p.studioCents, studioCents);
        assertEq(p.platformCents, platformCents);
        assertEq(p.clearAt, clearAt);
        assertEq(p.seller, alice);
        assertFalse(p.tainted); // the licence sold was paid in stablecoin
        assertEq(_credit(alice), 0);
        assertEq(_studioCredit(), studioBefore);
        assertEq(market.platformCreditCents(), platformBefore);

        // Cleared after clearAt: credited exactly as SaleSettled named them.
        uint256[] memory ids = new uint256[](1);
        ids[0] = newId;
        vm.warp(clearAt);
        vm.prank(stranger);
        market.clearSales(ids);
        assertEq(_credit(alice), uint256(sellerCents) * UNITS);
        assertEq(_studioCredit() - studioBefore, studioCents);
        assertEq(market.platformCreditCents() - platformBefore, platformCents);
    }

    function test_settleCardOffer_reverts() public {
        uint256 id = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, id, 1000);
        vm.expectRevert(_unauthorized(bob, settlerRole));
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
}
