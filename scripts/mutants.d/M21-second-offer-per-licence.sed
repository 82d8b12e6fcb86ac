# a licence can be listed while it already has an active offer
# file: src/TangibleOffers.sol
/revert MarketOfferExists(licenceId, current\.offerId);/d
