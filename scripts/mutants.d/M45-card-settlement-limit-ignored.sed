# settleCardPrimary and settleCardOffer ignore the daily card settlement limit (nothing is counted or refused)
# file: src/TangibleMarket.sol
/^        _chargeCardSettlement(price);$/d
