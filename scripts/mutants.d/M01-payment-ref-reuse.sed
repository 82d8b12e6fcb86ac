# paymentRef reuse: a used payment reference settles again (audit: killed)
# file: src/TangibleMarketCore.sol
/revert MarketPaymentRefUsed(paymentRef)/d
