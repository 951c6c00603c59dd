//! The contract suite, each test on both backends: grants, revocation, nonces, time
//! windows, scope rules, servers, apps, data and audit anchors.

use alloy_primitives::{B256, U256};
use alloy_sol_types::SolStruct;
use hearth_chain::bindings::{
    PermissionRegistry::PermissionRegistryEvents, ServerRegistry::ServerRegistryEvents, typed,
};
use hearth_chain::{ChainError, Wallet};
use hearth_core::{Access, GrantTerms, pattern_covers};

use crate::harness::{Harness, op, terms};

#[track_caller]
fn assert_reverted<T: std::fmt::Debug>(result: Result<T, ChainError>, error: &str, backend: &str) {
    match result {
        Err(ChainError::Reverted { reason, .. }) => {
            assert!(reason.starts_with(error), "[{backend}] expected {error}, got {reason}")
        }
        other => panic!("[{backend}] expected a revert with {error}, got {other:?}"),
    }
}

async fn submit(h: &Harness, grantor: &Wallet, t: &GrantTerms) -> Result<B256, ChainError> {
    let p = h.contracts.permissions();
    let sig = p.sign_grant(grantor, t)?;
    p.submit_grant(&h.relayer, t, sig).await.map(|(id, _)| id)
}

async fn active(h: &Harness, id: B256, grantee: &Wallet, scope: &str) -> bool {
    h.contracts.permissions().is_active(id, grantee.address(), scope, Access::Compute, op()).await.expect("isActive")
}

#[tokio::test]
async fn a_valid_grant_is_active_for_exactly_what_it_names() {
    for h in Harness::both().await {
        let (owner, app, other) = (h.wallet().await, Wallet::random(), Wallet::random());
        let t = terms(owner.address(), app.address(), U256::ZERO, h.now().await);
        let id = submit(&h, &owner, &t).await.expect("submit");
        let p = h.contracts.permissions();
        let n = h.name();
        assert!(active(&h, id, &app, "journal").await, "[{n}] journal");
        assert!(active(&h, id, &app, "messages.sms").await, "[{n}] messages.sms");
        assert!(!active(&h, id, &app, "email").await, "[{n}] a scope outside the grant");
        assert!(!active(&h, id, &other, "journal").await, "[{n}] another grantee");
        assert!(!p.is_active(id, app.address(), "journal", Access::Compute, B256::ZERO).await.unwrap(), "[{n}] op");
        assert!(!p.is_active(id, app.address(), "journal", Access::Read, B256::ZERO).await.unwrap(), "[{n}] read");
        let record = p.grant(id).await.expect("getGrant");
        assert_eq!(record.terms, t, "[{n}] stored terms");
        assert_eq!(record.revoked_at, None);
        assert_eq!(p.nonce(owner.address()).await.unwrap(), U256::from(1), "[{n}] nonce used");
    }
}

#[tokio::test]
async fn a_grant_signed_by_someone_else_is_refused() {
    for h in Harness::both().await {
        let (owner, app, forger) = (h.wallet().await, Wallet::random(), Wallet::random());
        let t = terms(owner.address(), app.address(), U256::ZERO, h.now().await);
        let p = h.contracts.permissions();
        let forged = p.sign_grant(&forger, &t).unwrap();
        assert_reverted(p.submit_grant(&h.relayer, &t, forged).await, "InvalidSignature", &h.name());
        assert_reverted(p.grant(p.grant_id(&t)).await, "UnknownGrant", &h.name());
    }
}

#[tokio::test]
async fn a_nonce_cannot_be_used_twice() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let now = h.now().await;
        submit(&h, &owner, &terms(owner.address(), app.address(), U256::ZERO, now)).await.expect("first");
        let mut second = terms(owner.address(), Wallet::random().address(), U256::ZERO, now);
        second.scopes = vec!["email".into()];
        assert_reverted(submit(&h, &owner, &second).await, "InvalidAccountNonce", &h.name());
        second.nonce = U256::from(1);
        submit(&h, &owner, &second).await.expect("next nonce works");
    }
}

#[tokio::test]
async fn a_grant_stops_at_its_expiry() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let now = h.now().await;
        let t = GrantTerms { expires_at: now + 100, ..terms(owner.address(), app.address(), U256::ZERO, now) };
        let id = submit(&h, &owner, &t).await.expect("submit");
        assert!(active(&h, id, &app, "journal").await, "[{}] before expiry", h.name());
        h.advance(200).await;
        assert!(!active(&h, id, &app, "journal").await, "[{}] after expiry", h.name());
        let late = GrantTerms { nonce: U256::from(1), ..t };
        assert_reverted(submit(&h, &owner, &late).await, "GrantAlreadyExpired", &h.name());
    }
}

