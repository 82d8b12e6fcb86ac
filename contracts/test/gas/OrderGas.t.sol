// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleTest} from "../utils/TangibleTest.sol";

/// @dev A listing made by its seller against the same listing signed by the seller and submitted by someone else
/// (the API's operator): the target is relayed <= 1.3x direct. Both licences were bought in stablecoin; the
/// test contract is the direct seller and the relayer. Reading the fixture (a licence id; the seller, licence,
/// deadline and 65-byte signature) is left out of the measure, so the two figures differ by what the market
/// does.
contract OrderGasTest is TangibleTest {
    address internal seller;
    uint256 internal sellerKey;
    uint256 internal mine;
    uint256 internal theirs;
    uint256 internal deadline;
    bytes internal signature;

    function setUp() public override {
        super.setUp();
        (seller, sellerKey) = makeAddrAndKey("gas-seller");
        euro.mint(address(this), 1_000_000 * 1e6);
        euro.approve(address(market), type(uint256).max);
        market.buyPrimary(filmId, SD, PRICE_SD, address(this));
        market.buyPrimary(filmId, SD, PRICE_SD, seller);
        mine = _buyCrypto(address(this), HD, address(this));
        theirs = _buyCrypto(address(this), HD, seller);
        deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(market.ORDER_TYPEHASH(), seller, uint8(0), theirs, uint64(1_000), uint32(0), deadline)
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(sellerKey, keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash)));
        signature = abi.encodePacked(r, s, v);
    }

    function test_gas_listDirect() public {
        vm.pauseGasMetering();
        uint256 licence = mine;
        vm.resumeGasMetering();
        market.list(licence, 1_000);
    }

    function test_gas_listRelayed() public {
        vm.pauseGasMetering();
        (address who, uint256 licence, uint256 until, bytes memory sig) =
            (seller, theirs, deadline, signature);
        vm.resumeGasMetering();
        market.relayOrder(who, 0, licence, 1_000, until, sig);
    }
}
