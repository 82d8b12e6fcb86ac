# the chargeback of a card sale of an uncleared licence refunds the card buyer in stablecoin, not the float
# file: src/TangibleMarketCore.sol
/function _clawBack(/,/^    }/{
s/address to = p\.tainted && licenceId & _CARD_ID_FLAG == 0 ? owner : msg\.sender;/address to = p.tainted ? owner : msg.sender;/
}
