# a card-paid resale mints the new licence without a hold (unless the licence sold was uncleared) (audit: survived)
# file: src/TangibleMarket.sol
/function _bookResale(/,/^    }/{
s/return card || tainted;/return tainted;/
}
