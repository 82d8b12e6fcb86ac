# anyone can list a licence they do not own
# file: src/TangibleOffers.sol
/function _checkSeller(/,/^    }/{
/revert MarketNotLicenceOwner(seller, licenceId);/d
}
