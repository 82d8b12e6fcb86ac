// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleTest} from "./TangibleTest.sol";

/// @dev The fixture of the clearance tests ({ClearanceTest}, {ClearSalesTest}): accounts, helpers that record
/// every licence they mint, and the conservation check (held = balances + accruals + pending).
abstract contract ClearanceFixture is TangibleTest {
    uint32 internal constant T0 = 1_800_000_000;
    uint32 internal constant WINDOW = 120 days; // DEFAULT_CLEARANCE_PERIOD
    uint8 internal constant CHARGEBACK = 1;
    uint8 internal constant FRAUD = 2;
    bytes32 internal constant REF_L1 = keccak256("pi_card_L1");

    address internal fraudster = makeAddr("fraudster");
    address internal mule = makeAddr("mule"); // the fraudster's second wallet
    address internal dave = makeAddr("dave");
    address internal stranger = makeAddr("stranger");

    /// @dev Every licence minted by the helpers below, for {_assertConserved}.
    uint256[] internal _ids;

    function setUp() public virtual override {
        super.setUp();
        vm.warp(T0);
    }

    // ------------------------------------------------------------------ helpers

    function _card(uint8 quality, address recipient, bytes32 ref) internal returns (uint256 id) {
        id = _buyCard(quality, recipient, ref);
        _ids.push(id);
    }

    function _crypto(address buyer, uint8 quality, address recipient) internal returns (uint256 id) {
        id = _buyCrypto(buyer, quality, recipient);
        _ids.push(id);
    }

    /// @dev The operator settles a card payment of `offerId`.
    function _cardOffer(uint256 offerId, uint64 price, address recipient, bytes32 ref)
        internal
        returns (uint256 id)
    {
        vm.prank(operator);
        id = market.settleCardOffer(offerId, price, recipient, ref);
        _ids.push(id);
    }

    /// @dev `buyer` pays `offerId` in stablecoin.
    function _cryptoOffer(address buyer, uint256 offerId, uint64 price, address recipient)
        internal
        returns (uint256 id)
    {
        _fund(buyer, uint256(price) * UNITS);
        vm.prank(buyer);
        id = market.buyOffer(offerId, price, recipient);
        _ids.push(id);
    }

    function _pending(uint256 id) internal view returns (TangibleMarket.PendingSale memory) {
        return market.pendingSale(id);
    }

    function _pendingUnits(uint256 id) internal view returns (uint256) {
        TangibleMarket.PendingSale memory p = market.pendingSale(id);
        return (uint256(p.sellerCents) + p.studioCents + p.platformCents) * UNITS;
    }

    function _clear(uint256 id) internal {
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        vm.prank(stranger); // anyone
        market.clearSales(ids);
    }

    function _revoke(uint256 id, uint8 reason) internal {
        vm.prank(operator);
        market.revoke(id, reason);
    }

    function _assertNothingPending(uint256 id) internal view {
        TangibleMarket.PendingSale memory p = market.pendingSale(id);
        assertEq(p.clearAt, 0, "clearAt");
        assertEq(uint256(p.sellerCents) + p.studioCents + p.platformCents, 0, "no shares");
        assertEq(p.seller, address(0), "no seller");
        assertFalse(p.tainted, "not tainted");
    }

    /// @dev The market holds exactly what it owes: every withdrawable balance, the studio's and the platform's
    /// accruals and every pending share (in units).
    function _assertConserved() internal view {
        address[12] memory accounts = [
            operator,
            admin,
            platform,
            royalty,
            studioAdmin,
            alice,
            bob,
            carol,
            dave,
            fraudster,
            mule,
            stranger
        ];
        uint256 owed = (uint256(_studioCredit()) + market.platformCreditCents()) * UNITS;
        for (uint256 i = 0; i < accounts.length; i++) {
            owed += _credit(accounts[i]);
        }
        for (uint256 i = 0; i < _ids.length; i++) {
            owed += _pendingUnits(_ids[i]);
        }
        assertEq(euro.balanceOf(address(market)), owed, "held == balances + accruals + pending");
    }

    function _countLogs(Vm.Log[] memory logs, bytes32 topic0) internal view returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter == address(market) && logs[i].topics[0] == topic0) n++;
        }
    }
}
