# an earlier generation of a lineage reads as the live licence: the buyer's licence answers to the seller's id too
# file: src/TangibleLicence.sol
s/if (generation == l.generation) return l;/if (generation <= l.generation) return l;/
