# primary sales do not accrue the platform's commission (audit: killed)
# file: src/TangibleMarketCore.sol
/function _split(/,/^    }/{
s/\(SplitLib\.primary(sale\.priceCents, sm\.commissionBps);\)/\1 sale.platformCents = 0;/
}
