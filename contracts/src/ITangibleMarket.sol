// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ITangibleMarket
/// @notice The events and custom errors of {TangibleMarket} (the registry's and the licences' own are declared in
/// {TangibleRegistry} and {TangibleLicence}). Amounts in sale events are EUR cents; {Withdrawn} and {Deposited}
/// are in stablecoin units.
/// @dev Kept apart from the contract so that clients, indexers and tests can name them without its code; the
/// contract's ABI is unchanged (inherited events and errors are part of it).
interface ITangibleMarket {
    /// @notice A licence owner offered it for resale.
    event OfferListed(
        uint256 indexed offerId, uint256 indexed licenceId, address indexed seller, uint64 priceCents
    );
    /// @notice An offer's price changed.
    event OfferUpdated(uint256 indexed offerId, uint64 priceCents);
    /// @notice An offer was cancelled by its seller, or implicitly when a revoker revoked the licence.
    event OfferCancelled(uint256 indexed offerId);
    /// @notice One event per sale with every share (cents) and the account credited with it.
    /// Primary: `offerId = 0`, `seller = 0`, `sellerCents = 0`. `paymentRef = 0` for crypto payments.
    /// A resale (`offerId != 0`) fills that offer: the licence sold is revoked with `replacedBy = licenceId`
    /// ({LicenceRevoked}) and `licenceId` is minted to the buyer ({LicenceMinted}), in the same transaction
    /// (one event fewer per resale than a separate fill event: 2,230 gas).
    event SaleSettled(
        uint256 indexed licenceId,
        uint256 indexed offerId,
        bytes32 indexed paymentRef,
        address payer,
        uint64 priceCents,
        address seller,
        uint64 sellerCents,
        address studio,
        uint64 studioCents,
        address platform,
        uint64 platformCents
    );
    /// @notice `amount` stablecoin units of `account`'s balance were paid out to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice `account` deposited `amount` stablecoin units into its balance (e.g. a settler's card float).
    event Deposited(address indexed account, uint256 amount);
    /// @notice The treasury, the only address a settler's or revoker's (or former one's) balance may be withdrawn to,
    /// changed (also at
    /// construction: the admin).
    event TreasuryChanged(address indexed previousTreasury, address indexed newTreasury);
    /// @notice Accrued earnings (a studio's or the platform's cents) moved into `account`'s withdrawable balance:
    /// when a studio's royalty recipient or the platform address changes, or an accumulator would overflow.
    /// `amount` is in stablecoin units.
    event EarningsCredited(address indexed account, uint256 amount);
    /// @notice The shares of the sale that minted `licenceId` (see {SaleSettled}) are pending until `clearAt`:
    /// a card payment, or a sale of a licence whose own sale was pending (`tainted`).
    event SalePending(uint256 indexed licenceId, uint32 clearAt, bool tainted);
    /// @notice The pending shares of the sale that minted `licenceId` were credited to their recipients.
    event SaleCleared(uint256 indexed licenceId);
    /// @notice The pending shares of the sale that minted `licenceId`, `amount` stablecoin units in all, were
    /// given back to `refundedTo` (for a card sale, the revoking account, whose balance goes to the treasury only;
    /// the buyer for a crypto-paid tainted sale) when the licence, or one it was sold on as, was revoked inside
    /// the clearance window.
    event SaleClawedBack(uint256 indexed licenceId, address indexed refundedTo, uint256 amount);
    /// @notice The clearance period of card-paid money changed (seconds).
    event ClearancePeriodChanged(uint32 clearancePeriod);
    /// @notice The most card money settlers may settle per day changed (euros).
    event CardSettlementLimitChanged(uint32 eurosPerDay);
    /// @notice `seller`'s signed order with nonce `nonce` was carried out (`action`: 0 list, 1 reprice, 2 cancel,
    /// 3 buy an edition with credit, 4 buy an offer with credit, 5 withdraw credit; the action's own event
    /// follows).
    event OrderExecuted(address indexed seller, uint32 nonce, uint8 action);
    /// @notice `account` paid the sale that minted `licenceId` with `amount` stablecoin units of its balance (a
    /// signed credit order, {TangibleMarket-relayCreditOrder}); the sale's {SaleSettled} names it as payer.
    event CreditSpent(address indexed account, uint256 indexed licenceId, uint256 amount);
    /// @notice The platform's fee recipient changed.
    event PlatformChanged(address indexed previousPlatform, address indexed newPlatform);
    /// @notice The hold period of card-paid licences changed (seconds).
    event HoldPeriodChanged(uint24 holdPeriod);
    /// @notice The market was paused by `account`.
    event Paused(address account);
    /// @notice The market was unpaused by `account`.
    event Unpaused(address account);

