# a resale does not revoke the seller's licence
# file: src/TangibleMarket.sol
/_revokeLicence(oldLicenceId, l, m\.owner, REASON_RESALE, newLicenceId);/d
