//! Typed access to the hearth contract suite on any [`Chain`]: deployment, views,
//! transactions, EIP-712 signing and event decoding.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{Eip712Domain, SolCall, SolConstructor, SolEvent, SolEventInterface, SolInterface, SolStruct};
use hearth_core::{Access, GrantTerms};
use serde::{Deserialize, Serialize};

use crate::bindings::{AppRegistry, AuditLog, DataRegistry, PermissionRegistry, ServerRegistry, typed};
use crate::chain::{CallRequest, Chain, LogEntry, LogFilter, Receipt};
use crate::error::{ChainError, Result};
use crate::wallet::Wallet;

/// Version of every EIP-712 domain in the suite.
pub const DOMAIN_VERSION: &str = "1";

/// Where the suite lives on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// `ServerRegistry`: servers and the owners' trust in them.
    pub server_registry: Address,
    /// `AppRegistry`: apps and their age recipients.
    pub app_registry: Address,
    /// `DataRegistry`: files by ciphertext hash.
    pub data_registry: Address,
    /// `PermissionRegistry`: grants.
    pub permission_registry: Address,
    /// `AuditLog`: anchored audit roots.
    pub audit_log: Address,
}

impl Deployment {
    /// The addresses a deployer gets by deploying the suite in order from `first_nonce`.
    pub fn predict(deployer: Address, first_nonce: u64) -> Deployment {
        let at = |i: u64| deployer.create(first_nonce + i);
        Deployment {
            server_registry: at(0),
            app_registry: at(1),
            data_registry: at(2),
            permission_registry: at(3),
            audit_log: at(4),
        }
    }

    /// Each contract's name and address, in deployment order.
    pub fn entries(&self) -> [(&'static str, Address); 5] {
        [
            ("ServerRegistry", self.server_registry),
            ("AppRegistry", self.app_registry),
            ("DataRegistry", self.data_registry),
            ("PermissionRegistry", self.permission_registry),
            ("AuditLog", self.audit_log),
        ]
    }
}

/// Creation code of each contract in deployment order; `AuditLog` points at `servers`.
pub(crate) fn suite_init_codes(servers: Address) -> Vec<(&'static str, Bytes)> {
    let audit_args = AuditLog::constructorCall { serverRegistry: servers }.abi_encode();
    let mut audit = AuditLog::BYTECODE.to_vec();
    audit.extend_from_slice(&audit_args);
    vec![
        ("ServerRegistry", ServerRegistry::BYTECODE.clone()),
        ("AppRegistry", AppRegistry::BYTECODE.clone()),
        ("DataRegistry", DataRegistry::BYTECODE.clone()),
        ("PermissionRegistry", PermissionRegistry::BYTECODE.clone()),
        ("AuditLog", Bytes::from(audit)),
    ]
}

/// Refuses, naming the first, when any of `entries` (name, address) has no code on `chain`.
pub(crate) async fn require_code(
    chain: &dyn Chain,
    chain_id: u64,
    entries: impl IntoIterator<Item = (&'static str, Address)>,
) -> Result<()> {
    for (contract, address) in entries {
        if chain.code(address).await?.is_empty() {
            return Err(ChainError::MissingContract { contract, address, chain_id });
        }
    }
    Ok(())
}

/// Deploys the suite with `deployer` and returns where it landed.
pub async fn deploy_suite(chain: &dyn Chain, deployer: &Wallet) -> Result<Deployment> {
    let chain_id = chain.chain_id().await?;
    let first_nonce = chain.transaction_count(deployer.address()).await?;
    let expected = Deployment::predict(deployer.address(), first_nonce);
    for (name, code) in suite_init_codes(expected.server_registry) {
        let receipt = deployer.send(chain, chain_id, None, code).await.map_err(|e| in_contract(e, name))?;
        let want = expected.entries().iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        if receipt.contract_address != want {
            return Err(ChainError::Invalid(format!(
                "{name} landed at {:?}, expected {want:?}: another transaction from the deployer interfered",
                receipt.contract_address
            )));
        }
    }
    Ok(expected)
}

pub(crate) fn decode_with<E: SolInterface + std::fmt::Debug>(data: &[u8]) -> Option<String> {
    let err = E::abi_decode(data).ok()?;
    // `Variant(Variant { field: .. })` reads better as `Variant { field: .. }`.
    let text = format!("{err:?}");
    Some(match text.split_once('(') {
        Some((_, inner)) if inner.ends_with(')') => inner[..inner.len() - 1].to_owned(),
        _ => text,
    })
}

/// Names the custom error (of any suite or collective contract, including the OpenZeppelin
/// governor, timelock, votes token and access errors they inherit), `Error(string)` or panic
/// in revert data.
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "execution reverted without a reason".into();
    }
    decode_with::<PermissionRegistry::PermissionRegistryErrors>(data)
        .or_else(|| decode_with::<ServerRegistry::ServerRegistryErrors>(data))
        .or_else(|| decode_with::<AppRegistry::AppRegistryErrors>(data))
        .or_else(|| decode_with::<DataRegistry::DataRegistryErrors>(data))
        .or_else(|| decode_with::<AuditLog::AuditLogErrors>(data))
        .or_else(|| crate::collective::decode_collective_revert(data))
        .or_else(|| alloy_sol_types::decode_revert_reason(data))
        .unwrap_or_else(|| format!("execution reverted (data 0x{})", alloy_primitives::hex::encode(data)))
}

