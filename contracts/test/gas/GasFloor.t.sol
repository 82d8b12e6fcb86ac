// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {OzMintHarness} from "./Gas.t.sol";

/// @dev Not the market: the least a single card settlement can cost while it keeps a pending record of its
/// own, as the market's `settleCardPrimary` does (`PendingSale`, so that a dispute within the clearance period
/// claws back that one sale, issue 12 item 3). Measured in the same run as the yardstick, it shows whether
/// issue 13's card mint target is reachable without changing that layout (the batched target is met by
/// `settleCardPrimaryBatch`, whose sales share one record per edition and second: `test_gas_cardBatchOf10`). A card sale then must (1) check the caller's settler
/// role (one storage read), (2) write the licence (a fresh slot, as the yardstick does), (3) count the
/// recipient's licences (a fresh slot for a fresh recipient, as the yardstick does), (4) write its pending
/// record (a fresh slot) and (5) emit `Transfer`. This harness does exactly that and nothing else: no float
/// debit, no daily limit, no edition read, no price check, no sale event, all of which the market also does.
/// The record cannot simply move into the licence slot, which has no room for a price (owner 160 | film 24 |
/// quality, revoked, reason, held 8 | acquired at 32 | hold length 24 | generation 8): that takes a narrower
/// layout (see contracts/README.md, "What issue 13's gas targets would take").
contract CardSettlementFloor {
    mapping(address account => uint256) internal _settlers;
    mapping(uint256 licenceId => uint256) internal _licences;
    mapping(address account => uint256) internal _balances;
    mapping(uint256 licenceId => uint256) internal _pending;
    mapping(uint256 editionKey => uint256) internal _editions;
    mapping(uint256 bucket => uint256) internal _buckets;
    bool internal _paused;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    error Unauthorized();

    constructor(address settler) {
        _settlers[settler] = 1 | (1e12 << 8); // the role, and a float of 10,000,000,000 cents
        _editions[1] = 1_300 | (1 << 64) | (7 << 72); // 13.00 EUR, active, studio 7
    }

    /// @dev One card sale: role read, three fresh slots, `Transfer`.
    function settle(address to, uint256 licenceId, uint256 pendingRecord) external {
        if (_settlers[msg.sender] == 0) revert Unauthorized();
        _record(to, licenceId, pendingRecord);
    }

    /// @dev One card sale with its pending record folded into the licence slot (the price there, the
    /// clearance time from the settings' history), the money pending in a per-day bucket that every card sale
    /// of the day updates: role read and float debit (one slot), pause flag, edition (price, active, studio),
    /// the two fresh slots, the bucket, `Transfer`. Still nothing else (no daily limit, no hold, no split, no
    /// sale event).
    function settleFolded(address to, uint256 licenceId, uint256 editionKey, uint64 price) external {
        uint256 settler = _settlers[msg.sender];
        if (settler & 1 == 0 || _paused) revert Unauthorized();
        uint256 edition = _editions[editionKey];
        // forge-lint: disable-next-line(unsafe-typecast)
        if (uint64(edition) != price || edition >> 64 & 1 == 0) revert Unauthorized(); // the price's 64 bits
        _settlers[msg.sender] = settler - (uint256(price) << 8);
        _licences[licenceId] = uint256(uint160(to)) | (block.timestamp << 192) | (uint256(price) << 224);
        unchecked {
            _balances[to] += 1;
        }
        _buckets[uint256(keccak256(abi.encode(edition >> 72, block.timestamp / 1 days)))] += price;
        emit Transfer(address(0), to, licenceId);
    }

    function _record(address to, uint256 licenceId, uint256 pendingRecord) private {
        _licences[licenceId] = uint256(uint160(to)) | (block.timestamp << 192);
        unchecked {
            _balances[to] += 1;
        }
        _pending[licenceId] = pendingRecord;
        emit Transfer(address(0), to, licenceId);
    }
}

/// @dev The floors of issue 13's single card mint target (<= 1.3x the yardstick), with a pending slot of its own
/// and with the record folded, beside the yardstick in one forge run; `make gas` prints them against the target.
contract GasFloorTest is Test {
    OzMintHarness internal oz;
    CardSettlementFloor internal floor;
    /// @dev Read from storage by the floor and by the yardstick alike, as in {GasTest}.
    address internal freshRecipient = makeAddr("fresh-recipient");

    function setUp() public {
        oz = new OzMintHarness();
        oz.mint(makeAddr("earlier-holder"), 1);
        floor = new CardSettlementFloor(address(this));
        floor.settle(makeAddr("earlier-buyer"), 1, 1);
        floor.settleFolded(makeAddr("earlier-buyer"), 2, 1, 1_300); // the day's bucket exists
    }

    /// @dev The yardstick again, in this suite's setup (same figure as {GasTest-test_gas_baselineOzMint}).
    function test_gas_floorBaselineOzMint() public {
        oz.mint(freshRecipient, 2);
    }

    function test_gas_floorCardMint() public {
        floor.settle(freshRecipient, uint256(keccak256("pi_floor")) | (1 << 255), 1);
    }

    function test_gas_floorCardMintFolded() public {
        floor.settleFolded(freshRecipient, uint256(keccak256("pi_floor")) | (1 << 255), 1, 1_300);
    }
}
