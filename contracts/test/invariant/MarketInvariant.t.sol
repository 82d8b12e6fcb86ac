// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {TangibleTest} from "../utils/TangibleTest.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleLicence} from "../../src/TangibleLicence.sol";
import {MarketHandler} from "./MarketHandler.sol";

/// @dev Stateful fuzzing of the market through {MarketHandler}: two studios, five editions, four users, every
/// role and an account without any, and a clearance period of days (not months) so that card money is both cleared
/// and clawed back within a run. One invariant function checks everything after every call (one campaign
/// instead of one per property); {afterInvariant} sweeps every licence once per run and fails when an action
/// succeeded too rarely in the run.
/// The last run's counts are printed with `-vv`.
contract MarketInvariantTest is TangibleTest {
    MarketHandler internal handler;
    uint32 internal studio2;
    uint256 internal initialHeld;

    address internal dave = makeAddr("dave");
    address internal studioAdmin2 = makeAddr("studioAdmin2");
    address internal royalty2 = makeAddr("royalty2");
    address internal royalty3 = makeAddr("royalty3");
    address internal platform2 = makeAddr("platform2");
    address internal stranger = makeAddr("stranger");

    /// @dev Least number of calls per run that unauthorised callers make and the market turns away.
    uint256 internal constant MIN_DENIED_PER_RUN = 150;
    /// @dev The clearance period the run starts with (the handler changes it, mostly to 5 to 30 days): days, not
    /// months, so that sales clear within a run (whose warps of up to 5 days add up to about 270 days), are clawed
    /// back before, and longer than the holds (up to 4 days), so that uncleared licences are resold.
    uint32 internal constant CLEARANCE_PERIOD = 20 days;

    function setUp() public override {
        super.setUp();
        vm.warp(1_800_000_000);
        vm.prank(operator);
        studio2 = market.registerStudio(studioAdmin2, royalty2, "Studio Pathe");
        vm.startPrank(operator);
        uint64 film2 = market.registerFilm(studio2, "Fantomas", 1913);
        market.registerEdition(film2, SD, keccak256("fantomas-sd"), 500);
        market.registerEdition(film2, HD, keccak256("fantomas-hd"), 900);
        vm.stopPrank();
        vm.prank(admin);
        market.setClearancePeriod(CLEARANCE_PERIOD);
        // operator2 (the handler's, the same address) holds a balance before it ever gets a role: once it is
        // granted the revoker's or settler's role, withdrawing it anywhere but the treasury must fail.
        _deposit(makeAddr("operator2"), 1_000 * 1e6);

        address[] memory users = new address[](4);
        (users[0], users[1], users[2], users[3]) = (alice, bob, carol, dave);
        address[] memory others = new address[](10);
        (others[0], others[1], others[2], others[3], others[4]) =
        (operator, admin, studioAdmin, studioAdmin2, stranger);
        (others[5], others[6], others[7], others[8], others[9]) =
        (royalty, royalty2, royalty3, platform, platform2);
        address[] memory royalties = new address[](3);
        (royalties[0], royalties[1], royalties[2]) = (royalty, royalty2, royalty3);
        address[] memory platforms = new address[](2);
        (platforms[0], platforms[1]) = (platform, platform2);

        handler =
            new MarketHandler(market, euro, admin, operator, users, others, royalties, platforms, 5 days);
        // Every account of the pool signs orders: each was made by makeAddr(name), whose key is keccak256(name).
        string[15] memory names = [
            "alice",
            "bob",
            "carol",
            "dave",
            "operator",
            "admin",
            "studioAdmin",
            "studioAdmin2",
            "stranger",
            "royalty",
            "royalty2",
            "royalty3",
            "platform",
            "platform2",
            "operator2"
        ];
        for (uint256 i = 0; i < names.length; i++) {
            (, uint256 key) = makeAddrAndKey(names[i]);
            handler.registerKey(key);
        }
        require(handler.allKeysRegistered(), "a pool account cannot sign");
        for (uint256 i = 0; i < handler.poolCount(); i++) {
            euro.mint(handler.pool(i), 1e15);
        }
        initialHeld = euro.balanceOf(address(market));
        targetContract(address(handler));
        targetSelector(
            StdInvariant.FuzzSelector({addr: address(handler), selectors: handler.actionSelectors()})
        );
    }

    // ------------------------------------------------------------------ after every call

    function invariant_market() public view {
        _checkOutcomes();
        _checkMoney();
        _checkLicenceBalances();
        _checkOffers(4);
        _checkPending(4);
        _checkConfig();
        _checkEditions();
    }

    /// @dev Every call ended as the model predicted: no unauthorised caller succeeded (a caller without the role,
    /// a non-owner listing, a non-seller updating or cancelling, anyone taking more than their balance), nothing
    /// pausable succeeded while paused, no held licence was listed, no wrong expected price was accepted, and
    /// every valid call succeeded with the ids, hold and record the model expects.
    function _checkOutcomes() internal view {
        assertFalse(handler.ghostUnauthorisedSuccess(), "an unauthorised call succeeded");
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @dev Conservation and solvency: the market holds what came in minus what went out, exactly the sum of
    /// every withdrawable balance plus studio and platform accruals plus every pending share (in units); and each
    /// of them equals the model's.
    function _checkMoney() internal view {
        uint256 held = euro.balanceOf(address(market));
        assertEq(held, initialHeld + handler.ghostTokenIn() - handler.ghostTokenOut(), "token in - out");
        assertEq(held, handler.modelTokenHeld(), "held == model");
        assertEq(market.treasury(), handler.modelTreasury(), "treasury == model");
        uint256 liabilities = uint256(market.platformCreditCents()) * UNITS;
        for (uint32 s = 1; s <= market.studioCount(); s++) {
            uint64 accrued = market.studio(s).creditCents;
            assertEq(accrued, handler.studioModel(s).creditCents, "studio accrual == model");
            assertEq(market.studioFilmsLeft(s), handler.studioModel(s).filmsLeft, "film quota == model");
            liabilities += uint256(accrued) * UNITS;
        }
        for (uint256 i = 0; i < handler.poolCount(); i++) {
            address a = handler.pool(i);
            uint256 credit = market.balanceOfCredit(a);
            assertEq(credit, handler.modelCredit(a), "balance == model");
            liabilities += credit;
        }
        assertEq(market.balanceOfCredit(handler.sink()), 0, "sink has no balance");
        // Pending shares, as the market records them, of every sale the model has pending (and none other: see
        // {_sweepLicences}).
        uint256[] memory pending = handler.allPendingIds();
        uint256 pendingUnits;
        for (uint256 i = 0; i < pending.length; i++) {
            TangibleMarket.PendingSale memory p = market.pendingSale(pending[i]);
            pendingUnits += (uint256(p.sellerCents) + p.studioCents + p.platformCents) * UNITS;
        }
        assertEq(pendingUnits, handler.modelPendingUnits(), "pending shares == model");
        assertEq(held, liabilities + pendingUnits, "held == sum of balances, accruals and pending shares");
        assertEq(market.platformCreditCents(), handler.modelPlatformCents(), "platform accrual == model");
    }

    /// @dev ERC-721 balances count live licences only.
    function _checkLicenceBalances() internal view {
        uint256 total;
        for (uint256 i = 0; i < handler.poolCount(); i++) {
            address a = handler.pool(i);
            uint256 n = market.balanceOf(a);
            assertEq(n, handler.modelLive(a), "balanceOf == live licences");
            total += n;
        }
        assertEq(total, handler.liveCount(), "balances == live licences");
        assertEq(market.nextLicenceId(), handler.modelNextLicenceId(), "next licence id");
        assertEq(market.nextOfferId(), handler.modelNextOfferId(), "next offer id");
    }

    /// @dev An active offer is its live licence's only offer, at the model's price, and its licence is owned by
    /// the seller and off hold. After each call a few offers are checked (a rotating window of at most
    /// `max`); {afterInvariant} checks them all.
    function _checkOffers(uint256 max) internal view {
        uint256 n = handler.activeOfferCount();
        uint256 start = n == 0 ? 0 : (handler.modelNextOfferId() * 7919 + block.timestamp) % n;
        for (uint256 i = 0; i < n && i < max; i++) {
            uint256 offerId = handler.activeOffers((start + i) % n);
            MarketHandler.OfferModel memory o = handler.offerModel(offerId);
            TangibleMarket.OfferInfo memory info = market.offer(offerId);
            assertTrue(info.active, "offer active");
            assertEq(info.licenceId, o.licenceId, "offer licence");
            assertEq(info.priceCents, o.price, "offer price");
            assertEq(market.activeOfferOf(o.licenceId), offerId, "one active offer per licence");
            TangibleLicence.LicenceInfo memory l = market.licence(o.licenceId);
            assertFalse(l.revoked, "offered licence live");
            assertEq(l.owner, handler.licenceModel(o.licenceId).owner, "offered by its owner");
            assertLe(l.holdUntil, block.timestamp, "offered licence off hold");
        }
    }

    /// @dev A pending sale is the model's record, field for field, with a clearance time. After each call a
    /// rotating window of at most `max`; {afterInvariant} sweeps every licence.
    function _checkPending(uint256 max) internal view {
        uint256 n = handler.pendingCount();
        uint256 start = n == 0 ? 0 : (handler.modelNextLicenceId() * 7919 + block.timestamp) % n;
        for (uint256 i = 0; i < n && i < max; i++) {
            uint256 id = handler.pendingIds((start + i) % n);
            _assertPending(id);
            assertTrue(handler.pendingModel(id).clearAt != 0, "a pending sale has a clearance time");
        }
    }

    function _assertPending(uint256 id) internal view {
        TangibleMarket.PendingSale memory m = market.pendingSale(id);
        MarketHandler.PendingModel memory p = handler.pendingModel(id);
        assertEq(m.sellerCents, p.sellerCents, "pending seller cents");
        assertEq(m.studioCents, p.studioCents, "pending studio cents");
        assertEq(m.platformCents, p.platformCents, "pending platform cents");
        assertEq(m.clearAt, p.clearAt, "pending clearAt");
        assertEq(m.studioId, p.studioId, "pending studio");
        assertEq(m.seller, p.seller, "pending seller");
        assertEq(m.tainted, p.tainted, "pending tainted");
        assertEq(m.taintedUntil, p.taintedUntil, "pending tainted until");
    }

    function _checkConfig() internal view {
        assertEq(market.paused(), handler.modelPaused(), "paused == model");
        assertEq(market.holdPeriod(), handler.modelHold(), "hold period == model");
        assertEq(market.clearancePeriod(), handler.modelClearance(), "clearance period == model");
        assertEq(market.platform(), handler.modelPlatform(), "platform == model");
        (uint32 limitEuros, uint64 settledToday) = market.cardSettlementLimit();
        assertEq(limitEuros, handler.modelSettleLimit(), "card settlement limit == model");
        assertEq(settledToday, handler.modelSettledToday(), "card settled today == model");
        address op2 = handler.operator2();
        uint8 roles = handler.modelRoles(op2);
        assertEq(market.hasRole(market.SETTLER_ROLE(), op2), roles & 1 != 0, "operator2 settler == model");
        assertEq(market.hasRole(market.REVOKER_ROLE(), op2), roles & 2 != 0, "operator2 revoker == model");
        assertEq(market.hasRole(market.REGISTRAR_ROLE(), op2), roles & 4 != 0, "operator2 registrar == model");
    }

    /// @dev Every edition's price, status and resale floor are the model's.
    function _checkEditions() internal view {
        for (uint256 i = 0; i < handler.editionCount(); i++) {
            MarketHandler.EditionModel memory m = handler.editionModel(i);
            TangibleMarket.EditionInfo memory e = market.edition(m.filmId, m.quality);
            assertEq(e.priceCents, m.price, "edition price == model");
            assertEq(e.active, m.active, "edition active == model");
            assertEq(e.suspended, m.suspended, "edition suspended == model");
            assertEq(e.resaleFloorCents, m.floor, "resale floor == model");
            assertEq(e.lowestPriceCents, m.lowest, "lowest price == model");
        }
    }

    // ------------------------------------------------------------------ once per run

    function afterInvariant() public {
        _sweepLicences();
        _checkOffers(type(uint256).max);
        _checkRefs();
        _checkNonces();
        _coverage();
    }

    /// @dev Every account's order nonce is the model's: moved on once by each signed order carried out and each
    /// own updateOffer or cancelOffer, never by a refused order (each action also checks its account's at once).
    function _checkNonces() internal view {
        for (uint256 i = 0; i < handler.poolCount(); i++) {
            address a = handler.pool(i);
            assertEq(market.orderNonce(a), handler.modelNonce(a), "order nonce == model");
        }
    }

    /// @dev Every licence ever minted: owner, film, quality and hold never change (owner and hold read 0 once
    /// the licence is replaced in its slot by a stablecoin resale); a revoked licence stays revoked with its
    /// reason (0 = resold) and {ownerOf} reverts for it; the pending record of its sale is the
    /// model's (none once cleared or clawed back, none for a crypto sale of a clean licence).
    function _sweepLicences() internal {
        for (uint256 i = 0; i < handler.licenceCount(); i++) {
            uint256 id = handler.allLicences(i);
            MarketHandler.LicenceModel memory m = handler.licenceModel(id);
            TangibleLicence.LicenceInfo memory l = market.licence(id);
            bool replaced = handler.modelReplaced(id);
            assertEq(l.owner, replaced ? address(0) : m.owner, "owner never changes (none once replaced)");
            assertEq(l.filmId, m.filmId, "film");
            assertEq(l.quality, m.quality, "quality");
            assertEq(l.holdUntil, replaced ? 0 : m.holdUntil, "hold");
            if (replaced) assertEq(l.reason, 0, "replaced in its slot by a resale");
            assertEq(l.revoked, !m.live, "revoked == model");
            assertEq(market.isValid(id), m.live, "isValid");
            _assertPending(id);
            if (!m.live) {
                assertEq(l.reason, m.reason, "reason");
                vm.expectRevert(abi.encodeWithSelector(TangibleLicence.LicenceIsRevoked.selector, id));
                market.ownerOf(id);
            } else {
                assertEq(market.ownerOf(id), m.owner, "ownerOf");
            }
        }
    }

    /// @dev A payment reference is marked used once it settled; the next fresh one is unused.
    function _checkRefs() internal view {
        for (uint256 i = 0; i < handler.usedRefCount(); i++) {
            assertTrue(market.paymentRefUsed(handler.usedRefs(i)), "used ref marked");
        }
        assertFalse(market.paymentRefUsed(handler.nextFreshRef()), "fresh ref unused");
    }

    /// @dev Prints this run's counts (`-vv` shows the last run's) and fails if an action succeeded fewer times
    /// than its floor in this run, or if no unauthorised caller was turned away.
    function _coverage() internal view {
        uint256 deniedTotal;
        console.log("invariant coverage of this run (successes / rejections / unauthorised rejected, floor):");
        for (uint256 a = 0; a < handler.ACTION_COUNT(); a++) {
            uint256 ok = handler.okCount(a);
            uint256 denied = handler.deniedCount(a);
            deniedTotal += denied;
            console.log(
                string.concat(
                    "  ",
                    handler.actionName(a),
                    ": ",
                    vm.toString(ok),
                    " / ",
                    vm.toString(handler.rejectedCount(a)),
                    " / ",
                    vm.toString(denied),
                    ", floor ",
                    vm.toString(_minPerRun(a))
                )
            );
            assertGe(ok, _minPerRun(a), string.concat("too few successes: ", handler.actionName(a)));
        }
        assertGe(deniedTotal, MIN_DENIED_PER_RUN, "too few unauthorised calls turned away");
        _coverageOfClearance();
        _coverageOfOrders();
        _coverageOfFloors();
        _coverageOfLimit();
    }

    /// @dev Prints the run's count of card settlements (primary or resale) refused by the daily limit only, each
    /// with the limit's own error, and fails if it is under its floor: 0 (seen at 0 in some last runs of seeds
    /// 0x1-0x3 and 0x7a6e6962; a campaign of ten runs sees them, and M45 of scripts/mutants.d is killed).
    function _coverageOfLimit() internal view {
        uint256 count = handler.ghostLimitRefused();
        uint256 floor = 0;
        console.log("card settlement limit of this run (count, floor):");
        console.log(
            string.concat(
                "  card settlements refused by the limit: ",
                vm.toString(count),
                ", floor ",
                vm.toString(floor)
            )
        );
        assertGe(count, floor, "too few: card settlements refused by the limit");
        console.log(
            string.concat("  card sales settled in batches: ", vm.toString(handler.ghostBatchedSales()))
        );
    }

    /// @dev Prints the run's counts of resale floors at work and fails if one is under its floor: floors set above
    /// an active offer's price (which can then no longer be bought), listings and reprices (signed or not) and
    /// purchases of an offer (any way) refused only because their price is under the edition's floor. Floors: 0
    /// (the first and the last seen at 0 in some last runs of seeds 0x1-0x4 and 0x7a6e6962, the second at 2; a
    /// campaign of ten runs sees them, and the floor mutants of scripts/mutants.d, M18 and M19, are killed).
    function _coverageOfFloors() internal view {
        uint256[3] memory counts = [
            handler.ghostFloorsAboveOffers(),
            handler.ghostFloorPricesRefused(),
            handler.ghostFloorSalesRefused()
        ];
        string[3] memory names = [
            "floors set above an offer", "listings and reprices under the floor", "purchases under the floor"
        ];
        uint8[3] memory floors = [0, 0, 0];
        console.log("resale floors of this run (count, floor):");
        for (uint256 i = 0; i < counts.length; i++) {
            console.log(
                string.concat(
                    "  ", names[i], ": ", vm.toString(counts[i]), ", floor ", vm.toString(floors[i])
                )
            );
            assertGe(counts[i], floors[i], string.concat("too few: ", names[i]));
        }
    }

    /// @dev Prints the run's counts of signed orders carried out, by kind, and fails if one is under its floor:
    /// about a third of the smallest count seen over 40 runs (fuzz seeds 361-400; smallest 5, 5, 4, 4 and 8, means
    /// 11, 12, 8, 9 and 16), 0 for the purchases of an uncleared licence (seen at 0 in some runs, mean 2; a campaign
    /// of ten runs sees them).
    function _coverageOfOrders() internal view {
        uint256[6] memory counts = [
            handler.ghostRelayedLists(),
            handler.ghostRelayedChanges(),
            handler.ghostCreditPrimaries(),
            handler.ghostCreditResales(),
            handler.ghostCreditTainted(),
            handler.ghostCreditWithdrawals()
        ];
        string[6] memory names = [
            "relayed listings",
            "relayed reprices and cancellations",
            "editions bought with credit",
            "offers bought with credit",
            "  of which of an uncleared licence",
            "credit withdrawals"
        ];
        uint8[6] memory floors = [1, 1, 1, 1, 0, 2];
        console.log("signed orders of this run (count, floor):");
        for (uint256 i = 0; i < counts.length; i++) {
            console.log(
                string.concat(
                    "  ", names[i], ": ", vm.toString(counts[i]), ", floor ", vm.toString(floors[i])
                )
            );
            assertGe(counts[i], floors[i], string.concat("too few: ", names[i]));
        }
    }

    /// @dev Prints the run's counts of the clearance machinery and fails if one is under its floor: stablecoin
    /// resales that passed the licence's storage slot on (floor 3; such resales are most of buyOffer's, whose
    /// floor is 12), resales of an uncleared licence (tainted), pending sales credited by clearSales, pending sales given back by a revocation,
    /// and among those: refunded to a crypto buyer, of a card sale of an uncleared licence (back to the float),
    /// reached through the licence that replaced a revoked one. Floors: about a third of the smallest count seen
    /// over 80 runs of 2,048 calls (fuzz seeds 101-120 and 201-260, one run each; smallest 4, 14 and 5, means 16,
    /// 36 and 19), 0 for the three breakdowns (each seen at 0 in some run, means about 4, 2 and 4; a campaign of
    /// ten runs sees them, and the mutants of scripts/mutants.d that need them are killed).
    function _coverageOfClearance() internal view {
        uint256[7] memory counts = [
            handler.ghostReplacedInSlot(),
            handler.ghostTaintedSales(),
            handler.ghostCleared(),
            handler.ghostClawbacks(),
            handler.ghostBuyerRefunds(),
            handler.ghostTaintedCardClawbacks(),
            handler.ghostHops()
        ];
        string[7] memory names = [
            "stablecoin resales passing the licence's slot on",
            "tainted resales",
            "pending sales cleared",
            "pending sales clawed back",
            "  of which refunded to a crypto buyer",
            "  of which card sales of an uncleared licence",
            "  of which reached through a successor"
        ];
        uint8[7] memory floors = [3, 1, 4, 2, 0, 0, 0];
        console.log("resales and clearance of this run (count, floor):");
        for (uint256 i = 0; i < counts.length; i++) {
            console.log(
                string.concat(
                    "  ", names[i], ": ", vm.toString(counts[i]), ", floor ", vm.toString(floors[i])
                )
            );
            assertGe(counts[i], floors[i], string.concat("too few: ", names[i]));
        }
    }

    /// @dev Least successes of each action in one run (see {MarketHandler.Action}; a direct transfer never
    /// succeeds). About a third of the smallest count seen over 22 runs of 2,048 calls (fuzz seeds 1 and 2), and
    /// at least four standard deviations below the mean, so a healthy campaign does not trip them. Since platform
    /// suspensions keep editions off sale for a while, a run's primary sales vary more (13 seen once with
    /// suspensions twice as frequent as now): buyPrimary's floor went from 15 to 10, and the three newest actions
    /// (treasury, film quota) have a floor of 3, the suspension and its lifting 1. clearSales and
    /// setClearancePeriod: a third of the smallest count seen over 80 runs (9 and 12; means 26 and 23); the older
    /// floors still hold with a margin there (smallest counts at least 1.5 times the floor). relayOrder and
    /// relayCreditOrder: a third of the smallest count seen over 40 runs (fuzz seeds 361-400: 14 and 20; means 23
    /// and 32); with them in the campaign, the other floors still hold by 1.5 times over 100 runs (seeds 301-400).
    /// setResaleFloor: a third of the smallest count seen in the last runs of five campaigns (seeds 0x1-0x4 and
    /// 0x7a6e6962: 19, mean 25). setCardSettlementLimit: about a third of the smallest count seen in the last runs
    /// of seeds 0x1-0x3 and 0x7a6e6962 (15 to 38 over the drafts of its handler); its small limits refuse some
    /// card settlements, so they are mostly lifted at once (a draft that kept them failed settleCardPrimary's).
    function _minPerRun(uint256 action) internal pure returns (uint256) {
        uint8[35] memory floors = [
            10, // buyPrimary
            8, // settleCardPrimary
            30, // list
            5, // updateOffer
            8, // cancelOffer
            12, // buyOffer
            5, // settleCardOffer
            8, // revoke
            6, // deposit
            15, // withdraw
            10, // withdrawFloat
            8, // withdrawStudio
            8, // withdrawPlatform
            12, // pause
            12, // unpause
            6, // setHoldPeriod
            6, // updateEdition
            10, // withdrawEdition
            10, // reactivateEdition
            6, // setStudioCommission
            6, // updateStudio
            5, // setPlatform
            6, // grant/revokeOperator
            40, // warp
            0, // directTransfer
            1, // suspendEdition (and its lifting): 8–12 per run seen
            3, // setTreasury
            3, // setStudioFilmQuota
            3, // clearSales
            4, // setClearancePeriod
            4, // relayOrder
            6, // relayCreditOrder
            6, // setResaleFloor
            6, // setCardSettlementLimit
            2 // settleCardPrimaryBatch
        ];
        return floors[action];
    }
}
