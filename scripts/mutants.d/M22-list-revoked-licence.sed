# a revoked licence can be listed
# file: src/TangibleMarket.sol
/function _checkSeller(/,/^    }/{
/revert LicenceIsRevoked(licenceId);/d
}
