// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleTest} from "./utils/TangibleTest.sol";
import {deployMarket} from "./utils/DeployMarket.sol";

/// @dev A contract wallet (ERC-1271) that approves the digests its owner pre-approved.
contract ApprovingWallet is IERC1271 {
    mapping(bytes32 => bool) public approved;

    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    function isValidSignature(bytes32 digest, bytes memory) external view returns (bytes4) {
        return approved[digest] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @dev Signed resale orders relayed by someone else than the seller (issue 12 item 1): the seller's signature
/// decides, the nonce makes an order single use, the deadline, the chain and the market bound it.
contract OrdersTest is TangibleTest {
    uint256 internal sellerKey;
    address internal seller;
    uint256 internal licence;
    address internal relayer = makeAddr("relayer");

    /// @dev secp256k1 order n: a signature with `s > n / 2` is the malleable twin of one with `n - s`.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public override {
        super.setUp();
        (seller, sellerKey) = makeAddrAndKey("seller");
        _fund(bob, 1_000_000 * 1e6);
        licence = _buyCrypto(bob, HD, seller);
    }

    function _digest(address who, uint8 action, uint256 target, uint64 price, uint32 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash =
            keccak256(abi.encode(market.ORDER_TYPEHASH(), who, action, target, price, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _order(uint8 action, uint256 target, uint64 price, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _sign(sellerKey, _digest(seller, action, target, price, market.orderNonce(seller), deadline));
    }

    function _relay(uint8 action, uint256 target, uint64 price, uint256 deadline, bytes memory sig)
        internal
        returns (uint256)
    {
        vm.prank(relayer);
        return market.relayOrder(seller, action, target, price, deadline, sig);
    }

    function test_domain_isEip712OfThisChainAndMarket() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("Tangible"),
                keccak256("1"),
                block.chainid,
                address(market)
            )
        );
        assertEq(market.domainSeparator(), expected);
        assertEq(
            market.ORDER_TYPEHASH(),
            keccak256(
                "Order(address seller,uint8 action,uint256 target,uint64 priceCents,uint32 nonce,uint256 deadline)"
            )
        );
    }

    function test_listRepriceCancel_relayedBySomeoneElse() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _order(0, licence, 800, deadline);
        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(seller, 0, 0);
        uint256 offerId = _relay(0, licence, 800, deadline, sig);
        TangibleMarket.OfferInfo memory o = market.offer(offerId);
        assertEq(o.seller, seller);
        assertEq(o.priceCents, 800);
        assertEq(market.orderNonce(seller), 1);

        sig = _order(1, offerId, 650, deadline);
        assertEq(_relay(1, offerId, 650, deadline, sig), offerId);
        assertEq(market.offer(offerId).priceCents, 650);

        sig = _order(2, offerId, 0, deadline);
        _relay(2, offerId, 0, deadline, sig);
        assertFalse(market.offer(offerId).active);
        assertEq(market.orderNonce(seller), 3);
    }

    function test_replayedOrder_isRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _order(0, licence, 800, deadline);
        uint256 offerId = _relay(0, licence, 800, deadline, sig);
        vm.prank(seller);
        market.cancelOffer(offerId);
        // The same order again: its nonce was used, so the signature no longer matches.
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 800, deadline, sig);
    }

    function test_expiredOrder_isRefused() public {
        uint256 deadline = block.timestamp + 10;
        bytes memory sig = _order(0, licence, 800, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketOrderExpired.selector, deadline));
        _relay(0, licence, 800, deadline, sig);
    }

    function test_otherChain_isRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _order(0, licence, 800, deadline);
        vm.chainId(block.chainid + 1);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 800, deadline, sig);
    }

    function test_otherMarket_isRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        TangibleMarket other = deployMarket(euro, admin, operator, platform);
        bytes32 structHash = keccak256(
            abi.encode(market.ORDER_TYPEHASH(), seller, uint8(0), licence, uint64(800), uint32(0), deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", other.domainSeparator(), structHash));
        bytes memory sig = _sign(sellerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 800, deadline, sig);
    }

    function test_wrongSigner_alteredOrder_andForeignSeller_areRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        (, uint256 otherKey) = makeAddrAndKey("mallory");
        bytes memory sig = _sign(otherKey, _digest(seller, 0, licence, 800, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 800, deadline, sig);
        // Signed at 800, submitted at 20.
        sig = _order(0, licence, 800, deadline);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 20, deadline, sig);
        // A valid signature of the seller over someone else's licence lists nothing.
        uint256 bobs = _buyCrypto(bob, HD, bob);
        sig = _order(0, bobs, 800, deadline);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketNotLicenceOwner.selector, seller, bobs));
        _relay(0, bobs, 800, deadline, sig);
        // Nothing the operator can do lists without the owner's signature.
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        market.relayOrder(seller, 0, licence, 800, deadline, "");
    }

    function test_malleableSignature_isRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _digest(seller, 0, licence, 800, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sellerKey, digest);
        // The twin (r, n - s, v ^ 1) recovers the same address; OpenZeppelin's ECDSA refuses high s.
        bytes memory twin = abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 800, deadline, twin);
        // The canonical one works.
        _relay(0, licence, 800, deadline, abi.encodePacked(r, s, v));
    }

    function test_invalidAction_andPause() public {
        uint256 deadline = block.timestamp + 1 hours;
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidOrder.selector, 3));
        _relay(3, licence, 800, deadline, "");
        uint256 offerId = _relay(0, licence, 800, deadline, _order(0, licence, 800, deadline));
        vm.prank(admin);
        market.pause();
        bytes memory reprice = _order(1, offerId, 700, deadline);
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        _relay(1, offerId, 700, deadline, reprice);
        // A cancellation goes through while paused, as the seller's own would.
        _relay(2, offerId, 0, deadline, _order(2, offerId, 0, deadline));
        assertFalse(market.offer(offerId).active);
    }

    function test_erc1271Wallet_listsWhatItApproved() public {
        ApprovingWallet wallet = new ApprovingWallet();
        uint256 walletLicence = _buyCrypto(bob, HD, address(wallet));
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _digest(address(wallet), 0, walletLicence, 900, 0, deadline);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, address(wallet))
        );
        market.relayOrder(address(wallet), 0, walletLicence, 900, deadline, "");
        wallet.approve(digest);
        vm.prank(relayer);
        uint256 offerId = market.relayOrder(address(wallet), 0, walletLicence, 900, deadline, "");
        assertEq(market.offer(offerId).seller, address(wallet));
    }

    /// @dev Found by an attack review: a signed order the seller never meant to use (a 0.20 EUR listing whose
    /// submission failed during the hold, so its signature is public) must not outlive the seller's own
    /// cancellation, nor a signed reprice the seller's own reprice.
    function test_directCancelOrReprice_voidsUnsubmittedOrders() public {
        uint256 deadline = block.timestamp + 30 days;
        bytes memory cheap = _order(0, licence, 20, deadline);
        vm.prank(seller);
        uint256 offerId = market.list(licence, 100_000);
        vm.prank(seller);
        market.cancelOffer(offerId);
        assertEq(market.orderNonce(seller), 1, "the cancellation moved the nonce on");
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(0, licence, 20, deadline, cheap);

        vm.prank(seller);
        offerId = market.list(licence, 5_000);
        bytes memory low = _order(1, offerId, 20, deadline);
        vm.prank(seller);
        market.updateOffer(offerId, 50_000);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidSignature.selector, seller));
        _relay(1, offerId, 20, deadline, low);
        assertEq(market.offer(offerId).priceCents, 50_000);
    }

    function test_cardLicenceOnHold_cannotBeRelayedEither() public {
        uint256 card = _buyCard(HD, seller, keccak256("pi_hold"));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _order(0, card, 800, deadline);
        vm.expectRevert();
        _relay(0, card, 800, deadline, sig);
    }
}
