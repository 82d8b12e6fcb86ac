# cancelOffer is blocked while paused (it must stay open)
# file: src/TangibleOffers.sol
s/function cancelOffer(uint256 offerId) external {/function cancelOffer(uint256 offerId) external whenNotPaused {/
