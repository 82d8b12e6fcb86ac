// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";

/// @dev The admin path for production (issue 13 item 1): `DEFAULT_ADMIN_ROLE` held only by OpenZeppelin's
/// {TimelockController}, whose proposers and executors are the platform's multisig. Every sensitive change
/// (treasury, platform, roles, quotas, hold and clearance periods, unpausing) is then announced on chain and
/// runs only after the delay, and can be cancelled meanwhile; nobody, the multisig included, can make one at
/// once. No code in the market: the timelock is a well-kept library contract.
contract AdminDelayTest is TangibleTest {
    uint256 internal constant DELAY = 2 days;
    address internal multisig = makeAddr("multisig");
    address internal newTreasury = makeAddr("newTreasury");
    TimelockController internal timelock;

    function setUp() public override {
        super.setUp();
        address[] memory members = new address[](1);
        members[0] = multisig;
        timelock = new TimelockController(DELAY, members, members, address(0));
        // The handover: the timelock becomes the only admin (the last admin cannot leave first).
        bytes32 adminRole = market.DEFAULT_ADMIN_ROLE();
        vm.startPrank(admin);
        market.grantRole(adminRole, address(timelock));
        market.renounceRole(adminRole, admin);
        vm.stopPrank();
    }

    function _setTreasury() internal view returns (bytes memory) {
        return abi.encodeCall(market.setTreasury, (newTreasury));
    }

    function test_aSensitiveChangeRunsOnlyAfterTheDelay() public {
        assertFalse(market.hasRole(market.DEFAULT_ADMIN_ROLE(), admin));
        // Nobody changes the treasury at once, the multisig included.
        vm.expectRevert(_unauthorized(multisig, market.DEFAULT_ADMIN_ROLE()));
        vm.prank(multisig);
        market.setTreasury(newTreasury);

        // Announced on chain, then run after the delay.
        vm.prank(multisig);
        timelock.schedule(address(market), 0, _setTreasury(), bytes32(0), bytes32(0), DELAY);
        bytes32 id = timelock.hashOperation(address(market), 0, _setTreasury(), bytes32(0), bytes32(0));
        vm.warp(block.timestamp + DELAY - 1);
        vm.expectRevert();
        vm.prank(multisig);
        timelock.execute(address(market), 0, _setTreasury(), bytes32(0), bytes32(0));
        assertTrue(timelock.isOperationPending(id));

        vm.warp(block.timestamp + 1);
        vm.prank(multisig);
        timelock.execute(address(market), 0, _setTreasury(), bytes32(0), bytes32(0));
        assertEq(market.treasury(), newTreasury);
    }

    function test_aScheduledChangeCanBeCancelledDuringTheDelay() public {
        vm.prank(multisig);
        timelock.schedule(address(market), 0, _setTreasury(), bytes32(0), bytes32(0), DELAY);
        bytes32 id = timelock.hashOperation(address(market), 0, _setTreasury(), bytes32(0), bytes32(0));
        vm.prank(multisig);
        timelock.cancel(id);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert();
        vm.prank(multisig);
        timelock.execute(address(market), 0, _setTreasury(), bytes32(0), bytes32(0));
        assertEq(market.treasury(), admin);
    }

    /// A stolen operator key cannot shorten the path: it cannot schedule, and the timelock's own delay is
    /// changed only through the timelock.
    function test_theOperatorKeyHasNoWayAroundTheDelay() public {
        vm.expectRevert();
        vm.prank(operator);
        timelock.schedule(address(market), 0, _setTreasury(), bytes32(0), bytes32(0), DELAY);
        vm.expectRevert();
        vm.prank(multisig);
        timelock.updateDelay(0);
        assertEq(timelock.getMinDelay(), DELAY);
    }
}
