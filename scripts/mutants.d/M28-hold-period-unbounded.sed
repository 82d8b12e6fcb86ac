# setHoldPeriod accepts more than MAX_HOLD_PERIOD
# file: src/TangibleMarketCore.sol
/revert MarketInvalidHoldPeriod(holdPeriod_, MAX_HOLD_PERIOD);/d
