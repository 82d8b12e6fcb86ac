// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";

/// @dev Stands for a seller paid on the side (audit M-1b): it holds a licence, takes the real price off the
/// market, then lists at a token price and fills its own offer for the buyer in one transaction, so nobody can
/// snipe the cheap offer.
contract SidePaidSeller {
    TangibleMarket internal immutable market;

    constructor(TangibleMarket market_) {
        market = market_;
    }

    /// @dev Lists `licenceId` at `priceCents` and buys it at once for `buyer` with the stablecoin it holds (the
    /// market approved beforehand).
    function sellTo(uint256 licenceId, uint64 priceCents, address buyer) external {
        uint256 offerId = market.list(licenceId, priceCents);
        market.buyOffer(offerId, priceCents, buyer);
    }
}

/// @dev The resale floor (contracts v2, audit M-1b): a studio sets the lowest resale price of each edition
/// (at most half its primary price); no listing, repricing or sale (direct, signed, card-settled or paid with
/// credit) goes below it, so a side-paid sale declared at a token price still pays the studio 15 % of the floor.
contract ResaleFloorTest is TangibleTest {
    uint64 internal constant FLOOR_HD = 600; // PRICE_HD = 1,300: the bound is 650

    function _setFloor(uint8 quality, uint64 floorCents) internal {
        vm.prank(studioAdmin);
        market.setResaleFloor(filmId, quality, floorCents);
    }

    function _belowFloor(uint64 price, uint64 floor) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITangibleMarket.MarketPriceBelowFloor.selector, price, floor);
    }

    /// The exploit: a seller paid 100 € on the side lists at the 0.20 € minimum and fills the offer in the same
    /// transaction; the studio got 3 cents. With a floor, the token price is refused, and the least the sale can
    /// declare pays the studio 15 % of the floor.
    function test_M1b_aSidePaidSaleStillPaysTheStudioItsShareOfTheFloor() public {
        SidePaidSeller vault = new SidePaidSeller(market);
        uint256 licence = _buyCrypto(alice, HD, address(vault));
        _fund(address(vault), 1_000 * UNITS);
        _setFloor(HD, FLOOR_HD);

        vm.expectRevert(_belowFloor(20, FLOOR_HD));
        vault.sellTo(licence, 20, bob);

        uint64 before = _studioCredit();
        vault.sellTo(licence, FLOOR_HD, bob);
        (, uint64 studioShare,) = _expectedResale(FLOOR_HD);
        assertEq(_studioCredit() - before, studioShare);
        assertEq(studioShare, 90); // 15 % of 6.00 €, not 3 cents
        assertEq(_owner(_resaleId(licence)), bob);
    }

    function test_setResaleFloor_recordsAndEmits() public {
        assertEq(market.edition(filmId, HD).resaleFloorCents, 0);
        vm.expectEmit(address(market));
        emit TangibleRegistry.ResaleFloorChanged(filmId, HD, FLOOR_HD);
        _setFloor(HD, FLOOR_HD);
        assertEq(market.edition(filmId, HD).resaleFloorCents, FLOOR_HD);
        // Other editions keep theirs.
        assertEq(market.edition(filmId, UHD).resaleFloorCents, 0);
        // Back to none.
        _setFloor(HD, 0);
        assertEq(market.edition(filmId, HD).resaleFloorCents, 0);
    }

    /// At most half the primary price, and a price cut cannot leave the floor above that bound.
    function test_setResaleFloor_isBoundedByHalfThePrimaryPrice() public {
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 651, 650)
        );
        _setFloor(HD, 651);
        _setFloor(HD, 650);

        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 650, 649)
        );
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, MASTER_HD, 1_299, "");
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, MASTER_HD, 1_300, "");
        // Raising the price never conflicts, and never lifts the bound: it stays half the lowest price.
        vm.prank(studioAdmin);
        market.updateEdition(filmId, HD, MASTER_HD, 5_000, "");
        assertEq(market.edition(filmId, HD).lowestPriceCents, 1_300);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 651, 650)
        );
        _setFloor(HD, 651);
    }

    /// The attack the bound must stop: withdraw the edition (nobody buys at the new price), raise its price to
    /// the maximum, then set a floor no holder can reach. Refused: the bound is half the lowest price ever.
    function test_aStudioCannotPriceHoldersOutByRaisingThePriceFirst() public {
        uint256 licence = _buyCrypto(alice, HD, alice);
        vm.startPrank(studioAdmin);
        market.withdrawEdition(filmId, HD);
        market.updateEdition(filmId, HD, MASTER_HD, type(uint64).max, "");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 1e18, 650)
        );
        market.setResaleFloor(filmId, HD, 1e18);
        vm.stopPrank();
        // The holder still lists at 6.50 €.
        _list(alice, licence, 650);
    }

    /// A stolen registrar key (the operator's here) clears the floor and cuts the price to 1 cent: the lowest price
    /// only goes down, so the studio could never set a floor again. The platform admin resets it to the price
    /// restored; nobody else can.
    function test_aPriceCutToOneCentIsUndoneByTheAdmin() public {
        vm.startPrank(operator);
        market.setResaleFloor(filmId, HD, 0);
        market.updateEdition(filmId, HD, MASTER_HD, 1, "");
        market.updateEdition(filmId, HD, MASTER_HD, PRICE_HD, "");
        vm.stopPrank();
        assertEq(market.edition(filmId, HD).lowestPriceCents, 1);
        vm.expectRevert(abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 400, 0));
        _setFloor(HD, 400);

        address[3] memory notAdmin = [studioAdmin, operator, alice];
        for (uint256 i = 0; i < notAdmin.length; i++) {
            vm.expectRevert(_unauthorized(notAdmin[i], bytes32(0)));
            vm.prank(notAdmin[i]);
            market.resetLowestPrice(filmId, HD);
        }
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId + 1, HD)
        );
        vm.prank(admin);
        market.resetLowestPrice(filmId + 1, HD);

        vm.expectEmit(address(market));
        emit TangibleRegistry.LowestPriceReset(filmId, HD, PRICE_HD);
        vm.prank(admin);
        market.resetLowestPrice(filmId, HD);
        assertEq(market.edition(filmId, HD).lowestPriceCents, PRICE_HD);
        _setFloor(HD, 400);
        assertEq(market.edition(filmId, HD).resaleFloorCents, 400);
    }

    function test_setResaleFloor_studioAdminOrOperatorOnly_notWhileSuspended() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                TangibleRegistry.RegistryUnauthorizedStudioAccount.selector, alice, studioId
            )
        );
        vm.prank(alice);
        market.setResaleFloor(filmId, HD, FLOOR_HD);

        _setFloor(HD, FLOOR_HD);
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId + 1, HD)
        );
        vm.prank(studioAdmin);
        market.setResaleFloor(filmId + 1, HD, FLOOR_HD);

        vm.prank(operator);
        market.suspendEdition(filmId, HD, "rights dispute");
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionSuspended.selector, filmId, HD)
        );
        _setFloor(HD, 100);
    }

    function test_listAndReprice_belowTheFloorAreRefused() public {
        uint256 licence = _buyCrypto(alice, HD, alice);
        _setFloor(HD, FLOOR_HD);
        vm.expectRevert(_belowFloor(FLOOR_HD - 1, FLOOR_HD));
        _list(alice, licence, FLOOR_HD - 1);
        // The market's own minimum is still checked first.
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceBelowMinimum.selector, 19, 20));
        _list(alice, licence, 19);

        uint256 offerId = _list(alice, licence, FLOOR_HD);
        vm.expectRevert(_belowFloor(599, FLOOR_HD));
        vm.prank(alice);
        market.updateOffer(offerId, 599);
        vm.prank(alice);
        market.updateOffer(offerId, 650);
        assertEq(market.offer(offerId).priceCents, 650);
    }

    /// An offer listed before the floor was raised cannot be filled below it, by crypto or by card, until its
    /// seller reprices it; nothing moves.
    function test_anOfferBelowARaisedFloorCannotBeFilledUntilRepriced() public {
        uint256 licence = _buyCrypto(alice, HD, alice);
        uint256 offerId = _list(alice, licence, 300);
        _setFloor(HD, FLOOR_HD);

        _fund(bob, 10_000 * UNITS);
        vm.expectRevert(_belowFloor(300, FLOOR_HD));
        vm.prank(bob);
        market.buyOffer(offerId, 300, bob);

        vm.expectRevert(_belowFloor(300, FLOOR_HD));
        vm.prank(operator);
        market.settleCardOffer(offerId, 300, carol, keccak256("pi_floor"));

        assertEq(_owner(licence), alice);
        assertEq(market.offer(offerId).priceCents, 300);

        vm.prank(alice);
        market.updateOffer(offerId, FLOOR_HD);
        vm.prank(bob);
        uint256 bought = market.buyOffer(offerId, FLOOR_HD, bob);
        assertEq(_owner(bought), bob);
    }

    /// A signed order (relayed by the operator) is held to the floor the same way.
    function test_aRelayedListingBelowTheFloorIsRefused() public {
        (address seller, uint256 key) = makeAddrAndKey("seller");
        uint256 licence = _buyCrypto(alice, HD, seller);
        _setFloor(HD, FLOOR_HD);
        uint256 deadline = block.timestamp + 1 hours;
        uint8 list = market.ORDER_LIST();
        bytes32 structHash = keccak256(
            abi.encode(
                market.ORDER_TYPEHASH(),
                seller,
                list,
                licence,
                uint64(100),
                market.orderNonce(seller),
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash)));
        vm.expectRevert(_belowFloor(100, FLOOR_HD));
        vm.prank(operator);
        market.relayOrder(seller, list, licence, 100, deadline, abi.encodePacked(r, s, v));
        assertEq(market.orderNonce(seller), 0);
    }

    /// The operator (registration on behalf of studios) is held to the same bound.
    function test_theOperatorIsHeldToTheSameBound() public {
        vm.expectRevert(
            abi.encodeWithSelector(TangibleRegistry.RegistryInvalidResaleFloor.selector, 700, 650)
        );
        vm.prank(operator);
        market.setResaleFloor(filmId, HD, 700);
    }
}
