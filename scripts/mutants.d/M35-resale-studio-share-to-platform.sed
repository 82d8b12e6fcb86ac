# a resale credits the studio's share to the platform
# file: src/TangibleMarket.sol
s/c\.platformCreditCents = _accrue(c\.platform, c\.platformCreditCents, platformCents);/c.platformCreditCents = _accrue(c.platform, c.platformCreditCents, primary ? platformCents : platformCents + studioCents);/
s/s\.creditCents = _accrue(sm\.royaltyRecipient, sm\.creditCents, studioCents);/s.creditCents = _accrue(sm.royaltyRecipient, sm.creditCents, primary ? studioCents : 0);/
