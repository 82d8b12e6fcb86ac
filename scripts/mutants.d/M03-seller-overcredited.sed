# the seller is credited one cent too many on a resale (at once, or when its pending sale clears) (audit: killed)
# file: src/TangibleMarketCore.sol
/function _creditUnits(/,/^    }/{
s/uint184(cents \* unitsPerCent)/uint184((cents + 1) * unitsPerCent)/
}
