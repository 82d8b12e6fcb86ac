# a balance can be overdrawn by one unit
# file: src/TangibleMarketCore.sol
s/if (balance < amount) revert MarketInsufficientBalance/if (balance + 1 < amount) revert MarketInsufficientBalance/
