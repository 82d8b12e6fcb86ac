// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleMarketCore} from "./TangibleMarketCore.sol";

/// @title TangibleCardBatch
/// @notice Card sales of one edition settled in one call ({settleCardPrimaryBatch}), their pending shares in one
/// {TangibleMarketCore-PendingPool} per edition and second. Run by {TangibleMarketAdmin} in the market's storage
/// (the market forwards the call), so it adds no code to the market beyond the pool reads in
/// {TangibleMarketCore}.
/// @dev No storage of its own: the pools live in {TangibleMarketCore}'s layout.
abstract contract TangibleCardBatch is TangibleMarketCore {
    /// @notice Most card sales one {settleCardPrimaryBatch} settles.
    uint256 public constant MAX_CARD_BATCH = 64;

    /// @dev What the sales of one {settleCardPrimaryBatch} share.
    struct CardBatch {
        uint64 filmId;
        uint8 quality;
        uint32 studioId;
        uint32 clearAt;
        uint32 holdUntil;
        bool pooled; // their pending shares in the edition's pool of this second, see {_joinPool}
    }

    /// @notice Settles card payments for `recipients.length` primary sales of edition `(filmId, quality)` at once
    /// (1 to {MAX_CARD_BATCH}): sale `i` mints {TangibleMarketViews-cardLicenceId}(`paymentRefs[i]`) to
    /// `recipients[i]` (no ids returned: the caller knows them), exactly as {TangibleMarket-settleCardPrimary}
    /// would one by one (same price check, float debit, daily limit, hold, clearance, events and licence ids),
    /// all or none. The sales' pending shares share one record ({PendingPool}) with the other sales of the
    /// edition batched in the same second: per sale, no pending slot of its own. {pendingSale}, {clearSales} and
    /// {revoke} read and settle a pooled sale like any other. `SETTLER_ROLE` only.
    /// @dev Emits per sale {SalePending}, {Transfer}, {LicenceMinted} and {SaleSettled} events, in that order.
    function settleCardPrimaryBatch(
        uint64 filmId,
        uint8 quality,
        uint64 expectedPriceCents,
        address[] calldata recipients,
        bytes32[] calldata paymentRefs
    ) external virtual whenNotPaused {
        _checkSettler();
        uint256 n = recipients.length;
        if (n == 0 || n > MAX_CARD_BATCH || paymentRefs.length != n) {
            revert MarketInvalidBatch(n, paymentRefs.length);
        }
        CardBatch memory b;
        (b.filmId, b.quality) = (filmId, quality);
        Edition memory e = _editions[_editionKey(filmId, quality)];
        uint64 price = e.priceCents;
        if (price == 0) revert RegistryEditionNotFound(filmId, quality);
        if (!e.active) revert MarketEditionInactive(filmId, quality);
        if (expectedPriceCents != price) revert MarketPriceMismatch(expectedPriceCents, price);
        Sale memory sale;
        sale.payer = msg.sender;
        sale.priceCents = price;
        _split(sale, e.studioId, true);
        uint256 total = uint256(price) * n;
        // More than any daily limit (< 2**39 cents) when it does not fit: refused there.
        _chargeCardSettlement(total > type(uint64).max ? type(uint64).max : uint64(total));
        _debit(msg.sender, total * unitsPerCent);
        (b.studioId, b.clearAt, b.holdUntil) = (e.studioId, _clearAt(), _holdUntil());
        b.pooled = _joinPool(b, sale, n);
        for (uint256 i; i < n; ++i) {
            _settleInBatch(b, sale, recipients[i], paymentRefs[i]);
        }
    }

    /// @dev Adds `n` card sales of edition `(filmId, quality)` made now, with `sale`'s shares, to the edition's
    /// pool of this second; false, with nothing written, when that pool holds sales with other shares or
    /// another clearance time (a price, commission or clearance change within the second): the sales then
    /// get records of their own.
    function _joinPool(CardBatch memory b, Sale memory sale, uint256 n) internal returns (bool) {
        // The time as the licence slot keeps it (32 bits), which {_pendingOf} reads the key from.
        uint256 key = _poolKey(b.filmId, b.quality, uint32(block.timestamp));
        PendingPool memory pool = _pools[key];
        if (
            pool.count != 0
                && (pool.studioCents != sale.studioCents
                    || pool.platformCents != sale.platformCents
                    || pool.clearAt != b.clearAt
                    || pool.studioId != b.studioId)
        ) return false;
        // One SSTORE. The count cannot overflow in practice: each sale in it cost a mint (n <= MAX_CARD_BATCH).
        // forge-lint: disable-next-line(unsafe-typecast)
        _pools[key] =
            PendingPool(sale.studioCents, sale.platformCents, b.clearAt, b.studioId, pool.count + uint32(n));
        return true;
    }

    /// @dev One sale of a {settleCardPrimaryBatch}: the licence of `paymentRef` (refused if used before, or
    /// earlier in the batch) minted to `recipient`, its pending record pooled or its own, its events.
    function _settleInBatch(CardBatch memory b, Sale memory sale, address recipient, bytes32 paymentRef)
        internal
    {
        if (recipient == address(0)) revert MarketInvalidRecipient(recipient);
        uint256 licenceId = _cardLicence(paymentRef);
        (sale.licenceId, sale.paymentRef) = (licenceId, paymentRef);
        if (b.pooled) emit SalePending(licenceId, b.clearAt, false);
        else _book(sale, b.studioId, b.clearAt, 0);
        _mintLicence(licenceId, recipient, b.filmId, b.quality, b.holdUntil, b.pooled);
        _emitSale(sale);
    }
}
