# withdrawStudio pays out but does not zero the accrual (audit: killed)
# file: src/TangibleMarketCore.sol
/function withdrawStudio(/,/^    }/{
/s\.creditCents = 0;/d
}
