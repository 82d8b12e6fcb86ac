// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TestEuro} from "../../src/TestEuro.sol";
import {TangibleMarketAdmin} from "../../src/TangibleMarketAdmin.sol";
import {deployMarket} from "./DeployMarket.sol";

/// @dev Shared fixtures: a stablecoin, the deployed market, one studio with one film in three editions, and
/// helpers that fund accounts and run sales. Expected splits are computed here independently of {SplitLib}.
abstract contract TangibleTest is Test {
    TestEuro internal euro;
    TangibleMarket internal market;

    address internal admin = makeAddr("admin");
    address internal operator = makeAddr("operator");
    address internal platform = makeAddr("platform");
    address internal studioAdmin = makeAddr("studioAdmin");
    address internal royalty = makeAddr("royalty");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    uint32 internal studioId;
    uint64 internal filmId;
    uint64 internal constant PRICE_SD = 800;
    uint64 internal constant PRICE_HD = 1_300;
    uint64 internal constant PRICE_4K = 1_999;
    uint8 internal constant SD = 0;
    uint8 internal constant HD = 1;
    uint8 internal constant UHD = 2;
    bytes32 internal constant MASTER_SD = keccak256("master-sd");
    bytes32 internal constant MASTER_HD = keccak256("master-hd");
    bytes32 internal constant MASTER_4K = keccak256("master-4k");
    uint256 internal constant UNITS = 1e4; // 6-decimal token: units per cent
    uint256 internal constant FLOAT = 1_000_000 * 1e6;
    /// @dev The market's admin module (deployed first, see {TangibleMarket-constructor}).
    TangibleMarketAdmin internal adminModule;

    function setUp() public virtual {
        euro = new TestEuro(address(this));
        market = deployMarket(euro, admin, operator, platform);
        adminModule = TangibleMarketAdmin(market.adminModule());
        vm.prank(operator);
        studioId = market.registerStudio(studioAdmin, royalty, "Studio Lumiere");
        vm.startPrank(operator);
        filmId = market.registerFilm(studioId, "Le Voyage", 1902);
        market.registerEdition(filmId, SD, MASTER_SD, PRICE_SD);
        market.registerEdition(filmId, HD, MASTER_HD, PRICE_HD);
        market.registerEdition(filmId, UHD, MASTER_4K, PRICE_4K);
        vm.stopPrank();
        _deposit(operator, FLOAT);
        vm.label(address(market), "market");
        vm.label(address(euro), "euro");
    }

    // ------------------------------------------------------------------ independent split rule

    /// @dev 15 % floored, written differently from SplitLib (percent, not basis points).
    function _expectedResale(uint64 price) internal pure returns (uint64 seller, uint64 studio, uint64 plat) {
        studio = uint64((uint256(price) * 15) / 100);
        plat = uint64(uint256(price) / 20);
        seller = uint64(uint256(price) - studio - plat);
    }

    /// @dev The licence id a stablecoin-paid resale of `oldId` mints, written here from the interface's rule
    /// rather than read from the market: the next generation (bits 192-199) of a licence minted without a hold,
    /// else keccak256 of the id sold, shifted right two bits, bit 254 set, generation bits clear.
    function _resaleId(uint256 oldId) internal view returns (uint256) {
        bool held = market.licence(oldId).holdUntil != 0;
        if (!held && (oldId >> 192) & 0xff != 0xff) return oldId + (1 << 192);
        return ((uint256(keccak256(abi.encode(oldId))) >> 2) | (1 << 254)) & ~(uint256(0xff) << 192);
    }

    function _expectedPrimary(uint64 price, uint16 bps) internal pure returns (uint64 studio, uint64 plat) {
        plat = uint64((uint256(price) * bps) / 10_000);
        studio = price - plat;
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The revert data of `who` calling a function that needs `role`.
    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    function _fund(address who, uint256 amount) internal {
        euro.mint(who, amount);
        vm.prank(who);
        euro.approve(address(market), type(uint256).max);
    }

    function _deposit(address who, uint256 amount) internal {
        euro.mint(who, amount);
        vm.startPrank(who);
        euro.approve(address(market), amount);
        market.deposit(amount);
        vm.stopPrank();
    }

    function _buyCrypto(address buyer, uint8 quality, address recipient) internal returns (uint256 id) {
        (,,,, uint64 price,) = _editionTuple(quality);
        _fund(buyer, uint256(price) * UNITS);
        vm.prank(buyer);
        id = market.buyPrimary(filmId, quality, price, recipient);
    }

    function _buyCard(uint8 quality, address recipient, bytes32 ref) internal returns (uint256 id) {
        (,,,, uint64 price,) = _editionTuple(quality);
        vm.prank(operator);
        id = market.settleCardPrimary(filmId, quality, price, recipient, ref);
    }

    function _list(address seller, uint256 licenceId, uint64 price) internal returns (uint256 offerId) {
        vm.prank(seller);
        offerId = market.list(licenceId, price);
    }

    function _editionTuple(uint8 quality)
        internal
        view
        returns (uint64 fid, uint8 q, uint32 sid, bytes32 master, uint64 price, bool active)
    {
        TangibleMarket.EditionInfo memory e = market.edition(filmId, quality);
        return (e.filmId, e.quality, e.studioId, e.masterHash, e.priceCents, e.active);
    }

    function _owner(uint256 licenceId) internal view returns (address) {
        return market.licence(licenceId).owner;
    }

    function _credit(address who) internal view returns (uint256) {
        return market.balanceOfCredit(who);
    }

    function _studioCredit() internal view returns (uint64) {
        return market.studio(studioId).creditCents;
    }
}
