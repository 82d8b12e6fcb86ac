// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TestEuro} from "../../src/TestEuro.sol";
import {MarketAdminActions} from "./MarketAdminActions.sol";
import {MarketModel} from "./MarketModel.sol";

/// @dev Model-based handler of the market. It keeps its own model of everything the market should hold
/// (licences, offers, balances, accruals, pending sales, roles, pause, hold and clearance periods, editions and
/// their resale floors, the daily card settlement limit and the day's card settlements), picks
/// live licences, active offers and pending sales from that model, warps past holds and clearance times and uses
/// fresh payment references, and signs orders with the pool's keys (relayed by anyone). Every action is tried by the
/// authorised account most of the time and by any account of the pool otherwise, sometimes with a bad argument;
/// the model predicts whether the call must succeed. A call whose outcome differs from the prediction is
/// recorded as a violation (and an unauthorised call that succeeds also sets {ghostUnauthorisedSuccess}); the
/// invariants check both are clean and compare the model with the market after every call.
/// Each action's successes, rejections and rejections of unauthorised callers are counted per run.
/// The model and its bookkeeping are in {MarketModel}; the actions in {MarketActions} (sales, balances),
/// {MarketAdminActions} (administration, registry) and {MarketOrderActions} (signed orders); this contract is the
/// fuzzer's surface: the weighted selectors and one entry point per action.
contract MarketHandler is MarketAdminActions {
    constructor(
        TangibleMarket market_,
        TestEuro euro_,
        address admin_,
        address operator_,
        address[] memory users_,
        address[] memory others_,
        address[] memory royaltyChoices_,
        address[] memory platformChoices_,
        uint256 maxWarp_
    )
        MarketModel(
            market_, euro_, admin_, operator_, users_, others_, royaltyChoices_, platformChoices_, maxWarp_
        )
    {}

    /// @dev The selectors the fuzzer calls, each repeated by its weight (the fuzzer picks uniformly from the
    /// list): sales and listings more often than administration, so resales happen many times per run. The
    /// suspension has weight 3 (2 before clearSales and setClearancePeriod joined: one run in 59 then suspended
    /// nothing, under its floor of 1).
    function actionSelectors() external pure returns (bytes4[] memory s) {
        bytes4[ACTION_COUNT] memory all = [
            this.buyPrimary.selector,
            this.settleCardPrimary.selector,
            this.list.selector,
            this.updateOffer.selector,
            this.cancelOffer.selector,
            this.buyOffer.selector,
            this.settleCardOffer.selector,
            this.revoke.selector,
            this.deposit.selector,
            this.withdraw.selector,
            this.withdrawFloat.selector,
            this.withdrawStudio.selector,
            this.withdrawPlatform.selector,
            this.pause.selector,
            this.unpause.selector,
            this.setHoldPeriod.selector,
            this.updateEdition.selector,
            this.withdrawEdition.selector,
            this.reactivateEdition.selector,
            this.setStudioCommission.selector,
            this.updateStudio.selector,
            this.setPlatform.selector,
            this.setOperatorRole.selector,
            this.warp.selector,
            this.tryDirectTransfer.selector,
            this.suspendEdition.selector,
            this.setTreasury.selector,
            this.setStudioFilmQuota.selector,
            this.clearSales.selector,
            this.setClearancePeriod.selector,
            this.relayOrder.selector,
            this.relayCreditOrder.selector,
            this.setResaleFloor.selector,
            this.setCardSettlementLimit.selector,
            this.settleCardPrimaryBatch.selector
        ];
        uint8[ACTION_COUNT] memory weight = [
            3, // buyPrimary
            3, // settleCardPrimary
            5, // list
            2, // updateOffer
            2, // cancelOffer
            3, // buyOffer
            3, // settleCardOffer
            2, // revoke
            1, // deposit
            2, // withdraw
            2, // withdrawFloat
            2, // withdrawStudio
            2, // withdrawPlatform
            2, // pause
            2, // unpause
            1, // setHoldPeriod
            1, // updateEdition
            2, // withdrawEdition
            2, // reactivateEdition
            1, // setStudioCommission
            1, // updateStudio
            1, // setPlatform
            1, // setOperatorRole
            3, // warp
            1, // tryDirectTransfer
            3, // suspendEdition
            1, // setTreasury
            1, // setStudioFilmQuota
            2, // clearSales
            1, // setClearancePeriod
            3, // relayOrder
            4, // relayCreditOrder
            1, // setResaleFloor
            1, // setCardSettlementLimit
            2 // settleCardPrimaryBatch
        ];
        uint256 n;
        for (uint256 i = 0; i < ACTION_COUNT; i++) {
            n += weight[i];
        }
        s = new bytes4[](n);
        n = 0;
        for (uint256 i = 0; i < ACTION_COUNT; i++) {
            for (uint256 w = 0; w < weight[i]; w++) {
                s[n++] = all[i];
            }
        }
    }

    // ------------------------------------------------------------------ external actions (fuzzer entry points)

    function buyPrimary(uint256 seed) external {
        _buyPrimary(seed);
    }

    function settleCardPrimary(uint256 seed) external {
        _settleCardPrimary(seed);
    }

    /// @dev A batch of card sales; one time in three its edition is repriced (or not: the caller may be refused)
    /// and a second batch of it follows in the same second, which may not share the first one's pending record
    /// when the price changed.
    function settleCardPrimaryBatch(uint256 seed) external {
        uint256 e = _rand(seed, "edition") % _eds.length;
        _settleCardBatchAt(seed, e);
        if (_rand(seed, "again") % 3 != 0) return;
        _updateEditionAt(_rand(seed, "reprice"), e);
        _settleCardBatchAt(_rand(seed, "second"), e);
    }

    function list(uint256 seed) external {
        _list(seed);
    }

    function updateOffer(uint256 seed) external {
        _updateOffer(seed);
    }

    function cancelOffer(uint256 seed) external {
        _cancelOffer(seed);
    }

    function buyOffer(uint256 seed) external {
        _buyOffer(seed);
    }

    function settleCardOffer(uint256 seed) external {
        _settleCardOffer(seed);
    }

    function revoke(uint256 seed) external {
        _revoke(seed);
    }

    function deposit(uint256 seed) external {
        _deposit(seed);
    }

    function withdraw(uint256 seed) external {
        _withdraw(seed);
    }

    function withdrawFloat(uint256 seed) external {
        _withdrawFloat(seed);
    }

    function withdrawStudio(uint256 seed) external {
        _withdrawStudio(seed);
    }

    function withdrawPlatform(uint256 seed) external {
        _withdrawPlatform(seed);
    }

    /// @dev Pauses, tries one other action while paused (the model expects every pausable one to revert), and
    /// unpauses again five times out of six, so the market stays paused for about a tenth of the calls.
    function pause(uint256 seed) external {
        bool paused = _pause(seed);
        if (!paused) return;
        _probe(_rand(seed, "probe"));
        if (_rand(seed, "stay") % 6 != 0) _unpauseAs(admin);
    }

    function unpause(uint256 seed) external {
        _unpauseAs(_caller(seed, admin));
    }

    function setHoldPeriod(uint256 seed) external {
        _setHoldPeriod(seed);
    }

    function updateEdition(uint256 seed) external {
        _updateEdition(seed);
    }

    function withdrawEdition(uint256 seed) external {
        _setEditionActive(seed, false);
    }

    function reactivateEdition(uint256 seed) external {
        _setEditionActive(seed, true);
    }

    function suspendEdition(uint256 seed) external {
        _setSuspended(seed);
    }

    function setTreasury(uint256 seed) external {
        _setTreasury(seed);
    }

    function setStudioFilmQuota(uint256 seed) external {
        _setFilmQuota(seed);
    }

    function clearSales(uint256 seed) external {
        _clearSales(seed);
    }

    function setClearancePeriod(uint256 seed) external {
        _setClearancePeriod(seed);
    }

    function relayOrder(uint256 seed) external {
        _relayOrder(seed);
    }

    function relayCreditOrder(uint256 seed) external {
        _relayCreditOrder(seed);
    }

    function setResaleFloor(uint256 seed) external {
        _setResaleFloor(seed);
    }

    /// @dev Sets the daily card settlement limit; after a small one, tries one card settlement (primary, resale or batch,
    /// mostly refused by the limit) and puts the default back seven times out of eight, so that small limits are
    /// short-lived and card sales keep their coverage.
    function setCardSettlementLimit(uint256 seed) external {
        if (!_setCardSettlementLimit(seed)) return;
        uint256 r = _rand(seed, "settle");
        if (r % 3 == 0) _settleCardPrimary(r);
        else if (r % 3 == 1) _settleCardOffer(r);
        else _settleCardBatch(r);
        if (_rand(seed, "keep") % 8 != 0) {
            _setCardSettlementLimitAs(admin, market.DEFAULT_CARD_SETTLEMENT_LIMIT_EUROS());
        }
    }

    function setStudioCommission(uint256 seed) external {
        _setCommission(seed);
    }

    function updateStudio(uint256 seed) external {
        _updateStudio(seed);
    }

    function setPlatform(uint256 seed) external {
        _setPlatform(seed);
    }

    function setOperatorRole(uint256 seed) external {
        _setOperatorRole(seed);
    }

    function warp(uint256 seed) external {
        vm.warp(block.timestamp + _bound(seed, 1, maxWarp));
        _ok[uint256(Action.Warp)]++;
    }

    /// @dev Every direct transfer or approval attempt must fail, whoever calls.
    function tryDirectTransfer(uint256 seed) external {
        (uint256 id,) = _pickLicence(seed);
        address owner = _lic[id].owner == address(0) ? _poolAt(seed) : _lic[id].owner;
        address to = _user(_rand(seed, "to"));
        uint256 kind = _rand(seed, "kind") % 5;
        vm.startPrank(owner);
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
        _outcome(Action.DirectTransfer, false, false, ok);
    }
}