pub(crate) fn in_contract(e: ChainError, contract: &'static str) -> ChainError {
    match e {
        ChainError::Reverted { data, reason, .. } => {
            let reason = if data.is_empty() { reason } else { decode_revert(&data) };
            ChainError::Reverted { contract, reason, data }
        }
        other => other,
    }
}

pub(crate) fn decode(what: &'static str) -> impl FnOnce(alloy_sol_types::Error) -> ChainError {
    move |e| ChainError::Decode { what, reason: e.to_string() }
}

/// Runs a read-only `call` on `contract` at `to` and decodes its return value.
pub(crate) async fn view_on<C: SolCall>(
    chain: &dyn Chain,
    contract: &'static str,
    to: Address,
    call: C,
) -> Result<C::Return> {
    let request = CallRequest { from: None, to: Some(to), input: call.abi_encode().into() };
    let out = chain.call(&request).await.map_err(|e| in_contract(e, contract))?;
    C::abi_decode_returns(&out).map_err(decode(contract))
}

/// Sends `call` to `contract` at `to` from `sender`, with `extra_gas` over the estimate, and
/// waits for the receipt.
pub(crate) async fn transact_on<C: SolCall>(
    chain: &dyn Chain,
    chain_id: u64,
    sender: &Wallet,
    contract: &'static str,
    to: Address,
    call: C,
    extra_gas: u64,
) -> Result<Receipt> {
    sender
        .send_with_extra_gas(chain, chain_id, Some(to), call.abi_encode().into(), extra_gas)
        .await
        .map_err(|e| in_contract(e, contract))
}

/// The logs of `address` since `from_block` (optionally only those with first topic `topic0`), decoded.
pub(crate) async fn events_on<E: SolEventInterface>(
    chain: &dyn Chain,
    address: Address,
    from_block: u64,
    topic0: Option<B256>,
) -> Result<Vec<(LogEntry, E)>> {
    let mut filter = LogFilter { from_block, addresses: vec![address], ..LogFilter::default() };
    if let Some(topic) = topic0 {
        filter.topics[0] = vec![topic];
    }
    let logs = chain.logs(&filter).await?;
    logs.into_iter()
        .map(|log| {
            let event = E::decode_raw_log(&log.topics, &log.data).map_err(decode("event log"))?;
            Ok((log, event))
        })
        .collect()
}

/// EIP-712 signing for the suite without a chain connection (a client that knows the
/// chain id and the addresses, for instance from a server's `/v1/identity`).
#[derive(Debug, Clone, Copy)]
pub struct Signing {
    /// The chain id.
    pub chain_id: u64,
    /// The suite's addresses.
    pub deployment: Deployment,
}

