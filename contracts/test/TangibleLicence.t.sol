// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";

contract TangibleLicenceTest is TangibleTest {
    uint256 internal id;

    function setUp() public override {
        super.setUp();
        vm.warp(1_800_000_000);
        id = _buyCrypto(alice, HD, alice);
    }

    function test_mintedLicenceData() public view {
        assertEq(market.ownerOf(id), alice);
        assertEq(market.balanceOf(alice), 1);
        TangibleLicence.LicenceInfo memory l = market.licence(id);
        assertEq(l.owner, alice);
        assertEq(l.filmId, filmId);
        assertEq(l.quality, HD);
        assertEq(l.acquiredAt, 1_800_000_000);
        assertEq(l.holdUntil, 0);
        assertFalse(l.revoked);
        assertEq(l.reason, 0);
        assertTrue(market.isValid(id));
        assertFalse(market.isValid(id + 1));
    }

    function test_nameSymbol() public view {
        assertEq(market.name(), "Tangible Licence");
        assertEq(market.symbol(), "TGL");
    }

    function test_balanceOf_revert_zero() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOwner.selector, address(0)));
        market.balanceOf(address(0));
    }

    function test_ownerOf_revert_nonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 999));
        market.ownerOf(999);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 999));
        market.licence(999);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 999));
        market.getApproved(999);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 999));
        market.tokenURI(999);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 999));
        market.royaltyInfo(999, 100);
    }

    function test_revokedLicence_staysQueryable_ownerOfReverts() public {
        vm.prank(operator);
        market.revoke(id, 2);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
        market.ownerOf(id);
        vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
        market.getApproved(id);
        TangibleLicence.LicenceInfo memory l = market.licence(id);
        assertEq(l.owner, alice);
        assertTrue(l.revoked);
        assertEq(l.reason, 2);
        assertEq(l.filmId, filmId);
        assertEq(l.quality, HD);
        assertEq(market.balanceOf(alice), 0);
        assertFalse(market.isValid(id));
        (address receiver, uint256 amount) = market.royaltyInfo(id, 1000);
        assertEq(receiver, royalty);
        assertEq(amount, 150);
    }

    function test_getApproved_isZero_isApprovedForAll_false() public view {
        assertEq(market.getApproved(id), address(0));
        assertFalse(market.isApprovedForAll(alice, bob));
    }

    function testFuzz_transfersAlwaysRevert(address from, address to, uint256 tokenId, bytes memory data)
        public
    {
        vm.startPrank(from);
        vm.expectRevert(TangibleLicence.LicenceTransferDisabled.selector);
        market.transferFrom(from, to, tokenId);
        vm.expectRevert(TangibleLicence.LicenceTransferDisabled.selector);
        market.safeTransferFrom(from, to, tokenId);
        vm.expectRevert(TangibleLicence.LicenceTransferDisabled.selector);
        market.safeTransferFrom(from, to, tokenId, data);
        vm.stopPrank();
    }

    function test_ownerCannotTransferOwnLicence() public {
        vm.startPrank(alice);
        vm.expectRevert(TangibleLicence.LicenceTransferDisabled.selector);
        market.transferFrom(alice, bob, id);
        vm.expectRevert(TangibleLicence.LicenceTransferDisabled.selector);
        market.safeTransferFrom(alice, bob, id);
        vm.expectRevert(TangibleLicence.LicenceApprovalDisabled.selector);
        market.approve(bob, id);
        vm.expectRevert(TangibleLicence.LicenceApprovalDisabled.selector);
        market.setApprovalForAll(bob, true);
        vm.stopPrank();
        assertEq(market.ownerOf(id), alice);
    }

    function testFuzz_approvalsAlwaysRevert(address caller, address spender, uint256 tokenId, bool approved)
        public
    {
        vm.startPrank(caller);
        vm.expectRevert(TangibleLicence.LicenceApprovalDisabled.selector);
        market.approve(spender, tokenId);
        vm.expectRevert(TangibleLicence.LicenceApprovalDisabled.selector);
        market.setApprovalForAll(spender, approved);
        vm.stopPrank();
    }

    function testFuzz_royaltyInfo_fifteenPercentToStudio(uint256 salePrice) public view {
        salePrice = bound(salePrice, 0, type(uint128).max);
        (address receiver, uint256 amount) = market.royaltyInfo(id, salePrice);
        assertEq(receiver, royalty);
        assertEq(amount, (salePrice * 15) / 100);
    }

    function test_royaltyInfo_followsRecipientChange() public {
        vm.prank(studioAdmin);
        market.updateStudio(studioId, studioAdmin, carol, "Studio Lumiere");
        (address receiver,) = market.royaltyInfo(id, 100);
        assertEq(receiver, carol);
    }

    function test_supportsInterface() public view {
        assertTrue(market.supportsInterface(type(IERC721).interfaceId));
        assertTrue(market.supportsInterface(type(IERC721Metadata).interfaceId));
        assertTrue(market.supportsInterface(type(IERC2981).interfaceId));
        assertTrue(market.supportsInterface(type(IERC165).interfaceId));
        assertTrue(market.supportsInterface(type(IAccessControl).interfaceId));
        assertFalse(market.supportsInterface(0xffffffff));
        assertFalse(market.supportsInterface(0x12345678));
    }

    function test_tokenURI() public {
        assertEq(market.tokenURI(id), "");
        vm.expectEmit(address(market));
        emit TangibleLicence.BaseURIChanged("https://tangible.example/licences/");
        vm.prank(admin);
        market.setBaseURI("https://tangible.example/licences/");
        assertEq(market.tokenURI(id), string.concat("https://tangible.example/licences/", vm.toString(id)));
    }

    function test_setBaseURI_revert_notAdmin() public {
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        market.setBaseURI("x");
    }

    function test_settlerRoleMirror_grantAndRevoke() public {
        bytes32 role = market.SETTLER_ROLE();
        _deposit(carol, 100 * 1e6);
        // carol is not an operator yet
        vm.expectRevert(_unauthorized(carol, role));
        vm.prank(carol);
        market.settleCardPrimary(filmId, SD, PRICE_SD, bob, "ref-1");

        vm.prank(admin);
        market.grantRole(role, carol);
        vm.prank(carol);
        uint256 cardId = market.settleCardPrimary(filmId, SD, PRICE_SD, bob, "ref-1");
        assertEq(_owner(cardId), bob);

        vm.prank(admin);
        market.revokeRole(role, carol);
        vm.expectRevert(_unauthorized(carol, role));
        vm.prank(carol);
        market.settleCardPrimary(filmId, SD, PRICE_SD, bob, "ref-2");

        // renouncing also clears the mirror
        vm.prank(admin);
        market.grantRole(role, carol);
        vm.prank(carol);
        market.renounceRole(role, carol);
        vm.expectRevert(_unauthorized(carol, role));
        vm.prank(carol);
        market.settleCardPrimary(filmId, SD, PRICE_SD, bob, "ref-3");
    }

    function test_mintEmitsTransferAndLicenceMinted() public {
        _fund(bob, uint256(PRICE_SD) * UNITS);
        uint256 next = market.nextLicenceId();
        vm.expectEmit(address(market));
        emit IERC721.Transfer(address(0), carol, next);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceMinted(next, carol, filmId, SD, 1_800_000_000, 0);
        vm.prank(bob);
        market.buyPrimary(filmId, SD, PRICE_SD, carol);
        assertEq(market.balanceOf(carol), 1);
        assertEq(market.balanceOf(bob), 0);
    }
}
