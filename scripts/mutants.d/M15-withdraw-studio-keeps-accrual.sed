# withdrawStudio pays out but does not zero the accrual (audit: killed)
# file: src/TangibleMarket.sol
/function withdrawStudio(/,/^    }/{
/s\.creditCents = 0;/d
}
