# a purchase paid by a signed credit order is not debited from the account's credit
# file: src/TangibleMarket.sol
/function _spendCredit(/,/^    }/{
/_debit(account, units);/d
}