impl Signing {
    fn domain(&self, name: &'static str, verifying_contract: Address) -> Eip712Domain {
        Eip712Domain::new(
            Some(name.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(self.chain_id)),
            Some(verifying_contract),
            None,
        )
    }

    fn permissions(&self) -> Eip712Domain {
        self.domain("hearth.PermissionRegistry", self.deployment.permission_registry)
    }

    /// The id a grant gets: its EIP-712 digest.
    pub fn grant_id(&self, terms: &GrantTerms) -> B256 {
        to_sol(terms).eip712_signing_hash(&self.permissions())
    }

    /// The grantor's signature over `terms`.
    pub fn sign_grant(&self, grantor: &Wallet, terms: &GrantTerms) -> Result<Bytes> {
        grantor.sign_typed(&to_sol(terms), &self.permissions())
    }

    /// The grantor's signature revoking `grant_id` with `nonce`.
    pub fn sign_revoke(&self, grantor: &Wallet, grant_id: B256, nonce: U256) -> Result<Bytes> {
        grantor.sign_typed(&typed::Revoke { grantId: grant_id, nonce }, &self.permissions())
    }

    /// The app's signature over its registration with `nonce`.
    pub fn sign_app_registration(
        &self,
        app: &Wallet,
        recipient: &str,
        name: &str,
        url: &str,
        nonce: U256,
    ) -> Result<Bytes> {
        let registration = typed::AppRegistration {
            app: app.address(),
            recipient: recipient.to_owned(),
            name: name.to_owned(),
            url: url.to_owned(),
            nonce,
        };
        app.sign_typed(&registration, &self.domain("hearth.AppRegistry", self.deployment.app_registry))
    }

    /// The owner's signature registering a file with `nonce`.
    pub fn sign_add_file(&self, owner: &Wallet, uri: &str, sha256: B256, scope: &str, nonce: U256) -> Result<Bytes> {
        let add =
            typed::AddFile { owner: owner.address(), uri: uri.to_owned(), sha256, scope: scope.to_owned(), nonce };
        owner.sign_typed(&add, &self.domain("hearth.DataRegistry", self.deployment.data_registry))
    }
}

/// A connection to the suite on one chain.
#[derive(Clone)]
pub struct Contracts {
    chain: Arc<dyn Chain>,
    chain_id: u64,
    deployment: Deployment,
}

impl std::fmt::Debug for Contracts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contracts").field("chain_id", &self.chain_id).field("deployment", &self.deployment).finish()
    }
}

impl Contracts {
    /// Connects to the suite at `deployment`, checking the chain id (when one is expected)
    /// and that every contract has code.
    pub async fn connect(
        chain: Arc<dyn Chain>,
        deployment: Deployment,
        expected_chain_id: Option<u64>,
    ) -> Result<Contracts> {
        let chain_id = chain.chain_id().await?;
        if let Some(expected) = expected_chain_id
            && expected != chain_id
        {
            return Err(ChainError::WrongChainId { expected, actual: chain_id });
        }
        require_code(chain.as_ref(), chain_id, deployment.entries()).await?;
        Ok(Contracts { chain, chain_id, deployment })
    }

    /// The chain underneath.
    pub fn chain(&self) -> &Arc<dyn Chain> {
        &self.chain
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The suite's addresses.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    fn domain(&self, name: &'static str, verifying_contract: Address) -> Eip712Domain {
        self.signing().domain(name, verifying_contract)
    }

    /// Offline signing for this chain and deployment.
    pub fn signing(&self) -> Signing {
        Signing { chain_id: self.chain_id, deployment: self.deployment }
    }

    async fn view<C: SolCall>(&self, contract: &'static str, to: Address, call: C) -> Result<C::Return> {
        view_on(self.chain.as_ref(), contract, to, call).await
    }

    async fn transact<C: SolCall>(
        &self,
        sender: &Wallet,
        contract: &'static str,
        to: Address,
        call: C,
    ) -> Result<Receipt> {
        transact_on(self.chain.as_ref(), self.chain_id, sender, contract, to, call, 0).await
    }

