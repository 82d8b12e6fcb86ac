# list and updateOffer accept prices below the 20-cent minimum
# file: src/TangibleOffers.sol
s/if (priceCents < MIN_RESALE_PRICE_CENTS) {/if (priceCents == 0) {/
