# revoke leaves the licence's offer open (audit: killed)
# file: src/TangibleMarketCore.sol
/function revoke(/,/^    }/{
/delete _activeOffers\[id\];/d
}