    /// @dev The buyer expected `expectedCents` but the price is `actualCents`.
    error MarketPriceMismatch(uint64 expectedCents, uint64 actualCents);
    /// @dev A card batch of `recipients` sales with `paymentRefs` references (1 to `MAX_CARD_BATCH`, one each).
    error MarketInvalidBatch(uint256 recipients, uint256 paymentRefs);
    /// @dev `module` is not an admin module deployed for the market's stablecoin (see the market's constructor).
    error MarketInvalidModule(address module);
    /// @dev A resale price below `minimumCents`.
    error MarketPriceBelowMinimum(uint64 priceCents, uint64 minimumCents);
    /// @dev A resale price below the edition's resale floor (see {TangibleRegistry-setResaleFloor}).
    error MarketPriceBelowFloor(uint64 priceCents, uint64 floorCents);
    /// @dev A card settlement of `priceCents` would take the day's card settlements (`settledCents` so far) past
    /// the platform's daily limit (`limitCents`, see {TangibleMarketCore-setCardSettlementLimit}).
    error MarketCardSettlementLimit(uint64 settledCents, uint64 priceCents, uint64 limitCents);
    /// @dev The edition is withdrawn from primary sale.
    error MarketEditionInactive(uint64 filmId, uint8 quality);
    /// @dev `offerId` does not exist or is no longer active.
    error MarketOfferNotActive(uint256 offerId);
    /// @dev `paymentRef` has already settled a sale.
    error MarketPaymentRefUsed(bytes32 paymentRef);
    /// @dev A card settlement needs a non-zero `paymentRef`.
    error MarketInvalidPaymentRef();
    /// @dev `licenceId` is a card-paid licence still on hold until `holdUntil`.
    error MarketLicenceOnHold(uint256 licenceId, uint64 holdUntil);
    /// @dev `account` does not own `licenceId`.
    error MarketNotLicenceOwner(address account, uint256 licenceId);
    /// @dev `licenceId` already has the active offer `offerId`.
    error MarketOfferExists(uint256 licenceId, uint256 offerId);
    /// @dev `account`'s balance of `balance` units is below the `needed` units.
    error MarketInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @dev A zero address where a recipient is required.
    error MarketInvalidRecipient(address recipient);
    /// @dev A zero amount.
    error MarketZeroAmount();
    /// @dev `holdPeriod` exceeds `maxHoldPeriod`.
    error MarketInvalidHoldPeriod(uint24 holdPeriod, uint24 maxHoldPeriod);
    /// @dev `clearancePeriod` exceeds `maxClearancePeriod`.
    error MarketInvalidClearancePeriod(uint32 clearancePeriod, uint32 maxClearancePeriod);
    /// @dev {TangibleMarket-clearSales} found no sale due among the ids it was given.
    error MarketNothingCleared();
    /// @dev A signed order's action is not one its function carries out (0 to 2: {TangibleOffers-relayOrder}; 3 to
    /// 5: {TangibleMarket-relayCreditOrder}), or a credit purchase names no edition.
    error MarketInvalidOrder(uint8 action);
    /// @dev A signed order past its deadline.
    error MarketOrderExpired(uint256 deadline);
    /// @dev The signature is not `seller`'s over the order with its current nonce, on this chain and market.
    error MarketInvalidSignature(address seller);
    /// @dev The stablecoin must have 2 to {MAX_TOKEN_DECIMALS} decimals.
    error MarketInvalidToken(address token);
    /// @dev `account` may not perform this action.
    error MarketUnauthorizedAccount(address account);
    /// @dev An account that holds or held `SETTLER_ROLE` or `REVOKER_ROLE` withdraws only to the treasury (see
    /// {TangibleMarketViews-treasury}).
    error MarketNotTreasury(address to, address treasury);
    /// @dev The last holder of `DEFAULT_ADMIN_ROLE` cannot renounce it or have it revoked: a market without an
    /// admin could never be unpaused, and every balance would stay frozen.
    error MarketLastAdmin();
    /// @dev The market is paused.
    error EnforcedPause();
    /// @dev The market is not paused.
    error ExpectedPause();
}
