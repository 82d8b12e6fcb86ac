// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleTest} from "./utils/TangibleTest.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {deployMarket} from "./utils/DeployMarket.sol";

/// @notice Least privilege for the platform's hot keys (issue 13 item 1, contracts audit M-4): the operator role
/// is split into a settler (card settlement from its float), a revoker (revocation) and a registrar
/// (registration on behalf of studios). Each test gives one key one role and checks what it can do and that it
/// cannot do what the other two roles allow, so that a stolen key of one kind does only that kind of harm.
contract RolesTest is TangibleTest {
    address internal settler = makeAddr("settler");
    address internal revoker = makeAddr("revoker");
    address internal registrar = makeAddr("registrar");
    address internal stranger = makeAddr("stranger");
    address internal treasury;
    bytes32 internal settlerRole;
    bytes32 internal revokerRole;
    bytes32 internal registrarRole;
    uint8 internal constant CHARGEBACK = 1;

    function setUp() public override {
        super.setUp();
        settlerRole = market.SETTLER_ROLE();
        revokerRole = market.REVOKER_ROLE();
        registrarRole = market.REGISTRAR_ROLE();
        treasury = market.treasury();
        vm.startPrank(admin);
        market.grantRole(settlerRole, settler);
        market.grantRole(revokerRole, revoker);
        market.grantRole(registrarRole, registrar);
        vm.stopPrank();
        _deposit(settler, 1_000 * 1e6);
    }

    /// The constructor's single operator key holds all three roles (one API); with address 0 nobody does, and the
    /// admin grants each role to its own key.
    function test_constructorGrantsTheThreeRolesToTheOperatorOrToNobody() public {
        assertTrue(market.hasRole(settlerRole, operator));
        assertTrue(market.hasRole(revokerRole, operator));
        assertTrue(market.hasRole(registrarRole, operator));
        TangibleMarket bare = deployMarket(euro, admin, address(0), platform);
        assertFalse(bare.hasRole(settlerRole, address(0)));
        assertFalse(bare.hasRole(revokerRole, address(0)));
        assertFalse(bare.hasRole(registrarRole, address(0)));
        assertTrue(settlerRole != revokerRole && revokerRole != registrarRole && settlerRole != registrarRole);
    }

    /// A settler key settles card payments from its float and pauses; it cannot revoke, register, act for a studio,
    /// set commissions or suspend editions, and its float goes to the treasury only.
    function test_aSettlerKeySettlesAndNothingElse() public {
        vm.prank(settler);
        uint256 id = market.settleCardPrimary(filmId, SD, PRICE_SD, alice, keccak256("pi_settler"));
        assertEq(_owner(id), alice);

        vm.expectRevert(_unauthorized(settler, revokerRole));
        vm.prank(settler);
        market.revoke(id, CHARGEBACK);
        _expectNotRegistrar(settler);

        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, settler, treasury));
        vm.prank(settler);
        market.withdraw(settler, 1e6);

        vm.prank(settler);
        market.pause();
        assertTrue(market.paused());
    }

    /// A revoker key revokes, and card money it claws back lands in its balance, which goes to the treasury only
    /// (else a stolen revoker key would revoke card sales and keep their price). It cannot settle or register.
    function test_aRevokerKeyRevokesAndKeepsNothing() public {
        uint256 id = _buyCard(HD, alice, keccak256("pi_revoked"));
        uint256 units = uint256(PRICE_HD) * UNITS;
        vm.prank(revoker);
        market.revoke(id, CHARGEBACK);
        assertTrue(market.licence(id).revoked);
        assertEq(_credit(revoker), units, "the pending price is clawed back to the revoker's balance");

        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, revoker, treasury));
        vm.prank(revoker);
        market.withdraw(revoker, units);
        // Renouncing the role frees nothing either.
        vm.prank(revoker);
        market.renounceRole(revokerRole, revoker);
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, stranger, treasury)
        );
        vm.prank(revoker);
        market.withdraw(stranger, units);
        vm.prank(revoker);
        market.withdraw(treasury, units);
        assertEq(euro.balanceOf(treasury), units);

        vm.prank(admin);
        market.grantRole(revokerRole, revoker);
        _deposit(revoker, 100 * 1e6);
        vm.expectRevert(_unauthorized(revoker, settlerRole));
        vm.prank(revoker);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, keccak256("pi_by_revoker"));
        _expectNotRegistrar(revoker);
    }

    /// A registrar key registers studios and acts for them in the registry; it cannot settle card payments,
    /// revoke, nor change a studio's admin or royalty recipient (audit M-4b), and its balance is not a float.
    function test_aRegistrarKeyRegistersAndCannotTouchMoneyOrLicences() public {
        vm.startPrank(registrar);
        uint32 sid = market.registerStudio(bob, bob, "Studio Gaumont");
        uint64 fid = market.registerFilm(sid, "Fantomas", 1913);
        market.registerEdition(fid, SD, keccak256("fantomas-sd"), 500);
        market.updateEdition(fid, SD, keccak256("fantomas-sd"), 600, "");
        market.setResaleFloor(fid, SD, 250);
        market.setStudioCommission(sid, 1_000);
        market.suspendEdition(fid, SD, "rights dispute");
        vm.stopPrank();
        assertEq(market.edition(fid, SD).priceCents, 600);
        assertTrue(market.edition(fid, SD).suspended);

        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, registrar, sid
            )
        );
        vm.prank(registrar);
        market.updateStudio(sid, registrar, registrar, "taken over");

        _deposit(registrar, 100 * 1e6);
        vm.expectRevert(_unauthorized(registrar, settlerRole));
        vm.prank(registrar);
        market.settleCardPrimary(filmId, SD, PRICE_SD, alice, keccak256("pi_by_registrar"));
        uint256 id = _buyCrypto(alice, SD, alice);
        vm.expectRevert(_unauthorized(registrar, revokerRole));
        vm.prank(registrar);
        market.revoke(id, CHARGEBACK);
        // Not a float account: it withdraws what it deposited wherever it likes.
        vm.prank(registrar);
        market.withdraw(carol, 100 * 1e6);
        assertEq(euro.balanceOf(carol), 100 * 1e6);
    }

    /// Registrars together register at most REGISTRAR_STUDIOS_PER_DAY studios per UTC day (a stolen registrar key
    /// cannot mint the studios, and their film quotas, that would exhaust the film id space); the admin is not
    /// limited, and the budget comes back the next day.
    function test_registrarsRegisterABoundedNumberOfStudiosPerDay() public {
        vm.warp(block.timestamp + 1 days); // past the fixture's studio, registered by the operator key
        uint16 perDay = market.REGISTRAR_STUDIOS_PER_DAY();
        assertEq(perDay, 50);
        uint32 before = market.studioCount();
        for (uint256 i = 0; i < perDay; i++) {
            vm.prank(i % 2 == 0 ? registrar : operator);
            market.registerStudio(bob, bob, "studio");
        }
        assertEq(market.studioCount(), before + perDay);
        address[2] memory keys = [registrar, operator];
        for (uint256 i = 0; i < keys.length; i++) {
            vm.expectRevert(
                abi.encodeWithSelector(TangibleRegistry.RegistryStudioLimitReached.selector, perDay)
            );
            vm.prank(keys[i]);
            market.registerStudio(bob, bob, "one too many");
        }
        vm.prank(admin);
        market.registerStudio(bob, bob, "approved by the multisig");
        vm.warp(block.timestamp + 1 days);
        vm.prank(registrar);
        market.registerStudio(bob, bob, "the next day");
        assertEq(market.studioCount(), before + perDay + 2);
    }

    /// Any of the three keys can pull the brake; only the admin releases it.
    function test_anyPlatformKeyPausesOnlyTheAdminUnpauses() public {
        address[3] memory keys = [settler, revoker, registrar];
        for (uint256 i = 0; i < keys.length; i++) {
            vm.prank(keys[i]);
            market.pause();
            vm.expectRevert(_unauthorized(keys[i], bytes32(0)));
            vm.prank(keys[i]);
            market.unpause();
            vm.prank(admin);
            market.unpause();
        }
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        market.pause();
    }

    /// `key` can neither register a studio, act for the fixture's studio, set its commission nor suspend.
    function _expectNotRegistrar(address key) internal {
        vm.startPrank(key);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, key, 0)
        );
        market.registerStudio(key, key, "rogue");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, key, studioId)
        );
        market.registerFilm(studioId, "rogue", 2026);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, key, studioId)
        );
        market.updateEdition(filmId, SD, MASTER_SD, 1, "");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, key, studioId)
        );
        market.setResaleFloor(filmId, SD, 100);
        vm.expectRevert(_unauthorized(key, registrarRole));
        market.setStudioCommission(studioId, 3_000);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, key, 0)
        );
        market.suspendEdition(filmId, SD, "rogue");
        vm.stopPrank();
        assertEq(market.edition(filmId, SD).priceCents, PRICE_SD);
    }
}
