# a card-paid primary licence is minted without a hold
# file: src/TangibleMarket.sol
/function _sellPrimary(/,/^    }/{
s/card ? _holdUntil() : 0/0/
}
