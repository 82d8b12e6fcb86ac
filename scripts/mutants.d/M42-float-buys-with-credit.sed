# a float account's signed credit order buys a licence: the sale is credited at once, a way around the treasury-only withdrawal (helper's attack review)
# file: src/TangibleMarket.sol
/if (_floatAccounts\[account\]) revert MarketUnauthorizedAccount(account);/d
