# a card sale is credited at once instead of pending until its clearance (audit H-1 again)
# file: src/TangibleMarket.sol
s/_book(sale, e\.studioId, card ? _clearAt() : 0, false);/_book(sale, e.studioId, 0, false);/
s/uint32 clearAt = card ? _clearAt() : 0;/uint32 clearAt = 0;/
