# revocation does not decrement the owner's licence count (audit: killed)
# file: src/TangibleLicence.sol
/_accounts\[owner\]\.licences -= 1;/d
