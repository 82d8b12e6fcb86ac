# a settler (the operator key), not the admin, unpauses
# file: src/TangibleMarket.sol
s/function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {/function unpause() external onlyRole(SETTLER_ROLE) {/
