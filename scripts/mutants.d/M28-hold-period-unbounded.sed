# setHoldPeriod accepts more than MAX_HOLD_PERIOD
# file: src/TangibleMarket.sol
/revert MarketInvalidHoldPeriod(holdPeriod_, MAX_HOLD_PERIOD);/d
