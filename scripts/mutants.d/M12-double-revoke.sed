# a revoked licence can be revoked again (audit: killed)
# file: src/TangibleMarket.sol
/function revoke(/,/^    }/{
/if (_isRevoked(m)) revert LicenceIsRevoked(licenceId);/d
}
