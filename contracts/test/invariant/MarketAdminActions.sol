// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketActions} from "./MarketActions.sol";

/// @dev The administration and registry actions of {MarketHandler} (pause, periods and limits, editions,
/// studios, the platform, roles), and the probe of a paused market; made the same way as {MarketActions}' sales
/// and balances: arguments picked from the model, the outcome predicted, recorded, and the model updated.
abstract contract MarketAdminActions is MarketActions {
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
        uint256 k = seed % 19;
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
        else if (k == 17) _settleCardBatch(seed);
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
        _updateEditionAt(seed, e);
    }

    /// @dev {_updateEdition} of edition `e`.
    function _updateEditionAt(uint256 seed, uint256 e) internal {
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
