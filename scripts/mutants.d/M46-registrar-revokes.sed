# the registrar role, not the revoker role, may revoke licences (roles mixed up)
# file: src/TangibleMarketCore.sol
s/function revoke(uint256 licenceId, uint8 reason) external virtual onlyRole(REVOKER_ROLE) {/function revoke(uint256 licenceId, uint8 reason) external virtual onlyRole(REGISTRAR_ROLE) {/
