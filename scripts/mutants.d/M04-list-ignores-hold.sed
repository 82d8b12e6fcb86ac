# list ignores the hold of a card-paid licence (audit: survived)
# file: src/TangibleMarket.sol
/revert MarketLicenceOnHold(licenceId, l\.holdUntil)/d
