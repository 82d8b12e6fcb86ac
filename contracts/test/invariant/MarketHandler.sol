// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {TestEuro} from "../../src/TestEuro.sol";

/// @dev Drives the market with random buyers, sellers, card settlements, revocations and withdrawals, and keeps
/// ghost accounting that the invariants compare with the contract's state.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    TangibleMarket public immutable market;
    TestEuro public immutable euro;
    address public immutable operator;
    address public immutable admin;
    uint32 public immutable studioId;
    uint64 public immutable filmId;
    uint256 public immutable unitsPerCent;

    address[] public actors;
    address[] public payees; // every address that can be a royalty or platform recipient
    bytes32[] public refs;

    // ---- ghost state
    uint256 public ghostTokenIn; // crypto payments + deposits
    uint256 public ghostTokenOut; // withdrawals
    uint256 public ghostPaidCents; // sum of sale prices (crypto and card)
    uint256 public ghostCreditedCents; // sum of observed credit increases of seller, studio and platform
    uint256 public ghostFloatDebitedCents; // observed operator float decreases on card sales
    uint256 public ghostCardPaidCents; // sum of card sale prices
    bool public ghostDoubleMint;
    bool public ghostDirectTransferSucceeded;
    mapping(bytes32 ref => uint256) public refSettlements;

    uint256[] public minted;
    mapping(uint256 id => bool) public isMinted;
    mapping(uint256 id => address) public ownerAtMint;
    uint256[] public revoked;
    mapping(uint256 id => address) public revokedOwner;
    mapping(uint256 id => uint8) public revokedReason;
    uint256 public liveCount;

    mapping(bytes4 selector => uint256) public calls;

    constructor(
        TangibleMarket market_,
        TestEuro euro_,
        address operator_,
        address admin_,
        uint32 studioId_,
        uint64 filmId_,
        address royalty_,
        address platform_
    ) {
        market = market_;
        euro = euro_;
        operator = operator_;
        admin = admin_;
        studioId = studioId_;
        filmId = filmId_;
        unitsPerCent = market_.unitsPerCent();
        for (uint256 i = 0; i < 4; i++) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(a);
            payees.push(a);
            vm.prank(a);
            euro.approve(address(market), type(uint256).max);
        }
        payees.push(royalty_);
        payees.push(platform_);
        for (uint256 i = 0; i < 6; i++) {
            refs.push(keccak256(abi.encode("pi", i)));
        }
    }

    // ------------------------------------------------------------------ helpers

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function mintedCount() external view returns (uint256) {
        return minted.length;
    }

    function revokedCount() external view returns (uint256) {
        return revoked.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _pickLicence(uint256 seed) internal view returns (uint256 id, bool found) {
        if (minted.length == 0) return (0, false);
        return (minted[seed % minted.length], true);
    }

    function _studioCredit() internal view returns (uint64) {
        return market.studio(studioId).creditCents;
    }

    function _recordMint(uint256 id, address to) internal {
        if (isMinted[id]) ghostDoubleMint = true;
        isMinted[id] = true;
        ownerAtMint[id] = to;
        minted.push(id);
        liveCount++;
    }

    function _recordRevoke(uint256 id, uint8 reason) internal {
        revoked.push(id);
        revokedOwner[id] = ownerAtMint[id];
        revokedReason[id] = reason;
        liveCount--;
    }

    struct Snap {
        uint256 seller;
        uint64 studio;
        uint64 platform;
        uint256 float;
    }

    function _snap(address seller) internal view returns (Snap memory s) {
        s.seller = seller == address(0) ? 0 : market.balanceOfCredit(seller);
        s.studio = _studioCredit();
        s.platform = market.platformCreditCents();
        s.float = market.balanceOfCredit(operator);
    }

    function _settle(Snap memory before, address seller, uint64 price, bool card) internal {
        Snap memory afterS = _snap(seller);
        uint256 sellerDelta = seller == address(0) ? 0 : (afterS.seller - before.seller) / unitsPerCent;
        ghostCreditedCents += sellerDelta + (afterS.studio - before.studio)
            + (afterS.platform - before.platform);
        ghostPaidCents += price;
        if (card) {
            ghostCardPaidCents += price;
            ghostFloatDebitedCents += (before.float - afterS.float) / unitsPerCent;
        } else {
            ghostTokenIn += uint256(price) * unitsPerCent;
        }
    }

    // ------------------------------------------------------------------ actions

    function buyPrimary(uint256 actorSeed, uint8 quality, uint256 recipientSeed) external {
        calls[this.buyPrimary.selector]++;
        quality = uint8(bound(quality, 0, 2));
        address buyer = _actor(actorSeed);
        address recipient = _actor(recipientSeed);
        uint64 price = market.edition(filmId, quality).priceCents;
        Snap memory before = _snap(address(0));
        vm.prank(buyer);
        try market.buyPrimary(filmId, quality, price, recipient) returns (uint256 id) {
            _recordMint(id, recipient);
            _settle(before, address(0), price, false);
        } catch {}
    }

    function settleCardPrimary(uint8 quality, uint256 recipientSeed, uint256 refSeed) external {
        calls[this.settleCardPrimary.selector]++;
        quality = uint8(bound(quality, 0, 2));
        address recipient = _actor(recipientSeed);
        bytes32 ref = refs[refSeed % refs.length];
        uint64 price = market.edition(filmId, quality).priceCents;
        Snap memory before = _snap(address(0));
        vm.prank(operator);
        try market.settleCardPrimary(filmId, quality, price, recipient, ref) returns (uint256 id) {
            refSettlements[ref]++;
            _recordMint(id, recipient);
            _settle(before, address(0), price, true);
        } catch {}
    }

    function list(uint256 idSeed, uint64 price) external {
        calls[this.list.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        price = uint64(bound(price, 10, 1e9)); // sometimes below the minimum
        vm.prank(ownerAtMint[id]);
        try market.list(id, price) {} catch {}
    }

    function updateOffer(uint256 idSeed, uint64 price) external {
        calls[this.updateOffer.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        uint256 offerId = market.activeOfferOf(id);
        if (offerId == 0) return;
        price = uint64(bound(price, 20, 1e9));
        vm.prank(ownerAtMint[id]);
        market.updateOffer(offerId, price);
    }

    function cancelOffer(uint256 idSeed) external {
        calls[this.cancelOffer.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        uint256 offerId = market.activeOfferOf(id);
        if (offerId == 0) return;
        vm.prank(ownerAtMint[id]);
        market.cancelOffer(offerId);
    }

    function buyOffer(uint256 idSeed, uint256 actorSeed, uint256 recipientSeed) external {
        calls[this.buyOffer.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        uint256 offerId = market.activeOfferOf(id);
        if (offerId == 0) return;
        uint64 price = market.offer(offerId).priceCents;
        address seller = ownerAtMint[id];
        address recipient = _actor(recipientSeed);
        Snap memory before = _snap(seller);
        vm.prank(_actor(actorSeed));
        uint256 newId = market.buyOffer(offerId, price, recipient);
        _recordRevoke(id, 0);
        _recordMint(newId, recipient);
        _settle(before, seller, price, false);
    }

    function settleCardOffer(uint256 idSeed, uint256 recipientSeed, uint256 refSeed) external {
        calls[this.settleCardOffer.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        uint256 offerId = market.activeOfferOf(id);
        if (offerId == 0) return;
        uint64 price = market.offer(offerId).priceCents;
        address seller = ownerAtMint[id];
        address recipient = _actor(recipientSeed);
        bytes32 ref = refs[refSeed % refs.length];
        Snap memory before = _snap(seller);
        vm.prank(operator);
        try market.settleCardOffer(offerId, price, recipient, ref) returns (uint256 newId) {
            refSettlements[ref]++;
            _recordRevoke(id, 0);
            _recordMint(newId, recipient);
            _settle(before, seller, price, true);
        } catch {}
    }

    function revoke(uint256 idSeed, uint8 reason) external {
        calls[this.revoke.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        reason = uint8(bound(reason, 1, 3));
        vm.prank(operator);
        try market.revoke(id, reason) {
            _recordRevoke(id, reason);
        } catch {}
    }

    function withdraw(uint256 actorSeed, uint256 amount) external {
        calls[this.withdraw.selector]++;
        address a = payees[actorSeed % payees.length];
        uint256 credit = market.balanceOfCredit(a);
        if (credit == 0) return;
        amount = bound(amount, 1, credit);
        vm.prank(a);
        market.withdraw(a, amount);
        ghostTokenOut += amount;
    }

    function withdrawStudio() external {
        calls[this.withdrawStudio.selector]++;
        uint64 credit = _studioCredit();
        if (credit == 0) return;
        vm.prank(operator);
        market.withdrawStudio(studioId);
        ghostTokenOut += uint256(credit) * unitsPerCent;
    }

    function withdrawPlatform() external {
        calls[this.withdrawPlatform.selector]++;
        uint64 credit = market.platformCreditCents();
        if (credit == 0) return;
        vm.prank(admin);
        market.withdrawPlatform();
        ghostTokenOut += uint256(credit) * unitsPerCent;
    }

    /// @dev Changing the royalty recipient flushes the studio's earnings to the previous one.
    function changeRoyaltyRecipient(uint256 seed) external {
        calls[this.changeRoyaltyRecipient.selector]++;
        address next = payees[seed % payees.length];
        vm.prank(operator);
        market.updateStudio(studioId, admin, next, "Studio");
    }

    /// @dev Changing the platform flushes its fees to the previous one.
    function changePlatform(uint256 seed) external {
        calls[this.changePlatform.selector]++;
        address next = payees[seed % payees.length];
        vm.prank(admin);
        market.setPlatform(next);
    }

    function payeeCount() external view returns (uint256) {
        return payees.length;
    }

    function setCommission(uint16 bps) external {
        calls[this.setCommission.selector]++;
        vm.prank(admin);
        market.setStudioCommission(studioId, uint16(bound(bps, 0, 3000)));
    }

    function warp(uint256 secondsForward) external {
        calls[this.warp.selector]++;
        vm.warp(block.timestamp + bound(secondsForward, 1, 2 days));
    }

    /// @dev Every direct transfer or approval attempt must fail, whoever calls.
    function tryDirectTransfer(uint256 idSeed, uint256 toSeed, uint8 kind) external {
        calls[this.tryDirectTransfer.selector]++;
        (uint256 id, bool found) = _pickLicence(idSeed);
        if (!found) return;
        address owner = ownerAtMint[id];
        address to = _actor(toSeed);
        vm.startPrank(owner);
        kind = kind % 5;
        bool ok;
        if (kind == 0) {
            try market.transferFrom(owner, to, id) {
                ok = true;
            } catch {}
        } else if (kind == 1) {
            try market.safeTransferFrom(owner, to, id) {
                ok = true;
            } catch {}
        } else if (kind == 2) {
            try market.safeTransferFrom(owner, to, id, "") {
                ok = true;
            } catch {}
        } else if (kind == 3) {
            try market.approve(to, id) {
                ok = true;
            } catch {}
        } else {
            try market.setApprovalForAll(to, true) {
                ok = true;
            } catch {}
        }
        vm.stopPrank();
        if (ok) ghostDirectTransferSucceeded = true;
    }
}
