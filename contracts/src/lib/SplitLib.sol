// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title SplitLib
/// @notice The one place in Solidity where Tangible's money split is defined. All amounts are EUR cents.
/// @dev Resale: `studio = floor(price * 1500 / 10000)`, `platform = floor(price * 500 / 10000)`,
/// `seller = price - studio - platform` (the seller receives the rounding remainder).
/// Primary: `platform = floor(price * commissionBps / 10000)`, `studio = price - platform`.
library SplitLib {
    /// @dev Basis-point denominator.
    uint256 internal constant BPS = 10_000;
    /// @dev Studio royalty on every resale (15 %), also reported through ERC-2981.
    uint256 internal constant RESALE_STUDIO_BPS = 1_500;
    /// @dev Platform fee on every resale (5 %).
    uint256 internal constant RESALE_PLATFORM_BPS = 500;
    /// @dev Smallest resale price in cents such that every share is > 0 (20 * 500 / 10000 = 1).
    uint64 internal constant MIN_RESALE_PRICE_CENTS = 20;
    /// @dev Upper bound of a studio's primary commission.
    uint16 internal constant MAX_COMMISSION_BPS = 3_000;
    /// @dev Commission given to a newly registered studio.
    uint16 internal constant DEFAULT_COMMISSION_BPS = 1_000;

    /// @notice Splits a resale price into seller, studio and platform shares (cents).
    /// @dev The three shares always sum to `priceCents`. No overflow: `priceCents < 2**64`, the products are
    /// computed in 256 bits, and both fee shares are at most 20 % of the price so the subtraction cannot underflow.
    function resale(uint64 priceCents) internal pure returns (uint64 seller, uint64 studio, uint64 platform) {
        // Both casts are safe: each share is at most 15 % of a uint64 price.
        // forge-lint: disable-next-line(unsafe-typecast)
        studio = uint64(uint256(priceCents) * RESALE_STUDIO_BPS / BPS);
        // forge-lint: disable-next-line(unsafe-typecast)
        platform = uint64(uint256(priceCents) * RESALE_PLATFORM_BPS / BPS);
        unchecked {
            // studio + platform <= 20 % of priceCents, so this cannot underflow.
            seller = priceCents - studio - platform;
        }
    }

    /// @notice Splits a primary price into studio and platform shares (cents).
    /// @dev `commissionBps` is bounded by {MAX_COMMISSION_BPS} at the registry; the shares sum to `priceCents`.
    function primary(uint64 priceCents, uint16 commissionBps)
        internal
        pure
        returns (uint64 studio, uint64 platform)
    {
        // Safe: commissionBps <= 10000, so the share is at most the uint64 price.
        // forge-lint: disable-next-line(unsafe-typecast)
        platform = uint64(uint256(priceCents) * commissionBps / BPS);
        unchecked {
            // platform <= priceCents because commissionBps <= 10000 (bounded at 3000 by the registry).
            studio = priceCents - platform;
        }
    }

    /// @notice ERC-2981 royalty for an arbitrary sale price (any unit): 15 %, floored.
    function royalty(uint256 salePrice) internal pure returns (uint256) {
        return salePrice * RESALE_STUDIO_BPS / BPS;
    }
}
