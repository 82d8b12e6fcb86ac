// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleTest} from "../utils/TangibleTest.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {MarketHandler} from "./MarketHandler.sol";

contract MarketInvariantTest is TangibleTest {
    MarketHandler internal handler;
    uint256 internal initialFloat;

    function setUp() public override {
        super.setUp();
        handler = new MarketHandler(market, euro, operator, admin, studioId, filmId, royalty, platform);
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            euro.mint(handler.actors(i), 1e15);
        }
        initialFloat = market.balanceOfCredit(operator);
        targetContract(address(handler));
    }

    /// @dev Conservation: the market holds exactly what came in minus what went out, and exactly the sum of
    /// every internal balance (actors, operator float, studio, platform).
    function invariant_stablecoinConservation() public view {
        uint256 held = euro.balanceOf(address(market));
        assertEq(held, FLOAT + handler.ghostTokenIn() - handler.ghostTokenOut(), "token in - out");
        uint256 liabilities = market.balanceOfCredit(operator) + uint256(market.studio(studioId).creditCents)
            * UNITS + uint256(market.platformCreditCents()) * UNITS;
        for (uint256 i = 0; i < handler.payeeCount(); i++) {
            liabilities += market.balanceOfCredit(handler.payees(i)); // actors, royalty, platform
        }
        assertEq(held, liabilities, "held == sum of balances");
    }

    /// @dev Everything buyers and the operator paid was credited to the seller, studio and platform, and card
    /// sales were paid exactly out of the operator's float.
    function invariant_paidEqualsCredited() public view {
        assertEq(handler.ghostPaidCents(), handler.ghostCreditedCents(), "paid == credited");
        assertEq(handler.ghostCardPaidCents(), handler.ghostFloatDebitedCents(), "card == float debit");
        assertEq(
            initialFloat - market.balanceOfCredit(operator),
            handler.ghostCardPaidCents() * UNITS,
            "float consumed"
        );
    }

    /// @dev A licence id is minted at most once, and live licences match ERC-721 balances.
    function invariant_licenceIdNeverOwnedTwice() public view {
        assertFalse(handler.ghostDoubleMint(), "double mint");
        uint256 balances;
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            balances += market.balanceOf(handler.actors(i));
        }
        assertEq(balances, handler.liveCount(), "balances == live licences");
        for (uint256 i = 0; i < handler.mintedCount(); i++) {
            uint256 id = handler.minted(i);
            assertEq(market.licence(id).owner, handler.ownerAtMint(id), "owner never changes");
        }
    }

    /// @dev A revoked licence never moves and is never un-revoked.
    function invariant_revokedStaysRevoked() public {
        for (uint256 i = 0; i < handler.revokedCount(); i++) {
            uint256 id = handler.revoked(i);
            TangibleLicence.LicenceInfo memory l = market.licence(id);
            assertTrue(l.revoked, "still revoked");
            assertEq(l.owner, handler.revokedOwner(id), "owner frozen");
            assertEq(l.reason, handler.revokedReason(id), "reason frozen");
            assertFalse(market.isValid(id));
            vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
            market.ownerOf(id);
        }
    }

    /// @dev A payment reference settles at most once, and is marked used iff it settled.
    function invariant_paymentRefSettlesAtMostOnce() public view {
        for (uint256 i = 0; i < 6; i++) {
            bytes32 ref = handler.refs(i);
            uint256 n = handler.refSettlements(ref);
            assertLe(n, 1, "ref settled twice");
            assertEq(market.paymentRefUsed(ref), n == 1, "used flag");
        }
    }

    /// @dev Direct transfers and approvals never succeed.
    function invariant_directTransfersAlwaysFail() public view {
        assertFalse(handler.ghostDirectTransferSucceeded());
    }
}
