// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TangibleLicence} from "./TangibleLicence.sol";
import {TangibleRegistry} from "./TangibleRegistry.sol";
import {TangibleMarketCore} from "./TangibleMarketCore.sol";
import {TangibleMarketAdmin} from "./TangibleMarketAdmin.sol";
import {TangibleMarketViews} from "./TangibleMarketViews.sol";
import {TangibleCardBatch} from "./TangibleCardBatch.sol";
import {SplitLib} from "./lib/SplitLib.sol";

/// @title TangibleMarket
/// @notice Tangible's deployed contract: registry + licences + market in one address, settled in one ERC-20 EUR
/// stablecoin. Primary sales are paid by the buyer ({buyPrimary}) or, for a card payment, by a settler from
/// its float ({settleCardPrimary}); resale offers are listed by licence owners and filled the same two ways.
/// Every sale is split on chain ({SplitLib}) and credited to internal balances that recipients {withdraw}
/// (pull payments: a sale moves the stablecoin at most once).
/// @dev Amounts in arguments, storage and sale events are EUR cents; balances and {Withdrawn}/{Deposited} are
/// stablecoin units (`unitsPerCent = 10 ** (decimals - 2)`).
/// Card licence ids are derived from the payment reference ({cardLicenceId}); a licence slot is never cleared,
/// so a second settlement with the same `paymentRef` finds its id taken: single use forever, without a separate
/// storage slot. A resale paid in stablecoin mints {resaleLicenceId} of the licence sold: no counter is written,
/// and a licence is sold once. A licence minted without a hold passes its slot on (the new id is the old one plus
/// one generation, bits 192-199: no fresh slot), a held one gets a hashed id (bit 254 set, bit 255 clear) and a
/// slot of its own. Other crypto licence ids (primary sales) are sequential from 1 (always < 2**48).
contract TangibleMarket is TangibleMarketViews, TangibleCardBatch {
    using SafeERC20 for IERC20;

    /// @notice The admin module ({TangibleMarketAdmin}) this market runs its cold functions in, by
    /// `delegatecall` on its own storage: deployed before the market, from the same build. Anyone can check it
    /// (its code, and that it was built from the same sources) before trusting the market with money.
    address public immutable adminModule;

    /// @param token_ The EUR stablecoin (2 to {MAX_TOKEN_DECIMALS} decimals).
    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (platform governance: roles, hold period, platform address).
    /// @param operator Receives the three platform key roles, `SETTLER_ROLE` (card settlement), `REVOKER_ROLE`
    /// (revocation) and `REGISTRAR_ROLE` (registration on behalf of studios), as one key (a single API); may be
    /// address 0, the admin then grants each role to its own key.
    /// @param platform_ Account credited with the platform's shares.
    /// @param module_ A {TangibleMarketAdmin} deployed for `token_` just before: its code no longer fits in
    /// the market's creation code (49,152 bytes, EIP-3860). It holds nothing; the market runs it on its own
    /// storage, so it must be built from the same sources (deploy both from one build).
    constructor(
        IERC20Metadata token_,
        address admin,
        address operator,
        address platform_,
        TangibleMarketAdmin module_
    ) TangibleMarketCore(token_) {
        if (admin == address(0)) revert RegistryInvalidAddress(admin);
        if (platform_ == address(0)) revert MarketInvalidRecipient(platform_);
        // Catches a wrong address or a module of another market; it cannot tell a module built from other
        // sources: the deployer deploys both from one build, and anyone can compare `adminModule`'s code.
        if (address(module_).code.length == 0 || module_.token() != token_) {
            revert MarketInvalidModule(address(module_));
        }
        adminModule = address(module_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (operator != address(0)) {
            _grantRole(SETTLER_ROLE, operator);
            _grantRole(REVOKER_ROLE, operator);
            _grantRole(REGISTRAR_ROLE, operator);
        }
        _config = Config(platform_, DEFAULT_HOLD_PERIOD, false, 0);
        _counters = Counters(1, 1, DEFAULT_CLEARANCE_PERIOD, 0, 0, DEFAULT_CARD_SETTLEMENT_LIMIT_EUROS);
        _treasury = admin;
        emit PlatformChanged(address(0), platform_);
        emit HoldPeriodChanged(DEFAULT_HOLD_PERIOD);
        emit ClearancePeriodChanged(DEFAULT_CLEARANCE_PERIOD);
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
        uint64 price =
            _sellPrimary(licenceId, filmId, quality, expectedPriceCents, recipient, bytes32(0), msg.sender);
        token.safeTransferFrom(msg.sender, address(this), price * unitsPerCent);
    }

    /// @notice Settles a card payment for a primary sale: the settler pays from its deposited float, names the
    /// buyer as `recipient` and the card payment as `paymentRef` (single use forever). The licence id is
    /// {cardLicenceId}(`paymentRef`), the licence is on hold for the hold period and the studio's and platform's
    /// shares are pending for the clearance period ({pendingSale}). `SETTLER_ROLE` only.
    /// @dev Emits {Transfer}, {LicenceMinted} and {SaleSettled} events.
    function settleCardPrimary(
        uint64 filmId,
        uint8 quality,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef
    ) external whenNotPaused returns (uint256 licenceId) {
        // No nonReentrant: this path makes no external call (the float is an internal balance).
        _checkSettler();
        licenceId = _cardLicence(paymentRef);
        uint64 price =
            _sellPrimary(licenceId, filmId, quality, expectedPriceCents, recipient, paymentRef, msg.sender);
        _chargeCardSettlement(price);
        _debit(msg.sender, price * unitsPerCent);
    }

    // ------------------------------------------------------------------ resale fills (listing: {TangibleOffers})

    /// @notice Buys offer `offerId` for `recipient`, paid by the caller in stablecoin. Revokes the seller's
    /// licence (reason resale), mints a new licence to `recipient` and splits the price 80/15/5.
    /// @dev Emits {Transfer} (x2), {LicenceRevoked}, {LicenceMinted} and {SaleSettled} (with the offer id) events.
    function buyOffer(uint256 offerId, uint64 expectedPriceCents, address recipient)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 licenceId)
    {
        licenceId = _resaleLicence(offerId);
        uint64 price = _fillOffer(offerId, expectedPriceCents, recipient, licenceId, bytes32(0), msg.sender);
        token.safeTransferFrom(msg.sender, address(this), price * unitsPerCent);
    }

    /// @notice Settles a card payment for offer `offerId`: like {buyOffer}, paid from the settler's float, the
    /// new licence id is {cardLicenceId}(`paymentRef`), carries the hold period, and every share is pending for
    /// the clearance period ({pendingSale}). `SETTLER_ROLE` only.
    /// @dev Emits {Transfer} (x2), {LicenceRevoked}, {LicenceMinted} and {SaleSettled} (with the offer id) events.
    function settleCardOffer(
        uint256 offerId,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef
    ) external whenNotPaused returns (uint256 licenceId) {
        // No nonReentrant: this path makes no external call (the float is an internal balance).
        _checkSettler();
        licenceId = _cardLicence(paymentRef);
        uint64 price = _fillOffer(offerId, expectedPriceCents, recipient, licenceId, paymentRef, msg.sender);
        _chargeCardSettlement(price);
        _debit(msg.sender, price * unitsPerCent);
    }

    // ------------------------------------------------------------------ balances

    /// @notice Deposits `amount` stablecoin units into the caller's balance (a settler's card float).
    /// @dev Emits a {Deposited} event.
    function deposit(uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert MarketZeroAmount();
        _accounts[msg.sender].credit += SafeCast.toUint184(amount);
        emit Deposited(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pays `amount` units of the caller's balance (seller proceeds, float, flushed earnings) to `to`.
    /// An account that holds or held `SETTLER_ROLE` or `REVOKER_ROLE` (a card float, clawed-back card money) may
    /// pay only the {treasury}: a stolen settler or revoker key cannot send that money to itself.
    /// @dev Emits a {Withdrawn} event.
    function withdraw(address to, uint256 amount) external nonReentrant whenNotPaused {
        _withdraw(msg.sender, to, amount);
    }

    /// @notice Carries out a credit order `account` signed (EIP-712, {CREDIT_ORDER_TYPEHASH} in the domain
    /// {domainSeparator}), paid from `account`'s balance: buy edition `target` (`filmId << 8 | quality`,
    /// {ORDER_BUY_PRIMARY}) or offer `target` ({ORDER_BUY_OFFER}) for `to` at `amountCents` (the price, which must
    /// not have changed), or pay `amountCents` of the balance to `to` ({ORDER_WITHDRAW}, `target` 0), exactly as
    /// `account` calling {buyPrimary}, {buyOffer} or {withdraw} would, without holding the stablecoin or ETH. The
    /// order carries `account`'s next order nonce ({orderNonce}, shared with resale orders), consumed here; it
    /// is refused after `deadline`, on another chain or another market. Anyone may submit it: the API's platform key
    /// relays it. A float account (a settler's or revoker's) may not buy with it: its float pays only card sales, which stay
    /// pending ({settleCardPrimary}). Returns the licence minted (0 for a withdrawal).
    /// @dev Emits {OrderExecuted}, then the action's events ({CreditSpent} and the sale's, or {Withdrawn}).
    function relayCreditOrder(
        address account,
        uint8 action,
        uint256 target,
        uint64 amountCents,
        address to,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant whenNotPaused returns (uint256 licenceId) {
        if (action < ORDER_BUY_PRIMARY || action > ORDER_WITHDRAW) {
            revert MarketInvalidOrder(action);
        }
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert MarketOrderExpired(deadline);
        uint32 nonce = _accounts[account].orderNonce++;
        _checkSignature(
            account, _creditOrderHash(account, action, target, amountCents, to, nonce, deadline), signature
        );
        emit OrderExecuted(account, nonce, action);
        return _spendCredit(account, action, target, amountCents, to);
    }

    /// @dev EIP-712 struct hash of a credit order.
    function _creditOrderHash(
        address account,
        uint8 action,
        uint256 target,
        uint64 amountCents,
        address to,
        uint32 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(CREDIT_ORDER_TYPEHASH, account, action, target, amountCents, to, nonce, deadline)
        );
    }

    /// @dev Carries out a verified credit order (see {relayCreditOrder}).
    function _spendCredit(address account, uint8 action, uint256 target, uint64 amountCents, address to)
        private
        returns (uint256 licenceId)
    {
        if (action == ORDER_WITHDRAW) {
            if (target != 0) revert MarketInvalidOrder(action);
            _withdraw(account, to, uint256(amountCents) * unitsPerCent);
            return 0;
        }
        // A float (a settler's or revoker's, or a former one's) pays card sales only, pending until they clear: spent
        // here, its sale would be credited at once, a way around the treasury-only withdrawal (audit M-4a).
        if (_floatAccounts[account]) revert MarketUnauthorizedAccount(account);
        uint64 price;
        if (action == ORDER_BUY_PRIMARY) {
            if (target >> 72 != 0) revert MarketInvalidOrder(action);
            // target < 2**72, checked above: filmId is its upper 64 bits, quality its low byte.
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 filmId = uint64(target >> 8);
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 quality = uint8(target);
            licenceId = _nextLicenceId();
            price = _sellPrimary(licenceId, filmId, quality, amountCents, to, bytes32(0), account);
        } else {
            licenceId = _resaleLicence(target);
            price = _fillOffer(target, amountCents, to, licenceId, bytes32(0), account);
        }
        uint256 units = price * unitsPerCent;
        _debit(account, units);
        emit CreditSpent(account, licenceId, units);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Pauses sales, listings, deposits and withdrawals. Platform admin or any platform key (settler,
    /// revoker, registrar): whichever key sees trouble first can stop the market; only the admin unpauses.
    /// @dev Emits a {Paused} event.
    function pause() external {
        _checkPlatformKey();
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

    // ------------------------------------------------------------------ internal

    function _sellPrimary(
        uint256 licenceId,
        uint64 filmId,
        uint8 quality,
        uint64 expectedPriceCents,
        address recipient,
        bytes32 paymentRef,
        address payer
    ) private returns (uint64 price) {
        if (recipient == address(0)) revert MarketInvalidRecipient(recipient);
        bool card = paymentRef != bytes32(0); // card settlements always carry one ({_cardLicence})
        Edition memory e = _editions[_editionKey(filmId, quality)];
        price = e.priceCents;
        if (price == 0) revert RegistryEditionNotFound(filmId, quality);
        if (!e.active) revert MarketEditionInactive(filmId, quality);
        if (expectedPriceCents != price) revert MarketPriceMismatch(expectedPriceCents, price);
        Sale memory sale;
        sale.licenceId = licenceId;
        sale.paymentRef = paymentRef;
        sale.payer = payer;
        sale.priceCents = price;
        _split(sale, e.studioId, true);
        _book(sale, e.studioId, card ? _clearAt() : 0, 0);
        _mintLicence(licenceId, recipient, filmId, quality, card ? _holdUntil() : 0, false);
        _emitSale(sale);
    }

    function _fillOffer(
        uint256 offerId,
        uint64 expectedPriceCents,
        address recipient,
        uint256 newLicenceId,
        bytes32 paymentRef,
        address payer
    ) private returns (uint64 price) {
        if (recipient == address(0)) revert MarketInvalidRecipient(recipient);
        uint256 oldLicenceId = _offerLicences[offerId];
        ActiveOffer memory o = _activeOffers[oldLicenceId];
        price = o.priceCents;
        if (price == 0 || o.offerId != offerId) revert MarketOfferNotActive(offerId);
        if (expectedPriceCents != price) revert MarketPriceMismatch(expectedPriceCents, price);
        delete _activeOffers[oldLicenceId];

        // Live and its lineage's current generation: an active offer is cancelled whenever its licence is revoked.
        Licence storage l = _slotOf(oldLicenceId);
        Licence memory m = l;
        Sale memory sale;
        sale.licenceId = newLicenceId;
        sale.offerId = offerId;
        sale.paymentRef = paymentRef;
        sale.payer = payer;
        sale.priceCents = price;
        sale.seller = m.owner;
        Edition storage e = _editions[_editionKey(m.filmId, _quality(m))];
        // The floor may have been raised since the offer was listed.
        _requireFloor(price, e.resaleFloorCents);
        bool held = _bookResale(sale, e.studioId, oldLicenceId, _held(m), paymentRef != bytes32(0));
        _revokeLicence(oldLicenceId, l, m.owner, REASON_RESALE, newLicenceId);
        _mintLicence(newLicenceId, recipient, m.filmId, _quality(m), held ? _holdUntil() : 0, false);
        _emitSale(sale);
    }

    /// @dev Books a resale of `oldLicenceId` as {_book}; returns whether the new licence goes on hold. A licence
    /// whose own sale is still pending (uncleared card money) passes its clearance time on: the whole sale stays
    /// pending until then, and {revoke} can follow it to the new licence. `oldHeld`: the licence sold was minted
    /// with a hold, as every licence whose sale was booked pending is (card money, or an uncleared licence sold
    /// on); one minted without a hold has nothing pending, and its pending slot is not read (a cold SLOAD saved on
    /// the resale of a licence bought in stablecoin).
    function _bookResale(Sale memory sale, uint32 studioId, uint256 oldLicenceId, bool oldHeld, bool card)
        private
        returns (bool held)
    {
        _split(sale, studioId, false);
        uint32 clearAt = card ? _clearAt() : 0;
        uint32 taintedUntil = oldHeld ? _pendingClearAt(oldLicenceId) : 0;
        // forge-lint: disable-next-line(block-timestamp)
        bool tainted = taintedUntil > block.timestamp;
        if (tainted) {
            if (taintedUntil > clearAt) clearAt = taintedUntil;
            _successors[oldLicenceId] = sale.licenceId;
        } else {
            taintedUntil = 0;
        }
        _book(sale, studioId, clearAt, taintedUntil);
        return card || tainted;
    }

    function _nextLicenceId() private returns (uint256) {
        return _counters.nextLicenceId++;
    }

    /// @dev The licence id a stablecoin-paid fill of offer `offerId` mints (no counter written, see
    /// {resaleLicenceId}); an inactive offer is refused by {_fillOffer} after.
    function _resaleLicence(uint256 offerId) private view returns (uint256) {
        return resaleLicenceId(_offerLicences[offerId]);
    }

    /// @dev {withdraw} of `account`'s balance. A float account (a settler's or revoker's, or a former one's) pays only
    /// the {treasury}.
    function _withdraw(address account, address to, uint256 amount) private {
        if (to == address(0)) revert MarketInvalidRecipient(to);
        if (_floatAccounts[account]) {
            address t = _treasury;
            if (to != t) revert MarketNotTreasury(to, t);
        }
        if (amount == 0) revert MarketZeroAmount();
        _debit(account, amount);
        emit Withdrawn(account, to, amount);
        token.safeTransfer(to, amount);
    }

    // ------------------------------------------------------------------ forwarded to the admin module

    /// @inheritdoc TangibleRegistry
    function registerStudio(address, address, string calldata) external override returns (uint32) {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function updateStudio(uint32, address, address, string calldata) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function setStudioCommission(uint32, uint16) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function setStudioFilmQuota(uint32, uint16, uint16) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function registerFilm(uint32, string calldata, uint16) external override returns (uint64) {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function registerEdition(uint64, uint8, bytes32, uint64) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function updateEdition(uint64, uint8, bytes32, uint64, string calldata) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function setResaleFloor(uint64, uint8, uint64) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function resetLowestPrice(uint64, uint8) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function withdrawEdition(uint64, uint8) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function reactivateEdition(uint64, uint8) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function suspendEdition(uint64, uint8, string calldata) external override {
        _delegate();
    }

    /// @inheritdoc TangibleRegistry
    function unsuspendEdition(uint64, uint8, string calldata) external override {
        _delegate();
    }

    /// @inheritdoc TangibleLicence
    function setBaseURI(string calldata) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function withdrawStudio(uint32) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function withdrawPlatform() external override {
        _delegate();
    }

    /// @inheritdoc TangibleCardBatch
    function settleCardPrimaryBatch(uint64, uint8, uint64, address[] calldata, bytes32[] calldata)
        external
        override
    {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function revoke(uint256, uint8) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function clearSales(uint256[] calldata) external override returns (uint256) {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function setPlatform(address) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function setTreasury(address) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function setHoldPeriod(uint24) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function setCardSettlementLimit(uint32) external override {
        _delegate();
    }

    /// @inheritdoc TangibleMarketCore
    function setClearancePeriod(uint32) external override {
        _delegate();
    }

    /// @dev Runs the call in {TangibleMarketAdmin}'s code on this contract's storage and returns or reverts with
    /// its result (same arguments, same `msg.sender`).
    function _delegate() private {
        address target = adminModule;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
