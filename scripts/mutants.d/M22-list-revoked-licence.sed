# a revoked licence can be listed
# file: src/TangibleOffers.sol
/function _checkSeller(/,/^    }/{
/revert LicenceIsRevoked(licenceId);/d
}
