# list ignores the hold of a card-paid licence (audit: survived)
# file: src/TangibleOffers.sol
/revert MarketLicenceOnHold(licenceId, holdEnd)/d
