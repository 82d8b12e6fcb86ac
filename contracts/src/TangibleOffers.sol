// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {TangibleMarketCore} from "./TangibleMarketCore.sol";

/// @title TangibleOffers
/// @notice Resale offers of {TangibleMarket}: listed, repriced and cancelled by the licence owner, directly or
/// by an EIP-712 order the owner signed and anyone submits ({relayOrder}). Fills are the market's.
/// @dev Declares no storage (the layout is {TangibleMarketCore}'s), so the admin module stays aligned.
abstract contract TangibleOffers is TangibleMarketCore {
    /// @notice EIP-712 type of a seller's signed resale order (see {relayOrder}).
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address seller,uint8 action,uint256 target,uint64 priceCents,uint32 nonce,uint256 deadline)"
    );
    /// @notice Order action: list licence `target`.
    uint8 public constant ORDER_LIST = 0;
    /// @notice Order action: reprice offer `target`.
    uint8 public constant ORDER_REPRICE = 1;
    /// @notice Order action: cancel offer `target`.
    uint8 public constant ORDER_CANCEL = 2;
    /// @notice EIP-712 type of an account's signed order spending or withdrawing its credit (see
    /// {TangibleMarket-relayCreditOrder}). Same domain and nonce sequence as {ORDER_TYPEHASH}.
    bytes32 public constant CREDIT_ORDER_TYPEHASH = keccak256(
        "CreditOrder(address account,uint8 action,uint256 target,uint64 amountCents,address to,uint32 nonce,uint256 deadline)"
    );
    /// @notice Credit order action: buy edition `target` (`filmId << 8 | quality`) for `to`.
    uint8 public constant ORDER_BUY_PRIMARY = 3;
    /// @notice Credit order action: buy offer `target` for `to`.
    uint8 public constant ORDER_BUY_OFFER = 4;
    /// @notice Credit order action: pay `amountCents` of the balance to `to`.
    uint8 public constant ORDER_WITHDRAW = 5;
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("Tangible");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @notice Offers `licenceId` for resale at `priceCents` (>= {MIN_RESALE_PRICE_CENTS}). Owner only; the
    /// licence must not be revoked, on hold, or already offered.
    /// @dev Emits an {OfferListed} event.
    function list(uint256 licenceId, uint64 priceCents) external whenNotPaused returns (uint256 offerId) {
        return _list(msg.sender, licenceId, priceCents);
    }

    /// @notice Changes the price of an active offer. Seller only. Voids the seller's signed orders not yet
    /// submitted ({orderNonce} moves on).
    /// @dev Emits an {OfferUpdated} event.
    function updateOffer(uint256 offerId, uint64 priceCents) external whenNotPaused {
        _updateOffer(msg.sender, offerId, priceCents);
        ++_accounts[msg.sender].orderNonce;
    }

    /// @notice Cancels an active offer. Seller only; allowed while paused. Voids the seller's signed orders not
    /// yet submitted ({orderNonce} moves on): a stale order (say a cheap listing signed earlier, its signature
    /// made public by a failed submission) cannot outlive the seller's own cancellation or reprice.
    /// @dev Emits an {OfferCancelled} event.
    function cancelOffer(uint256 offerId) external {
        _cancelOffer(msg.sender, offerId);
        ++_accounts[msg.sender].orderNonce;
    }

    /// @notice Carries out a resale order `seller` signed (EIP-712, {ORDER_TYPEHASH} in the domain
    /// {domainSeparator}): list licence `target` at `priceCents` ({ORDER_LIST}), reprice offer `target`
    /// ({ORDER_REPRICE}) or cancel it ({ORDER_CANCEL}), exactly as `seller` calling {list}, {updateOffer} or
    /// {cancelOffer} would. The order carries `seller`'s next order nonce ({orderNonce}), consumed here, so it runs
    /// once; it is refused after `deadline`, on another chain or another market. The signature is an ECDSA one
    /// (low `s` only) or, for a contract account, ERC-1271's. Anyone may submit it: the API's platform key relays the
    /// orders of sellers who hold no ETH. Returns the offer id.
    /// @dev Emits {OrderExecuted}, then the event of the action.
    function relayOrder(
        address seller,
        uint8 action,
        uint256 target,
        uint64 priceCents,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 offerId) {
        if (action > ORDER_CANCEL) revert MarketInvalidOrder(action);
        if (action != ORDER_CANCEL && _config.paused) revert EnforcedPause();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert MarketOrderExpired(deadline);
        uint32 nonce = _accounts[seller].orderNonce++;
        _checkSignature(
            seller,
            keccak256(abi.encode(ORDER_TYPEHASH, seller, action, target, priceCents, nonce, deadline)),
            signature
        );
        emit OrderExecuted(seller, nonce, action);
        if (action == ORDER_LIST) return _list(seller, target, priceCents);
        if (action == ORDER_REPRICE) _updateOffer(seller, target, priceCents);
        else _cancelOffer(seller, target);
        return target;
    }

    /// @dev {list} for `seller`.
    function _list(address seller, uint256 licenceId, uint64 priceCents) internal returns (uint256 offerId) {
        Licence memory l = _licenceAt(licenceId);
        _checkSeller(seller, licenceId, l);
        uint64 holdEnd = _holdEnd(l);
        // forge-lint: disable-next-line(block-timestamp)
        if (holdEnd > block.timestamp) revert MarketLicenceOnHold(licenceId, holdEnd);
        _checkResalePrice(l, priceCents);
        ActiveOffer memory current = _activeOffers[licenceId];
        if (current.priceCents != 0) revert MarketOfferExists(licenceId, current.offerId);
        offerId = _counters.nextOfferId++;
        _offerLicences[offerId] = licenceId;
        // forge-lint: disable-next-line(unsafe-typecast)
        _activeOffers[licenceId] = ActiveOffer(uint64(offerId), priceCents); // offer ids are a uint48 counter
        emit OfferListed(offerId, licenceId, seller, priceCents);
    }

    /// @dev {updateOffer} for `seller`.
    function _updateOffer(address seller, uint256 offerId, uint64 priceCents) internal {
        (uint256 licenceId, ActiveOffer storage o) = _sellerOffer(seller, offerId);
        _checkResalePrice(_licenceAt(licenceId), priceCents);
        o.priceCents = priceCents;
        emit OfferUpdated(offerId, priceCents);
    }

    /// @dev {cancelOffer} for `seller`.
    function _cancelOffer(address seller, uint256 offerId) internal {
        (uint256 licenceId,) = _sellerOffer(seller, offerId);
        delete _activeOffers[licenceId];
        emit OfferCancelled(offerId);
    }

    /// @dev Reverts unless `signature` is `signer`'s (ECDSA, or ERC-1271 for a contract) over the EIP-712 struct
    /// hash `structHash` in {domainSeparator}.
    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) internal view {
        bytes32 digest = MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) {
            revert MarketInvalidSignature(signer);
        }
    }

    /// @notice The nonce `account`'s next signed order must carry (see {relayOrder}).
    function orderNonce(address account) external view returns (uint32) {
        return _accounts[account].orderNonce;
    }

    /// @notice The EIP-712 domain separator of signed orders: name "Tangible", version "1", this chain, this
    /// market (computed on each call, so a fork's chain id is honoured).
    function domainSeparator() public view returns (bytes32) {
        return
            keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev Reverts unless the caller owns the live licence `licenceId`.
    function _checkSeller(address seller, uint256 licenceId, Licence memory l) internal pure {
        if (l.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        if (_isRevoked(l)) revert LicenceIsRevoked(licenceId);
        if (l.owner != seller) revert MarketNotLicenceOwner(seller, licenceId);
    }

    /// @dev Loads an active offer whose licence `seller` owns.
    function _sellerOffer(address seller, uint256 offerId)
        internal
        view
        returns (uint256 licenceId, ActiveOffer storage o)
    {
        licenceId = _offerLicences[offerId];
        o = _activeOffers[licenceId];
        if (o.priceCents == 0 || o.offerId != offerId) revert MarketOfferNotActive(offerId);
        if (_licenceAt(licenceId).owner != seller) revert MarketNotLicenceOwner(seller, licenceId);
    }

    /// @dev Reverts unless `priceCents` is a valid resale price of licence `l`: at least the market's minimum
    /// and its edition's resale floor.
    function _checkResalePrice(Licence memory l, uint64 priceCents) internal view {
        if (priceCents < MIN_RESALE_PRICE_CENTS) {
            revert MarketPriceBelowMinimum(priceCents, MIN_RESALE_PRICE_CENTS);
        }
        _requireFloor(priceCents, _editions[_editionKey(l.filmId, _quality(l))].resaleFloorCents);
    }

    /// @dev Reverts if `priceCents` is below `floorCents`.
    function _requireFloor(uint64 priceCents, uint64 floorCents) internal pure {
        if (priceCents < floorCents) revert MarketPriceBelowFloor(priceCents, floorCents);
    }
}
