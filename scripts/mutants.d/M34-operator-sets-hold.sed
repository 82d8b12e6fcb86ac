# a settler (the operator key), not the admin, sets the hold period
# file: src/TangibleMarketCore.sol
s/function setHoldPeriod(uint24 holdPeriod_) external virtual onlyRole(DEFAULT_ADMIN_ROLE) {/function setHoldPeriod(uint24 holdPeriod_) external virtual onlyRole(SETTLER_ROLE) {/
