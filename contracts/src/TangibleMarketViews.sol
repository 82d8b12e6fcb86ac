// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TangibleOffers} from "./TangibleOffers.sol";

/// @title TangibleMarketViews
/// @notice The read-only functions of {TangibleMarket}: settings, balances, offers, pending sales and the
/// licence ids sales mint.
/// @dev Declares no storage (the layout is {TangibleMarketCore}'s), so the admin module stays aligned.
abstract contract TangibleMarketViews is TangibleOffers {
    /// @notice The only address a settler's or revoker's (or former one's) {TangibleMarket-withdraw} may pay.
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

    /// @notice The most card money settlers may settle per UTC day (euros) and what they settled today (cents).
    function cardSettlementLimit() external view returns (uint32 eurosPerDay, uint64 settledTodayCents) {
        Counters memory c = _counters;
        eurosPerDay = c.settleLimitEuros;
        // forge-lint: disable-next-line(block-timestamp)
        settledTodayCents = c.settleDay == uint32(block.timestamp / 1 days) ? c.settledCents : 0;
    }

    /// @notice Clearance period of card-paid money, in seconds (see {pendingSale}).
    function clearancePeriod() external view returns (uint32) {
        return _counters.clearancePeriod;
    }

    /// @notice The shares of the sale that minted `licenceId` that are not credited yet (`clearAt == 0`: none).
    /// A card-paid sale's shares, and every share of a sale of a licence whose own sale is still pending
    /// (`tainted`), stay pending until `clearAt`: the card payment's time plus the clearance period, or the
    /// licence sold's own `clearAt` if later. {clearSales} credits them after `clearAt`; {revoke} before it
    /// gives them back: a card sale's to the revoker (the card holder is refunded off chain), a tainted crypto sale's
    /// to the licence's owner (the recipient the buyer named).
    function pendingSale(uint256 licenceId) external view returns (PendingSale memory p) {
        (p,) = _pendingOf(licenceId);
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

    /// @notice The id the next primary licence paid in stablecoin will get (resales: {resaleLicenceId}).
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
        Licence memory l = _licenceAt(licenceId);
        // A licence replaced in its slot by its sale no longer records its owner (see {TangibleLicence-licence}).
        address seller = _replacedInSlot(licenceId, l) ? address(0) : l.owner;
        info = OfferInfo(licenceId, seller, active ? o.priceCents : 0, active);
    }

    /// @notice The active offer id of `licenceId`, or 0.
    function activeOfferOf(uint256 licenceId) external view returns (uint256) {
        ActiveOffer memory o = _activeOffers[licenceId];
        return o.priceCents == 0 ? 0 : o.offerId;
    }

    /// @notice The licence id a card settlement with `paymentRef` mints: `keccak256(paymentRef)` with the top
    /// bit set (never a sequential id) and the generation bits (192-199) clear.
    function cardLicenceId(bytes32 paymentRef) public pure returns (uint256) {
        return _cardIdOf(paymentRef);
    }

    /// @notice The licence id a resale of live licence `licenceId` paid in stablecoin ({TangibleMarket-buyOffer}, or a
    /// credit order) mints (meaningless for a licence that is not live). A licence minted without a hold passes
    /// its storage slot on: the new id is `licenceId` plus one generation (`licenceId + 2**192`: bits 192-199
    /// count the resales in the slot, from 0), unless those bits are all set. A licence minted with a hold (it
    /// may have a sale pending), or at the last generation, gets a new slot: `keccak256(licenceId)` shifted
    /// right by two bits, with bit 254 set (never a sequential or a card id) and the generation bits clear. A
    /// licence is sold at most once (its sale revokes it), so the id is new; a card-paid resale mints
    /// {cardLicenceId} instead.
    function resaleLicenceId(uint256 licenceId) public view returns (uint256) {
        Licence memory l = _slotOf(licenceId);
        if (!_held(l) && licenceId & _GENERATION_MASK != _GENERATION_MASK) {
            return licenceId + _ONE_GENERATION;
        }
        return (uint256(keccak256(abi.encode(licenceId))) >> 2 | _RESALE_ID_FLAG) & ~_GENERATION_MASK;
    }

    /// @notice True once `paymentRef` has settled a sale.
    function paymentRefUsed(bytes32 paymentRef) external view returns (bool) {
        return _slotOf(cardLicenceId(paymentRef)).owner != address(0);
    }
}
