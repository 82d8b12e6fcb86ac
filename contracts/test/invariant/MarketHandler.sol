// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {TestEuro} from "../../src/TestEuro.sol";

/// @dev Model-based handler of the market. It keeps its own model of everything the market should hold
/// (licences, offers, balances, accruals, roles, pause, hold period, editions), picks live licences and active
/// offers from that model, warps past holds and uses fresh payment references. Every action is tried by the
/// authorised account most of the time and by any account of the pool otherwise, sometimes with a bad argument;
/// the model predicts whether the call must succeed. A call whose outcome differs from the prediction is
/// recorded as a violation (and an unauthorised call that succeeds also sets {ghostUnauthorisedSuccess}); the
/// invariants check both are clean and compare the model with the market after every call.
/// Each action's successes, rejections and rejections of unauthorised callers are counted per run.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    // ------------------------------------------------------------------ actions

    enum Action {
        BuyPrimary,
        SettleCardPrimary,
        List,
        UpdateOffer,
        CancelOffer,
        BuyOffer,
        SettleCardOffer,
        Revoke,
        Deposit,
        Withdraw,
        WithdrawFloat,
        WithdrawStudio,
        WithdrawPlatform,
        Pause,
        Unpause,
        SetHoldPeriod,
        UpdateEdition,
        WithdrawEdition,
        ReactivateEdition,
        SetCommission,
        UpdateStudio,
        SetPlatform,
        SetOperatorRole,
        Warp,
        DirectTransfer
    }

    uint256 public constant ACTION_COUNT = 25; // checked against the enum in the constructor

    // ------------------------------------------------------------------ model types

    struct LicenceModel {
        address owner;
        uint64 filmId;
        uint8 quality;
        uint32 holdUntil;
        bool live;
        uint8 reason;
        uint256 offerId; // active offer, 0 = none
    }

    struct OfferModel {
        uint256 licenceId;
        uint64 price;
        bool active;
    }

    struct EditionModel {
        uint64 filmId;
        uint8 quality;
        uint32 studioId;
        uint64 price;
        bool active;
    }

    struct StudioModel {
        address admin;
        address royalty;
        uint16 bps;
        uint64 creditCents;
    }

    // ------------------------------------------------------------------ fixture

    TangibleMarket public immutable market;
    TestEuro public immutable euro;
    uint256 public immutable unitsPerCent;
    address public immutable admin;
    address public immutable operator;
    address public immutable operator2; // gets and loses OPERATOR_ROLE during the run
    address public immutable sink; // receives withdrawals, holds nothing in the market
    /// @dev Longest single warp: longer than the usual hold periods so holds expire within a run.
    uint256 public immutable maxWarp;

    address[] public users; // licence holders and buyers
    address[] public pool; // every account that calls the market (users, roles, payees, a stranger)
    address[] public royaltyChoices;
    address[] public platformChoices;

    // ------------------------------------------------------------------ model

    mapping(uint256 id => LicenceModel) internal _lic;
    uint256[] public allLicences;
    uint256[] internal _live;
    mapping(uint256 id => uint256) internal _liveIndex; // index + 1

    mapping(uint256 offerId => OfferModel) internal _off;
    uint256[] internal _allOffers;
    uint256[] public activeOffers;
    mapping(uint256 offerId => uint256) internal _activeIndex; // index + 1

    EditionModel[] internal _eds;
    mapping(uint256 key => uint256) internal _edIndex; // index + 1
    mapping(uint32 studioId => StudioModel) internal _studios;
    uint32 public studioCount;

    mapping(address account => uint256) public modelCredit; // stablecoin units
    mapping(address account => uint256) public modelLive; // live licences held
    mapping(address account => bool) public modelOperator;
    address public modelPlatform;
    uint64 public modelPlatformCents;
    bool public modelPaused;
    uint24 public modelHold;
    uint256 public modelTokenHeld;
    uint256 public modelNextLicenceId;
    uint256 public modelNextOfferId;

    uint256 internal _refNonce;
    bytes32[] public usedRefs;
    mapping(bytes32 ref => bool) public refUsed;

    // ------------------------------------------------------------------ ghosts

    uint256[ACTION_COUNT] internal _ok;
    uint256[ACTION_COUNT] internal _rejected;
    uint256[ACTION_COUNT] internal _denied;
    uint256 public violations;
    string public firstViolation;
    bool public ghostUnauthorisedSuccess;
    uint256 public ghostTokenIn;
    uint256 public ghostTokenOut;

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
    ) {
        require(uint256(type(Action).max) + 1 == ACTION_COUNT, "ACTION_COUNT");
        market = market_;
        euro = euro_;
        unitsPerCent = market_.unitsPerCent();
        admin = admin_;
        operator = operator_;
        operator2 = makeAddr("operator2");
        sink = makeAddr("sink");
        maxWarp = maxWarp_;
        users = users_;
        royaltyChoices = royaltyChoices_;
        platformChoices = platformChoices_;
        for (uint256 i = 0; i < users_.length; i++) {
            pool.push(users_[i]);
        }
        for (uint256 i = 0; i < others_.length; i++) {
            pool.push(others_[i]);
        }
        pool.push(operator2);
        for (uint256 i = 0; i < pool.length; i++) {
            vm.prank(pool[i]);
            euro.approve(address(market_), type(uint256).max);
            modelCredit[pool[i]] = market_.balanceOfCredit(pool[i]);
        }
        modelOperator[operator_] = true;
        modelPlatform = market_.platform();
        modelHold = market_.holdPeriod();
        modelTokenHeld = euro_.balanceOf(address(market_));
        modelNextLicenceId = market_.nextLicenceId();
        modelNextOfferId = market_.nextOfferId();
        studioCount = market_.studioCount();
        for (uint32 s = 1; s <= studioCount; s++) {
            TangibleMarket.StudioInfo memory info = market_.studio(s);
            _studios[s] = StudioModel(info.admin, info.royaltyRecipient, info.commissionBps, info.creditCents);
        }
        for (uint64 f = 1; f <= market_.filmCount(); f++) {
            for (uint8 q = 0; q <= market_.MAX_QUALITY(); q++) {
                try market_.edition(f, q) returns (TangibleMarket.EditionInfo memory e) {
                    _eds.push(EditionModel(f, q, e.studioId, e.priceCents, e.active));
                    _edIndex[_key(f, q)] = _eds.length;
                } catch {}
            }
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function poolCount() external view returns (uint256) {
        return pool.length;
    }

    function userCount() external view returns (uint256) {
        return users.length;
    }

    function licenceCount() external view returns (uint256) {
        return allLicences.length;
    }

    function liveCount() external view returns (uint256) {
        return _live.length;
    }

    function activeOfferCount() external view returns (uint256) {
        return activeOffers.length;
    }

    function usedRefCount() external view returns (uint256) {
        return usedRefs.length;
    }

    function licenceModel(uint256 id) external view returns (LicenceModel memory) {
        return _lic[id];
    }

    function offerModel(uint256 offerId) external view returns (OfferModel memory) {
        return _off[offerId];
    }

    function studioModel(uint32 studioId) external view returns (StudioModel memory) {
        return _studios[studioId];
    }

    function okCount(uint256 action) external view returns (uint256) {
        return _ok[action];
    }

    function rejectedCount(uint256 action) external view returns (uint256) {
        return _rejected[action];
    }

    function deniedCount(uint256 action) external view returns (uint256) {
        return _denied[action];
    }

    /// @dev The card licence id of `ref`, computed here independently of the market.
    function cardId(bytes32 ref) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(ref))) | (1 << 255);
    }

    /// @dev The payment reference the next fresh card settlement will use (never used so far).
    function nextFreshRef() public view returns (bytes32) {
        return keccak256(abi.encode("tangible-invariant-ref", _refNonce));
    }

    function actionName(uint256 action) external pure returns (string memory) {
        string[ACTION_COUNT] memory names = [
            "buyPrimary",
            "settleCardPrimary",
            "list",
            "updateOffer",
            "cancelOffer",
            "buyOffer",
            "settleCardOffer",
            "revoke",
            "deposit",
            "withdraw",
            "withdrawFloat",
            "withdrawStudio",
            "withdrawPlatform",
            "pause",
            "unpause",
            "setHoldPeriod",
            "updateEdition",
            "withdrawEdition",
            "reactivateEdition",
            "setStudioCommission",
            "updateStudio",
            "setPlatform",
            "grant/revokeOperator",
            "warp",
            "directTransfer"
        ];
        return names[action];
    }

    /// @dev The selectors the fuzzer calls, each repeated by its weight (the fuzzer picks uniformly from the
    /// list): sales and listings more often than administration, so resales happen many times per run.
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
            this.tryDirectTransfer.selector
        ];
        uint8[ACTION_COUNT] memory weight =
            [3, 3, 5, 2, 2, 3, 3, 2, 1, 2, 2, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 1, 1, 3, 1];
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
        bool auth = modelOperator[caller];
        bool expectOk = auth && !modelPaused && ed.active && expected == ed.price && recipient != address(0)
            && ref != bytes32(0) && !refUsed[ref] && modelCredit[caller] >= cost;
        vm.prank(caller);
        try market.settleCardPrimary(ed.filmId, ed.quality, expected, recipient, ref) returns (uint256 id) {
            if (_outcome(Action.SettleCardPrimary, auth, expectOk, true)) {
                _checkEq(id, cardId(ref), "settleCardPrimary: card licence id");
                _useRef(ref);
                _mintModel(id, recipient, ed.filmId, ed.quality, _holdUntil());
                _primarySplit(ed, ed.price);
                modelCredit[caller] -= cost;
            }
        } catch {
            _outcome(Action.SettleCardPrimary, auth, expectOk, false);
        }
    }

    function _list(uint256 seed) internal {
        uint256 id = _pickListable(seed);
        LicenceModel memory l = _lic[id];
        address caller = _caller(_rand(seed, "caller"), l.owner == address(0) ? _poolAt(seed) : l.owner);
        uint256 r = _rand(seed, "price");
        // Both casts are safe: the values are below 100,001.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 price = r % 10 == 0 ? uint64(r % 20) : uint64(_bound(r, 20, 100_000));
        bool auth = l.owner != address(0) && caller == l.owner;
        // forge-lint: disable-next-line(block-timestamp)
        bool offHold = l.holdUntil <= block.timestamp;
        bool expectOk = auth && !modelPaused && l.live && offHold && price >= 20 && l.offerId == 0;
        vm.prank(caller);
        try market.list(id, price) returns (uint256 offerId) {
            if (_outcome(Action.List, auth, expectOk, true)) {
                _checkEq(offerId, modelNextOfferId, "list: offer id not sequential");
                modelNextOfferId++;
                _off[offerId] = OfferModel(id, price, true);
                _allOffers.push(offerId);
                activeOffers.push(offerId);
                _activeIndex[offerId] = activeOffers.length;
                _lic[id].offerId = offerId;
            }
        } catch {
            _outcome(Action.List, auth, expectOk, false);
        }
    }

    function _updateOffer(uint256 seed) internal {
        uint256 offerId = _pickOffer(seed);
        OfferModel memory o = _off[offerId];
        address seller = _lic[o.licenceId].owner;
        address caller = _caller(_rand(seed, "caller"), seller == address(0) ? _poolAt(seed) : seller);
        uint256 r = _rand(seed, "price");
        // Both casts are safe: the values are below 100,001.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 price = r % 12 == 0 ? uint64(r % 20) : uint64(_bound(r, 20, 100_000));
        bool auth = seller != address(0) && caller == seller;
        bool expectOk = auth && o.active && !modelPaused && price >= 20;
        vm.prank(caller);
        try market.updateOffer(offerId, price) {
            if (_outcome(Action.UpdateOffer, auth, expectOk, true)) _off[offerId].price = price;
        } catch {
            _outcome(Action.UpdateOffer, auth, expectOk, false);
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
            if (_outcome(Action.CancelOffer, auth, expectOk, true)) _closeOffer(offerId);
        } catch {
            _outcome(Action.CancelOffer, auth, expectOk, false);
        }
    }

    function _buyOffer(uint256 seed) internal {
        uint256 offerId = _pickOffer(seed);
        OfferModel memory o = _off[offerId];
        address buyer = _poolAt(_rand(seed, "buyer"));
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, o.price);
        bool expectOk = o.active && !modelPaused && expected == o.price && recipient != address(0);
        vm.prank(buyer);
        try market.buyOffer(offerId, expected, recipient) returns (uint256 id) {
            if (_outcome(Action.BuyOffer, true, expectOk, true)) {
                _checkEq(id, modelNextLicenceId, "buyOffer: licence id not sequential");
                modelNextLicenceId++;
                _resaleModel(offerId, id, recipient, 0);
                _tokenIn(uint256(o.price) * unitsPerCent);
            }
        } catch {
            _outcome(Action.BuyOffer, true, expectOk, false);
        }
    }

    function _settleCardOffer(uint256 seed) internal {
        uint256 offerId = _pickOffer(seed);
        OfferModel memory o = _off[offerId];
        address caller = _settler(seed);
        bytes32 ref = _ref(seed);
        address recipient = _recipient(seed);
        uint64 expected = _expectedPrice(seed, o.price);
        uint256 cost = uint256(o.price) * unitsPerCent;
        bool auth = modelOperator[caller];
        bool expectOk = auth && o.active && !modelPaused && expected == o.price && recipient != address(0)
            && ref != bytes32(0) && !refUsed[ref] && modelCredit[caller] >= cost;
        vm.prank(caller);
        try market.settleCardOffer(offerId, expected, recipient, ref) returns (uint256 id) {
            if (_outcome(Action.SettleCardOffer, auth, expectOk, true)) {
                _checkEq(id, cardId(ref), "settleCardOffer: card licence id");
                _useRef(ref);
                modelCredit[caller] -= cost;
                _resaleModel(offerId, id, recipient, _holdUntil());
            }
        } catch {
            _outcome(Action.SettleCardOffer, auth, expectOk, false);
        }
    }

    /// @dev Half of the picks are any licence ever minted, so revocation does not empty the live set.
    function _revoke(uint256 seed) internal {
        (uint256 id,) = _pickLicence(seed);
        uint256 any = _rand(seed, "any");
        if (any % 2 == 0 && allLicences.length != 0) id = allLicences[(any >> 8) % allLicences.length];
        LicenceModel memory l = _lic[id];
        address caller = _caller(_rand(seed, "caller"), _rand(seed, "op2") % 4 == 0 ? operator2 : operator);
        uint256 r = _rand(seed, "reason");
        // Both casts are safe: the values are at most 255.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 reason = r % 10 == 0 ? (r % 20 == 0 ? 0 : uint8(_bound(r, 4, 255))) : uint8(1 + r % 3);
        bool auth = modelOperator[caller];
        bool expectOk = auth && l.live && reason >= 1 && reason <= 3; // allowed while paused
        vm.prank(caller);
        try market.revoke(id, reason) {
            if (_outcome(Action.Revoke, auth, expectOk, true)) {
                if (l.offerId != 0) _closeOffer(l.offerId);
                _revokeModel(id, reason);
            }
        } catch {
            _outcome(Action.Revoke, auth, expectOk, false);
        }
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

    /// @dev The operator withdraws part of its card float; one time in four someone else tries to take it.
    function _withdrawFloat(uint256 seed) internal {
        address caller = _caller(seed, operator);
        uint256 cap = caller == operator ? modelCredit[operator] / 8 : modelCredit[operator];
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
        bool auth = amount <= credit; // taking more than one's own balance is unauthorised
        bool expectOk = auth && !modelPaused && amount > 0 && to != address(0);
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
        bool auth = exists && (caller == s.royalty || caller == s.admin || modelOperator[caller]);
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
        address caller = _caller(seed, _rand(seed, "who") % 2 == 0 ? admin : operator);
        bool auth = caller == admin || modelOperator[caller];
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
        address caller = _caller(seed, _rand(seed, "who") % 2 == 0 ? admin : operator);
        bool auth = caller == admin || modelOperator[caller];
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

    /// @dev One random action while the market is paused: pausable ones must revert, the others (cancel,
    /// revoke, registry and admin changes) still work.
    function _probe(uint256 seed) internal {
        uint256 k = seed % 12;
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

    function _updateEdition(uint256 seed) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        EditionModel memory ed = _eds[e];
        address caller = _studioCaller(seed, ed.studioId);
        uint256 r = _rand(seed, "price");
        uint64 price = r % 20 == 0 ? 0 : uint64(_bound(r, 1, 5_000));
        bytes32 master = r % 33 == 0 ? bytes32(0) : keccak256(abi.encode("master", r));
        bool auth = modelOperator[caller] || caller == _studios[ed.studioId].admin;
        bool expectOk = auth && price > 0 && master != bytes32(0);
        vm.prank(caller);
        try market.updateEdition(ed.filmId, ed.quality, master, price) {
            if (_outcome(Action.UpdateEdition, auth, expectOk, true)) _eds[e].price = price;
        } catch {
            _outcome(Action.UpdateEdition, auth, expectOk, false);
        }
    }

    /// @dev Withdraws a random edition, or reactivates a withdrawn one (so editions are mostly on sale).
    function _setEditionActive(uint256 seed, bool active) internal {
        uint256 e = _rand(seed, "edition") % _eds.length;
        if (active && _rand(seed, "pick") % 8 != 0) {
            for (uint256 i = 0; i < _eds.length; i++) {
                uint256 j = (e + i) % _eds.length;
                if (!_eds[j].active) {
                    e = j;
                    break;
                }
            }
        }
        EditionModel memory ed = _eds[e];
        address caller = _studioCaller(seed, ed.studioId);
        bool auth = modelOperator[caller] || caller == _studios[ed.studioId].admin;
        bool expectOk = auth && ed.active != active;
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

    function _setCommission(uint256 seed) internal {
        uint32 studioId = uint32(1 + _rand(seed, "studio") % studioCount);
        address caller = _caller(seed, _rand(seed, "who") % 2 == 0 ? admin : operator);
        uint256 r = _rand(seed, "bps");
        // Both casts are safe: the values are bounded to uint16.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint16 bps = r % 10 == 0 ? uint16(_bound(r, 3_001, type(uint16).max)) : uint16(r % 3_001);
        bool auth = caller == admin || modelOperator[caller];
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
        address caller = _studioCaller(seed, studioId);
        address next = royaltyChoices[_rand(seed, "next") % royaltyChoices.length];
        bool auth = modelOperator[caller] || caller == s.admin;
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

    /// @dev Grants or revokes the operator role of `operator2`, which then settles card sales or cannot.
    function _setOperatorRole(uint256 seed) internal {
        address caller = _caller(seed, admin);
        bool grant = _rand(seed, "grant") % 2 == 0;
        bytes32 role = market.OPERATOR_ROLE();
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
        if (_outcome(Action.SetOperatorRole, auth, auth, ok)) modelOperator[operator2] = grant;
    }

    // ------------------------------------------------------------------ model updates

    function _mintModel(uint256 id, address to, uint64 filmId, uint8 quality, uint32 holdUntil) internal {
        if (_lic[id].owner != address(0)) _violate("licence id minted twice");
        _lic[id] = LicenceModel(to, filmId, quality, holdUntil, true, 0, 0);
        allLicences.push(id);
        _live.push(id);
        _liveIndex[id] = _live.length;
        modelLive[to]++;
        // The market's record of the new licence must match at once (hold included).
        try market.licence(id) returns (TangibleLicence.LicenceInfo memory m) {
            // forge-lint: disable-next-line(block-timestamp)
            bool mintedNow = m.acquiredAt == block.timestamp;
            if (
                m.owner != to || m.filmId != filmId || m.quality != quality || m.holdUntil != holdUntil
                    || m.revoked || !mintedNow
            ) _violate("minted licence differs from the model");
        } catch {
            _violate("minted licence not found");
        }
    }

    function _revokeModel(uint256 id, uint8 reason) internal {
        LicenceModel storage l = _lic[id];
        l.live = false;
        l.reason = reason;
        modelLive[l.owner]--;
        uint256 i = _liveIndex[id] - 1;
        uint256 last = _live[_live.length - 1];
        _live[i] = last;
        _liveIndex[last] = i + 1;
        _live.pop();
        delete _liveIndex[id];
    }

    function _closeOffer(uint256 offerId) internal {
        _off[offerId].active = false;
        _lic[_off[offerId].licenceId].offerId = 0;
        uint256 i = _activeIndex[offerId] - 1;
        uint256 last = activeOffers[activeOffers.length - 1];
        activeOffers[i] = last;
        _activeIndex[last] = i + 1;
        activeOffers.pop();
        delete _activeIndex[offerId];
    }

    function _resaleModel(uint256 offerId, uint256 newId, address recipient, uint32 holdUntil) internal {
        OfferModel memory o = _off[offerId];
        LicenceModel memory old = _lic[o.licenceId];
        _closeOffer(offerId);
        _revokeModel(o.licenceId, 0);
        _mintModel(newId, recipient, old.filmId, old.quality, holdUntil);
        // Independent split rule: 15 % studio and 5 % platform floored, the seller gets the rest.
        uint64 studioCents = uint64((uint256(o.price) * 15) / 100);
        uint64 platformCents = uint64(uint256(o.price) / 20);
        uint64 sellerCents = o.price - studioCents - platformCents;
        modelCredit[old.owner] += uint256(sellerCents) * unitsPerCent;
        _studios[_eds[_edIndex[_key(old.filmId, old.quality)] - 1].studioId].creditCents += studioCents;
        modelPlatformCents += platformCents;
    }

    function _primarySplit(EditionModel memory ed, uint64 price) internal {
        StudioModel storage s = _studios[ed.studioId];
        uint64 platformCents = uint64((uint256(price) * s.bps) / 10_000);
        s.creditCents += price - platformCents;
        modelPlatformCents += platformCents;
    }

    function _useRef(bytes32 ref) internal {
        refUsed[ref] = true;
        usedRefs.push(ref);
        if (ref == nextFreshRef()) _refNonce++;
    }

    function _tokenIn(uint256 amount) internal {
        modelTokenHeld += amount;
        ghostTokenIn += amount;
    }

    function _tokenOut(uint256 amount) internal {
        modelTokenHeld -= amount;
        ghostTokenOut += amount;
    }

    function _holdUntil() internal view returns (uint32) {
        return modelHold == 0 ? 0 : uint32(block.timestamp) + modelHold;
    }

    // ------------------------------------------------------------------ outcome bookkeeping

    /// @dev Records an attempt of `action` and whether it matched the model's prediction.
    /// @return expected The call succeeded as predicted: the caller updates the model. An unexpected success is
    /// recorded as a violation and leaves the model as it was.
    function _outcome(Action action, bool auth, bool expectOk, bool ok) internal returns (bool expected) {
        uint256 a = uint256(action);
        if (ok) {
            _ok[a]++;
            if (!auth) {
                ghostUnauthorisedSuccess = true;
                _violate(string.concat(this.actionName(a), ": an unauthorised caller succeeded"));
            } else if (!expectOk) {
                _violate(string.concat(this.actionName(a), ": succeeded where the model expects a revert"));
            }
        } else {
            _rejected[a]++;
            if (!auth) _denied[a]++;
            if (expectOk) {
                _violate(string.concat(this.actionName(a), ": reverted where the model expects success"));
            }
        }
        return ok && expectOk;
    }

    function _violate(string memory what) internal {
        if (violations == 0) firstViolation = what;
        violations++;
    }

    function _checkEq(uint256 a, uint256 b, string memory what) internal {
        if (a != b) _violate(what);
    }

    // ------------------------------------------------------------------ picks

    function _rand(uint256 seed, string memory salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _poolAt(uint256 seed) internal view returns (address) {
        return pool[seed % pool.length];
    }

    function _user(uint256 seed) internal view returns (address) {
        return users[seed % users.length];
    }

    /// @dev The authorised account three times in four, else any account of the pool.
    function _caller(uint256 seed, address authorised) internal view returns (address) {
        uint256 r = _rand(seed, "caller");
        return r % 4 == 0 ? _poolAt(r >> 8) : authorised;
    }

    /// @dev A card settler: the operator, sometimes operator2 (whether it holds the role or not), or anyone.
    function _settler(uint256 seed) internal view returns (address) {
        return _caller(seed, _rand(seed, "op2") % 5 == 0 ? operator2 : operator);
    }

    /// @dev The studio's admin or an operator, or anyone.
    function _studioCaller(uint256 seed, uint32 studioId) internal view returns (address) {
        return _caller(seed, _rand(seed, "who") % 2 == 0 ? _studios[studioId].admin : operator);
    }

    /// @dev A user, address 0 one time in 32.
    function _recipient(uint256 seed) internal view returns (address) {
        uint256 r = _rand(seed, "recipient");
        return r % 32 == 0 ? address(0) : _user(r >> 8);
    }

    /// @dev The right price seven times in eight, else one cent off.
    function _expectedPrice(uint256 seed, uint64 price) internal pure returns (uint64) {
        uint256 r = _rand(seed, "expected");
        if (r % 8 != 0) return price;
        return (r >> 8) % 2 == 0 || price == 0 ? price + 1 : price - 1;
    }

    /// @dev A fresh payment reference 7 times in 8, else a used one (if any) or zero.
    function _ref(uint256 seed) internal view returns (bytes32) {
        uint256 r = _rand(seed, "ref");
        if (r % 8 != 0) return nextFreshRef();
        if (r % 16 == 0 || usedRefs.length == 0) return bytes32(0);
        return usedRefs[(r >> 8) % usedRefs.length];
    }

    /// @dev A live licence 85 % of the time, else any minted one (revoked included) or one never minted.
    function _pickLicence(uint256 seed) internal view returns (uint256 id, bool live) {
        uint256 r = _rand(seed, "licence");
        if (r % 20 < 17 && _live.length != 0) return (_live[(r >> 8) % _live.length], true);
        if (r % 20 < 19 && allLicences.length != 0) {
            id = allLicences[(r >> 8) % allLicences.length];
            return (id, _lic[id].live);
        }
        return ((r >> 8) % type(uint128).max + type(uint64).max, false); // never minted
    }

    /// @dev For listing: four times in five a live licence without an offer and off hold, if one is found quickly.
    function _pickListable(uint256 seed) internal view returns (uint256 id) {
        (id,) = _pickLicence(seed);
        if (_rand(seed, "listable") % 5 == 0 || _live.length == 0) return id;
        uint256 start = _rand(seed, "start");
        for (uint256 i = 0; i < 8 && i < _live.length; i++) {
            uint256 c = _live[(start + i) % _live.length];
            LicenceModel memory l = _lic[c];
            // forge-lint: disable-next-line(block-timestamp)
            if (l.offerId == 0 && l.holdUntil <= block.timestamp) return c;
        }
        return id;
    }

    /// @dev An active offer 85 % of the time, else any offer ever listed or one never listed.
    function _pickOffer(uint256 seed) internal view returns (uint256) {
        uint256 r = _rand(seed, "offer");
        if (r % 20 < 17 && activeOffers.length != 0) return activeOffers[(r >> 8) % activeOffers.length];
        if (r % 20 < 19 && _allOffers.length != 0) return _allOffers[(r >> 8) % _allOffers.length];
        return modelNextOfferId + 1 + (r >> 8) % 1000; // never listed
    }

    /// @dev An account with a balance (if one is found quickly), else any account of the pool.
    function _withBalance(uint256 seed) internal view returns (address) {
        uint256 start = _rand(seed, "who");
        if (start % 5 != 0) {
            for (uint256 i = 0; i < pool.length; i++) {
                address a = pool[(start + i) % pool.length];
                if (modelCredit[a] != 0 && a != operator) return a;
            }
        }
        return _poolAt(start);
    }

    function _key(uint64 filmId, uint8 quality) internal pure returns (uint256) {
        return (uint256(filmId) << 8) | quality;
    }
}
