# the seller is credited one cent too many on a resale (audit: killed)
# file: src/TangibleMarket.sol
s/uint184(sale\.sellerCents \* unitsPerCent)/uint184((sale.sellerCents + 1) * unitsPerCent)/
