// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Limits} from "./Limits.sol";
import {SignedActions} from "./SignedActions.sol";

/// @title AppRegistry
/// @notice Apps that may receive grants: address, age recipient, display name and URL.
contract AppRegistry is SignedActions {
    /// @notice A registered app.
    /// @param app The app's address (its signing key).
    /// @param recipient The app's age recipient.
    /// @param name The app's display name.
    /// @param url The app's URL.
    /// @param registeredAt When the app first registered (unix seconds).
    struct App {
        address app;
        string recipient;
        string name;
        string url;
        uint64 registeredAt;
    }

    /// @notice Largest recipient, name or URL, in bytes.
    uint256 public constant MAX_STRING_BYTES = Limits.MAX_STRING_BYTES;
    /// @notice EIP-712 typehash of a signed registration.
    bytes32 public constant APP_REGISTRATION_TYPEHASH =
        keccak256("AppRegistration(address app,string recipient,string name,string url,uint256 nonce)");

    mapping(address app => App) private _apps;

    /// @notice An app registered or updated its recipient, name and URL.
    /// @param app The app.
    /// @param recipient Its age recipient.
    /// @param name Its display name.
    /// @param url Its URL.
    event AppRegistered(address indexed app, string recipient, string name, string url);

    /// @notice The app is not registered.
    /// @param app The app.
    error NotRegistered(address app);

    /// @notice Deploys the registry with EIP-712 domain "hearth.AppRegistry", version "1".
    constructor() SignedActions("hearth.AppRegistry") {}

    /// @notice Registers the caller as an app, or updates its recipient, name and URL.
    /// @param recipient The app's age recipient (non-empty).
    /// @param name The app's display name.
    /// @param url The app's URL.
    function registerApp(string calldata recipient, string calldata name, string calldata url) external {
        _checkFields(recipient, name, url);
        _register(msg.sender, recipient, name, url);
    }

    /// @notice Registers `app` (or updates it) with its EIP-712 `AppRegistration` signature; anyone may relay.
    /// @param app The app, which signed.
    /// @param recipient The app's age recipient (non-empty).
    /// @param name The app's display name.
    /// @param url The app's URL.
    /// @param nonce The signed nonce; must be `nonces(app)`.
    /// @param signature The app's signature.
    function registerAppWithSig(
        address app,
        string calldata recipient,
        string calldata name,
        string calldata url,
        uint256 nonce,
        bytes calldata signature
    ) external {
        _checkFields(recipient, name, url);
        bytes32 structHash = keccak256(
            abi.encode(
                APP_REGISTRATION_TYPEHASH,
                app,
                keccak256(bytes(recipient)),
                keccak256(bytes(name)),
                keccak256(bytes(url)),
                nonce
            )
        );
        _useSignature(app, structHash, nonce, signature);
        _register(app, recipient, name, url);
    }

    /// @notice Whether `app` is registered.
    /// @param app The app.
    /// @return True if registered.
    function isRegistered(address app) public view returns (bool) {
        return _apps[app].app != address(0);
    }

    /// @notice A registered app; reverts `NotRegistered` otherwise.
    /// @param app The app.
    /// @return The app's record.
    function getApp(address app) external view returns (App memory) {
        if (!isRegistered(app)) revert NotRegistered(app);
        return _apps[app];
    }

    /// @dev Reverts unless `recipient` is 1..MAX_STRING_BYTES bytes and `name`, `url` at most MAX_STRING_BYTES.
    /// @param recipient The age recipient.
    /// @param name The display name.
    /// @param url The URL.
    function _checkFields(string calldata recipient, string calldata name, string calldata url) private pure {
        Limits.checkRequired(recipient, MAX_STRING_BYTES);
        Limits.checkMaxLength(name, MAX_STRING_BYTES);
        Limits.checkMaxLength(url, MAX_STRING_BYTES);
    }

    /// @dev Stores (or updates) an app; `registeredAt` keeps the first registration time.
    /// @param app The app.
    /// @param recipient The age recipient.
    /// @param name The display name.
    /// @param url The URL.
    function _register(address app, string calldata recipient, string calldata name, string calldata url) private {
        App storage a = _apps[app];
        if (a.app == address(0)) {
            a.app = app;
            a.registeredAt = uint64(block.timestamp);
        }
        a.recipient = recipient;
        a.name = name;
        a.url = url;
        emit AppRegistered(app, recipient, name, url);
    }
}
