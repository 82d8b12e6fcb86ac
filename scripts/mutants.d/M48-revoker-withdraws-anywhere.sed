# a revoker's balance (card money clawed back) is not a float: a stolen revoker key keeps what it revokes
# file: src/TangibleMarketCore.sol
s/if (role == SETTLER_ROLE || role == REVOKER_ROLE) _floatAccounts\[account\] = true;/if (role == SETTLER_ROLE) _floatAccounts[account] = true;/
