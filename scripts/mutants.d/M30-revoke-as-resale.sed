# the operator may revoke with reason 0 (resale)
# file: src/TangibleMarketCore.sol
s/if (reason == REASON_RESALE || reason > REASON_OTHER)/if (reason > REASON_OTHER)/
