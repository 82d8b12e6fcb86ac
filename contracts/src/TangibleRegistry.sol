// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SplitLib} from "./lib/SplitLib.sol";

/// @title TangibleRegistry
/// @notice Studios, films and editions (film x quality) with their master hash and price in EUR cents.
/// @dev Abstract: it is deployed as part of {TangibleMarket}, so the sale hot path reads edition and studio data
/// from its own storage instead of paying for cross-contract calls. Studio functions are callable by the studio
/// admin or by a `REGISTRAR_ROLE` holder (the API registers on behalf of studios); commissions are set by the
/// platform (`DEFAULT_ADMIN_ROLE` or `REGISTRAR_ROLE`).
///
/// The platform's hot keys hold three narrow roles (audit M-4): `SETTLER_ROLE` settles card payments from its
/// float, `REVOKER_ROLE` revokes licences, `REGISTRAR_ROLE` registers studios and acts for them in the registry.
/// A key holding one of them cannot do what the other two allow; any of them may {TangibleMarket-pause}.
///
/// Film ids live in 24 bits of each licence slot, a space of 16,777,215 films for the whole market. So that no
/// one can exhaust it (each film costs its registrant about 27k gas), only the platform registers studios (the
/// API does so once a platform admin approved the studio), and each studio registers at most its film quota
/// ({DEFAULT_FILM_QUOTA} at registration, changed only by `DEFAULT_ADMIN_ROLE`).
abstract contract TangibleRegistry is AccessControl {
    /// @notice Settles card payments from the holder's deposited float ({TangibleMarket-settleCardPrimary},
    /// {TangibleMarket-settleCardOffer}); its balance is withdrawn to the treasury only.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");
    /// @notice Revokes licences ({TangibleMarketCore-revoke}); clawed-back card money lands in the holder's
    /// balance, withdrawn to the treasury only.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");
    /// @notice Registers studios, sets commissions, suspends editions and acts for any studio in the registry
    /// (films, editions, prices, masters, resale floors); never changes a studio's admin or royalty recipient.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Upper bound of a studio's primary commission (basis points).
    uint16 public constant MAX_COMMISSION_BPS = SplitLib.MAX_COMMISSION_BPS;
    /// @notice Commission given to a newly registered studio (basis points).
    uint16 public constant DEFAULT_COMMISSION_BPS = SplitLib.DEFAULT_COMMISSION_BPS;
    /// @notice Highest quality code: 0 = SD, 1 = HD, 2 = UHD 4K.
    uint8 public constant MAX_QUALITY = 2;
    /// @notice Films a newly registered studio may register before the platform admin raises its quota.
    uint16 public constant DEFAULT_FILM_QUOTA = 1000;
    /// @notice Studios a registrar may register per UTC day (the platform admin is not limited): a stolen registrar
    /// key needs years, not hours, to register the 16,778 studios whose quotas would exhaust the film id space.
    uint16 public constant REGISTRAR_STUDIOS_PER_DAY = 50;
    /// @notice Highest resale floor a studio may set, in basis points of the lowest primary price the edition ever
    /// had (see {setResaleFloor}): 50 %, so that a floor never prices holders out of reselling, even after the
    /// primary price was raised.
    uint16 public constant MAX_RESALE_FLOOR_BPS = 5000;
    /// @dev Film ids are sequential and stored in 24 bits inside each licence slot.
    uint64 internal constant _MAX_FILM_ID = type(uint24).max;

    /// @dev Hot slot of a studio: read (and credited) on every sale.
    struct Studio {
        address royaltyRecipient;
        uint16 commissionBps;
        uint64 creditCents; // studio earnings not yet withdrawn, see {TangibleMarket-withdrawStudio}
        uint16 filmsLeft; // films the studio may still register, see {setStudioFilmQuota}
    }

    /// @dev Film record. `studioId == 0` means the film does not exist.
    struct Film {
        uint32 studioId;
        uint16 year;
    }

    /// @dev Hot slot of an edition: read on every primary sale and every resale.
    struct Edition {
        uint64 priceCents; // 0 = edition not registered
        uint32 studioId;
        bool active;
        bool suspended; // withdrawn by the platform: the studio cannot reactivate it, see {suspendEdition}
        bool suspendedByAdmin; // only `DEFAULT_ADMIN_ROLE` lifts it, not a registrar
        uint64 resaleFloorCents; // lowest resale price, see {setResaleFloor}
        uint64 lowestPriceCents; // lowest primary price the edition ever had: bounds the floor
    }

    /// @notice Read-only view of an edition.
    struct EditionInfo {
        uint64 filmId;
        uint8 quality;
        uint32 studioId;
        bytes32 masterHash;
        uint64 priceCents;
        bool active;
        bool suspended;
        uint64 resaleFloorCents;
        uint64 lowestPriceCents;
    }

    /// @notice Read-only view of a studio.
    struct StudioInfo {
        address admin;
        address royaltyRecipient;
        uint16 commissionBps;
        uint64 creditCents;
        string name;
    }

    mapping(uint32 studioId => Studio) internal _studios;
    mapping(uint32 studioId => address) private _studioAdmins;
    mapping(uint32 studioId => string) private _studioNames;
    mapping(uint64 filmId => Film) private _films;
    mapping(uint256 editionKey => Edition) internal _editions;
    mapping(uint256 editionKey => bytes32) private _masterHashes;
    uint32 private _studioCount;
    uint64 private _filmCount;
    /// @dev The UTC day of the last studio a registrar registered, and how many registrars registered that day
    /// (packed with the two counters above: no slot of its own).
    uint32 private _registrarDay;
    uint16 private _registrarStudiosToday;

    /// @notice A studio was registered.
    event StudioRegistered(
        uint32 indexed studioId,
        address indexed admin,
        address royaltyRecipient,
        uint16 commissionBps,
        string name
    );
    /// @notice A studio's admin, royalty recipient, commission or name changed.
    event StudioUpdated(
        uint32 indexed studioId,
        address indexed admin,
        address royaltyRecipient,
        uint16 commissionBps,
        string name
    );
    /// @notice A film was registered.
    event FilmRegistered(uint64 indexed filmId, uint32 indexed studioId, string title, uint16 year);
    /// @notice An edition (film x quality) was registered, active.
    event EditionRegistered(
        uint64 indexed filmId, uint8 indexed quality, bytes32 masterHash, uint64 priceCents
    );
    /// @notice An edition's master hash or price changed.
    event EditionUpdated(uint64 indexed filmId, uint8 indexed quality, bytes32 masterHash, uint64 priceCents);
    /// @notice An edition was withdrawn from (`active = false`) or returned to (`active = true`) primary sale.
    event EditionStatusChanged(uint64 indexed filmId, uint8 indexed quality, bool active);
    /// @notice The platform suspended an edition (`suspended = true`: withdrawn from sale, and its studio may not
    /// reactivate it) or lifted the suspension, for `reason`.
    event EditionSuspended(uint64 indexed filmId, uint8 indexed quality, bool suspended, string reason);
    /// @notice An edition's master hash changed from `previousMasterHash` for the studio's `reason`; licences
    /// already sold now give access to the new master (same edition key).
    event MasterReplaced(
        uint64 indexed filmId,
        uint8 indexed quality,
        bytes32 previousMasterHash,
        bytes32 masterHash,
        string reason
    );
    /// @notice An edition's resale floor (lowest resale price, cents) was set.
    event ResaleFloorChanged(uint64 indexed filmId, uint8 indexed quality, uint64 floorCents);
    /// @notice The platform admin set the lowest primary price an edition ever had, which bounds its resale floor,
    /// back to its price now ({resetLowestPrice}).
    event LowestPriceReset(uint64 indexed filmId, uint8 indexed quality, uint64 lowestPriceCents);
    /// @notice A studio's film quota (films it may still register) was set.
    event StudioFilmQuotaChanged(uint32 indexed studioId, uint16 filmsLeft);

    /// @dev `studioId` is not a registered studio.
    error RegistryStudioNotFound(uint32 studioId);
    /// @dev `filmId` is not a registered film.
    error RegistryFilmNotFound(uint64 filmId);
    /// @dev The edition `(filmId, quality)` is not registered.
    error RegistryEditionNotFound(uint64 filmId, uint8 quality);
    /// @dev The edition `(filmId, quality)` is already registered.
    error RegistryEditionExists(uint64 filmId, uint8 quality);
    /// @dev `account` is neither the admin of `studioId` nor a registrar (nor the platform admin where it may act).
    error RegistryUnauthorizedStudioAccount(address account, uint32 studioId);
    /// @dev `commissionBps` exceeds `maxBps`.
    error RegistryInvalidCommission(uint16 commissionBps, uint16 maxBps);
    /// @dev `quality` is not 0 (SD), 1 (HD) or 2 (UHD 4K).
    error RegistryInvalidQuality(uint8 quality);
    /// @dev A zero address where an account is required.
    error RegistryInvalidAddress(address account);
    /// @dev An edition price must be > 0 cents.
    error RegistryInvalidPrice(uint64 priceCents);
    /// @dev An edition's master hash must not be zero.
    error RegistryInvalidMasterHash();
    /// @dev The edition is already in the requested status.
    error RegistryEditionStatusUnchanged(uint64 filmId, uint8 quality, bool active);
    /// @dev No more film ids are available (film ids are 24-bit).
    error RegistryFilmLimitReached();
    /// @dev `studioId` has registered as many films as its quota allows; the platform admin may raise it.
    error RegistryFilmQuotaReached(uint32 studioId);
    /// @dev Registrars registered {REGISTRAR_STUDIOS_PER_DAY} studios today; the platform admin may register more.
    error RegistryStudioLimitReached(uint16 perDay);
    /// @dev The platform suspended the edition: only the platform lifts that ({unsuspendEdition}).
    error RegistryEditionSuspended(uint64 filmId, uint8 quality);
    /// @dev The studio has `filmsLeft` films left, not the count the admin's change expected.
    error RegistryFilmQuotaMismatch(uint32 studioId, uint16 filmsLeft);
    /// @dev The edition's suspension is already in the requested state.
    error RegistrySuspensionUnchanged(uint64 filmId, uint8 quality, bool suspended);
    /// @dev A resale floor above {MAX_RESALE_FLOOR_BPS} of the edition's primary price (`maxCents`), set or left
    /// above it by a price cut.
    error RegistryInvalidResaleFloor(uint64 floorCents, uint64 maxCents);
    /// @dev Changing a master hash, or suspending an edition, needs a non-empty reason (recorded in the event).
    error RegistryReasonRequired();

    /// @dev Reverts unless the caller is the studio's admin or holds `REGISTRAR_ROLE`.
    modifier onlyStudioOrRegistrar(uint32 studioId) {
        _checkStudioOrRegistrar(studioId);
        _;
    }

    // ------------------------------------------------------------------ studios

    /// @notice Registers a studio with the default commission and film quota. Platform admin or registrar only
    /// (the API registers a studio once a platform admin approved it): a studio cannot register itself, so nobody
    /// can mint studios, and their film quotas, to exhaust the film id space. Registrars together register at most
    /// {REGISTRAR_STUDIOS_PER_DAY} studios per UTC day.
    /// @dev Emits a {StudioRegistered} event.
    function registerStudio(address admin, address royaltyRecipient, string calldata name)
        external
        virtual
        returns (uint32 studioId)
    {
        _checkAdminOrRegistrar(0);
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) _countRegistrarStudio();
        if (admin == address(0)) revert RegistryInvalidAddress(admin);
        if (royaltyRecipient == address(0)) revert RegistryInvalidAddress(royaltyRecipient);
        studioId = ++_studioCount;
        _studios[studioId] = Studio(royaltyRecipient, DEFAULT_COMMISSION_BPS, 0, DEFAULT_FILM_QUOTA);
        _studioAdmins[studioId] = admin;
        _studioNames[studioId] = name;
        emit StudioRegistered(studioId, admin, royaltyRecipient, DEFAULT_COMMISSION_BPS, name);
    }

    /// @notice Changes a studio's admin, royalty recipient and name. The studio's admin only: not a registrar,
    /// so that a stolen platform key cannot re-point a studio's royalties or take over its administration.
    /// @dev Studio earnings accrued for the previous royalty recipient are credited to that address's
    /// withdrawable balance first. Emits a {StudioUpdated} event.
    function updateStudio(uint32 studioId, address admin, address royaltyRecipient, string calldata name)
        external
        virtual
    {
        _requireStudio(studioId);
        if (_studioAdmins[studioId] != msg.sender) {
            revert RegistryUnauthorizedStudioAccount(msg.sender, studioId);
        }
        if (admin == address(0)) revert RegistryInvalidAddress(admin);
        if (royaltyRecipient == address(0)) revert RegistryInvalidAddress(royaltyRecipient);
        Studio storage s = _studios[studioId];
        address previous = s.royaltyRecipient;
        if (previous != royaltyRecipient) {
            uint64 credit = s.creditCents;
            s.creditCents = 0;
            s.royaltyRecipient = royaltyRecipient;
            if (credit != 0) _creditAccountCents(previous, credit);
        }
        _studioAdmins[studioId] = admin;
        _studioNames[studioId] = name;
        emit StudioUpdated(studioId, admin, royaltyRecipient, s.commissionBps, name);
    }

    /// @notice Sets a studio's primary commission, at most {MAX_COMMISSION_BPS}. Platform admin or registrar.
    /// @dev Emits a {StudioUpdated} event.
    function setStudioCommission(uint32 studioId, uint16 commissionBps) external virtual {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) _checkRole(REGISTRAR_ROLE);
        _requireStudio(studioId);
        if (commissionBps > MAX_COMMISSION_BPS) {
            revert RegistryInvalidCommission(commissionBps, MAX_COMMISSION_BPS);
        }
        Studio storage s = _studios[studioId];
        s.commissionBps = commissionBps;
        emit StudioUpdated(
            studioId, _studioAdmins[studioId], s.royaltyRecipient, commissionBps, _studioNames[studioId]
        );
    }

    /// @notice Sets how many more films `studioId` may register, from `expectedFilmsLeft` (so that a studio
    /// cannot spend its old quota between the admin's decision and its transaction, then receive the new one
    /// too). Platform admin only.
    /// @dev Emits a {StudioFilmQuotaChanged} event.
    function setStudioFilmQuota(uint32 studioId, uint16 expectedFilmsLeft, uint16 filmsLeft)
        external
        virtual
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _requireStudio(studioId);
        Studio storage s = _studios[studioId];
        uint16 current = s.filmsLeft;
        if (current != expectedFilmsLeft) revert RegistryFilmQuotaMismatch(studioId, current);
        s.filmsLeft = filmsLeft;
        emit StudioFilmQuotaChanged(studioId, filmsLeft);
    }

    // ------------------------------------------------------------------ films and editions

    /// @notice Registers a film of `studioId`, within the studio's film quota. Studio admin or registrar.
    /// @dev Film ids are sequential from 1. Emits a {FilmRegistered} event.
    function registerFilm(uint32 studioId, string calldata title, uint16 year)
        external
        virtual
        onlyStudioOrRegistrar(studioId)
        returns (uint64 filmId)
    {
        Studio storage s = _studios[studioId];
        uint16 left = s.filmsLeft;
        if (left == 0) revert RegistryFilmQuotaReached(studioId);
        s.filmsLeft = left - 1;
        filmId = ++_filmCount;
        if (filmId > _MAX_FILM_ID) revert RegistryFilmLimitReached();
        _films[filmId] = Film(studioId, year);
        emit FilmRegistered(filmId, studioId, title, year);
    }

    /// @notice Registers the edition `(filmId, quality)`, active, with its encrypted master's hash and price.
    /// Studio admin or registrar.
    /// @dev Emits an {EditionRegistered} event.
    function registerEdition(uint64 filmId, uint8 quality, bytes32 masterHash, uint64 priceCents)
        external
        virtual
    {
        uint32 studioId = _requireFilm(filmId);
        _checkStudioOrRegistrar(studioId);
        if (quality > MAX_QUALITY) revert RegistryInvalidQuality(quality);
        if (masterHash == bytes32(0)) revert RegistryInvalidMasterHash();
        if (priceCents == 0) revert RegistryInvalidPrice(priceCents);
        uint256 key = _editionKey(filmId, quality);
        if (_editions[key].priceCents != 0) revert RegistryEditionExists(filmId, quality);
        _editions[key] = Edition(priceCents, studioId, true, false, false, 0, priceCents);
        _masterHashes[key] = masterHash;
        emit EditionRegistered(filmId, quality, masterHash, priceCents);
    }

    /// @notice Changes an edition's price and, with a non-empty `reason`, its master hash. Studio admin or
    /// registrar. Buyers and holders are bound to the edition, not to one master: a replaced master (a corrected
    /// encode, say) is what every licence of the edition then gives access to, so the change is recorded with its
    /// reason on chain ({MasterReplaced}). `reason` is ignored when the master hash does not change.
    /// @dev Emits an {EditionUpdated} event, and a {MasterReplaced} event when the master hash changes.
    function updateEdition(
        uint64 filmId,
        uint8 quality,
        bytes32 masterHash,
        uint64 priceCents,
        string calldata reason
    ) external virtual {
        (uint256 key, Edition storage e) = _studioEdition(filmId, quality);
        // Frozen while suspended: the platform lifts a suspension on the master it reviewed.
        if (e.suspended) revert RegistryEditionSuspended(filmId, quality);
        if (masterHash == bytes32(0)) revert RegistryInvalidMasterHash();
        if (priceCents == 0) revert RegistryInvalidPrice(priceCents);
        bytes32 previous = _masterHashes[key];
        if (previous != masterHash) {
            if (bytes(reason).length == 0) revert RegistryReasonRequired();
            _masterHashes[key] = masterHash;
            emit MasterReplaced(filmId, quality, previous, masterHash, reason);
        }
        uint64 lowest = e.lowestPriceCents;
        if (priceCents < lowest) {
            lowest = priceCents;
            _checkFloorBound(e.resaleFloorCents, lowest);
            e.lowestPriceCents = lowest;
        }
        e.priceCents = priceCents;
        emit EditionUpdated(filmId, quality, masterHash, priceCents);
    }

    /// @notice Sets an edition's resale floor: no licence of the edition can be listed, repriced or sold on the
    /// market below `floorCents` (at most {MAX_RESALE_FLOOR_BPS} of the lowest primary price it ever had, so that
    /// raising the price cannot lift the bound; 0 = the market's minimum only). A sale paid on the side and declared at a token price still pays the studio its share of the floor.
    /// Offers already listed below a new floor cannot be bought until their seller reprices them. Studio admin or
    /// registrar; not while the platform suspends the edition.
    /// @dev Emits a {ResaleFloorChanged} event.
    function setResaleFloor(uint64 filmId, uint8 quality, uint64 floorCents) external virtual {
        (, Edition storage e) = _studioEdition(filmId, quality);
        if (e.suspended) revert RegistryEditionSuspended(filmId, quality);
        _checkFloorBound(floorCents, e.lowestPriceCents);
        e.resaleFloorCents = floorCents;
        emit ResaleFloorChanged(filmId, quality, floorCents);
    }

    /// @notice Sets the lowest primary price edition `(filmId, quality)` ever had back to its price now, so that its
    /// studio may set a resale floor up to half of that again: the remedy when the price was cut by mistake, or by
    /// a stolen registrar key (a cut to 1 cent would otherwise cap the floor at 0 for good). Platform admin only
    /// (behind its timelock), since it lifts the bound that keeps a studio from pricing holders out.
    /// @dev Emits a {LowestPriceReset} event.
    function resetLowestPrice(uint64 filmId, uint8 quality) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {
        Edition storage e = _editions[_editionKey(filmId, quality)];
        uint64 price = e.priceCents;
        if (price == 0) revert RegistryEditionNotFound(filmId, quality);
        e.lowestPriceCents = price;
        emit LowestPriceReset(filmId, quality, price);
    }

    /// @notice Withdraws an edition from primary sale (existing licences stay valid and resellable).
    /// Studio admin or registrar.
    /// @dev Emits an {EditionStatusChanged} event.
    function withdrawEdition(uint64 filmId, uint8 quality) external virtual {
        _setEditionActive(filmId, quality, false);
    }

    /// @notice Returns a withdrawn edition to primary sale. Studio admin or registrar; not while the platform
    /// suspends it.
    /// @dev Emits an {EditionStatusChanged} event.
    function reactivateEdition(uint64 filmId, uint8 quality) external virtual {
        _setEditionActive(filmId, quality, true);
    }

    /// @notice Withdraws an edition from primary sale on the platform's authority, for `reason`: its studio
    /// cannot reactivate it, nor change its price or master, until the platform lifts the suspension. Platform
    /// admin or registrar; a suspension by the admin is lifted by the admin only. Existing licences stay valid and
    /// resellable.
    /// @dev Emits an {EditionSuspended} event, and an {EditionStatusChanged} event if the edition was active.
    function suspendEdition(uint64 filmId, uint8 quality, string calldata reason) external virtual {
        Edition storage e = _platformEdition(filmId, quality, true, reason);
        e.suspended = true;
        e.suspendedByAdmin = hasRole(DEFAULT_ADMIN_ROLE, msg.sender);
        if (e.active) {
            e.active = false;
            emit EditionStatusChanged(filmId, quality, false);
        }
        emit EditionSuspended(filmId, quality, true, reason);
    }

    /// @notice Lifts the platform's suspension of an edition, for `reason`; the edition stays withdrawn until its
    /// studio reactivates it. Platform admin, or registrar for a suspension a registrar made.
    /// @dev Emits an {EditionSuspended} event.
    function unsuspendEdition(uint64 filmId, uint8 quality, string calldata reason) external virtual {
        Edition storage e = _platformEdition(filmId, quality, false, reason);
        if (e.suspendedByAdmin) _checkRole(DEFAULT_ADMIN_ROLE);
        e.suspended = false;
        e.suspendedByAdmin = false;
        emit EditionSuspended(filmId, quality, false, reason);
    }

    // ------------------------------------------------------------------ views

    /// @notice Number of registered studios (ids are 1..studioCount).
    function studioCount() external view returns (uint32) {
        return _studioCount;
    }

    /// @notice Number of registered films (ids are 1..filmCount).
    function filmCount() external view returns (uint64) {
        return _filmCount;
    }

    /// @notice A studio's record.
    function studio(uint32 studioId) external view returns (StudioInfo memory info) {
        _requireStudio(studioId);
        Studio storage s = _studios[studioId];
        info = StudioInfo(
            _studioAdmins[studioId],
            s.royaltyRecipient,
            s.commissionBps,
            s.creditCents,
            _studioNames[studioId]
        );
    }

    /// @notice How many more films `studioId` may register.
    function studioFilmsLeft(uint32 studioId) external view returns (uint16) {
        _requireStudio(studioId);
        return _studios[studioId].filmsLeft;
    }

    /// @notice A film's studio and year.
    function film(uint64 filmId) external view returns (uint32 studioId, uint16 year) {
        studioId = _requireFilm(filmId);
        year = _films[filmId].year;
    }

    /// @notice An edition's record.
    function edition(uint64 filmId, uint8 quality) external view returns (EditionInfo memory info) {
        uint256 key = _editionKey(filmId, quality);
        Edition memory e = _editions[key];
        if (e.priceCents == 0) revert RegistryEditionNotFound(filmId, quality);
        info = EditionInfo(
            filmId,
            quality,
            e.studioId,
            _masterHashes[key],
            e.priceCents,
            e.active,
            e.suspended,
            e.resaleFloorCents,
            e.lowestPriceCents
        );
    }

    // ------------------------------------------------------------------ internal

    /// @dev Credits `cents` to `account`'s withdrawable balance; implemented by the market.
    function _creditAccountCents(address account, uint64 cents) internal virtual;

    function _setEditionActive(uint64 filmId, uint8 quality, bool active) private {
        (, Edition storage e) = _studioEdition(filmId, quality);
        if (e.active == active) revert RegistryEditionStatusUnchanged(filmId, quality, active);
        if (active && e.suspended) revert RegistryEditionSuspended(filmId, quality);
        e.active = active;
        emit EditionStatusChanged(filmId, quality, active);
    }

    /// @dev Reverts unless `floorCents` is at most {MAX_RESALE_FLOOR_BPS} of `priceCents`.
    function _checkFloorBound(uint64 floorCents, uint64 priceCents) private pure {
        uint64 maxCents = uint64(uint256(priceCents) * MAX_RESALE_FLOOR_BPS / SplitLib.BPS);
        if (floorCents > maxCents) revert RegistryInvalidResaleFloor(floorCents, maxCents);
    }

    /// @dev Loads an existing edition and checks the caller may manage it.
    function _studioEdition(uint64 filmId, uint8 quality)
        private
        view
        returns (uint256 key, Edition storage e)
    {
        key = _editionKey(filmId, quality);
        e = _editions[key];
        if (e.priceCents == 0) revert RegistryEditionNotFound(filmId, quality);
        _checkStudioOrRegistrar(e.studioId);
    }

    /// @dev Loads an existing edition for a platform suspension change to `suspended`, with its checks: platform
    /// admin or registrar, a reason, and a change of state.
    function _platformEdition(uint64 filmId, uint8 quality, bool suspended, string calldata reason)
        private
        view
        returns (Edition storage e)
    {
        _checkAdminOrRegistrar(0);
        if (bytes(reason).length == 0) revert RegistryReasonRequired();
        e = _editions[_editionKey(filmId, quality)];
        if (e.priceCents == 0) revert RegistryEditionNotFound(filmId, quality);
        if (e.suspended == suspended) revert RegistrySuspensionUnchanged(filmId, quality, suspended);
    }

    /// @dev Reverts unless the caller holds `DEFAULT_ADMIN_ROLE` or `REGISTRAR_ROLE` (`studioId` names the studio
    /// acted on in the error, 0 for none).
    function _checkAdminOrRegistrar(uint32 studioId) internal view {
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender) && !hasRole(REGISTRAR_ROLE, msg.sender)) {
            revert RegistryUnauthorizedStudioAccount(msg.sender, studioId);
        }
    }

    function _checkStudioOrRegistrar(uint32 studioId) internal view {
        _requireStudio(studioId);
        if (_studioAdmins[studioId] != msg.sender && !hasRole(REGISTRAR_ROLE, msg.sender)) {
            revert RegistryUnauthorizedStudioAccount(msg.sender, studioId);
        }
    }

    /// @dev Counts a studio a registrar registers today, reverting past {REGISTRAR_STUDIOS_PER_DAY}.
    function _countRegistrarStudio() private {
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 today = uint32(block.timestamp / 1 days); // fits until the year 11.7 million
        uint16 count = _registrarDay == today ? _registrarStudiosToday : 0;
        if (count == REGISTRAR_STUDIOS_PER_DAY) revert RegistryStudioLimitReached(REGISTRAR_STUDIOS_PER_DAY);
        (_registrarDay, _registrarStudiosToday) = (today, count + 1);
    }

    function _requireStudio(uint32 studioId) internal view {
        if (studioId == 0 || studioId > _studioCount) revert RegistryStudioNotFound(studioId);
    }

    function _requireFilm(uint64 filmId) internal view returns (uint32 studioId) {
        studioId = _films[filmId].studioId;
        if (studioId == 0) revert RegistryFilmNotFound(filmId);
    }

    /// @dev Storage key of an edition. Film ids fit in 24 bits, qualities in 8.
    function _editionKey(uint64 filmId, uint8 quality) internal pure returns (uint256) {
        return (uint256(filmId) << 8) | quality;
    }
}
