# anyone can trigger the platform payout
# file: src/TangibleMarket.sol
/function withdrawPlatform()/,/^    }/{
/_checkPlatformKey();/d
}
