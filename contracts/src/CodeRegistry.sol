// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Limits} from "./Limits.sol";

/// @title CodeRegistry
/// @notice The code a hearth data collective approved: OCI manifest digests its node may run, each with a
/// description for the voters and, for exports, the destination server. Owned by the collective's
/// timelock, so every approval and revocation is a passed vote.
contract CodeRegistry is Ownable {
    /// @notice What the collective decided about one digest.
    /// @param approved Whether the node may run it now.
    /// @param descriptionUri Where voters read what the code does and what leaves the node.
    /// @param exportTo Zero when the code runs on the node; otherwise the registered server (in the
    /// ServerRegistry) that the data is re-encrypted to for the code to run there.
    /// @param approvedAt When it was last approved (unix seconds; zero if never).
    /// @param revokedAt When it was revoked (unix seconds; zero while approved or if never revoked).
    struct Approval {
        bool approved;
        string descriptionUri;
        address exportTo;
        uint64 approvedAt;
        uint64 revokedAt;
    }

    /// @notice Largest description URI, in bytes.
    uint256 public constant MAX_DESCRIPTION_URI_BYTES = Limits.MAX_STRING_BYTES;

    mapping(bytes32 digest => Approval) private _approvals;
    bytes32[] private _digests;

    /// @notice The collective approved `digest`.
    /// @param digest The code's OCI manifest digest (sha256).
    /// @param exportTo The export destination, or zero to run on the node.
    /// @param descriptionUri Where its description lives.
    event CodeApproved(bytes32 indexed digest, address indexed exportTo, string descriptionUri);
    /// @notice The collective revoked its approval of `digest`.
    /// @param digest The code's digest.
    event CodeRevoked(bytes32 indexed digest);

    /// @notice The digest is zero.
    error ZeroDigest();
    /// @notice The digest is approved already (revoke it first to change its terms).
    /// @param digest The digest.
    error AlreadyApproved(bytes32 digest);
    /// @notice The digest is not approved.
    /// @param digest The digest.
    error NotApproved(bytes32 digest);
    /// @notice No digest at this index.
    /// @param index The index asked for.
    /// @param count How many digests there are.
    error IndexOutOfRange(uint256 index, uint256 count);

    /// @notice Deploys the registry.
    /// @param owner_ The collective's timelock.
    constructor(address owner_) Ownable(owner_) {}

    /// @notice Approves `digest`. Only the owner (the timelock, after a vote).
    /// @param digest The code's OCI manifest digest.
    /// @param descriptionUri Where voters read about it; required, at most `MAX_DESCRIPTION_URI_BYTES`.
    /// @param exportTo Zero to run on the node, or the server the data is exported to.
    function approve(bytes32 digest, string calldata descriptionUri, address exportTo) external onlyOwner {
        if (digest == bytes32(0)) revert ZeroDigest();
        Limits.checkRequired(descriptionUri, MAX_DESCRIPTION_URI_BYTES);
        Approval storage a = _approvals[digest];
        if (a.approved) revert AlreadyApproved(digest);
        if (a.approvedAt == 0) _digests.push(digest);
        a.approved = true;
        a.descriptionUri = descriptionUri;
        a.exportTo = exportTo;
        a.approvedAt = uint64(block.timestamp);
        a.revokedAt = 0;
        emit CodeApproved(digest, exportTo, descriptionUri);
    }

    /// @notice Revokes the approval of `digest`. Only the owner (the timelock, after a vote).
    /// @param digest The code's digest.
    function revoke(bytes32 digest) external onlyOwner {
        Approval storage a = _approvals[digest];
        if (!a.approved) revert NotApproved(digest);
        a.approved = false;
        a.revokedAt = uint64(block.timestamp);
        emit CodeRevoked(digest);
    }

    /// @notice Whether the node may run `digest` now.
    /// @param digest The code's digest.
    /// @return Whether it is approved.
    function isApproved(bytes32 digest) external view returns (bool) {
        return _approvals[digest].approved;
    }

    /// @notice The decision about `digest` (all zero if it was never approved).
    /// @param digest The code's digest.
    /// @return The approval record.
    function approval(bytes32 digest) external view returns (Approval memory) {
        return _approvals[digest];
    }

    /// @notice How many digests were ever approved.
    /// @return The count.
    function digestCount() external view returns (uint256) {
        return _digests.length;
    }

    /// @notice The `index`-th digest ever approved (from 0, in order of first approval).
    /// @param index The index.
    /// @return The digest.
    function digestAt(uint256 index) external view returns (bytes32) {
        if (index >= _digests.length) revert IndexOutOfRange(index, _digests.length);
        return _digests[index];
    }
}
