// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketOrderActions} from "./MarketOrderActions.sol";

/// @dev The actions of {MarketHandler}: each one picks its arguments from the model, predicts whether the call
/// must succeed, makes it and records the outcome ({MarketModel-_outcome}); on an expected success it updates the
/// model. Sales and offers, balances, then administration and the registry.
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
                _checkEq(id, modelNextLicenceId, "buyOffer: licence id not sequential");
                modelNextLicenceId++;
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

    // ------------------------------------------------------------------ admin and registry

    /// @return paused Whether this call paused the market.
    function _pause(uint256 seed) internal returns (bool paused) {
        address caller = _platformCaller(seed);
        bool auth = caller == admin || modelRoles[caller] != 0;
        bool expectOk = auth && !modelPaused;
        vm.prank(caller);
        try market.pause() {
            paused = _outcome(Action.Pause, auth, expectOk, true);
            if (paused) modelPaused = true;
        } catch {
            _outcome(Action.Pause, auth, expectOk, false);
        }
    }

    function _unpauseAs(address caller) internal {
        bool auth = caller == admin;
        bool expectOk = auth && modelPaused;
        vm.prank(caller);
        try market.unpause() {
            if (_outcome(Action.Unpause, auth, expectOk, true)) modelPaused = false;
        } catch {
            _outcome(Action.Unpause, auth, expectOk, false);
        }
    }

    /// @dev One random action while the market is paused: pausable ones must revert, the others (cancel, signed
    /// or not, revoke, clearing, registry and admin changes, resale floors, the card settlement limit) still work.
    function _probe(uint256 seed) internal {
        uint256 k = seed % 18;
        if (k == 0) _buyPrimary(seed);
        else if (k == 1) _settleCardPrimary(seed);
        else if (k == 2) _list(seed);
        else if (k == 3) _updateOffer(seed);
        else if (k == 4) _cancelOffer(seed);
        else if (k == 5) _buyOffer(seed);
        else if (k == 6) _settleCardOffer(seed);
        else if (k == 7) _revoke(seed);
        else if (k == 8) _deposit(seed);
        else if (k == 9) _withdrawStudio(seed);
        else if (k == 10) _withdrawPlatform(seed);
        else if (k == 11) _clearSales(seed);
        else if (k == 12) _setClearancePeriod(seed);
        else if (k == 13) _relayOrder(seed);
        else if (k == 14) _relayCreditOrder(seed);
        else if (k == 15) _setResaleFloor(seed);
        else if (k == 16) _setCardSettlementLimit(seed);
        else _withdraw(seed);
    }

    /// @dev Hold periods up to 4 days (the warp goes further), sometimes the maximum, sometimes too long.
    function _setHoldPeriod(uint256 seed) internal {
        address caller = _caller(seed, admin);
        uint256 r = _rand(seed, "hold");
        uint24 hold;
        if (r % 10 == 0) hold = uint24(_bound(r, uint256(90 days) + 1, type(uint24).max));
        else if (r % 50 == 1) hold = 90 days;
        else if (r % 5 == 2) hold = 0;
        else hold = uint24(_bound(r, 1, 4 days));
        bool auth = caller == admin;
        bool expectOk = auth && hold <= 90 days;
        vm.prank(caller);
        try market.setHoldPeriod(hold) {
            if (_outcome(Action.SetHoldPeriod, auth, expectOk, true)) modelHold = hold;
        } catch {
            _outcome(Action.SetHoldPeriod, auth, expectOk, false);
        }
    }

    /// @dev Clearance periods of 5 to 30 days (longer than the holds, so that uncleared licences are resold, and a
    /// few of the handler's warps, so that sales clear, and are clawed back before), 0 (card money clears at once)
    /// one time in five, rarely the maximum, sometimes too long; by the admin, one time in eight an operator
    /// (refused), or anyone.
    function _setClearancePeriod(uint256 seed) internal {
        address caller = _rand(seed, "op") % 8 == 0 ? operator : _caller(seed, admin);
        uint256 r = _rand(seed, "clearance");
        uint32 period;
        if (r % 10 == 0) period = uint32(_bound(r, uint256(180 days) + 1, type(uint32).max));
        else if (r % 64 == 1) period = 180 days;
        else if (r % 5 == 2) period = 0;
        else period = uint32(_bound(r, 5 days, 30 days));
        bool auth = caller == admin;
        bool expectOk = auth && period <= 180 days;
        vm.prank(caller);
        try market.setClearancePeriod(period) {
            if (_outcome(Action.SetClearancePeriod, auth, expectOk, true)) modelClearance = period;
        } catch {
            _outcome(Action.SetClearancePeriod, auth, expectOk, false);
        }
    }

    /// @dev The daily limit of card settlements, in euros: mostly far above a day's card settlements (a few
    /// hundred euros: the default 50,000 euros, 1,000 to 1,000,000, rarely the maximum), so that card sales keep
    /// their coverage; one time in ten a few euros (1 to 30) above what was settled today (most offers no longer
    /// fit, some editions do), one time in forty below it (nothing fits today), one time in forty 0 (no card
    /// settlement at all). By the admin, one time in eight the operator (refused), or anyone. Allowed while paused.
    /// @return small Whether a small limit (one of those three) was set: it stays until the next change (the next
    /// days get the same small limit, each from 0), so {MarketHandler-setCardSettlementLimit} mostly lifts it.
    function _setCardSettlementLimit(uint256 seed) internal returns (bool small) {
        address caller = _rand(seed, "op") % 8 == 0 ? operator : _caller(seed, admin);
        uint256 r = _rand(seed, "limit");
        uint256 k = r % 40;
        uint64 settled = modelSettledToday();
        uint256 euros;
        if (k < 4) euros = settled / 100 + _bound(r >> 8, 1, 30);
        else if (k == 4) euros = settled == 0 ? 0 : _bound(r >> 8, 0, (settled - 1) / 100);
        else if (k == 5) euros = 0;
        else if (k == 6) euros = type(uint32).max;
        else if (k < 16) euros = 50_000;
        else euros = _bound(r >> 8, 1_000, 1_000_000);
        // The cast is safe: at most the maximum, or a day's settlements (far below 2**32 euros) plus 30.
        // forge-lint: disable-next-line(unsafe-typecast)
        return _setCardSettlementLimitAs(caller, uint32(euros)) && k < 6;
    }

    /// @return set Whether `caller` set the limit (the admin only).
    function _setCardSettlementLimitAs(address caller, uint32 limit) internal returns (bool set) {
        bool auth = caller == admin;
        vm.prank(caller);
        try market.setCardSettlementLimit(limit) {
            set = _outcome(Action.SetCardSettlementLimit, auth, auth, true);
            if (set) modelSettleLimit = limit;
        } catch {
            _outcome(Action.SetCardSettlementLimit, auth, auth, false);
        }
    }

    function _updateEdition(uint256 seed) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        // Mostly an edition that is not suspended (a suspended one is frozen: a revert the model predicts).
        if (_rand(seed, "pick") % 4 != 0) {
            for (uint256 i = 0; i < _eds.length && _eds[e].suspended; i++) {
                e = (e + 1) % _eds.length;
            }
        }
        EditionModel memory ed = _eds[e];
        address caller = _studioCaller(seed, ed.studioId);
        uint256 r = _rand(seed, "price");
        uint64 price = r % 20 == 0 ? 0 : uint64(_bound(r, 1, 5_000));
        bytes32 master = r % 33 == 0 ? bytes32(0) : keccak256(abi.encode("master", r));
        bool auth = _has(caller, REGISTER) || caller == _studios[ed.studioId].admin;
        // Frozen while suspended; a price cut may not leave the floor above half the lowest price.
        uint64 lowest = _min(price, ed.lowest);
        bool expectOk =
            auth && price > 0 && master != bytes32(0) && !ed.suspended && ed.floor <= _maxFloor(lowest);
        vm.prank(caller);
        try market.updateEdition(ed.filmId, ed.quality, master, price, "re-encode") {
            if (_outcome(Action.UpdateEdition, auth, expectOk, true)) {
                (_eds[e].price, _eds[e].lowest) = (price, lowest);
            }
        } catch {
            _outcome(Action.UpdateEdition, auth, expectOk, false);
        }
    }

    /// @dev Sets an edition's resale floor (mostly one not suspended, as {_updateEdition} picks), as its studio's
    /// admin, an operator or anyone: 0 (no floor) five times in sixteen; four times in sixteen just above an
    /// active offer's price (one listed before the floor, which can then no longer be bought), if one of the first
    /// 32 looked at allows it; else up to half the edition's lowest price (exactly half one time in sixteen), or above it
    /// (one cent above one time in two: refused). Floors stay at most half an edition's lowest price (at most 25 euros),
    /// so that most listings (up to 1,000 euros) are above them. Allowed while paused.
    function _setResaleFloor(uint256 seed) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        if (_rand(seed, "pick") % 4 != 0) {
            for (uint256 i = 0; i < _eds.length && _eds[e].suspended; i++) {
                e = (e + 1) % _eds.length;
            }
        }
        uint256 r = _rand(seed, "floor");
        uint256 k = r % 16;
        uint64 max = _maxFloor(_eds[e].lowest);
        uint64 floor;
        bool raise; // above an active offer's price
        if (k >= 5 && k < 9) {
            (bool found, uint256 stale, uint64 above) = _pickFloorAboveOffer(r >> 8);
            if (found) (e, max, floor, raise) = (stale, _maxFloor(_eds[stale].lowest), above, true);
            // forge-lint: disable-next-line(unsafe-typecast)
            else floor = uint64(_bound(r >> 8, 0, max));
        } else if (k >= 9 && k < 13) {
            // forge-lint: disable-next-line(unsafe-typecast)
            floor = uint64(_bound(r >> 8, 0, max));
        } else if (k == 13) {
            floor = max;
        } else if (k >= 14) {
            // forge-lint: disable-next-line(unsafe-typecast)
            floor = max + 1 + ((r >> 8) % 2 == 0 ? 0 : uint64((r >> 16) % 10_000));
        }
        EditionModel memory ed = _eds[e];
        address caller = _studioCaller(seed, ed.studioId);
        bool auth = _has(caller, REGISTER) || caller == _studios[ed.studioId].admin;
        bool expectOk = auth && !ed.suspended && floor <= max; // allowed while paused
        vm.prank(caller);
        try market.setResaleFloor(ed.filmId, ed.quality, floor) {
            if (_outcome(Action.SetResaleFloor, auth, expectOk, true)) {
                _eds[e].floor = floor;
                if (raise) ghostFloorsAboveOffers++;
                if (market.edition(ed.filmId, ed.quality).resaleFloorCents != floor) {
                    _violate("setResaleFloor: edition floor differs from the model");
                }
            }
        } catch {
            _outcome(Action.SetResaleFloor, auth, expectOk, false);
        }
    }

    /// @dev A floor one cent to 10 euros above an active offer's price, at most half its edition's lowest price, and that
    /// edition, if one of the first 32 active offers looked at (from `r`) allows it and is not suspended.
    function _pickFloorAboveOffer(uint256 r) internal view returns (bool found, uint256 e, uint64 floor) {
        for (uint256 i = 0; i < 32 && i < activeOffers.length; i++) {
            OfferModel memory o = _off[activeOffers[(r + i) % activeOffers.length]];
            LicenceModel memory l = _lic[o.licenceId];
            e = _edIndex[_key(l.filmId, l.quality)] - 1;
            uint64 max = _maxFloor(_eds[e].lowest);
            if (o.price < max && !_eds[e].suspended) {
                // forge-lint: disable-next-line(unsafe-typecast)
                return (true, e, uint64(_bound(r >> 64, uint256(o.price) + 1, _min(max, o.price + 1_000))));
            }
        }
    }

    function _min(uint64 a, uint64 b) internal pure returns (uint64) {
        return a < b ? a : b;
    }

    /// @dev Withdraws a random edition, or reactivates a withdrawn one (so editions are mostly on sale).
    function _setEditionActive(uint256 seed, bool active) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        if (active && _rand(seed, "pick") % 8 != 0) {
            for (uint256 i = 0; i < _eds.length; i++) {
                uint256 j = (e + i) % _eds.length;
                if (!_eds[j].active && !_eds[j].suspended) {
                    e = j;
                    break;
                }
            }
        }
        EditionModel memory ed = _eds[e];
        address caller = _studioCaller(seed, ed.studioId);
        bool auth = _has(caller, REGISTER) || caller == _studios[ed.studioId].admin;
        // A platform suspension keeps the studio (and the operator acting for it) from reactivating.
        bool expectOk = auth && ed.active != active && !(active && ed.suspended);
        Action action = active ? Action.ReactivateEdition : Action.WithdrawEdition;
        vm.prank(caller);
        bool ok;
        if (active) {
            try market.reactivateEdition(ed.filmId, ed.quality) {
                ok = true;
            } catch {}
        } else {
            try market.withdrawEdition(ed.filmId, ed.quality) {
                ok = true;
            } catch {}
        }
        if (_outcome(action, auth, expectOk, ok)) _eds[e].active = active;
    }

    /// @dev Suspends an edition on the platform's authority, or lifts a suspension, as the admin, an operator, the
    /// studio's admin or anyone.
    function _setSuspended(uint256 seed) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        // One call in eight suspends; the others lift, a suspended edition when there is one (so that
        // suspensions are short and the sales keep their floors), else one that is not (a predicted revert).
        bool suspend = _rand(seed, "again") % 8 == 0;
        if (!suspend) {
            for (uint256 i = 0; i < _eds.length && !_eds[e].suspended; i++) {
                e = (e + 1) % _eds.length;
            }
        }
        EditionModel memory ed = _eds[e];
        uint256 who = _rand(seed, "who") % 3;
        address caller = _caller(seed, who == 0 ? admin : who == 1 ? operator : _studios[ed.studioId].admin);
        bool auth = _has(caller, REGISTER) || caller == admin;
        // The admin's suspension is the admin's to lift.
        bool expectOk = auth && ed.suspended != suspend && (suspend || !ed.byAdmin || caller == admin);
        vm.prank(caller);
        bool ok;
        if (suspend) {
            try market.suspendEdition(ed.filmId, ed.quality, "handler") {
                ok = true;
            } catch {}
        } else {
            try market.unsuspendEdition(ed.filmId, ed.quality, "handler") {
                ok = true;
            } catch {}
        }
        if (_outcome(Action.SuspendEdition, auth, expectOk, ok)) {
            _eds[e].suspended = suspend;
            _eds[e].byAdmin = suspend && caller == admin;
            if (suspend) _eds[e].active = false;
        }
    }

    /// @dev The admin moves the treasury between itself and the sink (address 0 one time in sixteen: refused);
    /// anyone else is refused.
    function _setTreasury(uint256 seed) internal {
        address caller = _caller(seed, admin);
        uint256 r = _rand(seed, "treasury");
        address next = r % 16 == 0 ? address(0) : (r % 2 == 0 ? admin : sink);
        bool auth = caller == admin;
        bool expectOk = auth && next != address(0);
        vm.prank(caller);
        try market.setTreasury(next) {
            if (_outcome(Action.SetTreasury, auth, expectOk, true)) modelTreasury = next;
        } catch {
            _outcome(Action.SetTreasury, auth, expectOk, false);
        }
    }

    /// @dev The admin sets a studio's film quota from the value it expects (one time in eight a stale one:
    /// refused); the operator (one time in eight) and anyone else are refused.
    function _setFilmQuota(uint256 seed) internal {
        uint32 studioId = uint32(1 + _rand(seed, "studio") % studioCount);
        uint16 current = _studios[studioId].filmsLeft;
        uint256 r = _rand(seed, "quota");
        uint16 expected = r % 8 == 0 ? current ^ 1 : current;
        uint16 next = uint16(_bound(r >> 8, 0, 2_000));
        address caller = _rand(seed, "op") % 8 == 0 ? operator : _caller(seed, admin);
        bool auth = caller == admin;
        bool expectOk = auth && expected == current;
        vm.prank(caller);
        try market.setStudioFilmQuota(studioId, expected, next) {
            if (_outcome(Action.SetFilmQuota, auth, expectOk, true)) _studios[studioId].filmsLeft = next;
        } catch {
            _outcome(Action.SetFilmQuota, auth, expectOk, false);
        }
    }

    function _setCommission(uint256 seed) internal {
        uint32 studioId = uint32(1 + _rand(seed, "studio") % studioCount);
        address caller = _platformCaller(seed);
        uint256 r = _rand(seed, "bps");
        // Both casts are safe: the values are bounded to uint16.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint16 bps = r % 10 == 0 ? uint16(_bound(r, 3_001, type(uint16).max)) : uint16(r % 3_001);
        bool auth = caller == admin || _has(caller, REGISTER);
        bool expectOk = auth && bps <= 3_000;
        vm.prank(caller);
        try market.setStudioCommission(studioId, bps) {
            if (_outcome(Action.SetCommission, auth, expectOk, true)) _studios[studioId].bps = bps;
        } catch {
            _outcome(Action.SetCommission, auth, expectOk, false);
        }
    }

    /// @dev Changes a studio's royalty recipient (accrued earnings move to the previous one's balance).
    function _updateStudio(uint256 seed) internal {
        uint32 studioId = uint32(1 + _rand(seed, "studio") % studioCount);
        StudioModel memory s = _studios[studioId];
        // The studio's admin, one time in eight an operator (refused: audit M-4b), or anyone.
        address caller = _rand(seed, "op") % 8 == 0 ? operator : _caller(seed, s.admin);
        address next = royaltyChoices[_rand(seed, "next") % royaltyChoices.length];
        bool auth = caller == s.admin; // the studio's admin only, not an operator
        vm.prank(caller);
        try market.updateStudio(studioId, s.admin, next, "Studio") {
            if (_outcome(Action.UpdateStudio, auth, auth, true) && next != s.royalty) {
                modelCredit[s.royalty] += uint256(s.creditCents) * unitsPerCent;
                _studios[studioId].creditCents = 0;
                _studios[studioId].royalty = next;
            }
        } catch {
            _outcome(Action.UpdateStudio, auth, auth, false);
        }
    }

    /// @dev Changes the platform account (accrued fees move to the previous one's balance).
    function _setPlatform(uint256 seed) internal {
        address caller = _caller(seed, admin);
        address next = platformChoices[_rand(seed, "next") % platformChoices.length];
        bool auth = caller == admin;
        vm.prank(caller);
        try market.setPlatform(next) {
            if (_outcome(Action.SetPlatform, auth, auth, true)) {
                modelCredit[modelPlatform] += uint256(modelPlatformCents) * unitsPerCent;
                modelPlatformCents = 0;
                modelPlatform = next;
            }
        } catch {
            _outcome(Action.SetPlatform, auth, auth, false);
        }
    }

    /// @dev Grants or revokes one of the three platform key roles of `operator2` (settler, revoker, registrar),
    /// which then may, or may not, settle card sales, revoke, act for studios.
    function _setOperatorRole(uint256 seed) internal {
        address caller = _caller(seed, admin);
        bool grant = _rand(seed, "grant") % 2 == 0;
        uint256 pick = _rand(seed, "role") % 3;
        uint8 bit = pick == 0 ? SETTLE : (pick == 1 ? REVOKE : REGISTER);
        bytes32 role =
            pick == 0 ? market.SETTLER_ROLE() : (pick == 1 ? market.REVOKER_ROLE() : market.REGISTRAR_ROLE());
        bool auth = caller == admin;
        vm.prank(caller);
        bool ok;
        if (grant) {
            try market.grantRole(role, operator2) {
                ok = true;
            } catch {}
        } else {
            try market.revokeRole(role, operator2) {
                ok = true;
            } catch {}
        }
        if (_outcome(Action.SetOperatorRole, auth, auth, ok)) {
            modelRoles[operator2] = grant ? modelRoles[operator2] | bit : modelRoles[operator2] & ~bit;
            if (grant && bit != REGISTER) modelFloatAccount[operator2] = true;
        }
    }
}
