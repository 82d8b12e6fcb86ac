# a card-paid primary licence is minted without a hold
# file: src/TangibleMarket.sol
/function settleCardPrimary(/,/^    }/{
s/paymentRef, _config\.holdPeriod/paymentRef, 0/
}
