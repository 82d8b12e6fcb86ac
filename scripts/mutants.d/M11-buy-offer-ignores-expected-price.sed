# buyOffer (and settleCardOffer) ignore the expected price (audit: survived)
# file: src/TangibleMarket.sol
/function _fillOffer(/,/^    }/{
/revert MarketPriceMismatch(expectedPriceCents, price);/d
}
