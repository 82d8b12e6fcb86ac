# a stablecoin resale of a held licence (its sale may be pending) passes its slot on: its owner is lost to revoke's refund
# file: src/TangibleMarketViews.sol
s/if (!_held(l) \&\& licenceId \& _GENERATION_MASK != _GENERATION_MASK) {/if (licenceId \& _GENERATION_MASK != _GENERATION_MASK) {/
