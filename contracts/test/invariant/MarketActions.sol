// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketOrderActions} from "./MarketOrderActions.sol";

/// @dev The actions of {MarketHandler}: each one picks its arguments from the model, predicts whether the call
/// must succeed, makes it and records the outcome ({MarketModel-_outcome}); on an expected success it updates the
/// model. Sales and offers, then balances; administration and the registry are in {MarketAdminActions}.
abstract contract MarketActions is MarketOrderActions {
    // ------------------------------------------------------------------ sales

    function _buyPrimary(uint256 seed) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        EditionModel memory ed = _eds[e];
        address buyer = _poolAt(_rand(seed, "buyer"));
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, ed.price);
        bool expectOk = !modelPaused && ed.active && expected == ed.price && recipient != address(0);
        vm.prank(buyer);
        try market.buyPrimary(ed.filmId, ed.quality, expected, recipient) returns (uint256 id) {
            if (_outcome(Action.BuyPrimary, true, expectOk, true)) {
                _checkEq(id, modelNextLicenceId, "buyPrimary: licence id not sequential");
                modelNextLicenceId++;
                _mintModel(id, recipient, ed.filmId, ed.quality, 0);
                _primarySplit(ed, ed.price);
                _tokenIn(uint256(ed.price) * unitsPerCent);
            }
        } catch {
            _outcome(Action.BuyPrimary, true, expectOk, false);
        }
    }

    function _settleCardPrimary(uint256 seed) internal {
        EditionModel memory ed = _eds[_rand(seed, "edition") % _eds.length];
        address caller = _settler(seed);
        bytes32 ref = _ref(seed);
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, ed.price);
        uint256 cost = uint256(ed.price) * unitsPerCent;
        bool auth = _has(caller, SETTLE);
        bool rest = auth && !modelPaused && ed.active && expected == ed.price && recipient != address(0)
            && ref != bytes32(0) && !refUsed[ref];
        // The daily limit is checked after the sale's own checks, before the float is debited.
        CardLimit memory limit = _cardLimit(ed.price);
        bool expectOk = rest && limit.within && modelCredit[caller] >= cost;
        vm.prank(caller);
        try market.settleCardPrimary(ed.filmId, ed.quality, expected, recipient, ref) returns (uint256 id) {
            if (_outcome(Action.SettleCardPrimary, auth, expectOk, true)) {
                _checkEq(id, cardId(ref), "settleCardPrimary: card licence id");
                _useRef(ref);
                _mintModel(id, recipient, ed.filmId, ed.quality, _holdUntil());
                _cardPrimaryModel(id, ed);
                _chargeCardModel(ed.price);
                modelCredit[caller] -= cost;
            }
        } catch (bytes memory err) {
            _outcome(Action.SettleCardPrimary, auth, expectOk, false);
            if (rest && !limit.within) _limitRefused("settleCardPrimary", err, limit);
        }
    }

    /// @dev Card sales of one edition in one call: 1 to 4 of them, with fresh references, sometimes one refused
    /// (a used, repeated or zero reference, a zero recipient: then none settles), sometimes lengths that differ.
    function _settleCardBatch(uint256 seed) internal {
        _settleCardBatchAt(seed, _rand(seed, "edition") % _eds.length);
    }

    /// @dev {_settleCardBatch} of edition `e`.
    function _settleCardBatchAt(uint256 seed, uint256 e) internal {
        EditionModel memory ed = _eds[e];
        address caller = _settler(seed);
        (address[] memory to, bytes32[] memory refs, bool salesOk) = _batchOf(seed, 1 + _rand(seed, "n") % 4);
        uint64 expected = _expectedPrice(seed, ed.price);
        uint64 total = uint64(ed.price * to.length);
        // The batch checks its sales' recipients and references after the daily limit and the float.
        bool rest = _has(caller, SETTLE) && !modelPaused && ed.active && expected == ed.price
            && to.length == refs.length;
        CardLimit memory limit = _cardLimit(total);
        bool expectOk = rest && limit.within && modelCredit[caller] >= total * unitsPerCent && salesOk;
        vm.prank(caller);
        try market.settleCardPrimaryBatch(ed.filmId, ed.quality, expected, to, refs) {
            if (_outcome(Action.SettleCardBatch, _has(caller, SETTLE), expectOk, true)) {
                _batchModel(ed, to, refs);
                _chargeCardModel(total);
                modelCredit[caller] -= total * unitsPerCent;
            }
        } catch (bytes memory err) {
            _outcome(Action.SettleCardBatch, _has(caller, SETTLE), expectOk, false);
            if (rest && !limit.within) _limitRefused("settleCardPrimaryBatch", err, limit);
        }
    }

    /// @dev The batch's sales, each as a card primary sale.
    function _batchModel(EditionModel memory ed, address[] memory to, bytes32[] memory refs) internal {
        for (uint256 i; i < to.length; ++i) {
            uint256 id = cardId(refs[i]);
            _useRef(refs[i]);
            _mintModel(id, to[i], ed.filmId, ed.quality, _holdUntil());
            _cardPrimaryModel(id, ed);
        }
        ghostBatchedSales += to.length;
    }

    /// @dev `n` recipients and fresh references, and whether every sale is valid: one time in six one sale is
    /// spoilt (a zero recipient, a used reference, the batch's first reference again, or zero), one time in
    /// sixteen a reference is missing.
    function _batchOf(uint256 seed, uint256 n)
        internal
        view
        returns (address[] memory to, bytes32[] memory refs, bool ok)
    {
        uint256 r = _rand(seed, "spoil");
        to = new address[](n);
        refs = new bytes32[](r % 16 == 0 ? n - 1 : n);
        ok = true;
        for (uint256 i; i < n; ++i) {
            to[i] = _user(_rand(seed, string.concat("to", vm.toString(i))));
            if (i < refs.length) refs[i] = _freshRef(i);
        }
        if (r % 6 != 0 || refs.length == 0) return (to, refs, ok);
        uint256 k = (r >> 8) % refs.length;
        uint256 how = (r >> 16) % 4;
        ok = false;
        if (how == 0) to[k] = address(0);
        else if (how == 1 && usedRefs.length != 0) refs[k] = usedRefs[(r >> 24) % usedRefs.length];
        else if (how == 2 && k != 0) refs[k] = refs[0];
        else refs[k] = bytes32(0);
    }

    function _list(uint256 seed) internal {
        uint256 id = _pickListable(seed);
        LicenceModel memory l = _lic[id];
        address caller = _caller(_rand(seed, "caller"), l.owner == address(0) ? _poolAt(seed) : l.owner);
        uint64 price = _resalePrice(_rand(seed, "price"), 10, id);
        bool auth = l.owner != address(0) && caller == l.owner;
        // forge-lint: disable-next-line(block-timestamp)
        bool offHold = l.holdUntil <= block.timestamp;
        bool rest = auth && !modelPaused && l.live && offHold && price >= 20 && l.offerId == 0;
        bool aboveFloor = price >= _floorOf(id);
        bool expectOk = rest && aboveFloor;
        vm.prank(caller);
        try market.list(id, price) returns (uint256 offerId) {
            if (_outcome(Action.List, auth, expectOk, true)) {
                _checkEq(offerId, modelNextOfferId, "list: offer id not sequential");
                modelNextOfferId++;
                _openOffer(offerId, id, price);
            }
        } catch {
            _outcome(Action.List, auth, expectOk, false);
            if (rest && !aboveFloor) ghostFloorPricesRefused++;
        }
    }

    function _updateOffer(uint256 seed) internal {
        uint256 offerId = _pickOffer(seed);
        OfferModel memory o = _off[offerId];
        address seller = _lic[o.licenceId].owner;
        address caller = _caller(_rand(seed, "caller"), seller == address(0) ? _poolAt(seed) : seller);
        uint64 price = _resalePrice(_rand(seed, "price"), 12, o.licenceId);
        bool auth = seller != address(0) && caller == seller;
        bool rest = auth && o.active && !modelPaused && price >= 20;
        bool aboveFloor = price >= _floorOf(o.licenceId); // the edition's current floor
        bool expectOk = rest && aboveFloor;
        vm.prank(caller);
        try market.updateOffer(offerId, price) {
            if (_outcome(Action.UpdateOffer, auth, expectOk, true)) {
                _off[offerId].price = price;
                _nextNonce(caller, "updateOffer");
            }
        } catch {
            _outcome(Action.UpdateOffer, auth, expectOk, false);
            if (rest && !aboveFloor) ghostFloorPricesRefused++;
        }
    }

    function _cancelOffer(uint256 seed) internal {
        uint256 offerId = _pickOffer(seed);
        OfferModel memory o = _off[offerId];
        address seller = _lic[o.licenceId].owner;
        address caller = _caller(_rand(seed, "caller"), seller == address(0) ? _poolAt(seed) : seller);
        bool auth = seller != address(0) && caller == seller;
        bool expectOk = auth && o.active; // allowed while paused
        vm.prank(caller);
        try market.cancelOffer(offerId) {
            if (_outcome(Action.CancelOffer, auth, expectOk, true)) {
                _closeOffer(offerId);
                _nextNonce(caller, "cancelOffer");
            }
        } catch {
            _outcome(Action.CancelOffer, auth, expectOk, false);
        }
    }

    function _buyOffer(uint256 seed) internal {
        uint256 offerId = _pickOfferToBuy(seed);
        OfferModel memory o = _off[offerId];
        address buyer = _poolAt(_rand(seed, "buyer"));
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, o.price);
        bool rest = o.active && !modelPaused && expected == o.price && recipient != address(0);
        // An offer below its edition's current floor (raised since it was listed) cannot be bought.
        bool aboveFloor = o.price >= _floorOf(o.licenceId);
        bool expectOk = rest && aboveFloor;
        vm.prank(buyer);
        try market.buyOffer(offerId, expected, recipient) returns (uint256 id) {
            if (_outcome(Action.BuyOffer, true, expectOk, true)) {
                _checkEq(id, _resaleIdOf(o.licenceId), "buyOffer: not the resale id of the licence sold");
                _resaleModel(offerId, id, recipient, false);
                _tokenIn(uint256(o.price) * unitsPerCent);
            }
        } catch {
            _outcome(Action.BuyOffer, true, expectOk, false);
            if (rest && !aboveFloor) ghostFloorSalesRefused++;
        }
    }

    function _settleCardOffer(uint256 seed) internal {
        uint256 offerId = _pickOfferToBuy(seed);
        OfferModel memory o = _off[offerId];
        address caller = _settler(seed);
        bytes32 ref = _ref(seed);
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, o.price);
        bool auth = _has(caller, SETTLE);
        bool rest = auth && o.active && !modelPaused && expected == o.price && recipient != address(0)
            && ref != bytes32(0) && !refUsed[ref];
        bool aboveFloor = o.price >= _floorOf(o.licenceId); // the edition's current floor
        // The daily limit is checked after the sale's own checks (the floor's too), before the float is debited.
        CardLimit memory limit = _cardLimit(o.price);
        bool funded = modelCredit[caller] >= uint256(o.price) * unitsPerCent;
        bool expectOk = rest && aboveFloor && limit.within && funded;
        vm.prank(caller);
        try market.settleCardOffer(offerId, expected, recipient, ref) returns (uint256 id) {
            if (_outcome(Action.SettleCardOffer, auth, expectOk, true)) {
                _checkEq(id, cardId(ref), "settleCardOffer: card licence id");
                _useRef(ref);
                _chargeCardModel(o.price);
                modelCredit[caller] -= uint256(o.price) * unitsPerCent;
                _resaleModel(offerId, id, recipient, true);
            }
        } catch (bytes memory err) {
            _outcome(Action.SettleCardOffer, auth, expectOk, false);
            if (rest && funded && !aboveFloor) ghostFloorSalesRefused++;
            if (rest && aboveFloor && !limit.within) _limitRefused("settleCardOffer", err, limit);
        }
    }

    /// @dev A third of the picks are a licence whose sale is pending, not due yet if one is found quickly (it is
    /// clawed back, and followed to its successors if resold), a third any licence ever minted, so revocation does
    /// not empty the live set.
    function _revoke(uint256 seed) internal {
        (uint256 id,) = _pickLicence(seed);
        uint256 any = _rand(seed, "any");
        if (any % 3 == 0 && pendingIds.length != 0) id = _pickUncleared(any >> 8);
        else if (any % 3 == 1 && allLicences.length != 0) id = allLicences[(any >> 8) % allLicences.length];
        address caller = _caller(_rand(seed, "caller"), _rand(seed, "op2") % 4 == 0 ? operator2 : operator);
        uint256 r = _rand(seed, "reason");
        // Both casts are safe: the values are at most 255.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 reason = r % 10 == 0 ? (r % 20 == 0 ? 0 : uint8(_bound(r, 4, 255))) : uint8(1 + r % 3);
        bool auth = _has(caller, REVOKE);
        // allowed while paused
        bool expectOk = auth && reason >= 1 && reason <= 3 && _revokeWalk(id, reason, caller, false);
        vm.prank(caller);
        try market.revoke(id, reason) {
            if (_outcome(Action.Revoke, auth, expectOk, true)) _revokeWalk(id, reason, caller, true);
        } catch {
            _outcome(Action.Revoke, auth, expectOk, false);
        }
    }

    /// @dev The path of `revoke(id, reason)` by `caller`, in the model: each licence on it gives back its sale's
    /// pending shares if not due yet (to the operator calling for a card-paid sale, to the buyer for a crypto-paid
    /// tainted one); a live licence is revoked (its offer cancelled) and ends the path; a revoked one leads to the
    /// licence that replaced it while that one's sale is pending, at most {MAX_HOPS} times. Returns whether the
    /// call must succeed (something was given back or revoked); with `commit`, updates the model.
    function _revokeWalk(uint256 id, uint8 reason, address caller, bool commit) internal returns (bool ok) {
        if (_lic[id].owner == address(0)) return false; // never minted
        for (uint256 hop = 0;; hop++) {
            LicenceModel memory l = _lic[id];
            PendingModel memory p = _pend[id];
            // forge-lint: disable-next-line(block-timestamp)
            if (p.clearAt > block.timestamp) {
                ok = true;
                if (commit) {
                    address to = p.tainted && !p.card ? l.owner : caller;
                    modelCredit[to] += pendingUnits(id);
                    _removePending(id);
                    ghostClawbacks++;
                    if (to != caller) ghostBuyerRefunds++;
                    if (p.tainted && p.card) ghostTaintedCardClawbacks++;
                    if (hop != 0) ghostHops++;
                }
            }
            if (l.live) {
                if (commit) {
                    if (l.offerId != 0) _closeOffer(l.offerId);
                    _revokeModel(id, reason);
                }
                return true;
            }
            uint256 next = successorOf[id];
            // forge-lint: disable-next-line(block-timestamp)
            if (hop == MAX_HOPS || next == 0 || _pend[next].taintedUntil <= block.timestamp) return ok;
            id = next;
        }
    }

    /// @dev Anyone clears a batch of one to four licence ids: mostly pending sales (the first one due when one is
    /// found quickly), sometimes any licence (its sale cleared, clawed back or never pending) or one never minted,
    /// possibly twice. The market skips what it cannot clear and reverts only when nothing was due; allowed while
    /// paused.
    function _clearSales(uint256 seed) internal {
        uint256[] memory ids = new uint256[](1 + _rand(seed, "n") % 4);
        for (uint256 i = 0; i < ids.length; i++) {
            uint256 r = _rand(seed, string.concat("id", vm.toString(i)));
            if (r % 8 != 0 && pendingIds.length != 0) {
                ids[i] = pendingIds[(r >> 8) % pendingIds.length];
            } else if (r % 16 != 0 && allLicences.length != 0) {
                ids[i] = allLicences[(r >> 8) % allLicences.length];
            } else {
                ids[i] = (r >> 8) % type(uint128).max + type(uint64).max; // never minted
            }
        }
        if (_rand(seed, "due") % 4 != 0) ids[0] = _pickDue(seed, ids[0]);
        // The ids the market must clear, in order (a repeated id is cleared once).
        bool[] memory due = new bool[](ids.length);
        uint256 expected;
        for (uint256 i = 0; i < ids.length; i++) {
            uint32 clearAt = _pend[ids[i]].clearAt;
            // forge-lint: disable-next-line(block-timestamp)
            due[i] = clearAt != 0 && clearAt <= block.timestamp;
            for (uint256 j = 0; j < i && due[i]; j++) {
                if (ids[j] == ids[i]) due[i] = false;
            }
            if (due[i]) expected++;
        }
        address caller = _poolAt(_rand(seed, "caller"));
        vm.prank(caller);
        try market.clearSales(ids) returns (uint256 cleared) {
            if (_outcome(Action.ClearSales, true, expected != 0, true)) {
                _checkEq(cleared, expected, "clearSales: number cleared");
                for (uint256 i = 0; i < ids.length; i++) {
                    if (due[i]) _clearModel(ids[i]);
                }
            }
        } catch {
            _outcome(Action.ClearSales, true, expected != 0, false);
        }
    }

    /// @dev Credits the model's pending sale of `id` to its seller, studio and platform.
    function _clearModel(uint256 id) internal {
        PendingModel memory p = _pend[id];
        modelCredit[p.seller] += uint256(p.sellerCents) * unitsPerCent;
        _studios[p.studioId].creditCents += p.studioCents;
        modelPlatformCents += p.platformCents;
        _removePending(id);
        ghostCleared++;
    }

    /// @dev A licence whose sale is pending and not due yet, if one of the first eight looked at is (one time in
    /// two, first one of those that was resold: revoke follows it to its successor), else any licence whose sale
    /// is pending (there must be one).
    function _pickUncleared(uint256 r) internal view returns (uint256) {
        if (r % 2 == 0) {
            for (uint256 i = 0; i < 16 && i < pendingIds.length; i++) {
                uint256 id = pendingIds[(r + i) % pendingIds.length];
                if (successorOf[id] != 0 && _uncleared(id)) return id;
            }
        }
        for (uint256 i = 0; i < 8 && i < pendingIds.length; i++) {
            uint256 id = pendingIds[(r + i) % pendingIds.length];
            if (_uncleared(id)) return id;
        }
        return pendingIds[r % pendingIds.length];
    }

    /// @dev A pending sale that is due, if one of the first eight looked at is, else `fallback_`.
    function _pickDue(uint256 seed, uint256 fallback_) internal view returns (uint256) {
        uint256 start = _rand(seed, "start");
        for (uint256 i = 0; i < 8 && i < pendingIds.length; i++) {
            uint256 id = pendingIds[(start + i) % pendingIds.length];
            if (!_uncleared(id)) return id;
        }
        return fallback_;
    }

    // ------------------------------------------------------------------ balances

    function _deposit(uint256 seed) internal {
        address caller = _rand(seed, "who") % 3 == 0 ? _poolAt(seed) : operator;
        uint256 r = _rand(seed, "amount");
        uint256 amount = r % 16 == 0 ? 0 : _bound(r, 1, 10_000 * 1e6);
        bool expectOk = !modelPaused && amount > 0;
        vm.prank(caller);
        try market.deposit(amount) {
            if (_outcome(Action.Deposit, true, expectOk, true)) {
                modelCredit[caller] += amount;
                _tokenIn(amount);
            }
        } catch {
            _outcome(Action.Deposit, true, expectOk, false);
        }
    }

    /// @dev Anyone withdraws (part of) their balance; sometimes more than it, or to address 0.
    function _withdraw(uint256 seed) internal {
        address caller = _withBalance(seed);
        _withdrawAs(Action.Withdraw, caller, seed, modelCredit[caller]);
    }

    /// @dev The operator withdraws part of its card float, one time in five operator2 what it holds (card money
    /// it settled or clawed back as a settler or revoker, or nothing); one time in four someone else tries to take
    /// it.
    function _withdrawFloat(uint256 seed) internal {
        address caller = _caller(seed, _rand(seed, "op2") % 5 == 0 ? operator2 : operator);
        uint256 cap = caller == operator
            ? modelCredit[operator] / 8
            : (caller == operator2 ? modelCredit[operator2] : modelCredit[operator]);
        _withdrawAs(Action.WithdrawFloat, caller, seed, cap);
    }

    function _withdrawAs(Action action, address caller, uint256 seed, uint256 cap) internal {
        uint256 credit = modelCredit[caller];
        uint256 r = _rand(seed, "amount");
        uint256 amount;
        if (r % 10 == 0) amount = _bound(r, credit + 1, credit + 1e12);
        else if (r % 29 == 0) amount = 0;
        else amount = _bound(r, 1, cap == 0 ? 1 : cap);
        uint256 t = _rand(seed, "to") % 32;
        address to = t == 0 ? address(0) : (t < 16 ? caller : sink);
        // An account that ever held a settler's or revoker's role pays only the treasury, one time in eight
        // elsewhere; operator2, whose roles come and go, tries elsewhere half the time.
        if (modelFloatAccount[caller] && t != 0 && t % 8 != 1 && caller != operator2) to = modelTreasury;
        bool auth = amount <= credit; // taking more than one's own balance is unauthorised
        bool expectOk = auth && !modelPaused && amount > 0 && to != address(0)
            && (!modelFloatAccount[caller] || to == modelTreasury);
        vm.prank(caller);
        try market.withdraw(to, amount) {
            if (_outcome(action, auth, expectOk, true)) {
                modelCredit[caller] -= amount;
                _tokenOut(amount);
            }
        } catch {
            _outcome(action, auth, expectOk, false);
        }
    }

    function _withdrawStudio(uint256 seed) internal {
        uint256 r = _rand(seed, "studio");
        // Both casts are safe: studioCount is a uint32 of the fixture (2).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 studioId = r % 20 == 0 ? uint32(studioCount + 1) : uint32(1 + r % studioCount);
        StudioModel memory s = _studios[studioId];
        uint256 who = _rand(seed, "who") % 4;
        address authorised = who == 0 ? s.royalty : (who == 1 ? s.admin : operator);
        address caller = _caller(_rand(seed, "caller"), authorised == address(0) ? operator : authorised);
        bool exists = studioId <= studioCount;
        bool auth = exists && (caller == s.royalty || caller == s.admin || _has(caller, REGISTER));
        bool expectOk = auth && !modelPaused && s.creditCents > 0;
        vm.prank(caller);
        try market.withdrawStudio(studioId) {
            if (_outcome(Action.WithdrawStudio, auth, expectOk, true)) {
                _tokenOut(uint256(s.creditCents) * unitsPerCent);
                _studios[studioId].creditCents = 0;
            }
        } catch {
            _outcome(Action.WithdrawStudio, auth, expectOk, false);
        }
    }

    function _withdrawPlatform(uint256 seed) internal {
        address caller = _platformCaller(seed);
        bool auth = caller == admin || modelRoles[caller] != 0;
        bool expectOk = auth && !modelPaused && modelPlatformCents > 0;
        vm.prank(caller);
        try market.withdrawPlatform() {
            if (_outcome(Action.WithdrawPlatform, auth, expectOk, true)) {
                _tokenOut(uint256(modelPlatformCents) * unitsPerCent);
                modelPlatformCents = 0;
            }
        } catch {
            _outcome(Action.WithdrawPlatform, auth, expectOk, false);
        }
    }
}