#[tokio::test]
async fn a_grant_starts_at_not_before() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let now = h.now().await;
        let t = GrantTerms {
            not_before: now + 1000,
            expires_at: now + 5000,
            ..terms(owner.address(), app.address(), U256::ZERO, now)
        };
        let id = submit(&h, &owner, &t).await.expect("submit");
        let p = h.contracts.permissions();
        assert!(!active(&h, id, &app, "journal").await, "[{}] not yet valid", h.name());
        let at = |secs| p.is_active_at(id, app.address(), "journal", Access::Compute, op(), secs);
        assert!(!at(now + 999).await.unwrap());
        assert!(at(now + 1000).await.unwrap());
        assert!(!at(now + 5000).await.unwrap());
        h.advance(2000).await;
        assert!(active(&h, id, &app, "journal").await, "[{}] now valid", h.name());
    }
}

#[tokio::test]
async fn a_bad_time_window_or_empty_grant_is_refused() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let base = terms(owner.address(), app.address(), U256::ZERO, h.now().await);
        let cases = [
            (GrantTerms { expires_at: base.not_before, ..base.clone() }, "InvalidTimeWindow"),
            (GrantTerms { scopes: vec![], ..base.clone() }, "NoScopes"),
            (GrantTerms { operations: vec![], ..base.clone() }, "NoOperations"),
            (GrantTerms { scopes: vec!["x".repeat(65)], ..base.clone() }, "InvalidScope"),
        ];
        for (t, error) in cases {
            assert_reverted(submit(&h, &owner, &t).await, error, &h.name());
        }
    }
}

#[tokio::test]
async fn the_grantor_revokes_by_transaction() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let id = submit(&h, &owner, &terms(owner.address(), app.address(), U256::ZERO, h.now().await)).await.unwrap();
        let p = h.contracts.permissions();
        p.revoke(&owner, id).await.expect("revoke");
        assert!(!active(&h, id, &app, "journal").await, "[{}] revoked", h.name());
        assert!(p.grant(id).await.unwrap().revoked_at.is_some());
        assert_reverted(p.revoke(&owner, id).await, "AlreadyRevoked", &h.name());
    }
}

#[tokio::test]
async fn the_grantor_revokes_by_signature_once() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let id = submit(&h, &owner, &terms(owner.address(), app.address(), U256::ZERO, h.now().await)).await.unwrap();
        let p = h.contracts.permissions();
        let nonce = p.nonce(owner.address()).await.unwrap();
        let sig = p.sign_revoke(&owner, id, nonce).unwrap();
        p.revoke_with_sig(&h.relayer, id, nonce, sig.clone()).await.expect("relayed revoke");
        assert!(!active(&h, id, &app, "journal").await, "[{}] revoked", h.name());
        // Replaying the same signed revocation fails on the grant's state or the nonce.
        let replay = p.revoke_with_sig(&h.relayer, id, nonce, sig).await;
        assert!(matches!(replay, Err(ChainError::Reverted { .. })), "[{}] replay refused", h.name());
    }
}

#[tokio::test]
async fn a_stranger_cannot_revoke() {
    for h in Harness::both().await {
        let (owner, app, stranger) = (h.wallet().await, Wallet::random(), h.wallet().await);
        let id = submit(&h, &owner, &terms(owner.address(), app.address(), U256::ZERO, h.now().await)).await.unwrap();
        let p = h.contracts.permissions();
        assert_reverted(p.revoke(&stranger, id).await, "NotGrantor", &h.name());
        let nonce = p.nonce(stranger.address()).await.unwrap();
        let sig = p.sign_revoke(&stranger, id, nonce).unwrap();
        assert_reverted(p.revoke_with_sig(&h.relayer, id, nonce, sig).await, "InvalidSignature", &h.name());
        assert!(active(&h, id, &app, "journal").await, "[{}] still active", h.name());
    }
}

