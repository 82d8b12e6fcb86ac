// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketModel} from "./MarketModel.sol";

/// @dev The signed-order actions of {MarketHandler}: resale orders ({TangibleOffers-relayOrder}: list, reprice,
/// cancel) and credit orders ({TangibleMarket-relayCreditOrder}: buy an edition or an offer with the account's
/// credit, withdraw it), signed with the model's keys and submitted by any account of the pool. Most orders are
/// signed by their account over exactly what is submitted, at its current nonce; the others are signed with another
/// account's key, at another nonce, over another amount or recipient, as the other EIP-712 type, or are the last
/// order carried out submitted again: the model expects each of those to revert and counts a success of one as
/// unauthorised (like spending more than the account's credit). Some are expired, some name an action of the other
/// function or none, a primary target with bits above the edition key, a withdrawal with a target. The digests
/// are built here from the type strings and the domain's fields, independently of the market.
abstract contract MarketOrderActions is MarketModel {
    /// @dev An order as submitted (a resale order: `amount` is the price, `to` unused).
    struct Signed {
        address account;
        uint8 action;
        uint256 target;
        uint64 amount;
        address to;
        uint256 deadline;
        bytes sig;
        bool valid; // `account`'s signature over exactly these values, of the right type, at its current nonce
    }

    bytes32 internal constant ORDER_TYPE = keccak256(
        "Order(address seller,uint8 action,uint256 target,uint64 priceCents,uint32 nonce,uint256 deadline)"
    );
    bytes32 internal constant CREDIT_TYPE = keccak256(
        "CreditOrder(address account,uint8 action,uint256 target,uint64 amountCents,address to,uint32 nonce,uint256 deadline)"
    );
    uint8 internal constant BUY_PRIMARY = 3;
    uint8 internal constant BUY_OFFER = 4;
    uint8 internal constant WITHDRAW = 5;

    /// @dev The last resale order and the last credit order carried out, submitted again one time in sixteen.
    Signed internal _lastOrder;
    Signed internal _lastCredit;

    // ------------------------------------------------------------------ resale orders

    function _relayOrder(uint256 seed) internal {
        Signed memory o;
        if (_rand(seed, "replay") % 16 == 0 && _lastOrder.sig.length != 0) {
            o = _lastOrder;
            o.valid = false; // its nonce is used
        } else {
            _resaleOrder(seed, o);
            _sign(seed, false, o);
        }
        (bool auth, bool expectOk, bool belowFloor) = _predictResale(o);
        vm.prank(_poolAt(_rand(seed, "relayer")));
        try market.relayOrder(o.account, o.action, o.target, o.amount, o.deadline, o.sig) returns (
            uint256 offerId
        ) {
            if (_outcome(Action.RelayOrder, auth, expectOk, true)) {
                _nextNonce(o.account, "relayOrder");
                if (o.action == 0) {
                    _checkEq(offerId, modelNextOfferId, "relayOrder: offer id not sequential");
                    modelNextOfferId++;
                    _openOffer(offerId, o.target, o.amount);
                    ghostRelayedLists++;
                } else {
                    _checkEq(offerId, o.target, "relayOrder: offer id");
                    if (o.action == 1) _off[o.target].price = o.amount;
                    else _closeOffer(o.target);
                    ghostRelayedChanges++;
                }
                _lastOrder = o;
            }
        } catch {
            _outcome(Action.RelayOrder, auth, expectOk, false);
            if (belowFloor) ghostFloorPricesRefused++;
        }
    }

    /// @dev List (a listable licence, as {_list} picks), reprice or cancel (an offer, as {_updateOffer} picks),
    /// mostly by its owner; one time in sixteen an action relayOrder does not carry out.
    function _resaleOrder(uint256 seed, Signed memory o) internal view {
        uint256 r = _rand(seed, "action");
        // forge-lint: disable-next-line(unsafe-typecast)
        o.action = r % 16 == 0 ? uint8(3 + (r >> 8) % 253) : uint8(r % 3);
        address owner;
        if (o.action == 0) {
            o.target = _pickListable(seed);
            owner = _lic[o.target].owner;
        } else {
            o.target = _pickOffer(seed);
            owner = _lic[_off[o.target].licenceId].owner;
        }
        o.account = _caller(_rand(seed, "seller"), owner == address(0) ? _poolAt(seed) : owner);
        uint256 id = o.action == 0 ? o.target : _off[o.target].licenceId;
        o.amount = o.action == 2 ? 0 : _resalePrice(_rand(seed, "price"), 10, id);
    }

    /// @dev `auth`: the order is the owner's (signed by it, for a licence or offer it holds); `expectOk`: and
    /// `list`, `updateOffer` or `cancelOffer` by the owner would succeed (a price at least the minimum and the
    /// edition's floor), the order is not expired, and the market
    /// is not paused unless it cancels. `belowFloor`: the order would be carried out but for its price, under the
    /// edition's current floor.
    function _predictResale(Signed memory o)
        internal
        view
        returns (bool auth, bool expectOk, bool belowFloor)
    {
        // forge-lint: disable-next-line(block-timestamp)
        bool live = o.deadline >= block.timestamp && (o.action == 2 || !modelPaused);
        if (o.action == 0) {
            LicenceModel memory l = _lic[o.target];
            auth = o.valid && l.owner != address(0) && o.account == l.owner;
            // forge-lint: disable-next-line(block-timestamp)
            bool offHold = l.holdUntil <= block.timestamp;
            expectOk = auth && live && l.live && offHold && o.amount >= 20 && l.offerId == 0;
            belowFloor = expectOk && o.amount < _floorOf(o.target);
        } else if (o.action <= 2) {
            OfferModel memory f = _off[o.target];
            address seller = _lic[f.licenceId].owner;
            auth = o.valid && seller != address(0) && o.account == seller;
            expectOk = auth && live && f.active && (o.action == 2 || o.amount >= 20);
            belowFloor = expectOk && o.action == 1 && o.amount < _floorOf(f.licenceId);
        } else {
            auth = o.valid;
        }
        expectOk = expectOk && !belowFloor;
    }

    // ------------------------------------------------------------------ credit orders

    function _relayCreditOrder(uint256 seed) internal {
        Signed memory o;
        if (_rand(seed, "replay") % 16 == 0 && _lastCredit.sig.length != 0) {
            o = _lastCredit;
            o.valid = false; // its nonce is used
        } else {
            _creditOrder(seed, o);
            _sign(seed, true, o);
        }
        (bool auth, bool expectOk, bool belowFloor) = _predictCredit(o);
        vm.prank(_poolAt(_rand(seed, "relayer")));
        try market.relayCreditOrder(
            o.account, o.action, o.target, o.amount, o.to, o.deadline, o.sig
        ) returns (
            uint256 id
        ) {
            if (_outcome(Action.RelayCreditOrder, auth, expectOk, true)) _creditModel(o, id);
        } catch {
            _outcome(Action.RelayCreditOrder, auth, expectOk, false);
            if (belowFloor) ghostFloorSalesRefused++;
        }
    }

    /// @dev A credit order carried out: the account's credit pays the sale (crypto-like: a clean licence's sale is
    /// credited at once, no hold; an uncleared licence's is pending, the new licence held) or the withdrawal.
    function _creditModel(Signed memory o, uint256 id) internal {
        _nextNonce(o.account, "relayCreditOrder");
        uint256 units = uint256(o.amount) * unitsPerCent;
        if (o.action == WITHDRAW) {
            _checkEq(id, 0, "relayCreditOrder: a withdrawal mints nothing");
            modelCredit[o.account] -= units;
            _tokenOut(units);
            ghostCreditWithdrawals++;
        } else {
            if (o.action == BUY_PRIMARY) {
                _checkEq(id, modelNextLicenceId, "relayCreditOrder: licence id not sequential");
                modelNextLicenceId++;
                EditionModel memory ed = _eds[_edIndex[o.target] - 1];
                _mintModel(id, o.to, ed.filmId, ed.quality, 0);
                _primarySplit(ed, ed.price);
                ghostCreditPrimaries++;
            } else {
                _checkEq(id, _resaleIdOf(_off[o.target].licenceId), "relayCreditOrder: not the resale id");
                if (_uncleared(_off[o.target].licenceId)) ghostCreditTainted++;
                // The seller's share first: the market credits it before it debits the buyer.
                _resaleModel(o.target, id, o.to, false);
                ghostCreditResales++;
            }
            modelCredit[o.account] -= units;
        }
        _lastCredit = o;
    }

    /// @dev Buy an edition (4 in 16; one time in sixteen with a bit above the edition key) or an offer (6 in 16, as
    /// {_buyOffer} picks: offers are dearer, fewer accounts cover them), mostly by an account whose credit covers
    /// it, or withdraw (5 in 16), by an account with credit; one time in sixteen an action relayCreditOrder does
    /// not carry out. Withdrawals: sometimes more than the credit, 0, to address 0 or with a target; one in six by
    /// a float account (the operator's or operator2's), to the treasury one time in two. One purchase in eight is
    /// signed by a float account, which the market must refuse (its sale would be credited at once, around the
    /// treasury-only rule).
    function _creditOrder(uint256 seed, Signed memory o) internal view {
        uint256 r = _rand(seed, "credit");
        uint256 k = r % 16;
        // forge-lint: disable-next-line(unsafe-typecast)
        o.action = k == 0
            ? ((r >> 8) % 2 == 0 ? uint8((r >> 16) % 3) : uint8(6 + (r >> 16) % 250))
            : (k < 5 ? BUY_PRIMARY : (k < 11 ? BUY_OFFER : WITHDRAW));
        if (o.action == BUY_PRIMARY) {
            EditionModel memory ed = _eds[_rand(seed, "edition") % _eds.length];
            o.target = _key(ed.filmId, ed.quality);
            uint256 h = _rand(seed, "high");
            // One bit set above the 72 bits of an edition key (not a misordered shift).
            // forge-lint: disable-next-line(incorrect-shift)
            if (h % 16 == 0) o.target |= 1 << (72 + (h >> 8) % 184);
            o.amount = _expectedPrice(seed, ed.price);
            o.to = _recipient(seed);
            o.account = _payer(seed, uint256(ed.price) * unitsPerCent);
            if (_rand(seed, "float buy") % 8 == 0) o.account = (r >> 24) % 2 == 0 ? operator : operator2;
        } else if (o.action == BUY_OFFER) {
            o.target = _pickOfferToBuy(seed);
            uint64 price = _off[o.target].price;
            o.amount = _expectedPrice(seed, price);
            o.to = _recipient(seed);
            o.account = _payer(seed, uint256(price) * unitsPerCent);
            if (_rand(seed, "float buy") % 8 == 0) o.account = (r >> 24) % 2 == 0 ? operator : operator2;
        } else {
            if (_rand(seed, "float") % 6 == 0) o.account = (r >> 24) % 2 == 0 ? operator : operator2;
            else o.account = _payer(seed, 0);
            bool isFloat = modelFloatAccount[o.account];
            uint256 credit = modelCredit[o.account] / unitsPerCent;
            uint256 cap = isFloat ? credit / 8 : credit;
            uint256 a = _rand(seed, "amount");
            uint256 cents;
            if (a % 10 == 0) cents = credit + 1 + (a >> 8) % 1_000;
            else if (a % 29 == 0) cents = 0;
            else cents = _bound(a, 1, cap == 0 ? 1 : cap);
            // Safe: the pool's balances are far below 2**64 cents.
            // forge-lint: disable-next-line(unsafe-typecast)
            o.amount = uint64(cents);
            o.target = _rand(seed, "target") % 16 == 0 ? 1 + (a >> 32) % 1_000 : 0;
            uint256 t = _rand(seed, "to") % 32;
            o.to = t == 0 ? address(0) : (t < 16 ? o.account : sink);
            if (isFloat && t != 0 && t % 2 == 0) o.to = modelTreasury;
        }
    }

    /// @dev Three times in four an account whose credit covers `cost` (not 0), if there is one, else one with a
    /// balance ({_withBalance}); never a float account ({_creditOrder} picks those itself).
    function _payer(uint256 seed, uint256 cost) internal view returns (address a) {
        uint256 start = _rand(seed, "payer");
        if (start % 4 != 0 && cost != 0) {
            for (uint256 i = 0; i < pool.length; i++) {
                a = pool[(start + i) % pool.length];
                if (!modelFloatAccount[a] && modelCredit[a] >= cost) return a;
            }
        }
        a = _withBalance(seed);
        if (modelFloatAccount[a]) a = _user(start >> 8);
    }

    /// @dev `auth`: the account signed the order and its credit covers it (spending more than one's credit is
    /// unauthorised, as in {_withdrawAs}); `expectOk`: and the purchase or withdrawal the account would make
    /// itself succeeds, the order is not expired, and the market is not paused. Buying one's own clean offer
    /// needs only the price less the seller's share, which the market credits before it debits the price.
    /// `belowFloor`: an offer purchase that would be carried out but for the offer's price, under its edition's
    /// current floor.
    function _predictCredit(Signed memory o)
        internal
        view
        returns (bool auth, bool expectOk, bool belowFloor)
    {
        // forge-lint: disable-next-line(block-timestamp)
        bool live = o.deadline >= block.timestamp && !modelPaused && o.to != address(0);
        uint256 credit = modelCredit[o.account];
        // A float account's purchase is refused (see {_creditOrder}).
        bool floatBuy = modelFloatAccount[o.account] && o.action != WITHDRAW;
        if (o.action == WITHDRAW) {
            auth = o.valid && uint256(o.amount) * unitsPerCent <= credit;
            bool payee = !modelFloatAccount[o.account] || o.to == modelTreasury;
            expectOk = auth && live && o.target == 0 && o.amount > 0 && payee;
        } else if (o.action == BUY_PRIMARY) {
            uint256 e = o.target >> 72 == 0 ? _edIndex[o.target] : 0;
            EditionModel memory ed;
            if (e != 0) ed = _eds[e - 1];
            auth = o.valid && uint256(ed.price) * unitsPerCent <= credit;
            expectOk = auth && live && !floatBuy && e != 0 && ed.active && o.amount == ed.price;
        } else if (o.action == BUY_OFFER) {
            OfferModel memory f = _off[o.target];
            if (_lic[f.licenceId].owner == o.account && !_uncleared(f.licenceId)) {
                credit += (uint256(f.price) - (uint256(f.price) * 15) / 100 - uint256(f.price) / 20)
                    * unitsPerCent;
            }
            auth = o.valid && uint256(f.price) * unitsPerCent <= credit;
            expectOk = auth && live && !floatBuy && f.active && o.amount == f.price;
            // An offer below its edition's current floor (raised since it was listed) cannot be bought.
            belowFloor = expectOk && f.price < _floorOf(f.licenceId);
            expectOk = expectOk && !belowFloor;
        } else {
            auth = o.valid;
        }
    }

    // ------------------------------------------------------------------ signing

    /// @dev Sets `o`'s deadline (expired one time in sixteen, exactly now one time in sixteen, else up to a day
    /// ahead) and signs it: as its account over exactly `o` at its current nonce twelve times in sixteen, else with
    /// another account's key, at another nonce, over another amount, or over another recipient or as the other
    /// EIP-712 type (`credit`: a credit order, else a resale order).
    function _sign(uint256 seed, bool credit, Signed memory o) internal view {
        uint256 r = _rand(seed, "sign");
        uint256 v = r % 16;
        uint256 d = _rand(seed, "deadline");
        // forge-lint: disable-next-line(block-timestamp)
        o.deadline = d % 16 == 0
            ? block.timestamp - 1 - (d >> 8) % 1 days
            : block.timestamp + (d % 16 == 1 ? 0 : 1 + (d >> 8) % 1 days);
        uint32 nonce = modelNonce[o.account];
        if (v == 1) nonce = nonce == 0 || (r >> 8) % 2 == 0 ? nonce + 1 : nonce - 1;
        uint64 amount = o.amount;
        address to = o.to;
        bool otherType;
        if (v == 2) o.amount ^= 1;
        else if (v == 3 && credit && (r >> 8) % 2 == 0) o.to = o.to == sink ? o.account : sink;
        else if (v == 3) otherType = true;
        bytes32 structHash = _structHash(credit != otherType, o, nonce);
        (o.amount, o.to) = (amount, to);
        address signer = v == 0 ? _otherAccount(o.account, r >> 16) : o.account;
        (uint8 sv, bytes32 sr, bytes32 ss) = vm.sign(_keys[signer], _digest(structHash));
        o.sig = abi.encodePacked(sr, ss, sv);
        o.valid = v >= 4;
    }

    function _structHash(bool credit, Signed memory o, uint32 nonce) internal pure returns (bytes32) {
        if (credit) {
            return keccak256(
                abi.encode(CREDIT_TYPE, o.account, o.action, o.target, o.amount, o.to, nonce, o.deadline)
            );
        }
        return keccak256(abi.encode(ORDER_TYPE, o.account, o.action, o.target, o.amount, nonce, o.deadline));
    }

    /// @dev The EIP-712 digest of `structHash` in the market's domain (name "Tangible", version "1").
    function _digest(bytes32 structHash) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("Tangible"),
                keccak256("1"),
                block.chainid,
                address(market)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev An account of the pool other than `account`.
    function _otherAccount(address account, uint256 r) internal view returns (address a) {
        a = _poolAt(r);
        if (a == account) a = _poolAt(r + 1);
    }
}
