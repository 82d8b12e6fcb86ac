# a pooled card sale keeps its pooled bit once cleared or clawed back: clearSales credits it again
# file: src/TangibleMarketCore.sol
s/^        _unpool(_slotOf(licenceId));$//
