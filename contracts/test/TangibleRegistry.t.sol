// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {stdStorage, StdStorage} from "forge-std/Test.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";

contract TangibleRegistryTest is TangibleTest {
    using stdStorage for StdStorage;

    address internal stranger = makeAddr("stranger");

    // ------------------------------------------------------------------ studios

    function test_registerStudio_byAdmin() public {
        vm.expectEmit(address(market));
        emit TangibleRegistry.StudioRegistered(2, alice, bob, 1000, "Alice Films");
        vm.prank(admin);
        uint32 id = market.registerStudio(alice, bob, "Alice Films");
        assertEq(id, 2);
        assertEq(market.studioCount(), 2);
        TangibleRegistry.StudioInfo memory s = market.studio(id);
        assertEq(s.admin, alice);
        assertEq(s.royaltyRecipient, bob);
        assertEq(s.commissionBps, market.DEFAULT_COMMISSION_BPS());
        assertEq(s.creditCents, 0);
        assertEq(s.name, "Alice Films");
        assertEq(market.studioFilmsLeft(id), market.DEFAULT_FILM_QUOTA());
    }

    function test_registerStudio_byOperatorForAnyAdmin() public {
        vm.prank(operator);
        uint32 id = market.registerStudio(alice, alice, "On behalf");
        assertEq(market.studio(id).admin, alice);
    }

    function test_registerStudio_revert_otherAdminWithoutRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, 0)
        );
        vm.prank(stranger);
        market.registerStudio(alice, alice, "x");
    }

    function test_registerStudio_revert_zeroAddresses() public {
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        market.registerStudio(address(0), alice, "x");
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        market.registerStudio(alice, address(0), "x");
        vm.stopPrank();
    }

    function test_updateStudio_byItsAdmin() public {
        vm.expectEmit(address(market));
        emit TangibleRegistry.StudioUpdated(studioId, alice, bob, 1000, "Renamed");
        vm.prank(studioAdmin);
        market.updateStudio(studioId, alice, bob, "Renamed");
        TangibleRegistry.StudioInfo memory s = market.studio(studioId);
        assertEq(s.admin, alice);
        assertEq(s.royaltyRecipient, bob);
        assertEq(s.name, "Renamed");

        vm.prank(alice);
        market.updateStudio(studioId, studioAdmin, royalty, "Back");
        assertEq(market.studio(studioId).admin, studioAdmin);
        // the old admin lost its rights
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, alice, studioId
            )
        );
        vm.prank(alice);
        market.updateStudio(studioId, alice, alice, "Mine");
    }

    function test_updateStudio_newRecipientFlushesEarningsToPrevious() public {
        _buyCrypto(alice, HD, alice);
        (uint64 studioCents,) = _expectedPrimary(PRICE_HD, 1000);
        assertEq(_studioCredit(), studioCents);
        vm.prank(studioAdmin);
        market.updateStudio(studioId, studioAdmin, carol, "Studio Lumiere");
        assertEq(_studioCredit(), 0);
        assertEq(_credit(royalty), uint256(studioCents) * UNITS);
        // the previous recipient can withdraw what it earned
        vm.prank(royalty);
        market.withdraw(royalty, uint256(studioCents) * UNITS);
        assertEq(euro.balanceOf(royalty), uint256(studioCents) * UNITS);
    }

    function test_updateStudio_sameRecipientKeepsEarnings() public {
        _buyCrypto(alice, HD, alice);
        uint64 before = _studioCredit();
        vm.prank(studioAdmin);
        market.updateStudio(studioId, alice, royalty, "Same recipient");
        assertEq(_studioCredit(), before);
        assertEq(_credit(royalty), 0);
    }

    function test_updateStudio_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.updateStudio(studioId, stranger, stranger, "x");

        vm.startPrank(studioAdmin);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(9)));
        market.updateStudio(9, alice, alice, "x");
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(0)));
        market.updateStudio(0, alice, alice, "x");
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        market.updateStudio(studioId, address(0), alice, "x");
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, address(0)));
        market.updateStudio(studioId, alice, address(0), "x");
        vm.stopPrank();
    }

    function test_setStudioCommission_adminAndOperator() public {
        vm.expectEmit(address(market));
        emit TangibleRegistry.StudioUpdated(studioId, studioAdmin, royalty, 3000, "Studio Lumiere");
        vm.prank(admin);
        market.setStudioCommission(studioId, 3000);
        assertEq(market.studio(studioId).commissionBps, 3000);
        vm.prank(operator);
        market.setStudioCommission(studioId, 0);
        assertEq(market.studio(studioId).commissionBps, 0);
    }

    function test_setStudioCommission_reverts() public {
        bytes32 role = market.REGISTRAR_ROLE();
        vm.expectRevert(_unauthorized(studioAdmin, role));
        vm.prank(studioAdmin);
        market.setStudioCommission(studioId, 500);

        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidCommission.selector, 3001, 3000)
        );
        market.setStudioCommission(studioId, 3001);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(7)));
        market.setStudioCommission(7, 100);
        vm.stopPrank();
    }

    function testFuzz_setStudioCommission_bounded(uint16 bps) public {
        vm.prank(admin);
        if (bps > 3000) {
            vm.expectRevert(
                abi.encodeWithSelector(TangibleRegistry.RegistryInvalidCommission.selector, bps, 3000)
            );
            market.setStudioCommission(studioId, bps);
        } else {
            market.setStudioCommission(studioId, bps);
            assertEq(market.studio(studioId).commissionBps, bps);
        }
    }

    // ------------------------------------------------------------------ films

    function test_registerFilm() public {
        vm.expectEmit(address(market));
        emit TangibleRegistry.FilmRegistered(2, studioId, "Metropolis", 1927);
        vm.prank(studioAdmin);
        uint64 id = market.registerFilm(studioId, "Metropolis", 1927);
        assertEq(id, 2);
        assertEq(market.filmCount(), 2);
        (uint32 sid, uint16 year) = market.film(id);
        assertEq(sid, studioId);
        assertEq(year, 1927);
    }

    function test_registerFilm_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.registerFilm(studioId, "x", 2000);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(5)));
        vm.prank(operator);
        market.registerFilm(5, "x", 2000);
    }

    function test_registerFilm_revert_limit() public {
        // Put the film counter at the 24-bit maximum (packed slot shared with the studio counter).
        uint256 slot = stdstore.enable_packed_slots().target(address(market)).sig("filmCount()").find();
        bytes32 raw = vm.load(address(market), bytes32(slot));
        uint256 studios = uint256(raw) & type(uint32).max;
        vm.store(address(market), bytes32(slot), bytes32(studios | (uint256(type(uint24).max) << 32)));
        assertEq(market.filmCount(), type(uint24).max);
        assertEq(market.studioCount(), 1);
        vm.expectRevert(TangibleRegistry.RegistryFilmLimitReached.selector);
        vm.prank(operator);
        market.registerFilm(studioId, "one too many", 2026);
    }

    function test_film_revert_notFound() public {
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryFilmNotFound.selector, uint64(42)));
        market.film(42);
    }

    function test_studio_revert_notFound() public {
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryStudioNotFound.selector, uint32(42)));
        market.studio(42);
    }

    // ------------------------------------------------------------------ editions

    function test_registerEdition() public {
        vm.prank(studioAdmin);
        uint64 fid = market.registerFilm(studioId, "Nosferatu", 1922);
        vm.expectEmit(address(market));
        emit TangibleRegistry.EditionRegistered(fid, UHD, MASTER_4K, 2500);
        vm.prank(studioAdmin);
        market.registerEdition(fid, UHD, MASTER_4K, 2500);
        TangibleRegistry.EditionInfo memory e = market.edition(fid, UHD);
        assertEq(e.filmId, fid);
        assertEq(e.quality, UHD);
        assertEq(e.studioId, studioId);
        assertEq(e.masterHash, MASTER_4K);
        assertEq(e.priceCents, 2500);
        assertTrue(e.active);
    }

    function test_registerEdition_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.registerEdition(filmId, SD, MASTER_SD, 100);

        vm.startPrank(studioAdmin);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryFilmNotFound.selector, uint64(99)));
        market.registerEdition(99, SD, MASTER_SD, 100);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidQuality.selector, uint8(3)));
        market.registerEdition(filmId, 3, MASTER_SD, 100);
        vm.expectRevert(TangibleRegistry.RegistryInvalidMasterHash.selector);
        market.registerEdition(filmId, SD, bytes32(0), 100);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidPrice.selector, uint64(0)));
        market.registerEdition(filmId, SD, MASTER_SD, 0);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryEditionExists.selector, filmId, SD));
        market.registerEdition(filmId, SD, MASTER_SD, 100);
        vm.stopPrank();
    }

    function test_updateEdition() public {
        bytes32 newMaster = keccak256("re-encoded");
        vm.expectEmit(address(market));
        emit TangibleRegistry.EditionUpdated(filmId, HD, newMaster, 1500);
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, newMaster, 1500, "re-encode");
        TangibleRegistry.EditionInfo memory e = market.edition(filmId, HD);
        assertEq(e.masterHash, newMaster);
        assertEq(e.priceCents, 1500);
    }

    function test_updateEdition_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.updateEdition(filmId, HD, MASTER_HD, 1, "re-encode");

        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId, uint8(3))
        );
        market.updateEdition(filmId, 3, MASTER_HD, 1, "re-encode");
        vm.expectRevert(TangibleRegistry.RegistryInvalidMasterHash.selector);
        market.updateEdition(filmId, HD, bytes32(0), 1, "re-encode");
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidPrice.selector, uint64(0)));
        market.updateEdition(filmId, HD, MASTER_HD, 0, "re-encode");
        vm.stopPrank();
    }

    function test_withdrawAndReactivateEdition() public {
        vm.expectEmit(address(market));
        emit TangibleRegistry.EditionStatusChanged(filmId, SD, false);
        vm.prank(studioAdmin);
        market.withdrawEdition(filmId, SD);
        assertFalse(market.edition(filmId, SD).active);

        vm.expectEmit(address(market));
        emit TangibleRegistry.EditionStatusChanged(filmId, SD, true);
        vm.prank(operator);
        market.reactivateEdition(filmId, SD);
        assertTrue(market.edition(filmId, SD).active);
    }

    function test_withdrawAndReactivateEdition_reverts() public {
        vm.startPrank(studioAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionStatusUnchanged.selector, filmId, SD, true)
        );
        market.reactivateEdition(filmId, SD);
        market.withdrawEdition(filmId, SD);
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryEditionStatusUnchanged.selector, filmId, SD, false
            )
        );
        market.withdrawEdition(filmId, SD);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, uint64(77), SD)
        );
        market.withdrawEdition(77, SD);
        vm.stopPrank();

        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, studioId
            )
        );
        vm.prank(stranger);
        market.reactivateEdition(filmId, SD);
    }

    function test_edition_revert_notFound() public {
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId, uint8(3))
        );
        market.edition(filmId, 3);
    }
}
