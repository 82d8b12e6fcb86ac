// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {TangibleRegistry} from "./TangibleRegistry.sol";
import {SplitLib} from "./lib/SplitLib.sol";

/// @title TangibleLicence
/// @notice ERC-721 licence certificates. A licence = (id, owner, film, quality, acquired at, hold until).
/// Direct transfers and approvals always revert: a licence changes hands only through the market, which revokes
/// the seller's licence and mints a new one to the buyer, so the 80/15/5 split cannot be bypassed. Revoked
/// licences stay queryable through {licence}; {ownerOf} reverts for them. ERC-2981 reports 15 % to the studio.
/// @dev Abstract: deployed as part of {TangibleMarket}, which is the only code path that mints and revokes.
/// Each licence is packed into one storage slot; each account's licence count shares a slot with its
/// withdrawable stablecoin balance.
abstract contract TangibleLicence is TangibleRegistry, IERC721Metadata, IERC2981, IERC721Errors {
    using Strings for uint256;

    /// @notice Revocation reasons.
    uint8 public constant REASON_RESALE = 0;
    uint8 public constant REASON_CHARGEBACK = 1;
    uint8 public constant REASON_FRAUD = 2;
    uint8 public constant REASON_OTHER = 3;

    /// @dev `meta` layout: bits 0-1 quality, bit 2 revoked, bits 3-4 revocation reason, bit 5 minted with a hold,
    /// bit 6 its card sale pending in a pool (see {TangibleMarketCore-PendingPool}).
    uint8 private constant _QUALITY_MASK = 0x03;
    uint8 private constant _REVOKED_BIT = 0x04;
    uint8 private constant _REASON_SHIFT = 3;
    uint8 private constant _REASON_MASK = 0x03;
    uint8 private constant _HELD_BIT = 0x20;
    uint8 private constant _POOLED_BIT = 0x40;
    /// @dev A licence id's generation: bits 192-199, 0 in every id the market derives or counts. A licence minted
    /// without a hold and resold for stablecoin passes its storage slot on to the buyer's licence, whose id is the
    /// seller's plus one generation (see {TangibleMarketViews-resaleLicenceId}); the ids of that lineage share the
    /// slot of its first licence, the one of generation 0.
    uint256 internal constant _GENERATION_SHIFT = 192;
    uint256 internal constant _GENERATION_MASK = uint256(0xff) << _GENERATION_SHIFT;
    uint256 internal constant _ONE_GENERATION = uint256(1) << _GENERATION_SHIFT;

    /// @dev One slot per lineage: a licence and the licences its resales in stablecoin minted in its slot, one
    /// generation each (see {_GENERATION_MASK}); the slot describes the lineage's current generation (`generation`),
    /// the earlier ones are revoked by their resale. A slot with `owner == address(0)` was never minted; a licence
    /// revoked otherwise (a card resale, a chargeback) keeps its last owner for history, one replaced in its slot
    /// does not (its `LicenceRevoked` event names it, and {licence} reads owner 0).
    struct Licence {
        address owner;
        uint24 filmId;
        uint8 meta;
        uint32 acquiredAt;
        uint24 holdFor; // with the held bit of `meta`: the hold ends at acquiredAt + holdFor
        uint8 generation;
    }

    /// @dev Per-account slot: ERC-721 balance (live licences), withdrawable stablecoin units, and a copy of the
    /// account's `SETTLER_ROLE` membership (kept in sync by {_grantRole}/{_revokeRole}) so that a card
    /// settlement checks the role in the slot it debits anyway.
    struct Account {
        uint32 licences;
        uint184 credit;
        bool settler;
        uint32 orderNonce; // next signed order's nonce, see {TangibleMarket-relayOrder}
    }

    /// @notice Read-only view of a licence, revoked or not.
    struct LicenceInfo {
        address owner;
        uint64 filmId;
        uint8 quality;
        uint64 acquiredAt;
        uint64 holdUntil;
        bool revoked;
        uint8 reason;
    }

    mapping(uint256 licenceId => Licence) internal _licences;
    mapping(address account => Account) internal _accounts;
    string private _baseTokenURI;

    /// @notice A licence was minted (always together with the ERC-721 `Transfer` from address 0).
    event LicenceMinted(
        uint256 indexed licenceId,
        address indexed owner,
        uint64 indexed filmId,
        uint8 quality,
        uint64 acquiredAt,
        uint64 holdUntil
    );
    /// @notice A licence was revoked (always together with the ERC-721 `Transfer` to address 0).
    /// `replacedBy` is the buyer's new licence id on resale, else 0.
    event LicenceRevoked(uint256 indexed licenceId, address indexed owner, uint8 reason, uint256 replacedBy);
    /// @notice The metadata base URI changed.
    event BaseURIChanged(string baseURI);

    /// @dev Licences cannot be transferred directly; resell through the market.
    error LicenceTransferDisabled();
    /// @dev Licences cannot be approved to third parties; resell through the market.
    error LicenceApprovalDisabled();
    /// @dev `licenceId` has been revoked.
    error LicenceIsRevoked(uint256 licenceId);
    /// @dev `reason` is not a valid revocation reason (1 = chargeback, 2 = fraud, 3 = other).
    error LicenceInvalidReason(uint8 reason);

    // ------------------------------------------------------------------ ERC-721 (read)

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _accounts[owner].licences;
    }

    /// @inheritdoc IERC721
    /// @dev Reverts with {LicenceIsRevoked} for a revoked licence.
    function ownerOf(uint256 licenceId) public view returns (address owner) {
        Licence memory l = _licenceAt(licenceId);
        if (l.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        if (l.meta & _REVOKED_BIT != 0) revert LicenceIsRevoked(licenceId);
        return l.owner;
    }

    /// @inheritdoc IERC721
    /// @dev Always address 0: approvals are disabled.
    function getApproved(uint256 licenceId) external view returns (address) {
        ownerOf(licenceId);
        return address(0);
    }

    /// @inheritdoc IERC721
    /// @dev Always false: approvals are disabled.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IERC721Metadata
    function name() external pure returns (string memory) {
        return "Tangible Licence";
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external pure returns (string memory) {
        return "TGL";
    }

    /// @inheritdoc IERC721Metadata
    /// @dev Also answers for revoked licences (history). Empty when no base URI is set.
    function tokenURI(uint256 licenceId) external view returns (string memory) {
        if (_licenceAt(licenceId).owner == address(0)) revert ERC721NonexistentToken(licenceId);
        string memory base = _baseTokenURI;
        return bytes(base).length == 0 ? "" : string.concat(base, licenceId.toString());
    }

    // ------------------------------------------------------------------ ERC-721 (write: disabled)

    /// @notice Always reverts: approvals are disabled.
    function approve(address, uint256) external pure {
        revert LicenceApprovalDisabled();
    }

    /// @notice Always reverts: approvals are disabled.
    function setApprovalForAll(address, bool) external pure {
        revert LicenceApprovalDisabled();
    }

    /// @notice Always reverts: transfers happen only through market resale.
    function transferFrom(address, address, uint256) external pure {
        revert LicenceTransferDisabled();
    }

    /// @notice Always reverts: transfers happen only through market resale.
    function safeTransferFrom(address, address, uint256) external pure {
        revert LicenceTransferDisabled();
    }

    /// @notice Always reverts: transfers happen only through market resale.
    function safeTransferFrom(address, address, uint256, bytes calldata) external pure {
        revert LicenceTransferDisabled();
    }

    // ------------------------------------------------------------------ ERC-2981, ERC-165

    /// @inheritdoc IERC2981
    /// @dev 15 % of `salePrice` to the studio's current royalty recipient, revoked licences included.
    function royaltyInfo(uint256 licenceId, uint256 salePrice)
        external
        view
        returns (address receiver, uint256 royaltyAmount)
    {
        Licence memory l = _licenceAt(licenceId);
        if (l.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        uint32 studioId = _editions[_editionKey(l.filmId, l.meta & _QUALITY_MASK)].studioId;
        return (_studios[studioId].royaltyRecipient, SplitLib.royalty(salePrice));
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(AccessControl, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == type(IERC2981).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ licence views and admin

    /// @notice A licence's data, revoked or not (reverts only for an id that was never minted). A licence resold
    /// for stablecoin into its slot (the buyer's id is one generation up, see {_GENERATION_MASK}) reads as revoked
    /// for resale with owner, `acquiredAt` and `holdUntil` 0: they are in its {LicenceMinted} and {LicenceRevoked}
    /// events, not in storage.
    function licence(uint256 licenceId) external view returns (LicenceInfo memory info) {
        Licence memory l = _licenceAt(licenceId);
        if (l.owner == address(0)) revert ERC721NonexistentToken(licenceId);
        bool replaced = _replacedInSlot(licenceId, l);
        info = LicenceInfo({
            owner: replaced ? address(0) : l.owner,
            filmId: l.filmId,
            quality: l.meta & _QUALITY_MASK,
            acquiredAt: replaced ? 0 : l.acquiredAt,
            holdUntil: replaced ? 0 : _holdEnd(l),
            revoked: l.meta & _REVOKED_BIT != 0,
            reason: (l.meta >> _REASON_SHIFT) & _REASON_MASK
        });
    }

    /// @notice True if `licenceId` exists and is not revoked.
    function isValid(uint256 licenceId) external view returns (bool) {
        Licence memory l = _licenceAt(licenceId);
        return l.owner != address(0) && l.meta & _REVOKED_BIT == 0;
    }

    /// @notice Sets the metadata base URI (`tokenURI = baseURI + id`). Platform admin.
    /// @dev Emits a {BaseURIChanged} event.
    function setBaseURI(string calldata baseURI) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseTokenURI = baseURI;
        emit BaseURIChanged(baseURI);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Mints `licenceId` to `to`, on hold until `holdUntil` (0: no hold; else at most the maximum hold
    /// period from now), its sale pending in a pool if `pooled` (a batched card sale, held). The caller guarantees `licenceId` was never minted and `to != 0`; a licence of
    /// generation > 0 is written in its lineage's slot, whose previous generation the caller revoked (ids of the
    /// market's own making start a slot at generation 0, see {TangibleMarketViews-resaleLicenceId}).
    function _mintLicence(
        uint256 licenceId,
        address to,
        uint64 filmId,
        uint8 quality,
        uint32 holdUntil,
        bool pooled
    ) internal {
        uint32 now32 = uint32(block.timestamp);
        uint256 meta = quality;
        if (pooled) meta |= _POOLED_BIT;
        uint256 holdFor;
        if (holdUntil != 0) {
            meta |= _HELD_BIT;
            holdFor = holdUntil - now32; // < 2**24: the hold period is at most 90 days
        }
        // One SSTORE of the packed slot, in {Licence}'s layout: owner | filmId << 160 | meta << 184 |
        // acquiredAt << 192 | holdFor << 224 | generation << 248. filmId < 2**24 (registry), quality < 4
        // (registry).
        uint256 packed = uint256(uint160(to)) | (uint256(filmId) << 160) | (meta << 184)
            | (uint256(now32) << 192) | (holdFor << 224)
            | ((licenceId & _GENERATION_MASK) << (248 - _GENERATION_SHIFT));
        Licence storage l = _slotOf(licenceId);
        assembly ("memory-safe") {
            sstore(l.slot, packed)
        }
        unchecked {
            // A count of live licences cannot reach 2**32 (each costs a mint).
            _accounts[to].licences += 1;
        }
        emit Transfer(address(0), to, licenceId);
        emit LicenceMinted(licenceId, to, filmId, quality, now32, holdUntil);
    }

    /// @dev Revokes a live licence owned by `owner`.
    function _revokeLicence(
        uint256 licenceId,
        Licence storage l,
        address owner,
        uint8 reason,
        uint256 replacedBy
    ) internal {
        l.meta = l.meta | _REVOKED_BIT | (reason << _REASON_SHIFT);
        unchecked {
            // `owner` holds this live licence, so its count is >= 1.
            _accounts[owner].licences -= 1;
        }
        emit Transfer(owner, address(0), licenceId);
        emit LicenceRevoked(licenceId, owner, reason, replacedBy);
    }

    /// @dev Mirrors `SETTLER_ROLE` grants into the account slot.
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == SETTLER_ROLE) _accounts[account].settler = true;
    }

    /// @dev Mirrors `SETTLER_ROLE` revocations into the account slot.
    function _revokeRole(bytes32 role, address account) internal virtual override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == SETTLER_ROLE) _accounts[account].settler = false;
    }

    /// @dev The slot of `licenceId`'s lineage as `licenceId` sees it: the slot itself when `licenceId` is the
    /// lineage's current generation; revoked for resale (bits kept otherwise: the owner is the current
    /// generation's, see {_replacedInSlot}) when a later generation replaced it; all zero (never minted) when
    /// `licenceId`'s generation is later than the current one.
    function _licenceAt(uint256 licenceId) internal view returns (Licence memory l) {
        l = _slotOf(licenceId);
        uint256 generation = (licenceId & _GENERATION_MASK) >> _GENERATION_SHIFT;
        if (generation == l.generation) return l;
        if (generation > l.generation) return Licence(address(0), 0, 0, 0, 0, 0);
        l.meta = (l.meta & _QUALITY_MASK) | _REVOKED_BIT; // reason 0: REASON_RESALE
    }

    /// @dev The storage slot of `licenceId`'s lineage (its id with the generation bits clear).
    function _slotOf(uint256 licenceId) internal view returns (Licence storage) {
        return _licences[licenceId & ~_GENERATION_MASK];
    }

    /// @dev Whether `licenceId`, read as `l` by {_licenceAt}, was replaced in its slot by a later generation.
    function _replacedInSlot(uint256 licenceId, Licence memory l) internal pure returns (bool) {
        return (licenceId & _GENERATION_MASK) >> _GENERATION_SHIFT != l.generation;
    }

    /// @dev Whether `l` was minted with a hold (a card payment, or an uncleared licence sold on).
    function _held(Licence memory l) internal pure returns (bool) {
        return l.meta & _HELD_BIT != 0;
    }

    /// @dev When `l`'s hold ends (0: minted without a hold).
    function _holdEnd(Licence memory l) internal pure returns (uint64) {
        return _held(l) ? uint64(l.acquiredAt) + l.holdFor : 0;
    }

    /// @dev Whether `l`'s card sale is pending in a {TangibleMarketCore-PendingPool}.
    function _pooled(Licence memory l) internal pure returns (bool) {
        return l.meta & _POOLED_BIT != 0;
    }

    /// @dev Clears the pooled bit of slot `l` (its pooled sale cleared or clawed back).
    function _unpool(Licence storage l) internal {
        l.meta &= ~_POOLED_BIT;
    }

    function _isRevoked(Licence memory l) internal pure returns (bool) {
        return l.meta & _REVOKED_BIT != 0;
    }

    function _quality(Licence memory l) internal pure returns (uint8) {
        return l.meta & _QUALITY_MASK;
    }
}
