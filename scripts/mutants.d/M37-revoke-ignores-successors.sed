# revoke does not follow a licence resold while uncleared to its successor (audit H-2 again)
# file: src/TangibleMarketCore.sol
/function revoke(/,/^    }/{
s/uint256 next = _successors\[id\];/uint256 next = 0;/
}
