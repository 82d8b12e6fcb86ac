// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {TestEuro} from "../src/TestEuro.sol";

contract TestEuroTest is Test {
    TestEuro internal euro;
    address internal owner = makeAddr("owner");
    address internal user = makeAddr("user");

    function setUp() public {
        euro = new TestEuro(owner);
    }

    function test_metadata() public view {
        assertEq(euro.decimals(), 6);
        assertEq(euro.name(), "Test Euro");
        assertEq(euro.symbol(), "tEUR");
        assertEq(euro.owner(), owner);
    }

    function test_mint_ownerOnly() public {
        vm.prank(owner);
        euro.mint(user, 5e6);
        assertEq(euro.balanceOf(user), 5e6);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, user));
        vm.prank(user);
        euro.mint(user, 1);
    }

    function testFuzz_faucet(uint256 amount) public {
        vm.prank(user);
        if (amount > 10_000 * 1e6) {
            vm.expectRevert(
                abi.encodeWithSelector(TestEuro.TestEuroFaucetLimit.selector, amount, 10_000 * 1e6)
            );
            euro.faucet(amount);
            assertEq(euro.balanceOf(user), 0);
        } else {
            euro.faucet(amount);
            assertEq(euro.balanceOf(user), amount);
        }
    }
}
