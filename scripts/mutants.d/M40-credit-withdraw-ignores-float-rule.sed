# a float account's signed credit order withdraws its balance to any address, not only the treasury (audit M-4a)
# file: src/TangibleMarket.sol
/function _spendCredit(/,/^    }/{
s/_withdraw(account, to, uint256(amountCents) \* unitsPerCent);/uint256 u = uint256(amountCents) * unitsPerCent; if (to == address(0) || u == 0) revert MarketZeroAmount(); _debit(account, u); emit Withdrawn(account, to, u); token.safeTransfer(to, u);/
}
