# buyPrimary and settleCardPrimary ignore the expected price
# file: src/TangibleMarket.sol
/function _sellPrimary(/,/^    }/{
/revert MarketPriceMismatch(expectedPriceCents, price);/d
}
