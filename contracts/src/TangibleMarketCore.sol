// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TangibleLicence} from "./TangibleLicence.sol";
import {ITangibleMarket} from "./ITangibleMarket.sol";
import {SplitLib} from "./lib/SplitLib.sol";

/// @title TangibleMarketCore
/// @notice What {TangibleMarket} and {TangibleMarketAdmin} share: the whole storage layout, the constants and the
/// cold administrative functions (implemented here, run by {TangibleMarketAdmin} in the market's storage).
/// @dev Both contracts inherit this one and nothing else with storage, so their layouts are the same slot for
/// slot: {TangibleMarket} forwards the cold functions to {TangibleMarketAdmin} by `delegatecall`, which keeps the
/// market under the 24,576-byte code limit (EIP-170) with one address and one ABI.
abstract contract TangibleMarketCore is TangibleLicence, ReentrancyGuardTransient, ITangibleMarket {
    using SafeERC20 for IERC20;

    /// @notice Default hold period of card-paid licences: 3 days.
    uint24 public constant DEFAULT_HOLD_PERIOD = 3 days;
    /// @notice Longest configurable hold period: 90 days.
    uint24 public constant MAX_HOLD_PERIOD = 90 days;
    /// @notice Default clearance period of card-paid money: 120 days, the usual card dispute window (see
    /// {pendingSale}).
    uint32 public constant DEFAULT_CLEARANCE_PERIOD = 120 days;
    /// @notice Longest configurable clearance period: 180 days.
    uint32 public constant MAX_CLEARANCE_PERIOD = 180 days;
    /// @notice Default most card money settlers may settle from their floats per day, in euros (see
    /// {setCardSettlementLimit}).
    uint32 public constant DEFAULT_CARD_SETTLEMENT_LIMIT_EUROS = 50_000;
    /// @dev Most resales one {revoke} follows (a longer chain is unwound by revoking again, see {revoke}).
    uint256 internal constant _MAX_HOPS = 32;
    /// @notice Smallest resale price in cents (every share > 0).
    uint64 public constant MIN_RESALE_PRICE_CENTS = SplitLib.MIN_RESALE_PRICE_CENTS;
    /// @notice Most decimals the settlement stablecoin may have.
    uint8 public constant MAX_TOKEN_DECIMALS = 18;
    /// @dev Bit set in every card licence id, never in a sequential or a resale one: the one bit that tells a
    /// card licence.
    uint256 internal constant _CARD_ID_FLAG = 1 << 255;
    /// @dev Bit set in the licence id a resale paid in stablecoin mints in a slot of its own (a held licence's, or
    /// the last generation's, see {TangibleMarketViews-resaleLicenceId}), and in that id's later generations; never
    /// in a sequential one; card ids may carry it too (test bit 255 first).
    uint256 internal constant _RESALE_ID_FLAG = 1 << 254;

    /// @dev Hot configuration slot, read on every sale and credited with the platform's share.
    struct Config {
        address platform;
        uint24 holdPeriod;
        bool paused;
        uint64 platformCreditCents;
    }

    /// @dev Sequential id counters, and the day's card settlements (one slot: a card settlement already reads it
    /// for the clearance period, so its limit costs one write, not a fresh slot).
    struct Counters {
        uint48 nextLicenceId;
        uint48 nextOfferId;
        uint32 clearancePeriod; // see {pendingSale}
        uint32 settleDay; // the day (`block.timestamp / 1 days`) `settledCents` counts
        uint64 settledCents; // card money settled from settlers' floats that day
        uint32 settleLimitEuros; // see {setCardSettlementLimit}
    }

    /// @dev The active offer of a licence (`priceCents == 0`: none).
    struct ActiveOffer {
        uint64 offerId;
        uint64 priceCents;
    }

    /// @notice Read-only view of an offer.
    struct OfferInfo {
        uint256 licenceId;
        address seller;
        uint64 priceCents; // 0 once inactive
        bool active;
    }

    /// @notice The shares of a sale that are not credited yet (see {pendingSale}). One slot, plus a second one
    /// for resales (`seller`).
    struct PendingSale {
        uint64 sellerCents;
        uint64 studioCents;
        uint64 platformCents;
        uint32 clearAt; // 0: nothing pending
        uint32 studioId;
        address seller;
        bool tainted; // pending because the licence sold was itself uncleared: refunded to a crypto buyer
        uint32 taintedUntil; // the licence sold's clearance time: {revoke} follows a resale only before it
    }

    /// @notice The pending record the card-paid primary sales of one edition settled in the same second by
    /// {TangibleCardBatch-settleCardPrimaryBatch} share, in place of one {PendingSale} each (their shares are equal): one sale's
    /// shares, their clearance time and studio, and how many of them are still pending. Keyed by
    /// {_poolKey}(film, quality, second), all three read from the licence slot, where a pooled licence's
    /// pooled bit says its sale is pending there.
    struct PendingPool {
        uint64 studioCents;
        uint64 platformCents;
        uint32 clearAt;
        uint32 studioId;
        uint32 count;
    }

    /// @dev One sale's settlement record, see {SaleSettled}.
    struct Sale {
        uint256 licenceId;
        uint256 offerId;
        bytes32 paymentRef;
        address payer;
        uint64 priceCents;
        address seller;
        uint64 sellerCents;
        address studio;
        uint64 studioCents;
        address platform;
        uint64 platformCents;
    }

    /// @notice The settlement stablecoin.
    IERC20 public immutable token;
    /// @notice Stablecoin units per EUR cent.
    uint256 public immutable unitsPerCent;

    Config internal _config;
    Counters internal _counters;
    mapping(uint256 offerId => uint256 licenceId) internal _offerLicences;
    mapping(uint256 licenceId => ActiveOffer) internal _activeOffers;
    /// @dev Where settlers' and revokers' withdrawals go (see {treasury}).
    address internal _treasury;
    /// @dev Accounts that ever held `SETTLER_ROLE` or `REVOKER_ROLE`: their balance (a card float, card money
    /// clawed back) goes to the treasury only, even after the role is renounced or revoked (a stolen key renouncing
    /// its role must not free the float).
    mapping(address account => bool) internal _floatAccounts;
    /// @dev Number of `DEFAULT_ADMIN_ROLE` holders, kept >= 1 after construction (see {MarketLastAdmin}).
    uint256 internal _adminCount;
    /// @dev Pending shares of card-paid sales and of sales of uncleared licences, by the licence the sale minted.
    mapping(uint256 licenceId => PendingSale) internal _pending;
    /// @dev The licence that replaced an uncleared licence sold on (followed by {revoke}).
    mapping(uint256 licenceId => uint256 successor) internal _successors;
    /// @dev Pending records of batched card sales, see {PendingPool}.
    mapping(uint256 poolKey => PendingPool) internal _pools;

    modifier whenNotPaused() {
        if (_config.paused) revert EnforcedPause();
        _;
    }

    /// @param token_ The EUR stablecoin (2 to {MAX_TOKEN_DECIMALS} decimals).
    constructor(IERC20Metadata token_) {
        uint8 decimals = token_.decimals();
        // At most 18 decimals: a uint64-cent amount in units (< 2**64 * 1e16 < 2**118) then always fits the
        // uint184 balances, with room for 2**66 maximal credits per account.
        if (decimals < 2 || decimals > MAX_TOKEN_DECIMALS) revert MarketInvalidToken(address(token_));
        token = token_;
        unitsPerCent = 10 ** (decimals - 2);
    }

    // ------------------------------------------------------------------ platform keys and admin (run by the admin module)

    /// @notice Revokes a licence (1 = chargeback, 2 = fraud, 3 = other), cancels its active offer, if any, and
    /// unwinds its sale while it is pending: the pending shares go back to the revoker's balance (card sale,
    /// tainted or not) or to the buyer (crypto-paid sale of an uncleared licence). A licence resold while
    /// uncleared is followed to the licence that replaced it, each sale on the way is unwound the same way, and
    /// the live one at the end is revoked: a dispute inside the clearance window recovers every pending share
    /// and leaves no clean licence behind. At most 32 resales per call; revoking the last licence reached goes
    /// on. `REVOKER_ROLE` only; allowed while paused.
    /// @dev Emits {SaleClawedBack} (per unwound sale), {OfferCancelled} (if an offer was active), {Transfer} and
    /// {LicenceRevoked} events.
    function revoke(uint256 licenceId, uint8 reason) external virtual onlyRole(REVOKER_ROLE) {
        if (reason == REASON_RESALE || reason > REASON_OTHER) revert LicenceInvalidReason(reason);
        uint256 id = licenceId;
        bool unwound;
        for (uint256 hop;; ++hop) {
            Licence memory m = _licenceAt(id);
            if (m.owner == address(0)) revert ERC721NonexistentToken(id);
            // A licence replaced in its slot (`m.owner` is then the owner of the generation that replaced it) was
            // minted without a hold, so nothing of its sale is pending: only held licences have pending sales, and
            // they are never replaced in their slot.
            unwound = _clawBack(id, m.owner) || unwound;
            if (!_isRevoked(m)) {
                ActiveOffer memory o = _activeOffers[id];
                if (o.priceCents != 0) {
                    delete _activeOffers[id];
                    emit OfferCancelled(o.offerId);
                }
                _revokeLicence(id, _slotOf(id), m.owner, reason, 0);
                return;
            }
            uint256 next = _successors[id];
            // Only while the licence sold was uncleared: a dispute that comes after its clearance time
            // must not unwind a later sale (say a card buyer's, pending for its own payment).
            // forge-lint: disable-next-line(block-timestamp)
            if (hop == _MAX_HOPS || next == 0 || _pending[next].taintedUntil <= block.timestamp) break;
            id = next;
        }
        if (!unwound) revert LicenceIsRevoked(licenceId);
    }

    /// @notice Credits the shares of the sales that minted `licenceIds` whose clearance time has passed (see
    /// {TangibleMarketViews-pendingSale}); skips the ids with nothing pending or not yet due, so that nobody can make a
    /// batch fail by clearing one of its sales first. Anyone; allowed while paused.
    /// @dev Emits a {SaleCleared} event per sale cleared. Reverts with {MarketNothingCleared} when none was.
    function clearSales(uint256[] calldata licenceIds) external virtual returns (uint256 cleared) {
        for (uint256 i; i < licenceIds.length; ++i) {
            uint256 id = licenceIds[i];
            (PendingSale memory p, uint256 poolKey) = _pendingOf(id);
            // forge-lint: disable-next-line(block-timestamp)
            if (p.clearAt == 0 || p.clearAt > block.timestamp) continue;
            _dropPending(id, poolKey);
            if (p.sellerCents != 0) _creditUnits(p.seller, p.sellerCents);
            Studio storage s = _studios[p.studioId];
            s.creditCents = _accrue(s.royaltyRecipient, s.creditCents, p.studioCents);
            Config storage c = _config;
            c.platformCreditCents = _accrue(c.platform, c.platformCreditCents, p.platformCents);
            emit SaleCleared(id);
            ++cleared;
        }
        if (cleared == 0) revert MarketNothingCleared();
    }

    /// @notice Sets the platform's fee recipient; fees accrued so far are credited to the previous recipient's
    /// balance. Platform admin.
    /// @dev Emits a {PlatformChanged} event.
    function setPlatform(address newPlatform) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newPlatform == address(0)) revert MarketInvalidRecipient(newPlatform);
        Config storage c = _config;
        address previous = c.platform;
        uint64 credit = c.platformCreditCents;
        c.platform = newPlatform;
        c.platformCreditCents = 0;
        if (credit != 0) _creditAccountCents(previous, credit);
        emit PlatformChanged(previous, newPlatform);
    }

    /// @notice Sets the treasury, the only address settlers and revokers withdraw to. Platform admin.
    /// @dev Emits a {TreasuryChanged} event.
    function setTreasury(address newTreasury) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert MarketInvalidRecipient(newTreasury);
        emit TreasuryChanged(_treasury, newTreasury);
        _treasury = newTreasury;
    }

    /// @notice Sets the hold period of card-paid licences (seconds, at most {MAX_HOLD_PERIOD}). Platform admin.
    /// Applies to licences minted afterwards.
    /// @dev Emits a {HoldPeriodChanged} event.
    function setHoldPeriod(uint24 holdPeriod_) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        if (holdPeriod_ > MAX_HOLD_PERIOD) revert MarketInvalidHoldPeriod(holdPeriod_, MAX_HOLD_PERIOD);
        _config.holdPeriod = holdPeriod_;
        emit HoldPeriodChanged(holdPeriod_);
    }

    /// @notice Sets the most card money (primary and resale) settlers may settle from their floats per UTC day,
    /// in euros: a stolen settler key settles at most that much a day, all of it pending for the clearance
    /// period and clawed back by {revoke}. Platform admin.
    /// @dev Emits a {CardSettlementLimitChanged} event.
    function setCardSettlementLimit(uint32 eurosPerDay) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        _counters.settleLimitEuros = eurosPerDay;
        emit CardSettlementLimitChanged(eurosPerDay);
    }

    /// @notice Sets the clearance period of card-paid money (seconds, at most {MAX_CLEARANCE_PERIOD}). Platform
    /// admin. Applies to sales made afterwards.
    /// @dev Emits a {ClearancePeriodChanged} event.
    function setClearancePeriod(uint32 clearancePeriod_) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        if (clearancePeriod_ > MAX_CLEARANCE_PERIOD) {
            revert MarketInvalidClearancePeriod(clearancePeriod_, MAX_CLEARANCE_PERIOD);
        }
        _counters.clearancePeriod = clearancePeriod_;
        emit ClearancePeriodChanged(clearancePeriod_);
    }

    /// @notice Pays a studio's accrued earnings to its royalty recipient. Studio admin, royalty recipient or
    /// registrar.
    /// @dev Emits a {Withdrawn} event (`account = to = royalty recipient`).
    function withdrawStudio(uint32 studioId) external virtual nonReentrant whenNotPaused {
        _requireStudio(studioId);
        Studio storage s = _studios[studioId];
        address recipient = s.royaltyRecipient;
        if (msg.sender != recipient) _checkStudioOrRegistrar(studioId);
        uint256 amount = uint256(s.creditCents) * unitsPerCent;
        if (amount == 0) revert MarketZeroAmount();
        s.creditCents = 0;
        emit Withdrawn(recipient, recipient, amount);
        token.safeTransfer(recipient, amount);
    }

    /// @notice Pays the platform's accrued fees to the platform account. Platform admin or any platform key
    /// (settler, revoker, registrar).
    /// @dev Emits a {Withdrawn} event (`account = to = platform`).
    function withdrawPlatform() external virtual nonReentrant whenNotPaused {
        _checkPlatformKey();
        Config storage c = _config;
        uint256 amount = uint256(c.platformCreditCents) * unitsPerCent;
        if (amount == 0) revert MarketZeroAmount();
        c.platformCreditCents = 0;
        address platform_ = c.platform;
        emit Withdrawn(platform_, platform_, amount);
        token.safeTransfer(platform_, amount);
    }

    /// @dev Reverts unless the caller is the platform admin or holds one of the three platform key roles.
    function _checkPlatformKey() internal view {
        if (
            !hasRole(DEFAULT_ADMIN_ROLE, msg.sender) && !hasRole(SETTLER_ROLE, msg.sender)
                && !hasRole(REVOKER_ROLE, msg.sender) && !hasRole(REGISTRAR_ROLE, msg.sender)
        ) {
            revert MarketUnauthorizedAccount(msg.sender);
        }
    }

    // ------------------------------------------------------------------ internal

    /// @dev Gives back the pending shares of the sale that minted `licenceId`, if its clearance time has not
    /// passed: to the revoker calling when the sale was card-paid (a card licence id: it was paid from the
    /// float, and the card holder is refunded off chain), tainted or not; else (a crypto-paid sale of an
    /// uncleared licence) to the buyer (`owner`). Returns whether anything was pending.
    function _clawBack(uint256 licenceId, address owner) internal returns (bool) {
        (PendingSale memory p, uint256 poolKey) = _pendingOf(licenceId);
        // forge-lint: disable-next-line(block-timestamp)
        if (p.clearAt <= block.timestamp) return false;
        _dropPending(licenceId, poolKey);
        // Never the buyer of a card-paid sale: a stolen card buying an uncleared licence would be refunded
        // in stablecoin, withdrawable at once, when its chargeback revokes the licence.
        address to = p.tainted && licenceId & _CARD_ID_FLAG == 0 ? owner : msg.sender;
        uint256 amount = (uint256(p.sellerCents) + p.studioCents + p.platformCents) * unitsPerCent;
        // forge-lint: disable-next-line(unsafe-typecast)
        _accounts[to].credit += uint184(amount); // < 3 * 2**64 * 1e16 < 2**120
        emit SaleClawedBack(licenceId, to, amount);
        return true;
    }

    /// @dev Splits `sale.priceCents` (primary or resale) into `sale`'s shares and recipients.
    function _split(Sale memory sale, uint32 studioId, bool primary) internal view {
        Studio memory sm = _studios[studioId];
        if (primary) {
            (sale.studioCents, sale.platformCents) = SplitLib.primary(sale.priceCents, sm.commissionBps);
        } else {
            (sale.sellerCents, sale.studioCents, sale.platformCents) = SplitLib.resale(sale.priceCents);
        }
        sale.studio = sm.royaltyRecipient;
        sale.platform = _config.platform;
    }

    /// @dev Credits `sale`'s shares at once (`clearAt == 0`), or records them as pending until `clearAt`.
    function _book(Sale memory sale, uint32 studioId, uint32 clearAt, uint32 taintedUntil) internal {
        if (clearAt != 0) {
            PendingSale storage p = _pending[sale.licenceId];
            (p.sellerCents, p.studioCents, p.platformCents) =
            (sale.sellerCents, sale.studioCents, sale.platformCents);
            (p.clearAt, p.studioId) = (clearAt, studioId);
            bool tainted = taintedUntil != 0;
            if (sale.seller != address(0) || tainted) {
                (p.seller, p.tainted, p.taintedUntil) = (sale.seller, tainted, taintedUntil);
            }
            emit SalePending(sale.licenceId, clearAt, tainted);
            return;
        }
        Studio storage s = _studios[studioId];
        s.creditCents = _accrue(sale.studio, s.creditCents, sale.studioCents);
        Config storage c = _config;
        c.platformCreditCents = _accrue(sale.platform, c.platformCreditCents, sale.platformCents);
        if (sale.sellerCents != 0) _creditUnits(sale.seller, sale.sellerCents);
    }

    function _emitSale(Sale memory s) internal {
        emit SaleSettled(
            s.licenceId,
            s.offerId,
            s.paymentRef,
            s.payer,
            s.priceCents,
            s.seller,
            s.sellerCents,
            s.studio,
            s.studioCents,
            s.platform,
            s.platformCents
        );
    }

    /// @dev Counts `price` in the day's card settlements, reverting past the daily limit.
    function _chargeCardSettlement(uint64 price) internal {
        Counters storage c = _counters;
        uint32 day = uint32(block.timestamp / 1 days);
        (uint32 lastDay, uint64 lastSettled, uint32 limitEuros) =
            (c.settleDay, c.settledCents, c.settleLimitEuros);
        uint256 settled = lastDay == day ? lastSettled : 0;
        uint256 limit = uint256(limitEuros) * 100;
        // forge-lint: disable-next-line(unsafe-typecast)
        if (settled + price > limit) revert MarketCardSettlementLimit(uint64(settled), price, uint64(limit));
        // forge-lint: disable-next-line(unsafe-typecast)
        (c.settleDay, c.settledCents) = (day, uint64(settled + price)); // <= limit < 2**39
    }

    /// @dev Clearance time of a card payment made now.
    function _clearAt() internal view returns (uint32) {
        return uint32(block.timestamp) + _counters.clearancePeriod;
    }

    /// @dev Hold time of a licence minted now by a card payment or from an uncleared licence.
    function _holdUntil() internal view returns (uint32) {
        return uint32(block.timestamp) + _config.holdPeriod;
    }

    /// @dev The card licence id of `paymentRef`, reverting if it was already used.
    function _cardLicence(bytes32 paymentRef) internal view returns (uint256 licenceId) {
        if (paymentRef == bytes32(0)) revert MarketInvalidPaymentRef();
        licenceId = _cardIdOf(paymentRef);
        if (_slotOf(licenceId).owner != address(0)) {
            revert MarketPaymentRefUsed(paymentRef);
        }
    }

    /// @dev The licence id a card settlement with `paymentRef` mints (see {TangibleMarketViews-cardLicenceId}).
    function _cardIdOf(bytes32 paymentRef) internal pure returns (uint256 licenceId) {
        // keccak256(abi.encode(paymentRef)), hashed in scratch space: no memory allocated per sale of a batch.
        assembly ("memory-safe") {
            mstore(0, paymentRef)
            licenceId := keccak256(0, 32)
        }
        return (licenceId | _CARD_ID_FLAG) & ~_GENERATION_MASK;
    }

    /// @dev `SETTLER_ROLE` check read from the caller's account slot (see {Account}), which the card
    /// settlement debits right after: one cold SLOAD instead of two.
    function _checkSettler() internal view {
        if (!_accounts[msg.sender].settler) {
            revert AccessControlUnauthorizedAccount(msg.sender, SETTLER_ROLE);
        }
    }

    function _debit(address account, uint256 amount) internal {
        Account storage a = _accounts[account];
        uint256 balance = a.credit;
        if (balance < amount) revert MarketInsufficientBalance(account, balance, amount);
        unchecked {
            // balance >= amount, checked above.
            // forge-lint: disable-next-line(unsafe-typecast)
            a.credit = uint184(balance - amount); // balance is a uint184
        }
    }

    /// @dev The pending record of the sale that minted `licenceId` (`clearAt == 0`: none), its own or its pool's
    /// (then `poolKey != 0`, see {PendingPool}). Only a card licence can be pooled: other ids skip the licence read.
    function _pendingOf(uint256 licenceId) internal view returns (PendingSale memory p, uint256 poolKey) {
        p = _pending[licenceId];
        if (p.clearAt != 0 || licenceId & _CARD_ID_FLAG == 0) return (p, 0);
        Licence memory l = _licenceAt(licenceId);
        if (!_pooled(l)) return (p, 0);
        poolKey = _poolKey(l.filmId, _quality(l), l.acquiredAt);
        PendingPool memory q = _pools[poolKey];
        (p.studioCents, p.platformCents, p.clearAt, p.studioId) =
        (q.studioCents, q.platformCents, q.clearAt, q.studioId);
    }

    /// @dev Removes the pending record {_pendingOf} returned for `licenceId`: its own, or its place in the pool
    /// (the pooled bit cleared, the pool's count decremented, the pool deleted with its last sale).
    function _dropPending(uint256 licenceId, uint256 poolKey) internal {
        if (poolKey == 0) {
            delete _pending[licenceId];
            return;
        }
        _unpool(_slotOf(licenceId));
        PendingPool storage q = _pools[poolKey];
        uint32 count = q.count - 1; // >= 1: this licence is counted while its pooled bit is set
        if (count == 0) delete _pools[poolKey];
        else q.count = count;
    }

    /// @dev The clearance time of the sale that minted `licenceId` (0: nothing pending).
    function _pendingClearAt(uint256 licenceId) internal view returns (uint32) {
        (PendingSale memory p,) = _pendingOf(licenceId);
        return p.clearAt;
    }

    /// @dev Key of the {PendingPool} of edition `(filmId, quality)`'s card sales batched at time `at`.
    function _poolKey(uint256 filmId, uint256 quality, uint256 at) internal pure returns (uint256) {
        return filmId << 40 | quality << 32 | at; // filmId >= 1: never 0
    }

    /// @dev Credits `cents` to `account`'s withdrawable balance (a seller's share).
    function _creditUnits(address account, uint64 cents) internal {
        // forge-lint: disable-next-line(unsafe-typecast)
        _accounts[account].credit += uint184(cents * unitsPerCent); // < 2**64 * 1e16 < 2**118 (<= 18 decimals)
    }

    /// @dev New value of a uint64 accumulator of `recipient`'s earnings (studio or platform cents) after adding
    /// `cents`. Any uint64 price is a valid sale price, so the sum may exceed 2**64 - 1 after enough large sales:
    /// the accrued cents then move to `recipient`'s withdrawable balance (uint184 units, see
    /// {_creditAccountCents}) and the accumulator restarts at `cents`. A sale never reverts because of earlier
    /// sales, and every share is still credited once to the account {SaleSettled} names.
    function _accrue(address recipient, uint64 accrued, uint64 cents) internal returns (uint64) {
        unchecked {
            // Both operands < 2**64: no overflow in 256 bits.
            uint256 sum = uint256(accrued) + cents;
            // forge-lint: disable-next-line(unsafe-typecast)
            if (sum <= type(uint64).max) return uint64(sum); // checked on this line
        }
        _creditAccountCents(recipient, accrued);
        return cents;
    }

    function _creditAccountCents(address account, uint64 cents) internal virtual override {
        uint256 amount = uint256(cents) * unitsPerCent; // < 2**64 * 1e16 < 2**118 (<= 18 decimals)
        // forge-lint: disable-next-line(unsafe-typecast)
        _accounts[account].credit += uint184(amount);
        emit EarningsCredited(account, amount);
    }

    /// @dev Counts admins as they are granted (see {MarketLastAdmin}), refusing the admin role to accounts
    /// nobody can act for (address 0, the market); marks settlers' and revokers' accounts as float accounts for
    /// good.
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool granted) {
        if (role == DEFAULT_ADMIN_ROLE && (account == address(0) || account == address(this))) {
            revert RegistryInvalidAddress(account);
        }
        granted = super._grantRole(role, account);
        if (granted && role == DEFAULT_ADMIN_ROLE) ++_adminCount;
        if (role == SETTLER_ROLE || role == REVOKER_ROLE) _floatAccounts[account] = true;
    }

    /// @dev Refuses to remove the last admin (renounce or revoke).
    function _revokeRole(bytes32 role, address account) internal virtual override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == DEFAULT_ADMIN_ROLE) {
            if (_adminCount == 1) revert MarketLastAdmin();
            --_adminCount;
        }
    }
}
