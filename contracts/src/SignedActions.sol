// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title SignedActions
/// @notice Base of the hearth registries that accept EIP-712 signed, relayable actions.
/// @dev The domain is `EIP712(name, "1")`. Each signed action carries an explicit nonce, part of the
/// signed struct, consumed from the signer's `nonces` (one sequence per signer and contract).
abstract contract SignedActions is EIP712, Nonces {
    /// @notice The signature does not verify for the expected signer (EOA or ERC-1271 wallet).
    error InvalidSignature();

    /// @param name The EIP-712 domain name.
    constructor(string memory name) EIP712(name, "1") {}

    /// @notice Checks that `signer` signed the typed data `structHash` in this domain, then consumes `nonce`.
    /// @param signer The account that must have signed.
    /// @param structHash The EIP-712 struct hash of the action.
    /// @param nonce The nonce in the signed struct; must be `nonces(signer)`.
    /// @param signature The signature (65-byte ECDSA, or whatever the ERC-1271 wallet accepts).
    /// @return digest The EIP-712 digest that was signed.
    function _useSignature(address signer, bytes32 structHash, uint256 nonce, bytes calldata signature)
        internal
        returns (bytes32 digest)
    {
        digest = _hashTypedDataV4(structHash);
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) revert InvalidSignature();
        _useCheckedNonce(signer, nonce);
    }
}
