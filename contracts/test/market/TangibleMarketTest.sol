// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleTest} from "../utils/TangibleTest.sol";

/// @dev The market's test base: {TangibleTest}'s fixture at a fixed time, a card payment reference, an account
/// without any role and the three platform key roles. Each feature's tests extend it.
abstract contract TangibleMarketTest is TangibleTest {
    bytes32 internal constant REF = keccak256("pi_3OvKq2LkdIwHu7ix0");
    address internal stranger = makeAddr("stranger");
    bytes32 internal settlerRole;
    bytes32 internal revokerRole;
    bytes32 internal registrarRole;

    function setUp() public override {
        super.setUp();
        vm.warp(1_800_000_000);
        settlerRole = market.SETTLER_ROLE();
        revokerRole = market.REVOKER_ROLE();
        registrarRole = market.REGISTRAR_ROLE();
    }
}
