// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {ITangibleMarket} from "../../src/ITangibleMarket.sol";
import {TestEuro} from "../../src/TestEuro.sol";

/// @dev The model and bookkeeping half of {MarketHandler}: the fixture, the model of everything the market should
/// hold (licences, offers, balances, accruals, pending sales and the licences that replaced uncleared ones, roles,
/// pause, hold and clearance periods, editions and their resale floors, the daily card settlement limit and the
/// day's card settlements), the per-action counters, the
/// views the invariants read, the model updates shared by the actions, the outcome bookkeeping ({_outcome},
/// {_violate}) and the seeded picks of callers, licences, offers and references. The actions are in
/// {MarketActions} and {MarketAdminActions}, the fuzzer's entry points in {MarketHandler}.
abstract contract MarketModel is CommonBase, StdCheats, StdUtils {
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
        DirectTransfer,
        SuspendEdition,
        SetTreasury,
        SetFilmQuota,
        ClearSales,
        SetClearancePeriod,
        RelayOrder,
        RelayCreditOrder,
        SetResaleFloor,
        SetCardSettlementLimit,
        SettleCardBatch
    }

    uint256 public constant ACTION_COUNT = 35; // checked against the enum in the constructor
    /// @dev Platform key role bits of {modelRoles}.
    uint8 internal constant SETTLE = 1;
    uint8 internal constant REVOKE = 2;
    uint8 internal constant REGISTER = 4;
    /// @dev Most resales one revoke follows (the market's `_MAX_HOPS`).
    uint256 internal constant MAX_HOPS = 32;

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

    /// @dev The shares of a sale not credited yet, by the licence the sale minted (see `pendingSale`).
    struct PendingModel {
        uint64 sellerCents;
        uint64 studioCents;
        uint64 platformCents;
        uint32 clearAt; // 0: nothing pending
        uint32 studioId;
        address seller;
        bool tainted; // the licence sold was itself uncleared
        bool card; // paid from an operator's float: a clawback goes back to the float, tainted or not
        uint32 taintedUntil; // the licence sold's clearance time (tainted sales): revoke follows only before it
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
        bool suspended;
        bool byAdmin; // suspended by the admin
        uint64 floor; // resale floor: no listing, reprice or sale of its licences below it
        uint64 lowest; // lowest primary price it ever had: the floor is at most half of it
    }

    /// @dev A card settlement of `price` cents against the daily limit: `within` it, or refused with the cents
    /// settled today and the limit in cents.
    struct CardLimit {
        bool within;
        uint64 settled;
        uint64 price;
        uint64 limitCents;
    }

    struct StudioModel {
        address admin;
        address royalty;
        uint16 bps;
        uint64 creditCents;
        uint16 filmsLeft;
    }

    // ------------------------------------------------------------------ fixture

    TangibleMarket public immutable market;
    TestEuro public immutable euro;
    uint256 public immutable unitsPerCent;
    address public immutable admin;
    address public immutable operator;
    address public immutable operator2; // gets and loses each platform key role during the run
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
    /// @dev Licences resold in stablecoin into their slot (the buyer's id is theirs plus one generation): their
    /// owner and hold are no longer in storage.
    mapping(uint256 licenceId => bool) public modelReplaced;
    /// @dev Platform key roles held: {SETTLE}, {REVOKE}, {REGISTER} bits.
    mapping(address account => uint8) public modelRoles;
    /// @dev Accounts that ever held `SETTLER_ROLE` or `REVOKER_ROLE`: they withdraw to the treasury (the admin)
    /// only.
    mapping(address account => bool) public modelFloatAccount;
    /// @dev Where float accounts withdraw (the admin at deployment).
    address public modelTreasury;
    address public modelPlatform;
    uint64 public modelPlatformCents;
    bool public modelPaused;
    uint24 public modelHold;
    uint256 public modelTokenHeld;
    uint256 public modelNextLicenceId;
    uint256 public modelNextOfferId;

    mapping(uint256 id => PendingModel) internal _pend;
    uint256[] public pendingIds; // licences whose sale is pending (due or not)
    mapping(uint256 id => uint256) internal _pendingIndex; // index + 1
    /// @dev The licence that replaced an uncleared licence sold on.
    mapping(uint256 id => uint256) public successorOf;
    uint32 public modelClearance;
    uint256 public modelPendingUnits; // every pending share, in units

    /// @dev The most card money operators may settle per day, in euros (`cardSettlementLimit`).
    uint32 public modelSettleLimit;
    /// @dev The day (`block.timestamp / 1 days`) of the last card settlement, and the cents settled by card that
    /// day (see {modelSettledToday}).
    uint32 internal _settleDay;
    uint64 internal _settledCents;

    /// @dev Each account's next signed-order nonce (`orderNonce`): moved on by its orders carried out and by its
    /// own updateOffer and cancelOffer.
    mapping(address account => uint32) public modelNonce;
    /// @dev The private key of every account of the pool (see {registerKey}), which signs its orders.
    mapping(address account => uint256) internal _keys;

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
    uint256 public ghostTaintedSales; // resales of an uncleared licence
    uint256 public ghostReplacedInSlot; // stablecoin resales that passed the licence's slot on
    uint256 public ghostCleared; // pending sales credited by clearSales
    uint256 public ghostClawbacks; // pending sales given back by revoke
    uint256 public ghostBuyerRefunds; // of which to the buyer (crypto-paid tainted sales)
    uint256 public ghostTaintedCardClawbacks; // of which card sales of an uncleared licence (to the float)
    uint256 public ghostHops; // of which reached by following a licence that replaced a revoked one
    uint256 public ghostRelayedLists; // resale orders carried out: listings
    uint256 public ghostRelayedChanges; // resale orders carried out: reprices and cancellations
    uint256 public ghostCreditPrimaries; // credit orders carried out: editions bought
    uint256 public ghostCreditResales; // credit orders carried out: offers bought
    uint256 public ghostCreditTainted; // of which of an uncleared licence (pending)
    uint256 public ghostCreditWithdrawals; // credit orders carried out: withdrawals
    uint256 public ghostFloorsAboveOffers; // resale floors set above an active offer's price
    uint256 public ghostFloorPricesRefused; // listings and reprices (signed or not) refused for the floor only
    uint256 public ghostFloorSalesRefused; // purchases of an offer (any way) refused for the floor only
    uint256 public ghostBatchedSales; // card sales settled by settleCardPrimaryBatch
    uint256 public ghostLimitRefused; // card settlements refused by the daily limit only (float aside)

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
        modelRoles[operator_] = SETTLE | REVOKE | REGISTER;
        modelFloatAccount[operator_] = true;
        modelTreasury = admin_;
        modelPlatform = market_.platform();
        modelHold = market_.holdPeriod();
        modelClearance = market_.clearancePeriod();
        (modelSettleLimit, _settledCents) = market_.cardSettlementLimit();
        _settleDay = _today();
        modelTokenHeld = euro_.balanceOf(address(market_));
        modelNextLicenceId = market_.nextLicenceId();
        modelNextOfferId = market_.nextOfferId();
        studioCount = market_.studioCount();
        for (uint32 s = 1; s <= studioCount; s++) {
            TangibleMarket.StudioInfo memory info = market_.studio(s);
            _studios[s] = StudioModel(
                info.admin,
                info.royaltyRecipient,
                info.commissionBps,
                info.creditCents,
                market_.studioFilmsLeft(s)
            );
        }
        for (uint64 f = 1; f <= market_.filmCount(); f++) {
            for (uint8 q = 0; q <= market_.MAX_QUALITY(); q++) {
                try market_.edition(f, q) returns (TangibleMarket.EditionInfo memory e) {
                    _eds.push(
                        EditionModel(
                            f,
                            q,
                            e.studioId,
                            e.priceCents,
                            e.active,
                            e.suspended,
                            false,
                            e.resaleFloorCents,
                            e.lowestPriceCents
                        )
                    );
                    _edIndex[_key(f, q)] = _eds.length;
                } catch {}
            }
        }
    }

    /// @dev Registers the key of a pool account (set-up only: not one of the fuzzed selectors).
    function registerKey(uint256 key) external {
        _keys[vm.addr(key)] = key;
    }

    /// @dev Whether every account of the pool can sign (the set-up registered its key).
    function allKeysRegistered() external view returns (bool) {
        for (uint256 i = 0; i < pool.length; i++) {
            if (_keys[pool[i]] == 0) return false;
        }
        return true;
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

    function pendingCount() external view returns (uint256) {
        return pendingIds.length;
    }

    function allPendingIds() external view returns (uint256[] memory) {
        return pendingIds;
    }

    function pendingModel(uint256 id) external view returns (PendingModel memory) {
        return _pend[id];
    }

    /// @dev The units the model's pending sale of `id` holds.
    function pendingUnits(uint256 id) public view returns (uint256) {
        PendingModel memory p = _pend[id];
        return (uint256(p.sellerCents) + p.studioCents + p.platformCents) * unitsPerCent;
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

    function editionCount() external view returns (uint256) {
        return _eds.length;
    }

    function editionModel(uint256 i) external view returns (EditionModel memory) {
        return _eds[i];
    }

    /// @dev The cents settled by card today: 0 on a day without a card settlement yet.
    function modelSettledToday() public view returns (uint64) {
        return _settleDay == _today() ? _settledCents : 0;
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
        return (uint256(keccak256(abi.encode(ref))) | (1 << 255)) & ~(uint256(0xff) << 192);
    }

    /// @dev The payment reference the next fresh card settlement will use (never used so far).
    function nextFreshRef() public view returns (bytes32) {
        return _freshRef(0);
    }

    /// @dev The `i`-th fresh payment reference from now (the references {_useRef} takes in order).
    function _freshRef(uint256 i) internal view returns (bytes32) {
        return keccak256(abi.encode("tangible-invariant-ref", _refNonce + i));
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
            "directTransfer",
            "suspendEdition",
            "setTreasury",
            "setStudioFilmQuota",
            "clearSales",
            "setClearancePeriod",
            "relayOrder",
            "relayCreditOrder",
            "setResaleFloor",
            "setCardSettlementLimit",
            "settleCardPrimaryBatch"
        ];
        return names[action];
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

    /// @dev Offer `offerId` of licence `id` at `price`, just listed.
    function _openOffer(uint256 offerId, uint256 id, uint64 price) internal {
        _off[offerId] = OfferModel(id, price, true);
        _allOffers.push(offerId);
        activeOffers.push(offerId);
        _activeIndex[offerId] = activeOffers.length;
        _lic[id].offerId = offerId;
    }

    /// @dev `account`'s order nonce moved on (an order carried out, its own reprice or cancellation); the market's
    /// must follow at once.
    function _nextNonce(address account, string memory what) internal {
        modelNonce[account]++;
        if (market.orderNonce(account) != modelNonce[account]) {
            _violate(string.concat(what, ": order nonce"));
        }
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

    /// @dev The licence id a stablecoin-paid resale of `oldId` must mint (the interface's rule, written here).
    /// A licence minted without a hold is replaced in its slot: its id plus one generation (bits 192-199), unless
    /// those bits are all set.
    function _resaleIdOf(uint256 oldId) internal view returns (uint256) {
        if (_lic[oldId].holdUntil == 0 && (oldId >> 192) & 0xff != 0xff) return oldId + (1 << 192);
        return ((uint256(keccak256(abi.encode(oldId))) >> 2) | (1 << 254)) & ~(uint256(0xff) << 192);
    }

    /// @dev A resale of offer `offerId` minted `newId` to `recipient`, paid by card (the operator's float) or in
    /// stablecoin. The shares are pending until `clearAt` if the sale was paid by card or the licence sold is still
    /// uncleared (tainted: it passes its `clearAt` on, is followed by revoke, and the new licence is held), else
    /// credited at once.
    function _resaleModel(uint256 offerId, uint256 newId, address recipient, bool card) internal {
        OfferModel memory o = _off[offerId];
        LicenceModel memory old = _lic[o.licenceId];
        uint32 oldClearAt = _pend[o.licenceId].clearAt;
        // forge-lint: disable-next-line(block-timestamp)
        bool tainted = oldClearAt > block.timestamp;
        uint32 clearAt = card ? _clearAt() : 0;
        if (tainted) {
            if (oldClearAt > clearAt) clearAt = oldClearAt;
            successorOf[o.licenceId] = newId;
            ghostTaintedSales++;
        }
        // The slot rule, written independently of the id rule: a stablecoin sale of a licence minted without a hold
        // (a held one may have a sale pending) passes the slot on below the last generation.
        if (!card && old.holdUntil == 0 && (o.licenceId >> 192) & 0xff != 0xff) {
            modelReplaced[o.licenceId] = true;
            ghostReplacedInSlot++;
        }
        _closeOffer(offerId);
        _revokeModel(o.licenceId, 0);
        _mintModel(newId, recipient, old.filmId, old.quality, card || tainted ? _holdUntil() : 0);
        // Independent split rule: 15 % studio and 5 % platform floored, the seller gets the rest.
        uint64 studioCents = uint64((uint256(o.price) * 15) / 100);
        uint64 platformCents = uint64(uint256(o.price) / 20);
        uint64 sellerCents = o.price - studioCents - platformCents;
        uint32 studioId = _eds[_edIndex[_key(old.filmId, old.quality)] - 1].studioId;
        if (clearAt != 0) {
            _addPending(
                newId,
                PendingModel(
                    sellerCents,
                    studioCents,
                    platformCents,
                    clearAt,
                    studioId,
                    old.owner,
                    tainted,
                    card,
                    tainted ? oldClearAt : 0
                )
            );
        } else {
            modelCredit[old.owner] += uint256(sellerCents) * unitsPerCent;
            _studios[studioId].creditCents += studioCents;
            modelPlatformCents += platformCents;
        }
    }

    function _primarySplit(EditionModel memory ed, uint64 price) internal {
        StudioModel storage s = _studios[ed.studioId];
        uint64 platformCents = uint64((uint256(price) * s.bps) / 10_000);
        s.creditCents += price - platformCents;
        modelPlatformCents += platformCents;
    }

    /// @dev A card primary sale of `id`: the studio's and the platform's shares are pending.
    function _cardPrimaryModel(uint256 id, EditionModel memory ed) internal {
        uint64 platformCents = uint64((uint256(ed.price) * _studios[ed.studioId].bps) / 10_000);
        _addPending(
            id,
            PendingModel(
                0,
                ed.price - platformCents,
                platformCents,
                _clearAt(),
                ed.studioId,
                address(0),
                false,
                true,
                0
            )
        );
    }

    /// @dev Whether a card settlement of `price` cents now keeps the day's card settlements within the daily limit,
    /// and the values the market's refusal must carry.
    function _cardLimit(uint64 price) internal view returns (CardLimit memory c) {
        c.settled = modelSettledToday();
        c.price = price;
        c.limitCents = uint64(modelSettleLimit) * 100;
        c.within = uint256(c.settled) + price <= c.limitCents;
    }

    /// @dev A card settlement of `price` cents now: counted in today's total (the first of a day starts it afresh).
    function _chargeCardModel(uint64 price) internal {
        (_settleDay, _settledCents) = (_today(), modelSettledToday() + price);
    }

    /// @dev A card settlement the model expects the daily limit alone to refuse (a float too small is checked
    /// after it): the market must revert with exactly `MarketCardSettlementLimit(settled, price, limitCents)`.
    function _limitRefused(string memory what, bytes memory err, CardLimit memory c) internal {
        ghostLimitRefused++;
        bytes memory want = abi.encodeWithSelector(
            ITangibleMarket.MarketCardSettlementLimit.selector, c.settled, c.price, c.limitCents
        );
        if (keccak256(err) != keccak256(want)) {
            _violate(string.concat(what, ": not refused by the daily limit"));
        }
    }

    /// @dev The day a card settlement made now counts in (UTC days since the epoch, as the market counts them).
    function _today() internal view returns (uint32) {
        // forge-lint: disable-next-line(block-timestamp)
        return uint32(block.timestamp / 1 days);
    }

    /// @dev Records a pending sale; the market's record must match at once.
    function _addPending(uint256 id, PendingModel memory p) internal {
        _pend[id] = p;
        modelPendingUnits += pendingUnits(id);
        pendingIds.push(id);
        _pendingIndex[id] = pendingIds.length;
        if (!_samePending(id)) _violate("pending sale differs from the model");
    }

    function _removePending(uint256 id) internal {
        modelPendingUnits -= pendingUnits(id);
        delete _pend[id];
        uint256 i = _pendingIndex[id] - 1;
        uint256 last = pendingIds[pendingIds.length - 1];
        pendingIds[i] = last;
        _pendingIndex[last] = i + 1;
        pendingIds.pop();
        delete _pendingIndex[id];
    }

    /// @dev Whether the market's pending record of `id` is the model's (all zero when the model has none).
    function _samePending(uint256 id) internal view returns (bool) {
        TangibleMarket.PendingSale memory m = market.pendingSale(id);
        PendingModel memory p = _pend[id];
        return m.sellerCents == p.sellerCents && m.studioCents == p.studioCents
            && m.platformCents == p.platformCents && m.clearAt == p.clearAt && m.studioId == p.studioId
            && m.seller == p.seller && m.tainted == p.tainted;
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

    /// @dev Hold of a licence minted now by a card payment or from an uncleared licence (with a hold period of 0
    /// it ends at once: the minting time).
    function _holdUntil() internal view returns (uint32) {
        return uint32(block.timestamp) + modelHold;
    }

    /// @dev Clearance time of a card payment made now.
    function _clearAt() internal view returns (uint32) {
        return uint32(block.timestamp) + modelClearance;
    }

    /// @dev Licence `id`'s edition (all zero for a licence never minted).
    function _editionOf(uint256 id) internal view returns (EditionModel memory ed) {
        LicenceModel memory l = _lic[id];
        if (l.owner != address(0)) ed = _eds[_edIndex[_key(l.filmId, l.quality)] - 1];
    }

    /// @dev The resale floor of licence `id`'s edition (0 for a licence never minted).
    function _floorOf(uint256 id) internal view returns (uint64) {
        return _editionOf(id).floor;
    }

    /// @dev Highest resale floor of an edition priced `price`: 50 % of it, rounded down (independent of the
    /// market's `MAX_RESALE_FLOOR_BPS`).
    function _maxFloor(uint64 price) internal pure returns (uint64) {
        return price / 2;
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

    /// @dev A card settler: the operator, sometimes operator2 (whichever roles it holds), or anyone.
    function _settler(uint256 seed) internal view returns (address) {
        return _caller(seed, _rand(seed, "op2") % 5 == 0 ? operator2 : operator);
    }

    /// @dev The studio's admin or a registrar (the operator, sometimes operator2 whichever roles it holds), or
    /// anyone.
    function _studioCaller(uint256 seed, uint32 studioId) internal view returns (address) {
        uint256 who = _rand(seed, "who");
        return _caller(seed, who % 2 == 0 ? _studios[studioId].admin : (who % 10 == 1 ? operator2 : operator));
    }

    /// @dev The admin, an operator (sometimes operator2, whichever roles it holds), or anyone.
    function _platformCaller(uint256 seed) internal view returns (address) {
        uint256 who = _rand(seed, "who");
        return _caller(seed, who % 2 == 0 ? admin : (who % 10 == 1 ? operator2 : operator));
    }

    /// @dev Whether `account` holds the platform key role(s) `bits`.
    function _has(address account, uint8 bits) internal view returns (bool) {
        return modelRoles[account] & bits != 0;
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

    /// @dev A resale price of licence `id`: below the market's minimum one time in `belowMin`, one time in five
    /// around its edition's floor (one cent under it, at it or one over; when it has none, a price up to half the
    /// edition's, under the highest floor the studio may set later: see {MarketAdminActions-_setResaleFloor}), else 20
    /// cents to 1,000 euros.
    function _resalePrice(uint256 r, uint256 belowMin, uint256 id) internal view returns (uint64) {
        // The casts are safe: the values are below 100,001 (a floor is at most half an edition's lowest price).
        // forge-lint: disable-next-line(unsafe-typecast)
        if (r % belowMin == 0) return uint64(r % 20);
        if ((r >> 128) % 5 == 0) {
            EditionModel memory ed = _editionOf(id);
            if (ed.floor != 0) return ed.floor - 1 + uint64((r >> 8) % 3);
            // forge-lint: disable-next-line(unsafe-typecast)
            return uint64(_bound(r >> 8, 20, 20 + _maxFloor(ed.price)));
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_bound(r, 20, 100_000));
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

    /// @dev For listing: four times in five a live licence without an offer and off hold, if one is found quickly;
    /// one time in three of those, one whose sale is still uncleared (so that uncleared licences are resold).
    function _pickListable(uint256 seed) internal view returns (uint256 id) {
        (id,) = _pickLicence(seed);
        if (_rand(seed, "listable") % 5 == 0 || _live.length == 0) return id;
        if (_rand(seed, "uncleared") % 3 == 0) {
            uint256 from = _rand(seed, "from");
            for (uint256 i = 0; i < 8 && i < pendingIds.length; i++) {
                uint256 c = pendingIds[(from + i) % pendingIds.length];
                LicenceModel memory l = _lic[c];
                // forge-lint: disable-next-line(block-timestamp)
                if (l.live && l.offerId == 0 && l.holdUntil <= block.timestamp && _uncleared(c)) return c;
            }
        }
        uint256 start = _rand(seed, "start");
        for (uint256 i = 0; i < 8 && i < _live.length; i++) {
            uint256 c = _live[(start + i) % _live.length];
            LicenceModel memory l = _lic[c];
            // forge-lint: disable-next-line(block-timestamp)
            if (l.offerId == 0 && l.holdUntil <= block.timestamp) return c;
        }
        return id;
    }

    /// @dev For buying: one time in eight an active offer below its edition's current floor (raised since it
    /// was listed: the market must refuse it), one time in three an active offer of a licence whose sale is still
    /// uncleared, each if one is found quickly, else as {_pickOffer}.
    function _pickOfferToBuy(uint256 seed) internal view returns (uint256) {
        if (_rand(seed, "below floor") % 8 == 0) {
            uint256 from = _rand(seed, "from floor");
            for (uint256 i = 0; i < 8 && i < activeOffers.length; i++) {
                uint256 offerId = activeOffers[(from + i) % activeOffers.length];
                if (_off[offerId].price < _floorOf(_off[offerId].licenceId)) return offerId;
            }
        }
        if (_rand(seed, "uncleared") % 3 == 0) {
            uint256 from = _rand(seed, "from");
            for (uint256 i = 0; i < 8 && i < activeOffers.length; i++) {
                uint256 offerId = activeOffers[(from + i) % activeOffers.length];
                if (_uncleared(_off[offerId].licenceId)) return offerId;
            }
        }
        return _pickOffer(seed);
    }

    /// @dev Whether the sale that minted `id` is pending and not due yet.
    function _uncleared(uint256 id) internal view returns (bool) {
        // forge-lint: disable-next-line(block-timestamp)
        return _pend[id].clearAt > block.timestamp;
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
