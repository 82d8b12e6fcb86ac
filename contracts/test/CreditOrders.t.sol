// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITangibleMarket} from "../src/ITangibleMarket.sol";
import {TangibleLicence} from "../src/TangibleLicence.sol";
import {TangibleMarket} from "../src/TangibleMarket.sol";
import {TangibleRegistry} from "../src/TangibleRegistry.sol";
import {ApprovingWallet} from "./Orders.t.sol";
import {CreditOrderFixture} from "./utils/CreditOrderFixture.sol";

/// @dev Signed credit orders relayed by someone else than the account (issue 12 item 2): the account's signature
/// spends its credit (buy an edition, buy an offer, withdraw) and nothing else; the nonce (shared with resale
/// orders), the deadline, the chain, the market and the EIP-712 type bind it ({CreditOrderSignaturesTest}); the money it spends is credit only
/// (never pending card money) and the clearance rules of the sale it pays still apply.
contract CreditOrdersTest is CreditOrderFixture {
    // ------------------------------------------------------------------ the three actions

    function test_typeHash_isTheDocumentedOne() public view {
        assertEq(
            market.CREDIT_ORDER_TYPEHASH(),
            keccak256(
                "CreditOrder(address account,uint8 action,uint256 target,uint64 amountCents,address to,uint32 nonce,uint256 deadline)"
            )
        );
        assertEq(market.ORDER_BUY_PRIMARY(), BUY_PRIMARY);
        assertEq(market.ORDER_BUY_OFFER(), BUY_OFFER);
        assertEq(market.ORDER_WITHDRAW(), WITHDRAW);
    }

    /// @dev An edition bought for carol with the spender's credit: crypto-like (no hold, nothing pending, the
    /// studio's and platform's shares credited at once), the sale names the spender as payer, nobody else pays.
    function test_buyPrimary_paidFromCredit() public {
        (uint64 studioCents, uint64 platformCents) =
            _expectedPrimary(PRICE_HD, market.studio(studioId).commissionBps);
        uint256 id = market.nextLicenceId();
        // Held stablecoin, float, studio and platform accruals.
        uint256[4] memory before = [
            euro.balanceOf(address(market)), _credit(operator), _studioCredit(), market.platformCreditCents()
        ];
        CreditOrder memory o = _order(spender, BUY_PRIMARY, _edition(HD), PRICE_HD, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));

        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(spender, 0, BUY_PRIMARY);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            id, 0, bytes32(0), spender, PRICE_HD, address(0), 0, royalty, studioCents, platform, platformCents
        );
        vm.expectEmit(address(market));
        emit ITangibleMarket.CreditSpent(spender, id, uint256(PRICE_HD) * UNITS);
        assertEq(_relay(o, sig), id);
        _ids.push(id);

        assertEq(_owner(id), carol);
        assertEq(market.licence(id).holdUntil, 0, "no hold");
        _assertNothingPending(id);
        assertEq(CREDIT - _credit(spender), uint256(PRICE_HD) * UNITS, "price debited from the credit");
        assertEq(euro.balanceOf(address(market)), before[0], "no stablecoin moved");
        assertEq(_credit(operator), before[1], "not the float");
        assertEq(_studioCredit() - before[2], studioCents, "studio share credited at once");
        assertEq(market.platformCreditCents() - before[3], platformCents, "platform share credited at once");
        assertEq(euro.balanceOf(relayer), 0);
        assertEq(market.orderNonce(spender), 1, "nonce consumed");
        assertEq(market.nextLicenceId(), id + 1, "a sequential (crypto) licence id");
        _assertConserved();
    }

    /// @dev An offer bought with credit: the seller's share credited at once (a clean licence), the old licence
    /// revoked as resold, the new one minted to the recipient without a hold.
    function test_buyOffer_paidFromCredit() public {
        (uint256 old, uint256 offerId) = _bobsOffer(5_000);
        (uint64 sellerCents, uint64 studioCents, uint64 platformCents) = _expectedResale(5_000);
        uint256 id = _resaleId(old);
        uint256 bobBefore = _credit(bob);
        CreditOrder memory o = _order(spender, BUY_OFFER, offerId, 5_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));

        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(spender, 0, BUY_OFFER);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceRevoked(old, bob, 0, id);
        vm.expectEmit(address(market));
        emit TangibleLicence.LicenceMinted(id, carol, filmId, HD, uint64(block.timestamp), 0);
        vm.expectEmit(address(market));
        emit ITangibleMarket.SaleSettled(
            id,
            offerId,
            bytes32(0),
            spender,
            5_000,
            bob,
            sellerCents,
            royalty,
            studioCents,
            platform,
            platformCents
        );
        vm.expectEmit(address(market));
        emit ITangibleMarket.CreditSpent(spender, id, 5_000 * UNITS);
        assertEq(_relay(o, sig), id);
        _ids.push(id);

        assertEq(_owner(id), carol);
        assertEq(market.licence(id).holdUntil, 0, "no hold");
        assertFalse(market.isValid(old), "the seller's licence is revoked");
        assertEq(market.licence(old).reason, 0, "as resold");
        assertFalse(market.offer(offerId).active);
        _assertNothingPending(id);
        assertEq(_credit(bob) - bobBefore, uint256(sellerCents) * UNITS, "seller credited at once");
        assertEq(CREDIT - _credit(spender), 5_000 * UNITS);
        assertEq(market.orderNonce(spender), 1);
        _assertConserved();
    }

    /// @dev A withdrawal to any address: `amountCents` of the balance paid out in stablecoin; returns 0.
    function test_withdraw_paysAnyAddress() public {
        uint256 held = euro.balanceOf(address(market));
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 30_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(spender, 0, WITHDRAW);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(spender, carol, 30_000 * UNITS);
        assertEq(_relay(o, sig), 0);
        assertEq(euro.balanceOf(carol), 30_000 * UNITS);
        assertEq(CREDIT - _credit(spender), 30_000 * UNITS);
        assertEq(held - euro.balanceOf(address(market)), 30_000 * UNITS);
        assertEq(euro.balanceOf(relayer), 0);
        assertEq(market.orderNonce(spender), 1);
        _assertConserved();
    }

    /// @dev Credit earned as a seller is spent like deposited credit; resale and credit orders share one nonce
    /// sequence, each consuming the next.
    function test_sellerProceeds_spentByCreditOrder_nonceSharedWithResaleOrders() public {
        uint256 own = _crypto(spender, SD, spender);
        CreditOrder memory w = _order(spender, WITHDRAW, 0, CREDIT_CENTS, spender);
        _spend(w); // the deposit is gone
        assertEq(_credit(spender), 0);

        // A resale order at nonce 1 lists the licence; bob buys it.
        bytes32 listStruct = keccak256(
            abi.encode(market.ORDER_TYPEHASH(), spender, uint8(0), own, uint64(2_000), uint32(1), deadline)
        );
        bytes memory listSig =
            _sign(spenderKey, keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), listStruct)));
        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(spender, 1, 0);
        vm.prank(relayer);
        uint256 offerId = market.relayOrder(spender, 0, own, 2_000, deadline, listSig);
        _cryptoOffer(bob, offerId, 2_000, bob);
        (uint64 sellerCents,,) = _expectedResale(2_000);
        assertEq(_credit(spender), uint256(sellerCents) * UNITS);

        // Nonce 2: the proceeds buy an edition.
        CreditOrder memory b = _order(spender, BUY_PRIMARY, _edition(SD), PRICE_SD, spender);
        assertEq(b.nonce, 2);
        bytes memory sig = _sign(spenderKey, _digest(b));
        vm.expectEmit(address(market));
        emit ITangibleMarket.OrderExecuted(spender, 2, BUY_PRIMARY);
        _ids.push(_relay(b, sig));
        assertEq(_credit(spender), uint256(sellerCents - PRICE_SD) * UNITS);
        assertEq(market.orderNonce(spender), 3);
        _assertConserved();
    }

    // ------------------------------------------------------------------ the purchase's own checks

    /// @dev The signed amount is the price: a price changed after signing (edition or offer) fails the order.
    function test_priceChangedAfterSigning_isRefused() public {
        CreditOrder memory o = _order(spender, BUY_PRIMARY, _edition(HD), PRICE_HD, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.prank(operator);
        market.updateEdition(filmId, HD, MASTER_HD, PRICE_HD + 1, "reprice");
        vm.expectRevert(
            abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, PRICE_HD, PRICE_HD + 1)
        );
        _relay(o, sig);

        (, uint256 offerId) = _bobsOffer(900);
        o = _order(spender, BUY_OFFER, offerId, 900, carol);
        sig = _sign(spenderKey, _digest(o));
        vm.prank(bob);
        market.updateOffer(offerId, 899);
        vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketPriceMismatch.selector, 900, 899));
        _relay(o, sig);
        assertEq(_credit(spender), CREDIT);
    }

    /// @dev A purchase above the credit is refused; the nonce is not consumed by a failed order, so the signed
    /// order goes through once the credit is there (until its deadline).
    function test_insufficientCredit_isRefused() public {
        (, uint256 offerId) = _bobsOffer(200_000);
        CreditOrder memory o = _order(spender, BUY_OFFER, offerId, 200_000, carol);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.expectRevert(
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, spender, CREDIT, 200_000 * UNITS
            )
        );
        _relay(o, sig);
        CreditOrder memory w = _order(spender, WITHDRAW, 0, CREDIT_CENTS + 1, carol);
        _expectRefused(
            spenderKey,
            w,
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, spender, CREDIT, CREDIT + UNITS
            )
        );
        assertEq(market.orderNonce(spender), 0);
        assertTrue(market.offer(offerId).active, "the offer is still there");

        _deposit(spender, CREDIT);
        _ids.push(_relay(o, sig));
        assertEq(
            _ids[_ids.length - 1],
            _resaleId(market.offer(offerId).licenceId),
            "the resale id of the licence sold"
        );
        assertEq(_owner(_ids[_ids.length - 1]), carol);
        assertEq(_credit(spender), 2 * CREDIT - 200_000 * UNITS);
        _assertConserved();
    }

    /// @dev The recipient must not be address 0, a withdrawal not be 0, an edition must exist and be on sale.
    function test_badRecipient_zeroAmount_unknownOrWithdrawnEdition_areRefused() public {
        _expectRefused(
            spenderKey,
            _order(spender, BUY_PRIMARY, _edition(HD), PRICE_HD, address(0)),
            abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0))
        );
        _expectRefused(
            spenderKey,
            _order(spender, WITHDRAW, 0, 100, address(0)),
            abi.encodeWithSelector(ITangibleMarket.MarketInvalidRecipient.selector, address(0))
        );
        _expectRefused(
            spenderKey,
            _order(spender, WITHDRAW, 0, 0, carol),
            abi.encodeWithSelector(ITangibleMarket.MarketZeroAmount.selector)
        );
        _expectRefused(
            spenderKey,
            _order(spender, BUY_PRIMARY, _edition(7), PRICE_HD, carol),
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, filmId, 7)
        );
        vm.prank(operator);
        market.withdrawEdition(filmId, HD);
        _expectRefused(
            spenderKey,
            _order(spender, BUY_PRIMARY, _edition(HD), PRICE_HD, carol),
            abi.encodeWithSelector(ITangibleMarket.MarketEditionInactive.selector, filmId, HD)
        );
        _expectRefused(
            spenderKey,
            _order(spender, BUY_OFFER, 42, 900, carol),
            abi.encodeWithSelector(ITangibleMarket.MarketOfferNotActive.selector, 42)
        );
        assertEq(_credit(spender), CREDIT);
        assertEq(market.orderNonce(spender), 0);
    }

    // ------------------------------------------------------------------ action and target

    /// @dev Only actions 3 to 5, even with a valid signature over another action.
    function test_invalidActions_areRefused() public {
        uint8[6] memory bad = [0, 1, 2, 6, 7, 255];
        for (uint256 i = 0; i < bad.length; i++) {
            CreditOrder memory o = _order(spender, bad[i], 0, 100, carol);
            bytes memory sig = _sign(spenderKey, _digest(o));
            vm.expectRevert(abi.encodeWithSelector(ITangibleMarket.MarketInvalidOrder.selector, bad[i]));
            _relay(o, sig);
        }
        assertEq(_credit(spender), CREDIT);
        assertEq(market.orderNonce(spender), 0);
    }

    /// @dev A primary target is `filmId << 8 | quality` with a 64-bit film id: a bit above bit 71 is refused, not
    /// truncated into the edition below it.
    function test_primaryTargetAbove72Bits_isRefused() public {
        uint256[3] memory targets = [(1 << 72) | _edition(HD), (1 << 255) | _edition(HD), type(uint256).max];
        for (uint256 i = 0; i < targets.length; i++) {
            _expectRefused(
                spenderKey,
                _order(spender, BUY_PRIMARY, targets[i], PRICE_HD, carol),
                abi.encodeWithSelector(ITangibleMarket.MarketInvalidOrder.selector, BUY_PRIMARY)
            );
        }
        // The highest film id that fits is a plain unknown edition.
        uint256 top = (uint256(type(uint64).max) << 8) | HD;
        _expectRefused(
            spenderKey,
            _order(spender, BUY_PRIMARY, top, PRICE_HD, carol),
            abi.encodeWithSelector(TangibleRegistry.RegistryEditionNotFound.selector, type(uint64).max, HD)
        );
        assertEq(_credit(spender), CREDIT);
    }

    function test_withdrawWithTarget_isRefused() public {
        uint256[3] memory targets = [uint256(1), _edition(HD), type(uint256).max];
        for (uint256 i = 0; i < targets.length; i++) {
            _expectRefused(
                spenderKey,
                _order(spender, WITHDRAW, targets[i], 100, carol),
                abi.encodeWithSelector(ITangibleMarket.MarketInvalidOrder.selector, WITHDRAW)
            );
        }
        assertEq(_credit(spender), CREDIT);
        assertEq(euro.balanceOf(carol), 0);
    }

    // ------------------------------------------------------------------ pause, float, pending money

    /// @dev Paused, every credit order is refused (purchases and withdrawals are pausable); the nonce stays, so
    /// the order goes through after the unpause.
    function test_paused_refusesEveryCreditOrder() public {
        (, uint256 offerId) = _bobsOffer(900);
        CreditOrder memory w = _order(spender, WITHDRAW, 0, 100, carol);
        bytes memory sig = _sign(spenderKey, _digest(w));
        vm.prank(operator);
        market.pause();
        vm.expectRevert(ITangibleMarket.EnforcedPause.selector);
        _relay(w, sig);
        _expectRefused(
            spenderKey,
            _order(spender, BUY_PRIMARY, _edition(HD), PRICE_HD, carol),
            abi.encodeWithSelector(ITangibleMarket.EnforcedPause.selector)
        );
        _expectRefused(
            spenderKey,
            _order(spender, BUY_OFFER, offerId, 900, carol),
            abi.encodeWithSelector(ITangibleMarket.EnforcedPause.selector)
        );
        vm.prank(admin);
        market.unpause();
        _relay(w, sig);
        assertEq(euro.balanceOf(carol), 100 * UNITS);
    }

    /// @dev The operator's float (a float account, even once the role is gone) is withdrawn to the treasury only,
    /// signed order or not (audit M-4a).
    function test_floatAccount_withdrawsToTheTreasuryOnly() public {
        CreditOrder memory o = _order(operator, WITHDRAW, 0, 10_000, carol);
        _expectRefused(
            operatorKey, o, abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, carol, admin)
        );
        o.to = operator;
        _expectRefused(
            operatorKey,
            o,
            abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, operator, admin)
        );

        // A former operator: still a float account.
        bytes32 role = market.SETTLER_ROLE();
        vm.prank(operator);
        market.renounceRole(role, operator);
        _expectRefused(
            operatorKey,
            o,
            abi.encodeWithSelector(ITangibleMarket.MarketNotTreasury.selector, operator, admin)
        );

        o.to = admin; // the treasury
        bytes memory sig = _sign(operatorKey, _digest(o));
        uint256 floatBefore = _credit(operator);
        vm.expectEmit(address(market));
        emit ITangibleMarket.Withdrawn(operator, admin, 10_000 * UNITS);
        _relay(o, sig);
        assertEq(floatBefore - _credit(operator), 10_000 * UNITS);
        assertEq(euro.balanceOf(admin), 10_000 * UNITS);
    }

    /// @dev FAILS on 23c1b86 (bug): a float account's credit order buys an offer crypto-like, so the seller's share
    /// is credited at once, while the same purchase settled as a card sale stays pending for the clearance period
    /// and a dispute gives it back to the float. A stolen operator key (or a former operator's, role renounced)
    /// signs for its float: it buys its accomplice's 5,000 EUR listing of an 8 EUR licence and the accomplice
    /// withdraws 4,000 EUR of the float in the same block. M-4a (the float goes to the treasury only) is undone.
    /// The same works through a primary sale of a studio the operator registered. Expected: a float account
    /// cannot spend its balance through a credit order except by withdrawing it to the treasury.
    function test_floatAccount_cannotBuyWithItsFloat() public {
        uint256 own = _crypto(fraudster, SD, fraudster);
        uint256 offerId = _list(fraudster, own, 500_000);
        CreditOrder memory o = _order(operator, BUY_OFFER, offerId, 500_000, mule);
        bytes memory sig = _sign(operatorKey, _digest(o));
        vm.prank(fraudster); // anyone relays
        try market.relayCreditOrder(o.account, o.action, o.target, o.amountCents, o.to, o.deadline, sig) {
            // What the bug allows: 4,000 EUR of the float withdrawn by the accomplice at once.
            (uint64 sellerCents,,) = _expectedResale(500_000);
            vm.prank(fraudster);
            market.withdraw(fraudster, uint256(sellerCents) * UNITS);
            assertEq(euro.balanceOf(fraudster), 0, "a credit order paid 4,000 EUR of the float out at once");
        } catch (bytes memory reason) {
            assertEq(
                reason, abi.encodeWithSelector(ITangibleMarket.MarketUnauthorizedAccount.selector, operator)
            );
        }
        // Nor an edition.
        o = _order(operator, BUY_PRIMARY, _edition(UHD), PRICE_4K, mule);
        _expectRefused(
            operatorKey,
            o,
            abi.encodeWithSelector(ITangibleMarket.MarketUnauthorizedAccount.selector, operator)
        );
    }

    /// @dev H-1 through a credit order: the seller's share of a card resale is pending, not credit, so it buys
    /// nothing and withdraws nothing, and the chargeback gives it back to the float.
    function test_pendingCardMoney_cannotBeSpent() public {
        uint256 own = _crypto(fraudster, HD, fraudster);
        uint256 cardId = _cardOffer(_list(fraudster, own, 500_000), 500_000, mule, "stolen-card");
        (uint64 sellerCents,,) = _expectedResale(500_000);
        assertEq(_pending(cardId).sellerCents, sellerCents);
        (, uint256 fraudsterKey) = makeAddrAndKey("fraudster");
        (, uint256 offerId) = _bobsOffer(900);

        CreditOrder memory w = _order(fraudster, WITHDRAW, 0, sellerCents, fraudster);
        _expectRefused(
            fraudsterKey,
            w,
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, fraudster, 0, uint256(sellerCents) * UNITS
            )
        );
        CreditOrder memory b = _order(fraudster, BUY_OFFER, offerId, 900, mule);
        _expectRefused(
            fraudsterKey,
            b,
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, fraudster, 0, 900 * UNITS
            )
        );
        b = _order(fraudster, BUY_PRIMARY, _edition(SD), PRICE_SD, mule);
        _expectRefused(
            fraudsterKey,
            b,
            abi.encodeWithSelector(
                ITangibleMarket.MarketInsufficientBalance.selector, fraudster, 0, uint256(PRICE_SD) * UNITS
            )
        );

        uint256 floatBefore = _credit(operator);
        _revoke(cardId, CHARGEBACK);
        assertEq(_credit(operator) - floatBefore, 500_000 * UNITS, "the float is whole again");
        assertEq(_credit(fraudster), 0);
        _assertConserved();
    }

    /// @dev A credit purchase of a licence whose card sale is uncleared is tainted like a crypto one: the whole
    /// sale pending until the first payment's clearance, the new licence on hold, the seller credited nothing;
    /// the chargeback of the first card payment unwinds it and refunds the credit buyer (the new licence's owner).
    function test_taintedOffer_boughtWithCredit_staysPending() public {
        uint256 first = _card(SD, fraudster, "card-A");
        vm.warp(T0 + 3 days); // past the hold, inside the clearance window
        deadline = block.timestamp + 1 hours;
        uint256 offerId = _list(fraudster, first, 50_000);
        uint256 id = _resaleId(first);
        CreditOrder memory o = _order(spender, BUY_OFFER, offerId, 50_000, spender);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.expectEmit(address(market));
        emit ITangibleMarket.SalePending(id, T0 + WINDOW, true);
        vm.expectEmit(address(market));
        emit ITangibleMarket.CreditSpent(spender, id, 50_000 * UNITS);
        _ids.push(_relay(o, sig));

        TangibleMarket.PendingSale memory p = _pending(id);
        (uint64 sellerCents,,) = _expectedResale(50_000);
        assertEq(p.sellerCents, sellerCents);
        assertTrue(p.tainted);
        assertEq(p.clearAt, T0 + WINDOW, "the first payment's clearance time");
        assertEq(p.taintedUntil, T0 + WINDOW);
        assertEq(p.seller, fraudster);
        assertEq(market.licence(id).holdUntil, block.timestamp + market.holdPeriod(), "on hold");
        assertEq(_credit(fraudster), 0, "the seller is credited nothing yet");
        assertEq(CREDIT - _credit(spender), 50_000 * UNITS);
        _assertConserved();

        // The chargeback of card A: the credit buyer gets its 500 EUR back as credit, the float its card payment.
        uint256 floatBefore = _credit(operator);
        _revoke(first, CHARGEBACK);
        assertEq(_credit(spender), CREDIT, "refunded");
        assertEq(_credit(operator) - floatBefore, uint256(PRICE_SD) * UNITS);
        assertFalse(market.isValid(id), "the tainted licence is revoked");
        assertEq(_credit(fraudster), 0);
        _assertConserved();
    }

    // ------------------------------------------------------------------ contract wallets, voiding

    /// @dev An ERC-1271 wallet spends its credit (here its proceeds as a seller) with the digests it approved.
    function test_erc1271Wallet_spendsWhatItApproved() public {
        ApprovingWallet wallet = new ApprovingWallet();
        address w = address(wallet);
        uint256 own = _crypto(bob, HD, w);
        bytes32 listStruct = keccak256(
            abi.encode(market.ORDER_TYPEHASH(), w, uint8(0), own, uint64(10_000), uint32(0), deadline)
        );
        wallet.approve(keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), listStruct)));
        vm.prank(relayer);
        uint256 offerId = market.relayOrder(w, 0, own, 10_000, deadline, "");
        _ids.push(_cryptoOffer(bob, offerId, 10_000, bob));
        (uint64 sellerCents,,) = _expectedResale(10_000);
        assertEq(_credit(w), uint256(sellerCents) * UNITS);

        CreditOrder memory b = _order(w, BUY_PRIMARY, _edition(SD), PRICE_SD, carol);
        vm.expectRevert(_invalidSignature(w));
        _relay(b, "");
        wallet.approve(_digest(b));
        uint256 id = _relay(b, "");
        _ids.push(id);
        assertEq(_owner(id), carol);

        CreditOrder memory x = _order(w, WITHDRAW, 0, sellerCents - PRICE_SD, carol);
        wallet.approve(_digest(x));
        vm.expectRevert(_invalidSignature(w));
        x.to = fraudster; // not the approved one
        _relay(x, "");
        x.to = carol;
        _relay(x, "");
        assertEq(_credit(w), 0);
        assertEq(euro.balanceOf(carol), uint256(sellerCents - PRICE_SD) * UNITS);
        assertEq(market.orderNonce(w), 3);
        _assertConserved();
    }

    /// @dev The account's own cancelOffer or updateOffer moves the shared nonce on: a credit order signed and not
    /// yet submitted dies with it, as a signed resale order does.
    function test_directCancelOrUpdate_voidsUnsubmittedCreditOrder() public {
        uint256 own = _crypto(spender, HD, spender);
        uint256 offerId = _list(spender, own, 5_000);
        CreditOrder memory o = _order(spender, WITHDRAW, 0, 10_000, fraudster);
        bytes memory sig = _sign(spenderKey, _digest(o));
        vm.prank(spender);
        market.updateOffer(offerId, 6_000);
        assertEq(market.orderNonce(spender), 1);
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);

        o = _order(spender, BUY_PRIMARY, _edition(SD), PRICE_SD, fraudster);
        sig = _sign(spenderKey, _digest(o));
        vm.prank(spender);
        market.cancelOffer(offerId);
        assertEq(market.orderNonce(spender), 2);
        vm.expectRevert(_invalidSignature(spender));
        _relay(o, sig);
        assertEq(_credit(spender), CREDIT, "nothing spent");
        assertEq(euro.balanceOf(fraudster), 0);
    }
}
