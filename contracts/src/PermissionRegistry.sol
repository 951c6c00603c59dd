// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Limits} from "./Limits.sol";
import {SignedActions} from "./SignedActions.sol";

/// @title PermissionRegistry
/// @notice Grants: EIP-712 typed data signed by a data owner (the grantor) giving a grantee access to
/// scopes of the owner's data, either to run listed operations (COMPUTE, results only) or to get a
/// full copy (READ). A grant's id is its EIP-712 digest. Revoked by the grantor or the grantor's signature.
contract PermissionRegistry is SignedActions {
    /// @notice A grant, as signed by the grantor.
    /// @param grantor The data owner giving access.
    /// @param grantee The account receiving access.
    /// @param scopes Scope patterns: "*", "prefix.*" or an exact scope.
    /// @param access ACCESS_COMPUTE or ACCESS_READ.
    /// @param operations Code digests (OCI manifest sha256) the grantee may run.
    /// @param paramsHash Zero for any parameters, otherwise the hash of the fixed parameters.
    /// @param notBefore First second (unix) the grant is active.
    /// @param expiresAt First second (unix) the grant is no longer active.
    /// @param nonce The grantor's nonce.
    struct Grant {
        address grantor;
        address grantee;
        string[] scopes;
        uint8 access;
        bytes32[] operations;
        bytes32 paramsHash;
        uint64 notBefore;
        uint64 expiresAt;
        uint256 nonce;
    }

    /// @notice A stored grant.
    /// @param grant The grant.
    /// @param createdAt When it was submitted (unix seconds).
    /// @param revokedAt When it was revoked (unix seconds), zero if not revoked.
    struct GrantRecord {
        Grant grant;
        uint64 createdAt;
        uint64 revokedAt;
    }

    /// @notice Access level: run the listed operations, results only.
    uint8 public constant ACCESS_COMPUTE = 1;
    /// @notice Access level: a full copy, re-encrypted to the grantee.
    uint8 public constant ACCESS_READ = 2;
    /// @notice Largest scope pattern, in bytes.
    uint256 public constant MAX_SCOPE_BYTES = Limits.MAX_SCOPE_BYTES;
    /// @notice Most scopes in one grant.
    uint256 public constant MAX_SCOPES = Limits.MAX_SCOPES;
    /// @notice Most operations in one grant.
    uint256 public constant MAX_OPERATIONS = Limits.MAX_OPERATIONS;
    /// @notice EIP-712 typehash of a grant.
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(address grantor,address grantee,string[] scopes,uint8 access,bytes32[] operations,bytes32 paramsHash,uint64 notBefore,uint64 expiresAt,uint256 nonce)"
    );
    /// @notice EIP-712 typehash of a signed revocation.
    bytes32 public constant REVOKE_TYPEHASH = keccak256("Revoke(bytes32 grantId,uint256 nonce)");

    mapping(bytes32 grantId => GrantRecord) private _grants;

    /// @notice A grant was submitted.
    /// @param grantId The grant's id (its EIP-712 digest).
    /// @param grantor The grantor.
    /// @param grantee The grantee.
    /// @param access The access level.
    /// @param scopes The scope patterns.
    /// @param operations The operations.
    /// @param paramsHash The parameters hash.
    /// @param notBefore Start of the window (inclusive).
    /// @param expiresAt End of the window (exclusive).
    /// @param nonce The grantor's nonce used.
    event GrantSubmitted(
        bytes32 indexed grantId,
        address indexed grantor,
        address indexed grantee,
        uint8 access,
        string[] scopes,
        bytes32[] operations,
        bytes32 paramsHash,
        uint64 notBefore,
        uint64 expiresAt,
        uint256 nonce
    );
    /// @notice A grant was revoked.
    /// @param grantId The grant.
    /// @param grantor Its grantor.
    event GrantRevoked(bytes32 indexed grantId, address indexed grantor);

    /// @notice The grantor or grantee is the zero address.
    error ZeroAddress();
    /// @notice The access level is neither ACCESS_COMPUTE nor ACCESS_READ.
    /// @param access The access level given.
    error InvalidAccess(uint8 access);
    /// @notice The grant has no scope.
    error NoScopes();
    /// @notice The grant has more than MAX_SCOPES scopes.
    /// @param count The number given.
    /// @param max MAX_SCOPES.
    error TooManyScopes(uint256 count, uint256 max);
    /// @notice A scope is empty or longer than MAX_SCOPE_BYTES.
    /// @param index The scope's index.
    error InvalidScope(uint256 index);
    /// @notice The grant has more than MAX_OPERATIONS operations.
    /// @param count The number given.
    /// @param max MAX_OPERATIONS.
    error TooManyOperations(uint256 count, uint256 max);
    /// @notice A COMPUTE grant lists no operation.
    error NoOperations();
    /// @notice expiresAt is not after notBefore.
    /// @param notBefore The start given.
    /// @param expiresAt The end given.
    error InvalidTimeWindow(uint64 notBefore, uint64 expiresAt);
    /// @notice expiresAt is not in the future.
    /// @param expiresAt The end given.
    error GrantAlreadyExpired(uint64 expiresAt);
    /// @notice A grant with this id is already stored.
    /// @param grantId The id.
    error GrantExists(bytes32 grantId);
    /// @notice No grant has this id.
    /// @param grantId The id.
    error UnknownGrant(bytes32 grantId);
    /// @notice The caller is not the grant's grantor.
    /// @param grantId The grant.
    /// @param caller The caller.
    error NotGrantor(bytes32 grantId, address caller);
    /// @notice The grant was already revoked.
    /// @param grantId The grant.
    error AlreadyRevoked(bytes32 grantId);

    /// @notice Deploys the registry with EIP-712 domain "hearth.PermissionRegistry", version "1".
    constructor() SignedActions("hearth.PermissionRegistry") {}

    /// @notice Stores a grant signed by its grantor; anyone may submit. Consumes the grantor's nonce.
    /// @param grant The grant.
    /// @param signature The grantor's EIP-712 signature of `grant`.
    /// @return grantId The grant's id (its EIP-712 digest).
    function submitGrant(Grant calldata grant, bytes calldata signature) external returns (bytes32 grantId) {
        _validate(grant);
        grantId = _useSignature(grant.grantor, _structHash(grant), grant.nonce, signature);
        GrantRecord storage record = _grants[grantId];
        if (record.grant.grantor != address(0)) revert GrantExists(grantId);

        Grant storage stored = record.grant;
        stored.grantor = grant.grantor;
        stored.grantee = grant.grantee;
        for (uint256 i = 0; i < grant.scopes.length; ++i) {
            stored.scopes.push(grant.scopes[i]);
        }
        stored.access = grant.access;
        stored.operations = grant.operations;
        stored.paramsHash = grant.paramsHash;
        stored.notBefore = grant.notBefore;
        stored.expiresAt = grant.expiresAt;
        stored.nonce = grant.nonce;
        record.createdAt = uint64(block.timestamp);

        _emitSubmitted(grantId, stored);
    }

    /// @notice Revokes a grant; only its grantor may.
    /// @param grantId The grant.
    function revoke(bytes32 grantId) external {
        GrantRecord storage record = _record(grantId);
        if (record.grant.grantor != msg.sender) revert NotGrantor(grantId, msg.sender);
        _revoke(grantId, record);
    }

    /// @notice Revokes a grant with the grantor's EIP-712 `Revoke` signature; anyone may relay.
    /// Uses the same nonce sequence as the grantor's grants.
    /// @param grantId The grant.
    /// @param nonce The signed nonce; must be `nonces(grantor)`.
    /// @param signature The grantor's signature.
    function revokeWithSig(bytes32 grantId, uint256 nonce, bytes calldata signature) external {
        GrantRecord storage record = _record(grantId);
        if (record.revokedAt != 0) revert AlreadyRevoked(grantId);
        _useSignature(record.grant.grantor, keccak256(abi.encode(REVOKE_TYPEHASH, grantId, nonce)), nonce, signature);
        _revoke(grantId, record);
    }

    /// @notice A stored grant; reverts `UnknownGrant` otherwise.
    /// @param grantId The grant.
    /// @return The grant and its times.
    function getGrant(bytes32 grantId) external view returns (GrantRecord memory) {
        return _record(grantId);
    }

    /// @notice The id `grant` gets when submitted: its EIP-712 digest in this contract's domain.
    /// @param grant The grant.
    /// @return The id.
    function hashGrant(Grant calldata grant) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(grant));
    }

    /// @notice Whether a grant lets `grantee` have `access` to `scope` (running `operation` for COMPUTE) now.
    /// @param grantId The grant.
    /// @param grantee The account asking.
    /// @param scope The concrete scope asked for.
    /// @param access The access asked for.
    /// @param operation The operation to run (ignored for READ).
    /// @return True if active; see `isActiveAt`.
    function isActive(bytes32 grantId, address grantee, string calldata scope, uint8 access, bytes32 operation)
        external
        view
        returns (bool)
    {
        return isActiveAt(grantId, grantee, scope, access, operation, uint64(block.timestamp));
    }

    /// @notice Whether a grant lets `grantee` have `access` to `scope` (running `operation` for COMPUTE) at
    /// `timestamp`: false for unknown ids; true iff not revoked, grantee matches, notBefore <= timestamp < expiresAt,
    /// READ asked and the grant is READ, or COMPUTE asked and `operation` is listed, and a grant scope covers `scope`.
    /// @param grantId The grant.
    /// @param grantee The account asking.
    /// @param scope The concrete scope asked for.
    /// @param access The access asked for.
    /// @param operation The operation to run (ignored for READ).
    /// @param timestamp The time to answer for (unix seconds).
    /// @return True if active.
    function isActiveAt(
        bytes32 grantId,
        address grantee,
        string calldata scope,
        uint8 access,
        bytes32 operation,
        uint64 timestamp
    ) public view returns (bool) {
        GrantRecord storage record = _grants[grantId];
        Grant storage g = record.grant;
        if (g.grantor == address(0) || record.revokedAt != 0 || g.grantee != grantee) return false;
        if (timestamp < g.notBefore || timestamp >= g.expiresAt) return false;
        if (access == ACCESS_READ) {
            if (g.access != ACCESS_READ) return false;
        } else if (access == ACCESS_COMPUTE) {
            if (!_contains(g.operations, operation)) return false;
        } else {
            return false;
        }
        string[] storage patterns = g.scopes;
        for (uint256 i = 0; i < patterns.length; ++i) {
            if (_covers(bytes(patterns[i]), bytes(scope))) return true;
        }
        return false;
    }

    /// @notice The scope rule: whether grant scope `pattern` covers the requested `scope`, over raw bytes.
    /// "*" covers everything; "p.*" covers any scope longer than "p." that starts with "p."; any other
    /// pattern covers only itself.
    /// @param pattern A grant's scope pattern.
    /// @param scope The requested scope.
    /// @return True if covered.
    function scopeCovers(string calldata pattern, string calldata scope) external pure returns (bool) {
        return _covers(bytes(pattern), bytes(scope));
    }

    /// @dev Reverts unless the grant's fields are well formed and its window has not ended.
    /// @param grant The grant.
    function _validate(Grant calldata grant) private view {
        if (grant.grantor == address(0) || grant.grantee == address(0)) revert ZeroAddress();
        if (grant.access != ACCESS_COMPUTE && grant.access != ACCESS_READ) revert InvalidAccess(grant.access);
        uint256 scopeCount = grant.scopes.length;
        if (scopeCount == 0) revert NoScopes();
        if (scopeCount > MAX_SCOPES) revert TooManyScopes(scopeCount, MAX_SCOPES);
        for (uint256 i = 0; i < scopeCount; ++i) {
            uint256 length = bytes(grant.scopes[i]).length;
            if (length == 0 || length > MAX_SCOPE_BYTES) revert InvalidScope(i);
        }
        uint256 operationCount = grant.operations.length;
        if (operationCount > MAX_OPERATIONS) revert TooManyOperations(operationCount, MAX_OPERATIONS);
        if (grant.access == ACCESS_COMPUTE && operationCount == 0) revert NoOperations();
        if (grant.expiresAt <= grant.notBefore) revert InvalidTimeWindow(grant.notBefore, grant.expiresAt);
        if (grant.expiresAt <= block.timestamp) revert GrantAlreadyExpired(grant.expiresAt);
    }

    /// @dev The EIP-712 struct hash of a grant (arrays encoded as EIP-712 prescribes).
    /// @param grant The grant.
    /// @return The struct hash.
    function _structHash(Grant calldata grant) private pure returns (bytes32) {
        bytes32[] memory scopeHashes = new bytes32[](grant.scopes.length);
        for (uint256 i = 0; i < scopeHashes.length; ++i) {
            scopeHashes[i] = keccak256(bytes(grant.scopes[i]));
        }
        return keccak256(
            bytes.concat(
                abi.encode(
                    GRANT_TYPEHASH,
                    grant.grantor,
                    grant.grantee,
                    keccak256(abi.encodePacked(scopeHashes)),
                    grant.access,
                    keccak256(abi.encodePacked(grant.operations))
                ),
                abi.encode(grant.paramsHash, grant.notBefore, grant.expiresAt, grant.nonce)
            )
        );
    }

    /// @dev The stored record, or a revert with `UnknownGrant`.
    /// @param grantId The grant.
    /// @return record The record.
    function _record(bytes32 grantId) private view returns (GrantRecord storage record) {
        record = _grants[grantId];
        if (record.grant.grantor == address(0)) revert UnknownGrant(grantId);
    }

    /// @dev Emits `GrantSubmitted` for a stored grant (read back from storage to keep the stack shallow).
    /// @param grantId The grant's id.
    /// @param g The stored grant.
    function _emitSubmitted(bytes32 grantId, Grant storage g) private {
        emit GrantSubmitted(
            grantId, g.grantor, g.grantee, g.access, g.scopes, g.operations, g.paramsHash, g.notBefore, g.expiresAt, g.nonce
        );
    }

    /// @dev Marks a grant revoked and emits `GrantRevoked`.
    /// @param grantId The grant.
    /// @param record Its record.
    function _revoke(bytes32 grantId, GrantRecord storage record) private {
        if (record.revokedAt != 0) revert AlreadyRevoked(grantId);
        record.revokedAt = uint64(block.timestamp);
        emit GrantRevoked(grantId, record.grant.grantor);
    }

    /// @dev Whether `operations` lists `operation`.
    /// @param operations The list.
    /// @param operation The operation.
    /// @return True if listed.
    function _contains(bytes32[] storage operations, bytes32 operation) private view returns (bool) {
        for (uint256 i = 0; i < operations.length; ++i) {
            if (operations[i] == operation) return true;
        }
        return false;
    }

    /// @dev The scope rule (see `scopeCovers`).
    /// @param pattern The grant's scope pattern.
    /// @param scope The requested scope.
    /// @return True if covered.
    function _covers(bytes memory pattern, bytes memory scope) private pure returns (bool) {
        uint256 n = pattern.length;
        if (n == 1 && pattern[0] == "*") return true;
        if (n >= 2 && pattern[n - 1] == "*" && pattern[n - 2] == ".") {
            uint256 prefixLength = n - 1;
            if (scope.length <= prefixLength) return false;
            for (uint256 i = 0; i < prefixLength; ++i) {
                if (pattern[i] != scope[i]) return false;
            }
            return true;
        }
        return keccak256(pattern) == keccak256(scope);
    }
}
