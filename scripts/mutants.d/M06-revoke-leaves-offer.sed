# revoke leaves the licence's offer open (audit: killed)
# file: src/TangibleMarket.sol
/function revoke(/,/^    }/{
/delete _activeOffers\[licenceId\];/d
}
