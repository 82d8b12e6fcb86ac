// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TangibleMarketTest} from "./TangibleMarketTest.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";

/// @dev A licence minted without a hold and resold in stablecoin passes its storage slot on: the buyer's id is
/// the seller's plus one generation (bits 192-199). These tests hold the ids of a lineage apart: an earlier
/// generation is revoked for resale and can be neither listed nor revoked again, a later one does not exist
/// yet, and a held licence or the last generation gets a slot of its own.
contract TangibleMarketLineageTest is TangibleMarketTest {
    uint256 internal constant GEN = 1 << 192;

    /// @dev `seller` lists `id` and `buyer` buys it in stablecoin for `to`.
    function _resell(address seller, uint256 id, address buyer, address to) internal returns (uint256 newId) {
        uint256 offerId = _list(seller, id, 900);
        _fund(buyer, 900 * UNITS);
        vm.prank(buyer);
        newId = market.buyOffer(offerId, 900, to);
    }

    function test_anEarlierGenerationReadsAsResoldAndALaterOneDoesNotExist() public {
        uint256 g0 = _buyCrypto(alice, HD, alice);
        uint256 g1 = _resell(alice, g0, bob, bob);
        assertEq(g1, g0 + GEN);
        uint256 offerId = market.nextOfferId() - 1;

        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, g0));
        market.ownerOf(g0);
        assertEq(market.ownerOf(g1), bob);
        assertFalse(market.isValid(g0));
        assertTrue(market.isValid(g1));
        TangibleLicence.LicenceInfo memory old = market.licence(g0);
        assertTrue(old.revoked);
        assertEq(old.reason, 0);
        assertEq(old.owner, address(0));
        assertEq(old.filmId, filmId);
        assertEq(old.quality, HD);
        assertEq(old.acquiredAt, 0);
        TangibleLicence.LicenceInfo memory live = market.licence(g1);
        assertFalse(live.revoked);
        assertEq(live.owner, bob);
        assertEq(live.acquiredAt, block.timestamp);
        assertEq(market.balanceOf(alice), 0);
        assertEq(market.balanceOf(bob), 1);
        (address receiver,) = market.royaltyInfo(g0, 1000);
        assertEq(receiver, royalty, "royalties of a resold licence still answer");
        market.tokenURI(g0);
        TangibleMarket.OfferInfo memory o = market.offer(offerId);
        assertFalse(o.active);
        assertEq(o.licenceId, g0);
        assertEq(o.seller, address(0));

        uint256 g2 = g0 + 2 * GEN;
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, g2));
        market.ownerOf(g2);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, g2));
        market.licence(g2);
        assertFalse(market.isValid(g2));
    }

    /// The current owner cannot list nor the revoker revoke the licence through an earlier id of its slot.
    function test_anEarlierGenerationCannotBeListedNorRevoked() public {
        uint256 g0 = _buyCrypto(alice, HD, alice);
        uint256 g1 = _resell(alice, g0, bob, bob);

        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, g0));
        vm.prank(bob);
        market.list(g0, 900);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, g0));
        vm.prank(operator);
        market.revoke(g0, 1);
        assertEq(market.ownerOf(g1), bob, "the live generation is untouched");

        vm.prank(operator);
        market.revoke(g1, 2);
        TangibleLicence.LicenceInfo memory l1 = market.licence(g1);
        assertTrue(l1.revoked);
        assertEq(l1.reason, 2);
        assertEq(l1.owner, bob, "revoked in place: owner kept");
        assertEq(market.licence(g0).reason, 0, "the earlier generation stays resold");
        assertEq(market.balanceOf(bob), 0);
    }

    /// A lineage runs on over several resales; the primary sequence is untouched.
    function test_aLineageRunsOverSeveralResales() public {
        uint256 g0 = _buyCrypto(alice, SD, alice);
        uint256 g1 = _resell(alice, g0, bob, bob);
        uint256 g2 = _resell(bob, g1, carol, carol);
        uint256 g3 = _resell(carol, g2, alice, alice);
        assertEq(g3, g0 + 3 * GEN);
        assertEq(market.ownerOf(g3), alice);
        assertEq(market.balanceOf(alice), 1);
        assertEq(market.balanceOf(bob), 0);
        assertEq(market.balanceOf(carol), 0);
        assertEq(_buyCrypto(bob, SD, bob), g0 + 1);
    }

    /// A card-bought licence (held: its sale may be pending) gets a slot of its own when resold, and keeps its
    /// owner: a revoke can follow the sale and refund the buyer.
    function test_aHeldLicenceGetsASlotOfItsOwn() public {
        uint256 card = _buyCard(HD, alice, REF);
        assertEq((card >> 192) & 0xff, 0, "a card id starts at generation 0");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, card + GEN));
        market.licence(card + GEN);
        vm.warp(market.licence(card).holdUntil);
        uint256 next = _resell(alice, card, bob, bob);
        assertEq(next, ((uint256(keccak256(abi.encode(card))) >> 2) | (1 << 254)) & ~(uint256(0xff) << 192));
        TangibleLicence.LicenceInfo memory old = market.licence(card);
        assertTrue(old.revoked);
        assertEq(old.owner, alice);
        assertEq(market.ownerOf(next), bob);
        // Tainted (the card money is uncleared): the chargeback unwinds both sales and revokes bob's licence.
        vm.prank(operator);
        market.revoke(card, 1);
        assertFalse(market.isValid(next));
        assertEq(_credit(bob), 900 * UNITS, "the crypto buyer of the uncleared licence is refunded");
    }

    /// A card resale mints a card licence; the licence sold is revoked in its slot with its owner kept.
    function test_aCardResaleOfALineageLicenceRevokesItInPlace() public {
        uint256 g0 = _buyCrypto(alice, HD, alice);
        uint256 g1 = _resell(alice, g0, bob, bob);
        uint256 offerId = _list(bob, g1, 900);
        vm.prank(operator);
        uint256 card = market.settleCardOffer(offerId, 900, carol, REF);
        assertEq(card, market.cardLicenceId(REF));
        TangibleLicence.LicenceInfo memory l1 = market.licence(g1);
        assertTrue(l1.revoked);
        assertEq(l1.owner, bob);
        assertEq(l1.reason, 0);
        assertEq(market.ownerOf(card), carol);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, g0 + 2 * GEN));
        market.ownerOf(g0 + 2 * GEN);
    }

    /// At the last generation (bits 192-199 all set) a resale gets a new slot, and the last one keeps its owner.
    function test_theLastGenerationGetsANewSlot() public {
        uint256 g0 = _buyCrypto(alice, HD, alice);
        // Move the lineage to its last generation: the generation is the slot's top byte.
        vm.record();
        market.ownerOf(g0);
        (bytes32[] memory reads,) = vm.accesses(address(market));
        bytes32 slot;
        for (uint256 i; i < reads.length; ++i) {
            if (address(uint160(uint256(vm.load(address(market), reads[i])))) == alice) slot = reads[i];
        }
        assertTrue(slot != bytes32(0), "licence slot found");
        bytes32 value = vm.load(address(market), slot);
        vm.store(address(market), slot, value | bytes32(uint256(0xff) << 248));
        uint256 last = g0 | (uint256(0xff) << 192);
        assertEq(market.ownerOf(last), alice);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, g0));
        market.ownerOf(g0);

        uint256 next = _resell(alice, last, bob, bob);
        assertEq(next, ((uint256(keccak256(abi.encode(last))) >> 2) | (1 << 254)) & ~(uint256(0xff) << 192));
        assertEq(market.ownerOf(next), bob);
        TangibleLicence.LicenceInfo memory l = market.licence(last);
        assertTrue(l.revoked);
        assertEq(l.owner, alice, "revoked in place");
        assertEq(_resell(bob, next, carol, carol), next + GEN, "the new slot starts a lineage of its own");
    }
}
