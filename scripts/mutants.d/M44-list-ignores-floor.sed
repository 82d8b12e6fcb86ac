# list, updateOffer and signed listings and reprices ignore the edition's resale floor
# file: src/TangibleOffers.sol
/function _checkResalePrice(/,/^    }/{
/_requireFloor(priceCents, _editions\[_editionKey(l.filmId, _quality(l))\].resaleFloorCents);/d
}
