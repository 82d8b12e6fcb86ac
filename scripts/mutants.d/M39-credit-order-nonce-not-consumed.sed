# a credit order does not consume its account's order nonce: the same signed order can be submitted again
# file: src/TangibleMarket.sol
/function relayCreditOrder(/,/^    }/{
s/uint32 nonce = _accounts\[account\]\.orderNonce++;/uint32 nonce = _accounts[account].orderNonce;/
}
