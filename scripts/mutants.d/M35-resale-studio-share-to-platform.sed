# a resale credits the studio's share to the platform
# file: src/TangibleMarketCore.sol
/function _split(/,/^    }/{
s/\((sale\.sellerCents, sale\.studioCents, sale\.platformCents) = SplitLib\.resale(sale\.priceCents);\)/\1 (sale.studioCents, sale.platformCents) = (0, sale.platformCents + sale.studioCents);/
}
