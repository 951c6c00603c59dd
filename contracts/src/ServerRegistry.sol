// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Limits} from "./Limits.sol";
import {SignedActions} from "./SignedActions.sol";

/// @title ServerRegistry
/// @notice Hearth servers (address, age recipient, URL) and, per owner, the servers the owner trusts.
/// Only servers an owner trusts may act for that owner.
contract ServerRegistry is SignedActions {
    /// @notice A registered server.
    /// @param server The server's address (its signing key).
    /// @param recipient The server's age recipient.
    /// @param url The server's URL.
    /// @param registeredAt When the server first registered (unix seconds).
    struct Server {
        address server;
        string recipient;
        string url;
        uint64 registeredAt;
    }

    /// @notice Largest recipient or URL, in bytes.
    uint256 public constant MAX_STRING_BYTES = Limits.MAX_STRING_BYTES;
    /// @notice EIP-712 typehash of a signed registration.
    bytes32 public constant SERVER_REGISTRATION_TYPEHASH =
        keccak256("ServerRegistration(address server,string recipient,string url,uint256 nonce)");
    /// @notice EIP-712 typehash of a signed trust change.
    bytes32 public constant TRUST_TYPEHASH = keccak256("Trust(address owner,address server,bool trusted,uint256 nonce)");

    mapping(address server => Server) private _servers;
    mapping(address owner => mapping(address server => bool)) private _trusted;

    /// @notice A server registered or updated its recipient and URL.
    /// @param server The server.
    /// @param recipient Its age recipient.
    /// @param url Its URL.
    event ServerRegistered(address indexed server, string recipient, string url);
    /// @notice An owner trusts a server.
    /// @param owner The owner.
    /// @param server The server.
    event ServerTrusted(address indexed owner, address indexed server);
    /// @notice An owner no longer trusts a server.
    /// @param owner The owner.
    /// @param server The server.
    event ServerUntrusted(address indexed owner, address indexed server);

    /// @notice The server is not registered.
    /// @param server The server.
    error NotRegistered(address server);
    /// @notice The owner does not trust the server.
    /// @param owner The owner.
    /// @param server The server.
    error NotTrusted(address owner, address server);
    /// @notice The owner already trusts the server.
    /// @param owner The owner.
    /// @param server The server.
    error AlreadyTrusted(address owner, address server);

    /// @notice Deploys the registry with EIP-712 domain "hearth.ServerRegistry", version "1".
    constructor() SignedActions("hearth.ServerRegistry") {}

    /// @notice Registers the caller as a server, or updates its recipient and URL.
    /// @param recipient The server's age recipient (non-empty).
    /// @param url The server's URL.
    function registerServer(string calldata recipient, string calldata url) external {
        _checkFields(recipient, url);
        _register(msg.sender, recipient, url);
    }

    /// @notice Registers `server` (or updates it) with its EIP-712 `ServerRegistration` signature; anyone may relay.
    /// @param server The server, which signed.
    /// @param recipient The server's age recipient (non-empty).
    /// @param url The server's URL.
    /// @param nonce The signed nonce; must be `nonces(server)`.
    /// @param signature The server's signature.
    function registerServerWithSig(
        address server,
        string calldata recipient,
        string calldata url,
        uint256 nonce,
        bytes calldata signature
    ) external {
        _checkFields(recipient, url);
        bytes32 structHash = keccak256(
            abi.encode(SERVER_REGISTRATION_TYPEHASH, server, keccak256(bytes(recipient)), keccak256(bytes(url)), nonce)
        );
        _useSignature(server, structHash, nonce, signature);
        _register(server, recipient, url);
    }

    /// @notice The caller (an owner) trusts a registered server.
    /// @param server The server.
    function trustServer(address server) external {
        _checkTrustChange(msg.sender, server, true);
        _setTrust(msg.sender, server, true);
    }

    /// @notice The caller (an owner) stops trusting a server.
    /// @param server The server.
    function untrustServer(address server) external {
        _checkTrustChange(msg.sender, server, false);
        _setTrust(msg.sender, server, false);
    }

    /// @notice Trusts or untrusts a server with the owner's EIP-712 `Trust` signature; anyone may relay.
    /// @param owner The owner, who signed.
    /// @param server The server.
    /// @param trusted True to trust, false to untrust.
    /// @param nonce The signed nonce; must be `nonces(owner)`.
    /// @param signature The owner's signature.
    function setTrustWithSig(address owner, address server, bool trusted, uint256 nonce, bytes calldata signature)
        external
    {
        _checkTrustChange(owner, server, trusted);
        _useSignature(owner, keccak256(abi.encode(TRUST_TYPEHASH, owner, server, trusted, nonce)), nonce, signature);
        _setTrust(owner, server, trusted);
    }

    /// @notice Whether `server` is registered.
    /// @param server The server.
    /// @return True if registered.
    function isRegistered(address server) public view returns (bool) {
        return _servers[server].server != address(0);
    }

    /// @notice Whether `owner` trusts `server`.
    /// @param owner The owner.
    /// @param server The server.
    /// @return True if trusted.
    function isTrusted(address owner, address server) external view returns (bool) {
        return _trusted[owner][server];
    }

    /// @notice A registered server; reverts `NotRegistered` otherwise.
    /// @param server The server.
    /// @return The server's record.
    function getServer(address server) external view returns (Server memory) {
        if (!isRegistered(server)) revert NotRegistered(server);
        return _servers[server];
    }

    /// @dev Reverts unless `recipient` is 1..MAX_STRING_BYTES bytes and `url` at most MAX_STRING_BYTES.
    /// @param recipient The age recipient.
    /// @param url The URL.
    function _checkFields(string calldata recipient, string calldata url) private pure {
        Limits.checkRequired(recipient, MAX_STRING_BYTES);
        Limits.checkMaxLength(url, MAX_STRING_BYTES);
    }

    /// @dev Stores (or updates) a server; `registeredAt` keeps the first registration time.
    /// @param server The server.
    /// @param recipient The age recipient.
    /// @param url The URL.
    function _register(address server, string calldata recipient, string calldata url) private {
        Server storage s = _servers[server];
        if (s.server == address(0)) {
            s.server = server;
            s.registeredAt = uint64(block.timestamp);
        }
        s.recipient = recipient;
        s.url = url;
        emit ServerRegistered(server, recipient, url);
    }

    /// @dev Trusting needs a registered, not yet trusted server; untrusting needs a trusted one.
    /// @param owner The owner.
    /// @param server The server.
    /// @param trusted The new state.
    function _checkTrustChange(address owner, address server, bool trusted) private view {
        if (trusted) {
            if (!isRegistered(server)) revert NotRegistered(server);
            if (_trusted[owner][server]) revert AlreadyTrusted(owner, server);
        } else if (!_trusted[owner][server]) {
            revert NotTrusted(owner, server);
        }
    }

    /// @dev Records the new trust state and emits `ServerTrusted` or `ServerUntrusted`.
    /// @param owner The owner.
    /// @param server The server.
    /// @param trusted The new state.
    function _setTrust(address owner, address server, bool trusted) private {
        _trusted[owner][server] = trusted;
        if (trusted) emit ServerTrusted(owner, server);
        else emit ServerUntrusted(owner, server);
    }
}
