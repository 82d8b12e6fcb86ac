// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {TangibleMarket} from "../../src/TangibleMarket.sol";
import {TangibleMarketAdmin} from "../../src/TangibleMarketAdmin.sol";

/// @dev Deploys a market as `crates/chain/src/deploy.rs` does: its admin module first, then the market with it.
function deployMarket(IERC20Metadata token, address admin, address operator, address platform)
    returns (TangibleMarket)
{
    return new TangibleMarket(token, admin, operator, platform, new TangibleMarketAdmin(token));
}
