// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";

/// @notice The contracts audit of 2026-12-02 (`shared/reviews/contracts-audit-2026-12-02.md`), findings M-3, L-1,
/// L-2, L-4 and informational 4: each test replays the finding's exploit, or the gap it names, against today's
/// contracts and checks that it no longer works.
contract AuditFixesTest is TangibleTest {
    address internal stranger = makeAddr("stranger");

    // ------------------------------------------------------------------ M-3: film id space exhaustion

    /// The exploit started with a self-registered studio: nobody but the platform registers studios now.
    function test_M3_nobodyRegistersAStudioForItself() public {
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, 0)
        );
        vm.prank(stranger);
        market.registerStudio(stranger, stranger, "Griefer Films");
        // Nor may a registered studio's admin register a second studio.
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, studioAdmin, 0
            )
        );
        vm.prank(studioAdmin);
        market.registerStudio(studioAdmin, royalty, "Second studio");
        assertEq(market.studioCount(), 1);
    }

    /// A registered studio that turns rogue registers films in a loop: it stops at its quota, and neither it nor
    /// the operator can raise that quota; only the platform admin can.
    function test_M3_aStudioStopsAtItsFilmQuota() public {
        assertEq(
            market.studioFilmsLeft(studioId), market.DEFAULT_FILM_QUOTA() - 1, "the fixture's film counted"
        );
        vm.expectEmit(address(market));
        emit TangibleRegistry.StudioFilmQuotaChanged(studioId, 3);
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, 3);

        uint64 before = market.filmCount();
        vm.startPrank(studioAdmin);
        for (uint256 i = 0; i < 3; i++) {
            market.registerFilm(studioId, "loop", 2026);
        }
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryFilmQuotaReached.selector, studioId));
        market.registerFilm(studioId, "one too many", 2026);
        vm.stopPrank();
        assertEq(market.filmCount(), before + 3);
        assertEq(market.studioFilmsLeft(studioId), 0);

        // The operator registering on the studio's behalf meets the same quota.
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryFilmQuotaReached.selector, studioId));
        vm.prank(operator);
        market.registerFilm(studioId, "on behalf", 2026);

        // Only the platform admin raises it: not the studio, not the operator (a stolen hot key).
        for (uint256 i = 0; i < 2; i++) {
            address who = i == 0 ? studioAdmin : operator;
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, who, market.DEFAULT_ADMIN_ROLE()
                )
            );
            vm.prank(who);
            market.setStudioFilmQuota(studioId, type(uint16).max);
        }
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, 1);
        vm.prank(studioAdmin);
        market.registerFilm(studioId, "approved", 2026);
        assertEq(market.filmCount(), before + 4);
    }

    /// The quota does not cost the sale path anything: it shares the studio's hot slot, and a sale leaves it.
    function test_M3_salesLeaveTheQuota() public {
        uint16 left = market.studioFilmsLeft(studioId);
        _buyCrypto(alice, HD, alice);
        _buyCard(SD, bob, keccak256("card"));
        assertEq(market.studioFilmsLeft(studioId), left);
        assertGt(_studioCredit(), 0);
    }

    // ------------------------------------------------------------------ L-1: operator withdrawal undone

    /// The exploit: the operator withdraws a rogue studio's edition and the studio reactivates it in the next
    /// transaction. A platform suspension holds until the platform lifts it.
    function test_L1_aSuspendedEditionStaysOffSale() public {
        vm.recordLogs();
        vm.prank(operator);
        market.suspendEdition(filmId, HD, "counterfeit master reported");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2, "status change then suspension");
        assertEq(logs[0].topics[0], TangibleRegistry.EditionStatusChanged.selector);
        assertEq(logs[1].topics[0], TangibleRegistry.EditionSuspended.selector);
        (bool suspended, string memory reason) = abi.decode(logs[1].data, (bool, string));
        assertTrue(suspended);
        assertEq(reason, "counterfeit master reported");

        TangibleRegistry.EditionInfo memory e = market.edition(filmId, HD);
        assertFalse(e.active);
        assertTrue(e.suspended);

        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionSuspended.selector, filmId, HD)
        );
        vm.prank(studioAdmin);
        market.reactivateEdition(filmId, HD);
        // The operator acting for the studio (the API's studio route) cannot lift it that way either.
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionSuspended.selector, filmId, HD)
        );
        vm.prank(operator);
        market.reactivateEdition(filmId, HD);

        // Not for sale, by crypto or card.
        _fund(alice, PRICE_HD * UNITS);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketEditionInactive.selector, filmId, HD));
        market.buyPrimary(filmId, HD, PRICE_HD, alice);

        // The studio cannot lift the suspension itself.
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, studioAdmin, 0
            )
        );
        vm.prank(studioAdmin);
        market.unsuspendEdition(filmId, HD, "I disagree");

        // Lifted by the platform, the edition stays withdrawn until its studio returns it to sale.
        vm.prank(admin);
        market.unsuspendEdition(filmId, HD, "studio proved its rights");
        e = market.edition(filmId, HD);
        assertFalse(e.active);
        assertFalse(e.suspended);
        vm.prank(studioAdmin);
        market.reactivateEdition(filmId, HD);
        assertTrue(market.edition(filmId, HD).active);
        _buyCrypto(alice, HD, alice);
    }

    function test_L1_suspensionChecks() public {
        vm.expectRevert(TangibleRegistry.RegistryReasonRequired.selector);
        vm.prank(operator);
        market.suspendEdition(filmId, HD, "");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId, uint8(7))
        );
        vm.prank(operator);
        market.suspendEdition(filmId, 7, "x");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistrySuspensionUnchanged.selector, filmId, HD, false)
        );
        vm.prank(operator);
        market.unsuspendEdition(filmId, HD, "x");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, stranger, 0)
        );
        vm.prank(stranger);
        market.suspendEdition(filmId, HD, "x");

        // A studio-withdrawn edition can be suspended too (no status event then), and stays withdrawn.
        vm.prank(studioAdmin);
        market.withdrawEdition(filmId, SD);
        vm.recordLogs();
        vm.prank(operator);
        market.suspendEdition(filmId, SD, "dispute");
        assertEq(vm.getRecordedLogs().length, 1);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistrySuspensionUnchanged.selector, filmId, SD, true)
        );
        vm.prank(operator);
        market.suspendEdition(filmId, SD, "again");

        // Existing licences stay valid and resellable while their edition is suspended.
        uint256 id = _buyCrypto(alice, HD, alice);
        vm.prank(operator);
        market.suspendEdition(filmId, HD, "x");
        assertEq(_owner(id), alice);
        _list(alice, id, 500);
    }

    // ------------------------------------------------------------------ L-4: master hash swapped silently

    /// The exploit: the studio (or the operator) swaps the master hash under holders with nothing recorded.
    /// Every change of master now carries a reason, on chain, next to the hashes before and after.
    function test_L4_aMasterChangeNeedsAndRecordsAReason() public {
        _buyCrypto(alice, HD, alice);
        bytes32 next = keccak256("re-encoded");
        vm.expectRevert(TangibleRegistry.RegistryReasonRequired.selector);
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, next, PRICE_HD, "");
        assertEq(market.edition(filmId, HD).masterHash, MASTER_HD);

        vm.expectEmit(address(market));
        emit TangibleRegistry.MasterReplaced(filmId, HD, MASTER_HD, next, "audio desync fixed");
        vm.expectEmit(address(market));
        emit TangibleRegistry.EditionUpdated(filmId, HD, next, PRICE_HD);
        vm.prank(operator);
        market.updateEdition(filmId, HD, next, PRICE_HD, "audio desync fixed");
        assertEq(market.edition(filmId, HD).masterHash, next);
    }

    /// A price change alone needs no reason and records no master replacement.
    function test_L4_aPriceChangeAloneNeedsNoReason() public {
        vm.recordLogs();
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, MASTER_HD, 1_500, "");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], TangibleRegistry.EditionUpdated.selector);
        assertEq(market.edition(filmId, HD).priceCents, 1_500);
    }

    // ------------------------------------------------------------------ L-2: unpausing relies on one lost role

    /// The exploit: the admin renounces (or has revoked) its role while the market is paused, and every balance is
    /// frozen for good. The last admin can no longer leave; a second admin must be granted first.
    function test_L2_theLastAdminCannotLeave() public {
        _buyCrypto(alice, HD, alice);
        vm.prank(operator);
        market.pause();
        bytes32 role = market.DEFAULT_ADMIN_ROLE();
        vm.startPrank(admin);
        vm.expectRevert(ITangibleMarket.MarketLastAdmin.selector);
        market.renounceRole(role, admin);
        vm.expectRevert(ITangibleMarket.MarketLastAdmin.selector);
        market.revokeRole(role, admin);
        assertTrue(market.hasRole(role, admin));

        // Handing over works: grant the successor (a multisig, say), then leave.
        market.grantRole(role, carol);
        market.renounceRole(role, admin);
        vm.stopPrank();
        assertFalse(market.hasRole(role, admin));
        vm.expectRevert(ITangibleMarket.MarketLastAdmin.selector);
        vm.prank(carol);
        market.renounceRole(role, carol);

        // So someone can always unpause, and the royalty recipient withdraws.
        vm.prank(carol);
        market.unpause();
        vm.prank(operator);
        market.withdrawStudio(studioId);
        assertGt(euro.balanceOf(royalty), 0);
    }

    // ------------------------------------------------------------------ informational 4: silent flush

    /// Moving accrued studio earnings into the previous recipient's balance names the amount.
    function test_info4_aFlushOfStudioEarningsNamesItsAmount() public {
        _buyCrypto(alice, HD, alice);
        uint256 amount = uint256(_studioCredit()) * UNITS;
        vm.expectEmit(address(market));
        emit ITangibleMarket.EarningsCredited(royalty, amount);
        vm.prank(studioAdmin);
        market.updateStudio(studioId, studioAdmin, carol, "Studio Lumiere");
        assertEq(_credit(royalty), amount);
    }

    /// So does moving the platform's accrued fees when the platform address changes.
    function test_info4_aFlushOfPlatformFeesNamesItsAmount() public {
        _buyCrypto(alice, HD, alice);
        uint256 amount = uint256(market.platformCreditCents()) * UNITS;
        assertGt(amount, 0);
        vm.expectEmit(address(market));
        emit ITangibleMarket.EarningsCredited(platform, amount);
        vm.prank(admin);
        market.setPlatform(carol);
        assertEq(_credit(platform), amount);
    }
}
