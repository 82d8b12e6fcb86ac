// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";

/// @notice The contracts audit of 2026-12-02 (`shared/reviews/contracts-audit-2026-12-02.md`), findings M-3, M-4
/// (a and b), L-1, L-2, L-4 and informational 4: each test replays the finding's exploit, or the gap it names,
/// against today's contracts and checks that it no longer works.
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
        uint16 left = market.DEFAULT_FILM_QUOTA() - 1;
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, left, 3);

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
            vm.expectRevert(_unauthorized(who, market.DEFAULT_ADMIN_ROLE()));
            vm.prank(who);
            market.setStudioFilmQuota(studioId, 0, type(uint16).max);
        }
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, 0, 1);
        vm.prank(studioAdmin);
        market.registerFilm(studioId, "approved", 2026);
        assertEq(market.filmCount(), before + 4);
    }

    /// Review of the fix (F7): the admin cuts a studio's quota from 20 to 5; the studio, seeing the transaction
    /// coming, spends its 20 first. The admin's change names the quota it expects, so it fails instead of
    /// granting 5 more.
    function test_M3_aQuotaCutCannotBeOverrun() public {
        uint16 left = market.studioFilmsLeft(studioId);
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, left, 2);
        vm.startPrank(studioAdmin);
        market.registerFilm(studioId, "front-run 1", 2026);
        market.registerFilm(studioId, "front-run 2", 2026);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryFilmQuotaMismatch.selector, studioId, 0)
        );
        vm.prank(admin);
        market.setStudioFilmQuota(studioId, 2, 5);
        assertEq(market.studioFilmsLeft(studioId), 0);
    }

    /// The quota does not cost the sale path anything: it shares the studio's hot slot, and a sale leaves it.
    function test_M3_salesLeaveTheQuota() public {
        uint16 left = market.studioFilmsLeft(studioId);
        _buyCrypto(alice, HD, alice);
        _buyCard(SD, bob, keccak256("card"));
        assertEq(market.studioFilmsLeft(studioId), left);
        assertGt(_studioCredit(), 0);
    }

    // ------------------------------------------------------------------ M-4: the operator key's blast radius

    /// M-4a: a stolen operator key took the whole card float in one call, to itself. It can now pay the float only
    /// to the treasury the admin set, and only the admin moves the treasury.
    function test_M4a_aStolenOperatorKeyCannotTakeTheFloat() public {
        uint256 float = _credit(operator);
        assertEq(float, FLOAT);
        for (uint256 i = 0; i < 2; i++) {
            address to = i == 0 ? operator : stranger;
            vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, to, admin));
            vm.prank(operator);
            market.withdraw(to, float);
        }
        vm.expectRevert(_unauthorized(operator, market.DEFAULT_ADMIN_ROLE()));
        vm.prank(operator);
        market.setTreasury(operator);

        // The admin's treasury receives it.
        assertEq(market.treasury(), admin, "the admin at deployment");
        vm.expectEmit(address(market));
        emit ITangibleMarket.TreasuryChanged(admin, carol);
        vm.prank(admin);
        market.setTreasury(carol);
        vm.prank(operator);
        market.withdraw(carol, float);
        assertEq(euro.balanceOf(carol), float);

        // Review of the fix (WT1): the stolen key renounces its role to clear the check, then withdraws to itself.
        // An account that ever held the role pays the treasury only, renounced or revoked.
        _deposit(operator, 10 * UNITS);
        bytes32 role = market.SETTLER_ROLE();
        vm.prank(operator);
        market.renounceRole(role, operator);
        assertFalse(market.hasRole(role, operator));
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, operator, carol));
        vm.prank(operator);
        market.withdraw(operator, 10 * UNITS);
        vm.prank(operator);
        market.withdraw(carol, 10 * UNITS);
        assertEq(euro.balanceOf(carol), float + 10 * UNITS);
    }

    /// M-4b: a stolen operator key re-pointed a studio's royalties and admin to itself. Only the studio's own admin
    /// changes them now.
    function test_M4b_aStolenOperatorKeyCannotTakeOverAStudio() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, operator, studioId
            )
        );
        vm.prank(operator);
        market.updateStudio(studioId, operator, operator, "Hijacked");
        // Not the platform admin either: the studio's royalties are the studio's.
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, admin, studioId
            )
        );
        vm.prank(admin);
        market.updateStudio(studioId, admin, admin, "Hijacked");
        TangibleRegistry.StudioInfo memory s = market.studio(studioId);
        assertEq(s.admin, studioAdmin);
        assertEq(s.royaltyRecipient, royalty);
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

    /// Review of the fix (F4): an admin's suspension (a takedown) is not the operator key's to lift.
    function test_L1_anAdminSuspensionIsTheAdminsToLift() public {
        vm.prank(admin);
        market.suspendEdition(filmId, HD, "takedown notice");
        vm.expectRevert(_unauthorized(operator, market.DEFAULT_ADMIN_ROLE()));
        vm.prank(operator);
        market.unsuspendEdition(filmId, HD, "looks fine");
        vm.prank(admin);
        market.unsuspendEdition(filmId, HD, "notice withdrawn");
        // An operator's suspension, the operator lifts.
        vm.prank(operator);
        market.suspendEdition(filmId, HD, "report");
        vm.prank(operator);
        market.unsuspendEdition(filmId, HD, "report unfounded");
        assertFalse(market.edition(filmId, HD).suspended);
    }

    /// Review of the fix (F3b): while suspended, the edition's master and price are frozen, so the platform lifts
    /// the suspension of the master it reviewed.
    function test_L1_aSuspendedEditionIsFrozen() public {
        vm.prank(operator);
        market.suspendEdition(filmId, HD, "report");
        for (uint256 i = 0; i < 2; i++) {
            address who = i == 0 ? studioAdmin : operator;
            vm.expectRevert(
                abi.encodeWithSelector(TangibleRegistry.RegistryEditionSuspended.selector, filmId, HD)
            );
            vm.prank(who);
            market.updateEdition(filmId, HD, keccak256("other"), 1, "swap");
        }
        assertEq(market.edition(filmId, HD).masterHash, MASTER_HD);
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

    /// Review of the fix (F6): handing the admin role to an account nobody can act for, then leaving, would be the
    /// same frozen end state. The role cannot go to address 0 or to the market itself.
    function test_L2_theAdminRoleGoesOnlyToAnAccountSomeoneHolds() public {
        bytes32 role = market.DEFAULT_ADMIN_ROLE();
        for (uint256 i = 0; i < 2; i++) {
            address to = i == 0 ? address(0) : address(market);
            vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidAddress.selector, to));
            vm.prank(admin);
            market.grantRole(role, to);
        }
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
