# withdraw works while paused (audit: survived)
# file: src/TangibleMarket.sol
s/function withdraw(address to, uint256 amount) external nonReentrant whenNotPaused {/function withdraw(address to, uint256 amount) external nonReentrant {/
