// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ERC6372Utils} from "@openzeppelin/contracts/utils/ERC6372Utils.sol";

/// @title MembershipToken
/// @notice The governance token of a hearth data collective: one token, one vote, counted only once its
/// holder delegates (to itself or another member). Minted only by the owner: the deployer while the
/// collective is set up, then the collective's timelock (so new members are admitted by a vote).
/// @dev The ERC-6372 clock is the block timestamp, not the block number: the embedded chain mines a block
/// only when a transaction arrives, so on an idle node block numbers stand still while time moves on.
/// Every governor delay and period is therefore in seconds.
contract MembershipToken is ERC20, ERC20Permit, ERC20Votes, Ownable {
    /// @notice Deploys the token with `initialOwner` as the only minter.
    /// @param name_ The token's name (also its EIP-712 domain name for permits).
    /// @param symbol_ The token's symbol.
    /// @param initialOwner Who may mint (the deployer, until it hands ownership to the timelock).
    constructor(string memory name_, string memory symbol_, address initialOwner)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
        Ownable(initialOwner)
    {}

    /// @notice Creates `amount` tokens for `to`. Votes follow only once `to` delegates.
    /// @param to The receiving member.
    /// @param amount The amount, in the token's smallest unit.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice The current timepoint of checkpoints and votes: the block timestamp (unix seconds).
    /// @return The block timestamp.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock description: timestamps.
    /// @return "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public view override returns (string memory) {
        return ERC6372Utils.timestampClockMode(clock);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
