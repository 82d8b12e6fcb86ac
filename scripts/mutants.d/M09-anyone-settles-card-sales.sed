# anyone can settle card sales: the operator check passes for every caller (audit: survived)
# file: src/TangibleMarketCore.sol
s/if (!_accounts\[msg\.sender\]\.settler) {/if (false \&\& !_accounts[msg.sender].settler) {/
