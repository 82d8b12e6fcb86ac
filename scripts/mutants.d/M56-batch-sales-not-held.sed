# a batched card sale mints its licence without the hold: it can be listed and resold at once
# file: src/TangibleCardBatch.sol
s/_mintLicence(licenceId, recipient, b.filmId, b.quality, b.holdUntil, b.pooled);/_mintLicence(licenceId, recipient, b.filmId, b.quality, 0, b.pooled);/
