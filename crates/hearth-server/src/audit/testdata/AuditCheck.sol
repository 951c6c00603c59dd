// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AuditCheck (test only)
/// @notice What a third party verifying hearth's audit trail on chain would write: the record
/// hash recomputed from its fields, and an inclusion proof checked with OpenZeppelin's
/// MerkleProof against a root. The audit tests deploy `AuditCheck.bin` (built by `build.mjs`)
/// on the embedded chain and compare these answers with hearth's.
contract AuditCheck {
    /// @notice An audit entry; each optional hash is a presence flag and a value.
    struct AuditEntry {
        address actor;
        string action;
        bool hasGrantId;
        bytes32 grantId;
        bytes32[] files;
        bool hasCodeDigest;
        bytes32 codeDigest;
        bool hasParamsHash;
        bytes32 paramsHash;
        bool hasResultHash;
        bytes32 resultHash;
        string outcome;
    }

    /// @notice The hash of record `seq`.
    function recordHash(bytes32 prevHash, uint64 seq, uint64 time, AuditEntry calldata entry)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(prevHash, seq, time, entry));
    }

    /// @notice Whether `proof` shows the record with hash `hash` is in the batch with root `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 hash) external pure returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(hash))));
        return MerkleProof.verify(proof, root, leaf);
    }
}
