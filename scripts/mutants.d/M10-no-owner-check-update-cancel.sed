# updateOffer and cancelOffer skip the seller check (audit: survived)
# file: src/TangibleOffers.sol
/function _sellerOffer(/,/^    }/{
/revert MarketNotLicenceOwner(seller, licenceId);/d
}