    async fn events<E: SolEventInterface>(&self, address: Address, from_block: u64) -> Result<Vec<(LogEntry, E)>> {
        events_on(self.chain.as_ref(), address, from_block, None).await
    }

    /// `PermissionRegistry`: grants.
    pub fn permissions(&self) -> Permissions<'_> {
        Permissions(self)
    }

    /// `ServerRegistry`: servers and trust.
    pub fn servers(&self) -> Servers<'_> {
        Servers(self)
    }

    /// `AppRegistry`: apps.
    pub fn apps(&self) -> Apps<'_> {
        Apps(self)
    }

    /// `DataRegistry`: files.
    pub fn data(&self) -> Data<'_> {
        Data(self)
    }

    /// `AuditLog`: anchors.
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }
}

const PERMISSIONS: &str = "PermissionRegistry";
const SERVERS: &str = "ServerRegistry";
const APPS: &str = "AppRegistry";
const DATA: &str = "DataRegistry";
const AUDIT: &str = "AuditLog";

/// A grant as stored on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// The signed terms.
    pub terms: GrantTerms,
    /// Unix seconds of submission.
    pub created_at: u64,
    /// Unix seconds of revocation, if revoked.
    pub revoked_at: Option<u64>,
}

fn to_sol(t: &GrantTerms) -> PermissionRegistry::Grant {
    PermissionRegistry::Grant {
        grantor: t.grantor,
        grantee: t.grantee,
        scopes: t.scopes.clone(),
        access: t.access.code(),
        operations: t.operations.clone(),
        paramsHash: t.params_hash,
        notBefore: t.not_before,
        expiresAt: t.expires_at,
        nonce: t.nonce,
    }
}

fn from_sol(g: PermissionRegistry::Grant) -> Result<GrantTerms> {
    let access = Access::from_code(g.access)
        .ok_or_else(|| ChainError::Decode { what: "grant", reason: format!("unknown access level {}", g.access) })?;
    Ok(GrantTerms {
        grantor: g.grantor,
        grantee: g.grantee,
        scopes: g.scopes,
        access,
        operations: g.operations,
        params_hash: g.paramsHash,
        not_before: g.notBefore,
        expires_at: g.expiresAt,
        nonce: g.nonce,
    })
}

/// `PermissionRegistry` on one chain.
#[derive(Debug, Clone, Copy)]
pub struct Permissions<'a>(&'a Contracts);

