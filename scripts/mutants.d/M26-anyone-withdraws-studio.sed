# anyone can trigger a studio payout
# file: src/TangibleMarketCore.sol
/if (msg\.sender != recipient) _checkStudioOrRegistrar(studioId);/d
