# a deposit credits one unit more than it pulls (audit: killed)
# file: src/TangibleMarket.sol
s/SafeCast\.toUint184(amount)/SafeCast.toUint184(amount + 1)/
