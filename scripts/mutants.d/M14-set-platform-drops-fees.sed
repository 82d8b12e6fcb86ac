# setPlatform drops the fees accrued for the previous platform (audit: killed)
# file: src/TangibleMarketCore.sol
/function setPlatform(/,/^    }/{
/if (credit != 0) _creditAccountCents(previous, credit);/d
}
