# anyone can trigger a studio payout
# file: src/TangibleMarket.sol
/if (msg\.sender != recipient) _checkStudioOrRegistrar(studioId);/d
