// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EmptyField, Limits} from "./Limits.sol";
import {SignedActions} from "./SignedActions.sol";

/// @title DataRegistry
/// @notice Owners' files: id, owner, storage URI, sha256 of the ciphertext, scope and time added.
contract DataRegistry is SignedActions {
    /// @notice A file.
    /// @param owner The file's owner.
    /// @param uri Where the ciphertext is stored.
    /// @param sha256 The sha256 of the ciphertext.
    /// @param scope The file's scope (for example "messages.sms").
    /// @param addedAt When the file was added (unix seconds).
    /// @param removed Whether the owner removed it.
    struct File {
        address owner;
        string uri;
        bytes32 sha256;
        string scope;
        uint64 addedAt;
        bool removed;
    }

    /// @notice Largest URI, in bytes.
    uint256 public constant MAX_STRING_BYTES = Limits.MAX_STRING_BYTES;
    /// @notice Largest scope, in bytes.
    uint256 public constant MAX_SCOPE_BYTES = Limits.MAX_SCOPE_BYTES;
    /// @notice EIP-712 typehash of a signed file addition.
    bytes32 public constant ADD_FILE_TYPEHASH =
        keccak256("AddFile(address owner,string uri,bytes32 sha256,string scope,uint256 nonce)");

    uint256 private _fileCount;
    mapping(uint256 fileId => File) private _files;

    /// @notice A file was added.
    /// @param fileId The new file's id.
    /// @param owner Its owner.
    /// @param sha256 The sha256 of its ciphertext.
    /// @param scope Its scope.
    /// @param uri Where its ciphertext is stored.
    event FileAdded(uint256 indexed fileId, address indexed owner, bytes32 sha256, string scope, string uri);
    /// @notice A file was removed by its owner.
    /// @param fileId The file.
    /// @param owner Its owner.
    event FileRemoved(uint256 indexed fileId, address indexed owner);

    /// @notice No file has this id.
    /// @param fileId The id.
    error UnknownFile(uint256 fileId);
    /// @notice The caller does not own the file.
    /// @param fileId The file.
    error NotFileOwner(uint256 fileId);
    /// @notice The file was already removed.
    /// @param fileId The file.
    error AlreadyRemoved(uint256 fileId);

    /// @notice Deploys the registry with EIP-712 domain "hearth.DataRegistry", version "1".
    constructor() SignedActions("hearth.DataRegistry") {}

    /// @notice Adds a file owned by the caller.
    /// @param uri Where the ciphertext is stored (at most MAX_STRING_BYTES).
    /// @param sha256 The sha256 of the ciphertext (non-zero).
    /// @param scope The file's scope (1..MAX_SCOPE_BYTES bytes).
    /// @return fileId The new file's id (ids start at 1).
    function addFile(string calldata uri, bytes32 sha256, string calldata scope) external returns (uint256 fileId) {
        _checkFields(uri, sha256, scope);
        return _add(msg.sender, uri, sha256, scope);
    }

    /// @notice Adds a file for `owner` with the owner's EIP-712 `AddFile` signature; anyone may relay.
    /// @param owner The owner, who signed.
    /// @param uri Where the ciphertext is stored (at most MAX_STRING_BYTES).
    /// @param sha256 The sha256 of the ciphertext (non-zero).
    /// @param scope The file's scope (1..MAX_SCOPE_BYTES bytes).
    /// @param nonce The signed nonce; must be `nonces(owner)`.
    /// @param signature The owner's signature.
    /// @return fileId The new file's id.
    function addFileWithSig(
        address owner,
        string calldata uri,
        bytes32 sha256,
        string calldata scope,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256 fileId) {
        _checkFields(uri, sha256, scope);
        bytes32 structHash = keccak256(
            abi.encode(ADD_FILE_TYPEHASH, owner, keccak256(bytes(uri)), sha256, keccak256(bytes(scope)), nonce)
        );
        _useSignature(owner, structHash, nonce, signature);
        return _add(owner, uri, sha256, scope);
    }

    /// @notice Marks one of the caller's files removed.
    /// @param fileId The file.
    function removeFile(uint256 fileId) external {
        File storage f = _file(fileId);
        if (f.owner != msg.sender) revert NotFileOwner(fileId);
        if (f.removed) revert AlreadyRemoved(fileId);
        f.removed = true;
        emit FileRemoved(fileId, msg.sender);
    }

    /// @notice A file; reverts `UnknownFile` for an id never given out.
    /// @param fileId The file.
    /// @return The file's record (removed files included, with `removed` set).
    function getFile(uint256 fileId) external view returns (File memory) {
        return _file(fileId);
    }

    /// @notice How many files were ever added; also the latest file id.
    /// @return The count.
    function fileCount() external view returns (uint256) {
        return _fileCount;
    }

    /// @dev Reverts unless `uri` is at most MAX_STRING_BYTES, `fileSha256` non-zero and `scope` 1..MAX_SCOPE_BYTES.
    /// @param uri The URI.
    /// @param fileSha256 The ciphertext hash.
    /// @param scope The scope.
    function _checkFields(string calldata uri, bytes32 fileSha256, string calldata scope) private pure {
        Limits.checkMaxLength(uri, MAX_STRING_BYTES);
        if (fileSha256 == bytes32(0)) revert EmptyField();
        Limits.checkRequired(scope, MAX_SCOPE_BYTES);
    }

    /// @dev Stores a new file under the next id and emits `FileAdded`.
    /// @param owner The owner.
    /// @param uri The URI.
    /// @param fileSha256 The ciphertext hash.
    /// @param scope The scope.
    /// @return fileId The new id.
    function _add(address owner, string calldata uri, bytes32 fileSha256, string calldata scope)
        private
        returns (uint256 fileId)
    {
        fileId = ++_fileCount;
        File storage f = _files[fileId];
        f.owner = owner;
        f.uri = uri;
        f.sha256 = fileSha256;
        f.scope = scope;
        f.addedAt = uint64(block.timestamp);
        emit FileAdded(fileId, owner, fileSha256, scope, uri);
    }

    /// @dev The stored file, or a revert with `UnknownFile`.
    /// @param fileId The id.
    /// @return f The file.
    function _file(uint256 fileId) private view returns (File storage f) {
        f = _files[fileId];
        if (f.owner == address(0)) revert UnknownFile(fileId);
    }
}
