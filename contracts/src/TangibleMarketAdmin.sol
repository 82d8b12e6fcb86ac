// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {TangibleMarketCore} from "./TangibleMarketCore.sol";
import {TangibleCardBatch} from "./TangibleCardBatch.sol";

/// @title TangibleMarketAdmin
/// @notice The cold half of {TangibleMarket}: registry administration, revocation, clearance and governance
/// setters, implemented in {TangibleMarketCore} and its bases, and batched card settlement ({TangibleCardBatch}). It is deployed first, given to the market's
/// constructor, and run by the market only by `delegatecall`, on the market's storage.
/// @dev Called directly, it acts on its own storage, where nobody holds a role and nothing is registered: every
/// function then reverts or changes nothing of value.
contract TangibleMarketAdmin is TangibleCardBatch {
    /// @param token_ The market's stablecoin (for the immutables shared with the market).
    constructor(IERC20Metadata token_) TangibleMarketCore(token_) {}
}
