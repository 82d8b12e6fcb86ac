// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {TangibleTest} from "../utils/TangibleTest.sol";

/// @dev The yardstick: a plain OpenZeppelin ERC-721 exposing `_mint`, called externally like the market.
contract OzMintHarness is ERC721 {
    constructor() ERC721("Baseline", "BASE") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

/// @dev Gas benchmarks, one measured call each, in steady state: the market, studio, platform, operator float
/// and payer already hold balances; the recipient is a fresh address. The test contract itself is the payer
/// (operator for card settlements, crypto buyer otherwise) so that no cheatcode runs inside a measured test.
/// `forge snapshot --match-test test_gas` writes these figures to `.gas-snapshot`.
contract GasTest is TangibleTest {
    /// @dev The film's id as a constant, so that the measured calls read no more test storage than the
    /// baseline's (`oz`, `freshRecipient`): reading `filmId` cost the market's tests 2,100 gas the yardstick
    /// did not pay (contracts audit, 3.2). Checked against the registered id in {setUp}.
    uint64 internal constant FILM = 1;
    /// @dev Sales in {test_gas_cardBatchOf10}.
    uint256 internal constant BATCH = 10;
    OzMintHarness internal oz;
    uint256 internal offerId;
    address internal freshRecipient = makeAddr("fresh-recipient");

    function setUp() public override {
        super.setUp();
        oz = new OzMintHarness();
        oz.mint(alice, 1);

        // The test contract acts as operator (card float deposited) and as a crypto buyer (balance + allowance).
        bytes32 settlerRole = market.SETTLER_ROLE();
        vm.prank(admin);
        market.grantRole(settlerRole, address(this));
        euro.mint(address(this), 1_000_000 * 1e6);
        euro.approve(address(market), 500_000 * 1e6);
        market.deposit(100_000 * 1e6);

        // Prior activity: studio and platform have accrued balances, alice owns a licence she offers.
        _buyCard(SD, carol, keccak256("pi_previous"));
        uint256 aliceLicence = _buyCrypto(alice, HD, alice);
        offerId = _list(alice, aliceLicence, 1_000);
        _buyCrypto(bob, HD, bob);
        assertEq(filmId, FILM);
    }

    function test_gas_baselineOzMint() public {
        oz.mint(freshRecipient, 2);
    }

    function test_gas_primaryMintCard() public {
        market.settleCardPrimary(FILM, HD, PRICE_HD, freshRecipient, keccak256("pi_3OvKq2LkdIwHu7ix0"));
    }

    function test_gas_primaryBuyCrypto() public {
        market.buyPrimary(FILM, HD, PRICE_HD, freshRecipient);
    }

    function test_gas_resaleBuy() public {
        market.buyOffer(offerId, 1_000, freshRecipient);
    }

    /// @dev Card sales of one edition batched: {BATCH} of them, to fresh recipients, in one call; `make gas`
    /// divides by {BATCH}. Building the arguments is not metered.
    function test_gas_cardBatchOf10() public {
        vm.pauseGasMetering();
        address[] memory to = new address[](BATCH);
        bytes32[] memory refs = new bytes32[](BATCH);
        for (uint256 i; i < BATCH; ++i) {
            to[i] = address(uint160(uint256(keccak256(abi.encode("batch-recipient", i)))));
            refs[i] = keccak256(abi.encode("pi_batch", i));
        }
        vm.resumeGasMetering();
        market.settleCardPrimaryBatch(FILM, HD, PRICE_HD, to, refs);
    }

    /// @dev The same offer bought by card: the operator settles it from its float, the new licence is held and
    /// every share is recorded as pending for the clearance period instead of credited.
    function test_gas_cardResaleBuy() public {
        market.settleCardOffer(offerId, 1_000, freshRecipient, keccak256("pi_3OvKq2LkdIwHu7ix1"));
    }
}
