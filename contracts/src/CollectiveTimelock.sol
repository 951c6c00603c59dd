// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title CollectiveTimelock
/// @notice OpenZeppelin's TimelockController, unchanged; this contract exists so that it has its own
/// artifact. It owns the collective's CodeRegistry and MembershipToken: every change the collective votes
/// for waits here for `getMinDelay()` seconds, then anyone may execute it.
contract CollectiveTimelock is TimelockController {
    /// @notice Deploys the timelock.
    /// @param minDelay Seconds between queueing and execution.
    /// @param proposers Granted the proposer and canceller roles (the governor).
    /// @param executors Granted the executor role; the zero address lets anyone execute.
    /// @param admin An optional admin for the setup, which renounces its role once done (zero for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
