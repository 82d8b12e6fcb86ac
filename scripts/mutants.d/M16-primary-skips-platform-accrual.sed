# primary sales do not accrue the platform's commission (audit: killed)
# file: src/TangibleMarket.sol
s/c\.platformCreditCents = _accrue(c\.platform, c\.platformCreditCents, platformCents);/if (!primary) c.platformCreditCents = _accrue(c.platform, c.platformCreditCents, platformCents);/
