# a card-paid resale mints the new licence without a hold (audit: survived)
# file: src/TangibleMarket.sol
/function settleCardOffer(/,/^    }/{
s/paymentRef, _config\.holdPeriod)/paymentRef, 0)/
}
