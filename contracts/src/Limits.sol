// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice A field is longer than its limit.
/// @param length The field's length in bytes.
/// @param max The largest length allowed, in bytes.
error FieldTooLong(uint256 length, uint256 max);

/// @notice A required field is empty (an empty string or a zero hash).
error EmptyField();

/// @title Limits
/// @notice Size limits shared by the hearth contracts, and the checks that enforce them.
library Limits {
    /// @notice Largest recipient, URL, name or URI, in bytes.
    uint256 internal constant MAX_STRING_BYTES = 4096;
    /// @notice Largest scope (or scope pattern), in bytes.
    uint256 internal constant MAX_SCOPE_BYTES = 64;
    /// @notice Most scopes in one grant.
    uint256 internal constant MAX_SCOPES = 16;
    /// @notice Most operations in one grant.
    uint256 internal constant MAX_OPERATIONS = 16;

    /// @notice Reverts with `FieldTooLong` when `value` is longer than `max` bytes.
    /// @param value The field.
    /// @param max The largest length allowed, in bytes.
    function checkMaxLength(string calldata value, uint256 max) internal pure {
        uint256 length = bytes(value).length;
        if (length > max) revert FieldTooLong(length, max);
    }

    /// @notice Reverts with `EmptyField` when `value` is empty, `FieldTooLong` when longer than `max` bytes.
    /// @param value The field.
    /// @param max The largest length allowed, in bytes.
    function checkRequired(string calldata value, uint256 max) internal pure {
        if (bytes(value).length == 0) revert EmptyField();
        checkMaxLength(value, max);
    }
}