impl Permissions<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.permission_registry
    }

    /// The EIP-712 domain grants and revocations are signed in.
    pub fn domain(&self) -> Eip712Domain {
        self.0.domain("hearth.PermissionRegistry", self.address())
    }

    /// The id a grant gets: its EIP-712 digest.
    pub fn grant_id(&self, terms: &GrantTerms) -> B256 {
        self.0.signing().grant_id(terms)
    }

    /// The grantor's signature over `terms`.
    pub fn sign_grant(&self, grantor: &Wallet, terms: &GrantTerms) -> Result<Bytes> {
        self.0.signing().sign_grant(grantor, terms)
    }

    /// Submits a signed grant; any wallet may relay it. Returns the grant id.
    pub async fn submit_grant(
        &self,
        relayer: &Wallet,
        terms: &GrantTerms,
        signature: Bytes,
    ) -> Result<(B256, Receipt)> {
        let call = PermissionRegistry::submitGrantCall { grant: to_sol(terms), signature };
        let receipt = self.0.transact(relayer, PERMISSIONS, self.address(), call).await?;
        Ok((self.grant_id(terms), receipt))
    }

    /// Revokes a grant; `grantor` sends the transaction.
    pub async fn revoke(&self, grantor: &Wallet, grant_id: B256) -> Result<Receipt> {
        self.0
            .transact(grantor, PERMISSIONS, self.address(), PermissionRegistry::revokeCall { grantId: grant_id })
            .await
    }

    /// The grantor's signature revoking `grant_id` with `nonce`.
    pub fn sign_revoke(&self, grantor: &Wallet, grant_id: B256, nonce: U256) -> Result<Bytes> {
        self.0.signing().sign_revoke(grantor, grant_id, nonce)
    }

    /// Submits a signed revocation; any wallet may relay it.
    pub async fn revoke_with_sig(
        &self,
        relayer: &Wallet,
        grant_id: B256,
        nonce: U256,
        signature: Bytes,
    ) -> Result<Receipt> {
        let call = PermissionRegistry::revokeWithSigCall { grantId: grant_id, nonce, signature };
        self.0.transact(relayer, PERMISSIONS, self.address(), call).await
    }

    /// The stored grant.
    pub async fn grant(&self, grant_id: B256) -> Result<GrantRecord> {
        let record =
            self.0.view(PERMISSIONS, self.address(), PermissionRegistry::getGrantCall { grantId: grant_id }).await?;
        Ok(GrantRecord {
            terms: from_sol(record.grant)?,
            created_at: record.createdAt,
            revoked_at: (record.revokedAt != 0).then_some(record.revokedAt),
        })
    }

    /// Whether the grant is active now for `grantee`, `scope`, `access` and `operation`
    /// (zero for reads).
    pub async fn is_active(
        &self,
        grant_id: B256,
        grantee: Address,
        scope: &str,
        access: Access,
        operation: B256,
    ) -> Result<bool> {
        let call = PermissionRegistry::isActiveCall {
            grantId: grant_id,
            grantee,
            scope: scope.to_owned(),
            access: access.code(),
            operation,
        };
        self.0.view(PERMISSIONS, self.address(), call).await
    }

    /// Like [`Permissions::is_active`] at unix time `at`.
    pub async fn is_active_at(
        &self,
        grant_id: B256,
        grantee: Address,
        scope: &str,
        access: Access,
        operation: B256,
        at: u64,
    ) -> Result<bool> {
        let call = PermissionRegistry::isActiveAtCall {
            grantId: grant_id,
            grantee,
            scope: scope.to_owned(),
            access: access.code(),
            operation,
            timestamp: at,
        };
        self.0.view(PERMISSIONS, self.address(), call).await
    }

    /// The contract's scope rule (the twin of [`hearth_core::pattern_covers`]).
    pub async fn scope_covers(&self, pattern: &str, scope: &str) -> Result<bool> {
        let call = PermissionRegistry::scopeCoversCall { pattern: pattern.to_owned(), scope: scope.to_owned() };
        self.0.view(PERMISSIONS, self.address(), call).await
    }

    /// The next unused nonce of `account` (grants and signed revocations share it).
    pub async fn nonce(&self, account: Address) -> Result<U256> {
        self.0.view(PERMISSIONS, self.address(), PermissionRegistry::noncesCall { owner: account }).await
    }

    /// Grant events since `from_block`.
    pub async fn events(
        &self,
        from_block: u64,
    ) -> Result<Vec<(LogEntry, PermissionRegistry::PermissionRegistryEvents)>> {
        self.0.events(self.address(), from_block).await
    }
}

/// `ServerRegistry` on one chain.
#[derive(Debug, Clone, Copy)]
pub struct Servers<'a>(&'a Contracts);

