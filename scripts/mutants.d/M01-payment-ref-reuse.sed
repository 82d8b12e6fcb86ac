# paymentRef reuse: a used payment reference settles again (audit: killed)
# file: src/TangibleMarket.sol
/revert MarketPaymentRefUsed(paymentRef)/d
