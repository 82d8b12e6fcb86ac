# a withdrawn edition is still sold
# file: src/TangibleMarket.sol
/revert MarketEditionInactive(filmId, quality);/d
