// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Test} from "forge-std/Test.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {deployMarket} from "./utils/DeployMarket.sol";

/// @dev A hostile stablecoin that calls back into the market from `transferFrom`/`transfer`.
contract ReentrantEuro is ERC20("Hostile", "HOST") {
    TangibleMarket public market;
    bytes public payload;

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function arm(TangibleMarket market_, bytes calldata payload_) external {
        market = market_;
        payload = payload_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transferFrom(from, to, value);
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transfer(to, value);
    }

    function _reenter() private {
        if (payload.length == 0) return;
        (bool ok, bytes memory ret) = address(market).call(payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

contract ReentrancyTest is Test {
    ReentrantEuro internal token;
    TangibleMarket internal market;
    address internal admin = makeAddr("admin");
    address internal buyer = makeAddr("buyer");
    uint64 internal filmId;

    function setUp() public {
        token = new ReentrantEuro();
        market = deployMarket(token, admin, admin, admin);
        vm.startPrank(admin);
        uint32 studioId = market.registerStudio(admin, admin, "S");
        filmId = market.registerFilm(studioId, "F", 2000);
        market.registerEdition(filmId, 0, keccak256("m"), 100);
        vm.stopPrank();
        token.mint(buyer, 1e12);
        vm.prank(buyer);
        token.approve(address(market), type(uint256).max);
    }

    function test_buyPrimary_reentryReverts() public {
        token.arm(market, abi.encodeCall(TangibleMarket.buyPrimary, (filmId, 0, 100, buyer)));
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vm.prank(buyer);
        market.buyPrimary(filmId, 0, 100, buyer);
    }

    function test_withdraw_reentryReverts() public {
        vm.prank(buyer);
        market.deposit(1e6);
        token.arm(market, abi.encodeCall(TangibleMarket.withdraw, (buyer, 1)));
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        vm.prank(buyer);
        market.withdraw(buyer, 1e6);
    }

    function test_unarmedTokenWorks() public {
        vm.prank(buyer);
        uint256 id = market.buyPrimary(filmId, 0, 100, buyer);
        assertEq(market.ownerOf(id), buyer);
    }
}
