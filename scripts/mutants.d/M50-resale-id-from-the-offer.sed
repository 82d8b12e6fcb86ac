# a stablecoin-paid resale mints the resale id of the offer id instead of the licence sold's (ids can collide)
# file: src/TangibleMarket.sol
s/return resaleLicenceId(_offerLicences\[offerId\]);/return resaleLicenceId(offerId);/
