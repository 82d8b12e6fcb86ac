// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TangibleLicence} from "./TangibleLicence.sol";
import {ITangibleMarket} from "./ITangibleMarket.sol";
import {SplitLib} from "./lib/SplitLib.sol";

/// @title TangibleMarket
/// @notice Tangible's deployed contract: registry + licences + market in one address, settled in one ERC-20 EUR
/// stablecoin. Primary sales are paid by the buyer ({buyPrimary}) or, for a card payment, by the operator from
/// its float ({settleCardPrimary}); resale offers are listed by licence owners and filled the same two ways.
/// Every sale is split on chain ({SplitLib}) and credited to internal balances that recipients {withdraw}
/// (pull payments: a sale moves the stablecoin at most once).
/// @dev Amounts in arguments, storage and sale events are EUR cents; balances and {Withdrawn}/{Deposited} are
/// stablecoin units (`unitsPerCent = 10 ** (decimals - 2)`).
/// Card licence ids are derived from the payment reference ({cardLicenceId}); a licence slot is never cleared,
/// so a second settlement with the same `paymentRef` finds its id taken: single use forever, without a separate
/// storage slot. Crypto licence ids are sequential from 1 (always < 2**64, card ids always >= 2**255).
contract TangibleMarket is TangibleLicence, ReentrancyGuardTransient, ITangibleMarket {
    using SafeERC20 for IERC20;

    /// @notice Default hold period of card-paid licences: 3 days.
    uint24 public constant DEFAULT_HOLD_PERIOD = 3 days;
    /// @notice Longest configurable hold period: 90 days.
    uint24 public constant MAX_HOLD_PERIOD = 90 days;
    /// @notice Smallest resale price in cents (every share > 0).
    uint64 public constant MIN_RESALE_PRICE_CENTS = SplitLib.MIN_RESALE_PRICE_CENTS;
    /// @notice Most decimals the settlement stablecoin may have.
    uint8 public constant MAX_TOKEN_DECIMALS = 18;
    /// @dev Bit set in every card licence id, never in a sequential one.
    uint256 private constant _CARD_ID_FLAG = 1 << 255;

    /// @dev Hot configuration slot, read on every sale and credited with the platform's share.
    struct Config {
        address platform;
        uint24 holdPeriod;
        bool paused;
        uint64 platformCreditCents;
    }

    /// @dev Sequential id counters.
    struct Counters {
        uint64 nextLicenceId;
        uint64 nextOfferId;
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

    Config private _config;
    Counters private _counters;
    mapping(uint256 offerId => uint256 licenceId) private _offerLicences;
    mapping(uint256 licenceId => ActiveOffer) private _activeOffers;
    /// @dev Where operators' withdrawals go (see {treasury}).
    address private _treasury;
    /// @dev Accounts that ever held `OPERATOR_ROLE`: their balance (a card float) goes to the treasury only, even
    /// after the role is renounced or revoked (a stolen key renouncing its role must not free the float).
    mapping(address account => bool) private _floatAccounts;
    /// @dev Number of `DEFAULT_ADMIN_ROLE` holders, kept >= 1 after construction (see {MarketLastAdmin}).
    uint256 private _adminCount;

    modifier whenNotPaused() {
        if (_config.paused) revert EnforcedPause();
        _;
    }

    /// @param token_ The EUR stablecoin (2 to {MAX_TOKEN_DECIMALS} decimals).
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (platform governance: roles, hold period, platform address).
    /// @param operator Receives `OPERATOR_ROLE` (card settlement, revocation, registration on behalf of studios);
    /// may be address 0 and granted later.
    /// @param platform_ Account credited with the platform's shares.
    constructor(IERC20Metadata token_, address admin, address operator, address platform_) {
        uint8 decimals = token_.decimals();
        // At most 18 decimals: a uint64-cent amount in units (< 2**64 * 1e16 < 2**118) then always fits the
        // uint184 balances, with room for 2**66 maximal credits per account.
        if (decimals < 2 || decimals > MAX_TOKEN_DECIMALS) revert MarketInvalidToken(address(token_));
        if (admin == address(0)) revert RegistryInvalidAddress(admin);
        if (platform_ == address(0)) revert MarketInvalidRecipient(platform_);
        token = token_;
        unitsPerCent = 10 ** (decimals - 2);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (operator != address(0)) _grantRole(OPERATOR_ROLE, operator);
        _config = Config(platform_, DEFAULT_HOLD_PERIOD, false, 0);
        _counters = Counters(1, 1);
        _treasury = admin;
        emit PlatformChanged(address(0), platform_);
        emit HoldPeriodChanged(DEFAULT_HOLD_PERIOD);
        emit TreasuryChanged(address(0), admin);
    }

    // ------------------------------------------------------------------ primary sales

    /// @notice Buys a licence of edition `(filmId, quality)` for `recipient`, paid by the caller in stablecoin
    /// (`priceCents * unitsPerCent` units, approved beforehand). `expectedPriceCents` must equal the price.
    /// @dev Emits {Transfer}, {LicenceMinted} and {SaleSettled} events.
    function buyPrimary(uint64 filmId, uint8 quality, uint64 expectedPriceCents, address recipient)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 licenceId)
    {
        licenceId = _nextLicenceId();
        uint64 price = _sellPrimary(licenceId, filmId, quality, expectedPriceCents, recipient, bytes32(0), 0);
        token.safeTransferFrom(msg.sender, address(this), price * unitsPerCent);
    }

    /// @notice Settles a card payment for a primary sale: the operator pays from its deposited float, names the
    /// buyer as `recipient` and the card payment as `paymentRef` (single use forever). The licence id is
    /// {cardLicenceId}(`paymentRef`) and the licence is on hold for the hold period. Operator only.
    /// @dev Emits {Transfer}, {LicenceMinted} and {SaleSettled} events.
    function settleCardPrimary(
        uint64 filmId,
        uint8 quality,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef
    ) external whenNotPaused returns (uint256 licenceId) {
        // No nonReentrant: this path makes no external call (the float is an internal balance).
        _checkOperator();
        licenceId = _cardLicence(paymentRef);
        uint64 price = _sellPrimary(
            licenceId, filmId, quality, expectedPriceCents, recipient, paymentRef, _config.holdPeriod
        );
        _debit(msg.sender, price * unitsPerCent);
    }

    // ------------------------------------------------------------------ resale offers

    /// @notice Offers `licenceId` for resale at `priceCents` (>= {MIN_RESALE_PRICE_CENTS}). Owner only; the
    /// licence must not be revoked, on hold, or already offered.
    /// @dev Emits an {OfferListed} event.
    function list(uint256 licenceId, uint64 priceCents) external whenNotPaused returns (uint256 offerId) {
        Licence memory l = _licences[licenceId];
        _checkSeller(licenceId, l);
        // forge-lint: disable-next-line(block-timestamp)
        if (l.holdUntil > block.timestamp) revert MarketLicenceOnHold(licenceId, l.holdUntil);
        _checkResalePrice(priceCents);
        ActiveOffer memory current = _activeOffers[licenceId];
        if (current.priceCents != 0) revert MarketOfferExists(licenceId, current.offerId);
        offerId = _counters.nextOfferId++;
        _offerLicences[offerId] = licenceId;
        // forge-lint: disable-next-line(unsafe-typecast)
        _activeOffers[licenceId] = ActiveOffer(uint64(offerId), priceCents); // offer ids are a uint64 counter
        emit OfferListed(offerId, licenceId, msg.sender, priceCents);
    }

    /// @notice Changes the price of an active offer. Seller only.
    /// @dev Emits an {OfferUpdated} event.
    function updateOffer(uint256 offerId, uint64 priceCents) external whenNotPaused {
        (, ActiveOffer storage o) = _sellerOffer(offerId);
        _checkResalePrice(priceCents);
        o.priceCents = priceCents;
        emit OfferUpdated(offerId, priceCents);
    }

    /// @notice Cancels an active offer. Seller only; allowed while paused.
    /// @dev Emits an {OfferCancelled} event.
    function cancelOffer(uint256 offerId) external {
        (uint256 licenceId,) = _sellerOffer(offerId);
        delete _activeOffers[licenceId];
        emit OfferCancelled(offerId);
    }

    /// @notice Buys offer `offerId` for `recipient`, paid by the caller in stablecoin. Revokes the seller's
    /// licence (reason resale), mints a new licence to `recipient` and splits the price 80/15/5.
    /// @dev Emits {Transfer} (x2), {LicenceRevoked}, {LicenceMinted}, {OfferFilled} and {SaleSettled} events.
    function buyOffer(uint256 offerId, uint64 expectedPriceCents, address recipient)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 licenceId)
    {
        licenceId = _nextLicenceId();
        uint64 price = _fillOffer(offerId, expectedPriceCents, recipient, licenceId, bytes32(0), 0);
        token.safeTransferFrom(msg.sender, address(this), price * unitsPerCent);
    }

    /// @notice Settles a card payment for offer `offerId`: like {buyOffer}, paid from the operator's float, the
    /// new licence id is {cardLicenceId}(`paymentRef`) and carries the hold period. Operator only.
    /// @dev Emits {Transfer} (x2), {LicenceRevoked}, {LicenceMinted}, {OfferFilled} and {SaleSettled} events.
    function settleCardOffer(
        uint256 offerId,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef
    ) external whenNotPaused returns (uint256 licenceId) {
        // No nonReentrant: this path makes no external call (the float is an internal balance).
        _checkOperator();
        licenceId = _cardLicence(paymentRef);
        uint64 price =
            _fillOffer(offerId, expectedPriceCents, recipient, licenceId, paymentRef, _config.holdPeriod);
        _debit(msg.sender, price * unitsPerCent);
    }

    // ------------------------------------------------------------------ operator

    /// @notice Revokes a licence (1 = chargeback, 2 = fraud, 3 = other) and cancels its active offer, if any.
    /// Operator only; allowed while paused.
    /// @dev Emits {OfferCancelled} (if an offer was active), {Transfer} and {LicenceRevoked} events.
    function revoke(uint256 licenceId, uint8 reason) external onlyRole(OPERATOR_ROLE) {
        if (reason == REASON_RESALE || reason > REASON_OTHER) revert LicenceInvalidReason(reason);
        Licence storage l = _licences[licenceId];
        Licence memory m = l;
        if (m.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        if (_isRevoked(m)) revert LicenceIsRevoked(licenceId);
        ActiveOffer memory o = _activeOffers[licenceId];
        if (o.priceCents != 0) {
            delete _activeOffers[licenceId];
            emit OfferCancelled(o.offerId);
        }
        _revokeLicence(licenceId, l, m.owner, reason, 0);
    }

    // ------------------------------------------------------------------ balances

    /// @notice Deposits `amount` stablecoin units into the caller's balance (the operator's card float).
    /// @dev Emits a {Deposited} event.
    function deposit(uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert MarketZeroAmount();
        _accounts[msg.sender].credit += SafeCast.toUint184(amount);
        emit Deposited(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pays `amount` units of the caller's balance (seller proceeds, float, flushed earnings) to `to`.
    /// An `OPERATOR_ROLE` holder (the card float) may pay only the {treasury}: a stolen operator key cannot send
    /// the float to itself.
    /// @dev Emits a {Withdrawn} event.
    function withdraw(address to, uint256 amount) external nonReentrant whenNotPaused {
        if (to == address(0)) revert MarketInvalidRecipient(to);
        if (_floatAccounts[msg.sender]) {
            address t = _treasury;
            if (to != t) revert MarketNotTreasury(to, t);
        }
        if (amount == 0) revert MarketZeroAmount();
        _debit(msg.sender, amount);
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @notice Pays a studio's accrued earnings to its royalty recipient. Studio admin, royalty recipient or
    /// operator.
    /// @dev Emits a {Withdrawn} event (`account = to = royalty recipient`).
    function withdrawStudio(uint32 studioId) external nonReentrant whenNotPaused {
        _requireStudio(studioId);
        Studio storage s = _studios[studioId];
        address recipient = s.royaltyRecipient;
        if (msg.sender != recipient) _checkStudioOrOperator(studioId);
        uint256 amount = uint256(s.creditCents) * unitsPerCent;
        if (amount == 0) revert MarketZeroAmount();
        s.creditCents = 0;
        emit Withdrawn(recipient, recipient, amount);
        token.safeTransfer(recipient, amount);
    }

    /// @notice Pays the platform's accrued fees to the platform account. Platform admin or operator.
    /// @dev Emits a {Withdrawn} event (`account = to = platform`).
    function withdrawPlatform() external nonReentrant whenNotPaused {
        _checkAdminOrOperator();
        Config storage c = _config;
        uint256 amount = uint256(c.platformCreditCents) * unitsPerCent;
        if (amount == 0) revert MarketZeroAmount();
        c.platformCreditCents = 0;
        address platform_ = c.platform;
        emit Withdrawn(platform_, platform_, amount);
        token.safeTransfer(platform_, amount);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Sets the platform's fee recipient; fees accrued so far are credited to the previous recipient's
    /// balance. Platform admin.
    /// @dev Emits a {PlatformChanged} event.
    function setPlatform(address newPlatform) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newPlatform == address(0)) revert MarketInvalidRecipient(newPlatform);
        Config storage c = _config;
        address previous = c.platform;
        uint64 credit = c.platformCreditCents;
        c.platform = newPlatform;
        c.platformCreditCents = 0;
        if (credit != 0) _creditAccountCents(previous, credit);
        emit PlatformChanged(previous, newPlatform);
    }

    /// @notice Sets the treasury, the only address operators withdraw to. Platform admin.
    /// @dev Emits a {TreasuryChanged} event.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert MarketInvalidRecipient(newTreasury);
        emit TreasuryChanged(_treasury, newTreasury);
        _treasury = newTreasury;
    }

    /// @notice Sets the hold period of card-paid licences (seconds, at most {MAX_HOLD_PERIOD}). Platform admin.
    /// Applies to licences minted afterwards.
    /// @dev Emits a {HoldPeriodChanged} event.
    function setHoldPeriod(uint24 holdPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (holdPeriod_ > MAX_HOLD_PERIOD) revert MarketInvalidHoldPeriod(holdPeriod_, MAX_HOLD_PERIOD);
        _config.holdPeriod = holdPeriod_;
        emit HoldPeriodChanged(holdPeriod_);
    }

    /// @notice Pauses sales, listings, deposits and withdrawals. Platform admin or operator.
    /// @dev Emits a {Paused} event.
    function pause() external {
        _checkAdminOrOperator();
        if (_config.paused) revert EnforcedPause();
        _config.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Unpauses. Platform admin.
    /// @dev Emits an {Unpaused} event.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_config.paused) revert ExpectedPause();
        _config.paused = false;
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @notice The only address an `OPERATOR_ROLE` holder's {withdraw} may pay.
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice True while the market is paused.
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @notice Hold period of card-paid licences, in seconds.
    function holdPeriod() external view returns (uint24) {
        return _config.holdPeriod;
    }

    /// @notice The platform's fee recipient.
    function platform() external view returns (address) {
        return _config.platform;
    }

    /// @notice Platform fees accrued and not yet withdrawn, in cents.
    function platformCreditCents() external view returns (uint64) {
        return _config.platformCreditCents;
    }

    /// @notice `account`'s withdrawable balance in stablecoin units (studio earnings are in {studio}).
    function balanceOfCredit(address account) external view returns (uint256) {
        return _accounts[account].credit;
    }

    /// @notice The id the next crypto-paid licence will get.
    function nextLicenceId() external view returns (uint256) {
        return _counters.nextLicenceId;
    }

    /// @notice The id the next offer will get.
    function nextOfferId() external view returns (uint256) {
        return _counters.nextOfferId;
    }

    /// @notice An offer's licence, seller (the licence owner), price and status.
    function offer(uint256 offerId) external view returns (OfferInfo memory info) {
        uint256 licenceId = _offerLicences[offerId];
        if (licenceId == 0) revert MarketOfferNotActive(offerId);
        ActiveOffer memory o = _activeOffers[licenceId];
        bool active = o.priceCents != 0 && o.offerId == offerId;
        info = OfferInfo(licenceId, _licences[licenceId].owner, active ? o.priceCents : 0, active);
    }

    /// @notice The active offer id of `licenceId`, or 0.
    function activeOfferOf(uint256 licenceId) external view returns (uint256) {
        ActiveOffer memory o = _activeOffers[licenceId];
        return o.priceCents == 0 ? 0 : o.offerId;
    }

    /// @notice The licence id a card settlement with `paymentRef` mints: `keccak256(paymentRef)` with the top
    /// bit set (never a sequential id).
    function cardLicenceId(bytes32 paymentRef) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(paymentRef))) | _CARD_ID_FLAG;
    }

    /// @notice True once `paymentRef` has settled a sale.
    function paymentRefUsed(bytes32 paymentRef) external view returns (bool) {
        return _licences[cardLicenceId(paymentRef)].owner != address(0);
    }

    // ------------------------------------------------------------------ internal

    function _sellPrimary(
        uint256 licenceId,
        uint64 filmId,
        uint8 quality,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef,
        uint32 holdPeriod_
    ) private returns (uint64 price) {
        if (recipient == address(0)) revert MarketInvalidRecipient(recipient);
        Edition memory e = _editions[_editionKey(filmId, quality)];
        price = e.priceCents;
        if (price == 0) revert RegistryEditionNotFound(filmId, quality);
        if (!e.active) revert MarketEditionInactive(filmId, quality);
        if (expectedPriceCents != price) revert MarketPriceMismatch(expectedPriceCents, price);
        Sale memory sale;
        sale.licenceId = licenceId;
        sale.paymentRef = paymentRef;
        sale.payer = msg.sender;
        sale.priceCents = price;
        _creditStudioAndPlatform(sale, e.studioId, true);
        _mintLicence(
            licenceId,
            recipient,
            filmId,
            quality,
            holdPeriod_ == 0 ? 0 : uint32(block.timestamp) + holdPeriod_
        );
        _emitSale(sale);
    }

    function _fillOffer(
        uint256 offerId,
        uint64 expectedPriceCents,
        address recipient,
        uint256 newLicenceId,
        bytes32 paymentRef,
        uint32 holdPeriod_
    ) private returns (uint64 price) {
        if (recipient == address(0)) revert MarketInvalidRecipient(recipient);
        uint256 oldLicenceId = _offerLicences[offerId];
        ActiveOffer memory o = _activeOffers[oldLicenceId];
        price = o.priceCents;
        if (price == 0 || o.offerId != offerId) revert MarketOfferNotActive(offerId);
        if (expectedPriceCents != price) revert MarketPriceMismatch(expectedPriceCents, price);
        delete _activeOffers[oldLicenceId];

        Licence storage l = _licences[oldLicenceId];
        Licence memory m = l; // live: an active offer is cancelled whenever its licence is revoked
        Sale memory sale;
        sale.licenceId = newLicenceId;
        sale.offerId = offerId;
        sale.paymentRef = paymentRef;
        sale.payer = msg.sender;
        sale.priceCents = price;
        sale.seller = m.owner;
        uint8 quality = _quality(m);
        _creditStudioAndPlatform(sale, _editions[_editionKey(m.filmId, quality)].studioId, false);

        _revokeLicence(oldLicenceId, l, m.owner, REASON_RESALE, newLicenceId);
        // forge-lint: disable-next-line(unsafe-typecast)
        _accounts[m.owner].credit += uint184(sale.sellerCents * unitsPerCent); // < 2**64 * 1e16 < 2**118 (<= 18 decimals)
        _mintLicence(
            newLicenceId,
            recipient,
            m.filmId,
            quality,
            holdPeriod_ == 0 ? 0 : uint32(block.timestamp) + holdPeriod_
        );
        emit OfferFilled(offerId, oldLicenceId, newLicenceId, recipient);
        _emitSale(sale);
    }

    /// @dev Splits `sale.priceCents` (primary or resale) and credits the studio and platform shares.
    function _creditStudioAndPlatform(Sale memory sale, uint32 studioId, bool primary) private {
        Studio storage s = _studios[studioId];
        Studio memory sm = s;
        uint64 studioCents;
        uint64 platformCents;
        if (primary) {
            (studioCents, platformCents) = SplitLib.primary(sale.priceCents, sm.commissionBps);
        } else {
            uint64 sellerCents;
            (sellerCents, studioCents, platformCents) = SplitLib.resale(sale.priceCents);
            sale.sellerCents = sellerCents;
        }
        s.creditCents = _accrue(sm.royaltyRecipient, sm.creditCents, studioCents);
        Config storage c = _config;
        c.platformCreditCents = _accrue(c.platform, c.platformCreditCents, platformCents);
        sale.studio = sm.royaltyRecipient;
        sale.studioCents = studioCents;
        sale.platform = c.platform;
        sale.platformCents = platformCents;
    }

    /// @dev New value of a uint64 accumulator of `recipient`'s earnings (studio or platform cents) after adding
    /// `cents`. Any uint64 price is a valid sale price, so the sum may exceed 2**64 - 1 after enough large sales:
    /// the accrued cents then move to `recipient`'s withdrawable balance (uint184 units, see
    /// {_creditAccountCents}) and the accumulator restarts at `cents`. A sale never reverts because of earlier
    /// sales, and every share is still credited once to the account {SaleSettled} names.
    function _accrue(address recipient, uint64 accrued, uint64 cents) private returns (uint64) {
        unchecked {
            // Both operands < 2**64: no overflow in 256 bits.
            uint256 sum = uint256(accrued) + cents;
            // forge-lint: disable-next-line(unsafe-typecast)
            if (sum <= type(uint64).max) return uint64(sum); // checked on this line
        }
        _creditAccountCents(recipient, accrued);
        return cents;
    }

    function _emitSale(Sale memory s) private {
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

    function _nextLicenceId() private returns (uint256) {
        return _counters.nextLicenceId++;
    }

    /// @dev The card licence id of `paymentRef`, reverting if it was already used.
    function _cardLicence(bytes32 paymentRef) private view returns (uint256 licenceId) {
        if (paymentRef == bytes32(0)) revert MarketInvalidPaymentRef();
        licenceId = cardLicenceId(paymentRef);
        if (_licences[licenceId].owner != address(0)) revert MarketPaymentRefUsed(paymentRef);
    }

    /// @dev `OPERATOR_ROLE` check read from the caller's account slot (see {Account}), which the card
    /// settlement debits right after: one cold SLOAD instead of two.
    function _checkOperator() private view {
        if (!_accounts[msg.sender].operator) {
            revert AccessControlUnauthorizedAccount(msg.sender, OPERATOR_ROLE);
        }
    }

    function _debit(address account, uint256 amount) private {
        Account storage a = _accounts[account];
        uint256 balance = a.credit;
        if (balance < amount) revert MarketInsufficientBalance(account, balance, amount);
        unchecked {
            // balance >= amount, checked above.
            // forge-lint: disable-next-line(unsafe-typecast)
            a.credit = uint184(balance - amount); // balance is a uint184
        }
    }

    function _creditAccountCents(address account, uint64 cents) internal override {
        uint256 amount = uint256(cents) * unitsPerCent; // < 2**64 * 1e16 < 2**118 (<= 18 decimals)
        // forge-lint: disable-next-line(unsafe-typecast)
        _accounts[account].credit += uint184(amount);
        emit EarningsCredited(account, amount);
    }

    /// @dev Counts admins as they are granted (see {MarketLastAdmin}), refusing the admin role to accounts
    /// nobody can act for (address 0, the market); marks operators' accounts as float accounts for good.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        if (role == DEFAULT_ADMIN_ROLE && (account == address(0) || account == address(this))) {
            revert RegistryInvalidAddress(account);
        }
        granted = super._grantRole(role, account);
        if (granted && role == DEFAULT_ADMIN_ROLE) ++_adminCount;
        if (role == OPERATOR_ROLE) _floatAccounts[account] = true;
    }

    /// @dev Refuses to remove the last admin (renounce or revoke).
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == DEFAULT_ADMIN_ROLE) {
            if (_adminCount == 1) revert MarketLastAdmin();
            --_adminCount;
        }
    }

    /// @dev Reverts unless the caller owns the live licence `licenceId`.
    function _checkSeller(uint256 licenceId, Licence memory l) private view {
        if (l.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        if (_isRevoked(l)) revert LicenceIsRevoked(licenceId);
        if (l.owner != msg.sender) revert MarketNotLicenceOwner(msg.sender, licenceId);
    }

    /// @dev Loads an active offer whose licence the caller owns.
    function _sellerOffer(uint256 offerId) private view returns (uint256 licenceId, ActiveOffer storage o) {
        licenceId = _offerLicences[offerId];
        o = _activeOffers[licenceId];
        if (o.priceCents == 0 || o.offerId != offerId) revert MarketOfferNotActive(offerId);
        if (_licences[licenceId].owner != msg.sender) revert MarketNotLicenceOwner(msg.sender, licenceId);
    }

    function _checkResalePrice(uint64 priceCents) private pure {
        if (priceCents < MIN_RESALE_PRICE_CENTS) {
            revert MarketPriceBelowMinimum(priceCents, MIN_RESALE_PRICE_CENTS);
        }
    }

    function _checkAdminOrOperator() private view {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender) && !hasRole(OPERATOR_ROLE, msg.sender)) {
            revert MarketUnauthorizedAccount(msg.sender);
        }
    }
}
