// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ServerRegistry} from "./ServerRegistry.sol";

/// @title AuditLog
/// @notice Registered servers anchor the Merkle roots of contiguous batches of their audit records.
/// Each server's records are numbered from 1; each anchor covers the next range [firstSeq, lastSeq].
contract AuditLog {
    /// @notice One anchored batch.
    /// @param merkleRoot The Merkle root of the batch's records.
    /// @param firstSeq The first record's sequence number.
    /// @param lastSeq The last record's sequence number (inclusive).
    /// @param anchoredAt When it was anchored (unix seconds).
    struct Anchor {
        bytes32 merkleRoot;
        uint64 firstSeq;
        uint64 lastSeq;
        uint64 anchoredAt;
    }

    /// @notice The registry whose registered servers may anchor.
    ServerRegistry public immutable servers;

    mapping(address server => Anchor[]) private _anchors;
    mapping(address server => uint64) private _nextSeq;

    /// @notice A server anchored a batch.
    /// @param server The server.
    /// @param index The anchor's index in the server's list (from 0).
    /// @param merkleRoot The batch's Merkle root.
    /// @param firstSeq The first record's sequence number.
    /// @param lastSeq The last record's sequence number.
    event Anchored(address indexed server, uint256 indexed index, bytes32 merkleRoot, uint64 firstSeq, uint64 lastSeq);

    /// @notice The caller is not a registered server.
    /// @param server The caller.
    error NotRegistered(address server);
    /// @notice The Merkle root is zero.
    error ZeroRoot();
    /// @notice lastSeq is before firstSeq.
    /// @param firstSeq The first sequence number given.
    /// @param lastSeq The last sequence number given.
    error EmptyRange(uint64 firstSeq, uint64 lastSeq);
    /// @notice firstSeq is not the server's next sequence number.
    /// @param expected The server's next sequence number.
    /// @param got The firstSeq given.
    error OutOfOrder(uint64 expected, uint64 got);
    /// @notice The server has no anchor at this index.
    /// @param server The server.
    /// @param index The index.
    error UnknownAnchor(address server, uint256 index);

    /// @notice Deploys the log for the servers of `serverRegistry`.
    /// @param serverRegistry The ServerRegistry.
    constructor(ServerRegistry serverRegistry) {
        servers = serverRegistry;
    }

    /// @notice Anchors the Merkle root of the caller's records firstSeq..lastSeq; firstSeq must be `nextSeq(caller)`.
    /// @param merkleRoot The batch's Merkle root (non-zero).
    /// @param firstSeq The first record's sequence number.
    /// @param lastSeq The last record's sequence number (inclusive, >= firstSeq).
    /// @return index The anchor's index in the caller's list.
    function anchor(bytes32 merkleRoot, uint64 firstSeq, uint64 lastSeq) external returns (uint256 index) {
        if (!servers.isRegistered(msg.sender)) revert NotRegistered(msg.sender);
        if (merkleRoot == bytes32(0)) revert ZeroRoot();
        if (lastSeq < firstSeq) revert EmptyRange(firstSeq, lastSeq);
        uint64 expected = nextSeq(msg.sender);
        if (firstSeq != expected) revert OutOfOrder(expected, firstSeq);

        _nextSeq[msg.sender] = lastSeq + 1;
        Anchor[] storage list = _anchors[msg.sender];
        index = list.length;
        list.push(Anchor(merkleRoot, firstSeq, lastSeq, uint64(block.timestamp)));
        emit Anchored(msg.sender, index, merkleRoot, firstSeq, lastSeq);
    }

    /// @notice The sequence number a server's next anchor must start at (1 before its first anchor).
    /// @param server The server.
    /// @return The next sequence number.
    function nextSeq(address server) public view returns (uint64) {
        uint64 next = _nextSeq[server];
        return next == 0 ? 1 : next;
    }

    /// @notice How many anchors a server has made.
    /// @param server The server.
    /// @return The count.
    function anchorCount(address server) external view returns (uint256) {
        return _anchors[server].length;
    }

    /// @notice One of a server's anchors; reverts `UnknownAnchor` if out of range.
    /// @param server The server.
    /// @param index The anchor's index (from 0).
    /// @return The anchor.
    function getAnchor(address server, uint256 index) external view returns (Anchor memory) {
        Anchor[] storage list = _anchors[server];
        if (index >= list.length) revert UnknownAnchor(server, index);
        return list[index];
    }
}