impl Servers<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.server_registry
    }

    /// The EIP-712 domain of registrations and trust changes.
    pub fn domain(&self) -> Eip712Domain {
        self.0.domain("hearth.ServerRegistry", self.address())
    }

    /// Registers `server` with its age recipient and URL, signed by the server's key and
    /// relayed by `relayer` (which may be the server itself).
    pub async fn register(&self, relayer: &Wallet, server: &Wallet, recipient: &str, url: &str) -> Result<Receipt> {
        let nonce = self.nonce(server.address()).await?;
        let registration = typed::ServerRegistration {
            server: server.address(),
            recipient: recipient.to_owned(),
            url: url.to_owned(),
            nonce,
        };
        let signature = server.sign_typed(&registration, &self.domain())?;
        let call = ServerRegistry::registerServerWithSigCall {
            server: server.address(),
            recipient: recipient.to_owned(),
            url: url.to_owned(),
            nonce,
            signature,
        };
        self.0.transact(relayer, SERVERS, self.address(), call).await
    }

    /// `owner` trusts `server` to act for it.
    pub async fn trust(&self, owner: &Wallet, server: Address) -> Result<Receipt> {
        self.0.transact(owner, SERVERS, self.address(), ServerRegistry::trustServerCall { server }).await
    }

    /// `owner` withdraws its trust in `server`.
    pub async fn untrust(&self, owner: &Wallet, server: Address) -> Result<Receipt> {
        self.0.transact(owner, SERVERS, self.address(), ServerRegistry::untrustServerCall { server }).await
    }

    /// Sets `owner`'s trust in `server` by the owner's signature, relayed by `relayer`.
    pub async fn set_trust_signed(
        &self,
        relayer: &Wallet,
        owner: &Wallet,
        server: Address,
        trusted: bool,
    ) -> Result<Receipt> {
        let nonce = self.nonce(owner.address()).await?;
        let trust = typed::Trust { owner: owner.address(), server, trusted, nonce };
        let signature = owner.sign_typed(&trust, &self.domain())?;
        let call = ServerRegistry::setTrustWithSigCall { owner: owner.address(), server, trusted, nonce, signature };
        self.0.transact(relayer, SERVERS, self.address(), call).await
    }

    /// Whether `server` is registered.
    pub async fn is_registered(&self, server: Address) -> Result<bool> {
        self.0.view(SERVERS, self.address(), ServerRegistry::isRegisteredCall { server }).await
    }

    /// Whether `owner` trusts `server`.
    pub async fn is_trusted(&self, owner: Address, server: Address) -> Result<bool> {
        self.0.view(SERVERS, self.address(), ServerRegistry::isTrustedCall { owner, server }).await
    }

    /// A registered server's record.
    pub async fn get(&self, server: Address) -> Result<ServerRegistry::Server> {
        self.0.view(SERVERS, self.address(), ServerRegistry::getServerCall { server }).await
    }

    /// The next unused nonce of `account`.
    pub async fn nonce(&self, account: Address) -> Result<U256> {
        self.0.view(SERVERS, self.address(), ServerRegistry::noncesCall { owner: account }).await
    }

    /// Server events since `from_block`.
    pub async fn events(&self, from_block: u64) -> Result<Vec<(LogEntry, ServerRegistry::ServerRegistryEvents)>> {
        self.0.events(self.address(), from_block).await
    }
}

/// `AppRegistry` on one chain.
#[derive(Debug, Clone, Copy)]
pub struct Apps<'a>(&'a Contracts);

impl Apps<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.app_registry
    }

    /// The EIP-712 domain of registrations.
    pub fn domain(&self) -> Eip712Domain {
        self.0.domain("hearth.AppRegistry", self.address())
    }

    /// The app's signature over its registration with `nonce`.
    pub fn sign_registration(
        &self,
        app: &Wallet,
        recipient: &str,
        name: &str,
        url: &str,
        nonce: U256,
    ) -> Result<Bytes> {
        self.0.signing().sign_app_registration(app, recipient, name, url, nonce)
    }

    /// Submits a registration signed by `app`; `relayer` pays.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_signed(
        &self,
        relayer: &Wallet,
        app: Address,
        recipient: &str,
        name: &str,
        url: &str,
        nonce: U256,
        signature: Bytes,
    ) -> Result<Receipt> {
        let call = AppRegistry::registerAppWithSigCall {
            app,
            recipient: recipient.to_owned(),
            name: name.to_owned(),
            url: url.to_owned(),
            nonce,
            signature,
        };
        self.0.transact(relayer, APPS, self.address(), call).await
    }

    /// The next unused nonce of `account`.
    pub async fn nonce(&self, account: Address) -> Result<U256> {
        self.0.view(APPS, self.address(), AppRegistry::noncesCall { owner: account }).await
    }

    /// Registers `app` (signed by the app's key, relayed by `relayer`).
    pub async fn register(
        &self,
        relayer: &Wallet,
        app: &Wallet,
        recipient: &str,
        name: &str,
        url: &str,
    ) -> Result<Receipt> {
        let nonce = self.nonce(app.address()).await?;
        let signature = self.sign_registration(app, recipient, name, url, nonce)?;
        self.register_signed(relayer, app.address(), recipient, name, url, nonce, signature).await
    }

    /// A registered app's record.
    pub async fn get(&self, app: Address) -> Result<AppRegistry::App> {
        self.0.view(APPS, self.address(), AppRegistry::getAppCall { app }).await
    }
}

