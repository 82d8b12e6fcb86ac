# anyone can trigger a studio payout
# file: src/TangibleMarket.sol
/if (msg\.sender != recipient) _checkStudioOrOperator(studioId);/d
