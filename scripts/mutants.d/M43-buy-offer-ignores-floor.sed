# buyOffer, settleCardOffer and credit purchases of offers ignore the edition's resale floor
# file: src/TangibleMarket.sol
/function _fillOffer(/,/^    }/{
/_requireFloor(price, e.resaleFloorCents);/d
}
