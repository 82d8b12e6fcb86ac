# anyone can trigger the platform payout
# file: src/TangibleMarketCore.sol
/function withdrawPlatform()/,/^    }/{
/_checkPlatformKey();/d
}