/// `DataRegistry` on one chain.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a>(&'a Contracts);

impl Data<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.data_registry
    }

    /// The EIP-712 domain of signed file registrations.
    pub fn domain(&self) -> Eip712Domain {
        self.0.domain("hearth.DataRegistry", self.address())
    }

    /// The next unused nonce of `account`.
    pub async fn nonce(&self, account: Address) -> Result<U256> {
        self.0.view(DATA, self.address(), DataRegistry::noncesCall { owner: account }).await
    }

    /// The owner's signature registering a file with `nonce`.
    pub fn sign_add_file(&self, owner: &Wallet, uri: &str, sha256: B256, scope: &str, nonce: U256) -> Result<Bytes> {
        self.0.signing().sign_add_file(owner, uri, sha256, scope, nonce)
    }

    /// Submits a file registration signed by `owner`; `relayer` pays. Returns the file id.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_file_signed(
        &self,
        relayer: &Wallet,
        owner: Address,
        uri: &str,
        sha256: B256,
        scope: &str,
        nonce: U256,
        signature: Bytes,
    ) -> Result<U256> {
        let call = DataRegistry::addFileWithSigCall {
            owner,
            uri: uri.to_owned(),
            sha256,
            scope: scope.to_owned(),
            nonce,
            signature,
        };
        let receipt = self.0.transact(relayer, DATA, self.address(), call).await?;
        receipt
            .logs
            .iter()
            .find_map(|log| {
                <DataRegistry::FileAdded as SolEvent>::decode_raw_log(log.topics.iter().copied(), &log.data)
                    .ok()
                    .map(|e| e.fileId)
            })
            .ok_or(ChainError::Decode { what: "DataRegistry receipt", reason: "no FileAdded event".into() })
    }

    /// Registers a file owned by `owner` (signed by the owner, relayed by `relayer`).
    /// Returns the file id.
    pub async fn add_file(
        &self,
        relayer: &Wallet,
        owner: &Wallet,
        uri: &str,
        sha256: B256,
        scope: &str,
    ) -> Result<U256> {
        let nonce = self.nonce(owner.address()).await?;
        let signature = self.sign_add_file(owner, uri, sha256, scope, nonce)?;
        self.add_file_signed(relayer, owner.address(), uri, sha256, scope, nonce, signature).await
    }

    /// Marks a file removed; `owner` sends the transaction.
    pub async fn remove_file(&self, owner: &Wallet, file_id: U256) -> Result<Receipt> {
        self.0.transact(owner, DATA, self.address(), DataRegistry::removeFileCall { fileId: file_id }).await
    }

    /// A file's record.
    pub async fn get(&self, file_id: U256) -> Result<DataRegistry::File> {
        self.0.view(DATA, self.address(), DataRegistry::getFileCall { fileId: file_id }).await
    }
}

/// `AuditLog` on one chain.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a>(&'a Contracts);

impl Audit<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.audit_log
    }

    /// Anchors the Merkle root of records `first_seq..=last_seq`; `server` must be registered.
    pub async fn anchor(&self, server: &Wallet, merkle_root: B256, first_seq: u64, last_seq: u64) -> Result<Receipt> {
        let call = AuditLog::anchorCall { merkleRoot: merkle_root, firstSeq: first_seq, lastSeq: last_seq };
        self.0.transact(server, AUDIT, self.address(), call).await
    }

    /// The next sequence number `server` must anchor from.
    pub async fn next_seq(&self, server: Address) -> Result<u64> {
        self.0.view(AUDIT, self.address(), AuditLog::nextSeqCall { server }).await
    }

    /// The `index`-th anchor of `server`.
    pub async fn get(&self, server: Address, index: U256) -> Result<AuditLog::Anchor> {
        self.0.view(AUDIT, self.address(), AuditLog::getAnchorCall { server, index }).await
    }
}
