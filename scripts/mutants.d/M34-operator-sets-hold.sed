# the operator, not the admin, sets the hold period
# file: src/TangibleMarket.sol
s/function setHoldPeriod(uint24 holdPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {/function setHoldPeriod(uint24 holdPeriod_) external onlyRole(OPERATOR_ROLE) {/
