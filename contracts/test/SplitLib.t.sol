// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {SplitLib} from "../src/lib/SplitLib.sol";

/// @dev The split rule against an independent formulation (percent arithmetic, remainder by modulo) and the
/// worked examples of DESIGN.md.
contract SplitLibTest is Test {
    function testFuzz_resale_sumsToPriceAndMatchesRule(uint64 price) public pure {
        (uint64 seller, uint64 studio, uint64 platform) = SplitLib.resale(price);
        assertEq(uint256(seller) + studio + platform, price, "sum");
        // independent formulation: 15 % = 3/20, 5 % = 1/20
        uint256 p = price;
        assertEq(studio, (p * 3) / 20, "studio 15%");
        assertEq(platform, p / 20, "platform 5%");
        assertEq(seller, p - (p * 3) / 20 - p / 20, "seller remainder");
        // seller gets at least 80 % and at most 80 % + 2 cents of rounding
        assertGe(uint256(seller) * 10, p * 8);
        assertLe(uint256(seller) * 10, p * 8 + 20);
    }

    function testFuzz_resale_everyShareAboveZeroFromMinimum(uint64 price) public pure {
        price = uint64(bound(price, SplitLib.MIN_RESALE_PRICE_CENTS, type(uint64).max));
        (uint64 seller, uint64 studio, uint64 platform) = SplitLib.resale(price);
        assertGt(seller, 0);
        assertGt(studio, 0);
        assertGt(platform, 0);
    }

    function test_resale_minimumIsTight() public pure {
        (,, uint64 platform) = SplitLib.resale(SplitLib.MIN_RESALE_PRICE_CENTS - 1);
        assertEq(platform, 0); // 19 cents would leave the platform nothing
    }

    function test_resale_examples() public pure {
        (uint64 seller, uint64 studio, uint64 platform) = SplitLib.resale(800);
        assertEq(seller, 640);
        assertEq(studio, 120);
        assertEq(platform, 40);
        (seller, studio, platform) = SplitLib.resale(999);
        assertEq(studio, 149); // 149.85 floored
        assertEq(platform, 49); // 49.95 floored
        assertEq(seller, 801); // remainder
        (seller, studio, platform) = SplitLib.resale(20);
        assertEq(seller, 16);
        assertEq(studio, 3);
        assertEq(platform, 1);
    }

    function testFuzz_primary_sumsToPriceAndMatchesRule(uint64 price, uint16 bps) public pure {
        bps = uint16(bound(bps, 0, SplitLib.MAX_COMMISSION_BPS));
        (uint64 studio, uint64 platform) = SplitLib.primary(price, bps);
        assertEq(uint256(studio) + platform, price);
        // independent: platform is the largest integer x with x * 10000 <= price * bps
        uint256 x = platform;
        assertLe(x * 10_000, uint256(price) * bps);
        assertGt((x + 1) * 10_000, uint256(price) * bps);
    }

    function test_primary_examples() public pure {
        (uint64 studio, uint64 platform) = SplitLib.primary(1300, 1000);
        assertEq(studio, 1170);
        assertEq(platform, 130);
        (studio, platform) = SplitLib.primary(1999, 3000);
        assertEq(platform, 599); // 599.7 floored
        assertEq(studio, 1400);
    }

    function testFuzz_royalty(uint128 salePrice) public pure {
        uint256 r = SplitLib.royalty(salePrice);
        assertLe(r * 100, uint256(salePrice) * 15);
        assertGt((r + 1) * 100, uint256(salePrice) * 15);
    }

    function test_constants() public pure {
        assertEq(SplitLib.MAX_COMMISSION_BPS, 3000);
        assertEq(SplitLib.DEFAULT_COMMISSION_BPS, 1000);
        assertEq(SplitLib.MIN_RESALE_PRICE_CENTS, 20);
    }
}
