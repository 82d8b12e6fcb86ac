# a licence minted in its lineage's slot records generation 0: the buyer's id does not exist, the seller's reads live
# file: src/TangibleLicence.sol
s/| ((licenceId \& _GENERATION_MASK) << (248 - _GENERATION_SHIFT));/;/
