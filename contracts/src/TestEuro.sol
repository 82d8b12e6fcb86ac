// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TestEuro
/// @notice 6-decimal EUR stablecoin for local stacks (anvil) and tests. Never deploy to a public network.
contract TestEuro is ERC20, Ownable {
    /// @dev Largest amount a single {faucet} call may mint: 10,000 EUR.
    uint256 public constant FAUCET_LIMIT = 10_000 * 1e6;

    /// @dev The faucet request exceeds {FAUCET_LIMIT}.
    error TestEuroFaucetLimit(uint256 requested, uint256 limit);

    constructor(address initialOwner) ERC20("Test Euro", "tEUR") Ownable(initialOwner) {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` units to `to`. Owner only.
    /// @dev Emits a {Transfer} event.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Mints up to {FAUCET_LIMIT} units to the caller (local use only).
    /// @dev Emits a {Transfer} event.
    function faucet(uint256 amount) external {
        if (amount > FAUCET_LIMIT) revert TestEuroFaucetLimit(amount, FAUCET_LIMIT);
        _mint(msg.sender, amount);
    }
}