#[tokio::test]
async fn grant_events_are_read_back_through_the_log_filter() {
    for h in Harness::both().await {
        let (owner, app) = (h.wallet().await, Wallet::random());
        let t = terms(owner.address(), app.address(), U256::ZERO, h.now().await);
        let id = submit(&h, &owner, &t).await.unwrap();
        let p = h.contracts.permissions();
        p.revoke(&owner, id).await.unwrap();
        let events = p.events(0).await.expect("logs");
        let submitted = events.iter().find_map(|(_, e)| match e {
            PermissionRegistryEvents::GrantSubmitted(s) if s.grantId == id => Some(s.clone()),
            _ => None,
        });
        let submitted = submitted.unwrap_or_else(|| panic!("[{}] GrantSubmitted missing", h.name()));
        assert_eq!((submitted.grantor, submitted.grantee), (owner.address(), app.address()));
        assert_eq!(submitted.scopes, t.scopes);
        assert_eq!(submitted.operations, t.operations);
        let revoked = events.iter().any(|(log, e)| {
            matches!(e, PermissionRegistryEvents::GrantRevoked(r) if r.grantId == id && r.grantor == owner.address())
                && log.address == p.address()
        });
        assert!(revoked, "[{}] GrantRevoked missing", h.name());
        let blocks: Vec<u64> = events.iter().map(|(log, _)| log.block_number).collect();
        assert!(blocks.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    }
}

#[derive(serde::Deserialize)]
struct ScopeCase {
    pattern: String,
    scope: String,
    covers: bool,
}

#[tokio::test]
async fn the_contract_and_hearth_core_agree_on_scopes() {
    let cases: Vec<ScopeCase> =
        serde_json::from_str(include_str!("../../../hearth-core/testdata/scope_coverage.json")).expect("table");
    let h = Harness::embedded().await;
    let p = h.contracts.permissions();
    for c in &cases {
        let chain = p.scope_covers(&c.pattern, &c.scope).await.expect("scopeCovers");
        assert_eq!(chain, c.covers, "contract: {} covers {}", c.pattern, c.scope);
        assert_eq!(pattern_covers(&c.pattern, &c.scope), c.covers, "core: {} covers {}", c.pattern, c.scope);
    }
    // And through a real grant: isActive applies the same rule.
    let (owner, app) = (Wallet::random(), Wallet::random());
    let t = GrantTerms {
        scopes: vec!["messages.*".into()],
        ..terms(owner.address(), app.address(), U256::ZERO, h.now().await)
    };
    let id = submit(&h, &owner, &t).await.unwrap();
    assert!(active(&h, id, &app, "messages.a.b").await);
    assert!(!active(&h, id, &app, "messages").await);
}

#[tokio::test]
async fn signed_struct_typehashes_match_the_contracts() {
    let h = Harness::embedded().await;
    let chain = h.contracts.chain();
    let d = h.contracts.deployment();
    use alloy_sol_types::SolCall;
    use hearth_chain::CallRequest;
    use hearth_chain::bindings::{AppRegistry, DataRegistry, PermissionRegistry, ServerRegistry};
    async fn constant<C: SolCall<Return = B256>>(
        chain: &std::sync::Arc<dyn hearth_chain::Chain>,
        to: alloy_primitives::Address,
        call: C,
    ) -> B256 {
        let out = chain.call(&CallRequest { from: None, to: Some(to), input: call.abi_encode().into() }).await.unwrap();
        C::abi_decode_returns(&out).unwrap()
    }
    let grant = PermissionRegistry::Grant {
        grantor: Default::default(),
        grantee: Default::default(),
        scopes: vec![],
        access: 0,
        operations: vec![],
        paramsHash: B256::ZERO,
        notBefore: 0,
        expiresAt: 0,
        nonce: U256::ZERO,
    };
    let revoke = typed::Revoke { grantId: B256::ZERO, nonce: U256::ZERO };
    let reg = typed::ServerRegistration {
        server: Default::default(),
        recipient: String::new(),
        url: String::new(),
        nonce: U256::ZERO,
    };
    let trust =
        typed::Trust { owner: Default::default(), server: Default::default(), trusted: false, nonce: U256::ZERO };
    let app = typed::AppRegistration {
        app: Default::default(),
        recipient: String::new(),
        name: String::new(),
        url: String::new(),
        nonce: U256::ZERO,
    };
    let add = typed::AddFile {
        owner: Default::default(),
        uri: String::new(),
        sha256: B256::ZERO,
        scope: String::new(),
        nonce: U256::ZERO,
    };
    let pr = d.permission_registry;
    assert_eq!(grant.eip712_type_hash(), constant(chain, pr, PermissionRegistry::GRANT_TYPEHASHCall {}).await);
    assert_eq!(revoke.eip712_type_hash(), constant(chain, pr, PermissionRegistry::REVOKE_TYPEHASHCall {}).await);
    let sr = d.server_registry;
    assert_eq!(reg.eip712_type_hash(), constant(chain, sr, ServerRegistry::SERVER_REGISTRATION_TYPEHASHCall {}).await);
    assert_eq!(trust.eip712_type_hash(), constant(chain, sr, ServerRegistry::TRUST_TYPEHASHCall {}).await);
    let ar = d.app_registry;
    assert_eq!(app.eip712_type_hash(), constant(chain, ar, AppRegistry::APP_REGISTRATION_TYPEHASHCall {}).await);
    let dr = d.data_registry;
    assert_eq!(add.eip712_type_hash(), constant(chain, dr, DataRegistry::ADD_FILE_TYPEHASHCall {}).await);
}

#[tokio::test]
async fn servers_register_by_signature_and_owners_trust_them() {
    for h in Harness::both().await {
        let (server, owner) = (Wallet::random(), h.wallet().await);
        let s = h.contracts.servers();
        let n = h.name();
        assert_reverted(s.trust(&owner, server.address()).await, "NotRegistered", &n);
        s.register(&h.relayer, &server, "age1examplerecipient", "https://home.example").await.expect("register");
        assert!(s.is_registered(server.address()).await.unwrap());
        assert_eq!(s.get(server.address()).await.unwrap().url, "https://home.example");
        s.trust(&owner, server.address()).await.expect("trust");
        assert!(s.is_trusted(owner.address(), server.address()).await.unwrap(), "[{n}] trusted");
        assert_reverted(s.trust(&owner, server.address()).await, "AlreadyTrusted", &n);
        s.set_trust_signed(&h.relayer, &owner, server.address(), false).await.expect("untrust by signature");
        assert!(!s.is_trusted(owner.address(), server.address()).await.unwrap(), "[{n}] untrusted");
        assert_reverted(s.untrust(&owner, server.address()).await, "NotTrusted", &n);
        let events = s.events(0).await.unwrap();
        let kinds: Vec<&str> = events
            .iter()
            .map(|(_, e)| match e {
                ServerRegistryEvents::ServerRegistered(_) => "registered",
                ServerRegistryEvents::ServerTrusted(_) => "trusted",
                ServerRegistryEvents::ServerUntrusted(_) => "untrusted",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["registered", "trusted", "untrusted"], "[{n}]");
    }
}

#[tokio::test]
async fn apps_and_files_register_by_signature() {
    for h in Harness::both().await {
        let (app, owner) = (Wallet::random(), Wallet::random());
        h.contracts.apps().register(&h.relayer, &app, "age1app", "Word counter", "https://app.example").await.unwrap();
        let record = h.contracts.apps().get(app.address()).await.unwrap();
        assert_eq!((record.name.as_str(), record.recipient.as_str()), ("Word counter", "age1app"));
        let digest = B256::repeat_byte(7);
        let data = h.contracts.data();
        let id = data.add_file(&h.relayer, &owner, "hearth://blob/1", digest, "journal").await.expect("addFile");
        let file = data.get(id).await.unwrap();
        assert_eq!((file.owner, file.sha256, file.scope.as_str()), (owner.address(), digest, "journal"));
    }
}

#[tokio::test]
async fn only_registered_servers_anchor_and_only_in_order() {
    for h in Harness::both().await {
        let server = h.wallet().await;
        let audit = h.contracts.audit();
        let root = B256::repeat_byte(0x11);
        let n = h.name();
        assert_reverted(audit.anchor(&server, root, 1, 10).await, "NotRegistered", &n);
        h.contracts.servers().register(&h.relayer, &server, "age1server", "https://s.example").await.unwrap();
        audit.anchor(&server, root, 1, 10).await.expect("anchor 1..=10");
        assert_eq!(audit.next_seq(server.address()).await.unwrap(), 11);
        assert_reverted(audit.anchor(&server, root, 5, 12).await, "OutOfOrder", &n);
        assert_reverted(audit.anchor(&server, B256::ZERO, 11, 12).await, "ZeroRoot", &n);
        let anchor = audit.get(server.address(), U256::ZERO).await.unwrap();
        assert_eq!((anchor.merkleRoot, anchor.firstSeq, anchor.lastSeq), (root, 1, 10));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sends_from_one_wallet_take_consecutive_nonces() {
    for h in Harness::both().await {
        let relayer = h.wallet().await;
        let before = h.contracts.chain().transaction_count(relayer.address()).await.unwrap();
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (contracts, relayer) = (h.contracts.clone(), relayer.clone());
            sends.spawn(async move {
                let app = Wallet::random();
                contracts.apps().register(&relayer, &app, "age1app", &format!("app {i}"), "").await.map(|_| ())
            });
        }
        while let Some(sent) = sends.join_next().await {
            assert!(sent.unwrap().is_ok(), "[{}] every concurrent send lands", h.name());
        }
        let after = h.contracts.chain().transaction_count(relayer.address()).await.unwrap();
        assert_eq!(after, before + 8, "[{}] eight transactions, eight nonces", h.name());
    }
}
