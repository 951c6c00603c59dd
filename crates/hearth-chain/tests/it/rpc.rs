//! The rpc backend's failure modes: an unreachable endpoint, a wrong chain id, an
//! address without the contracts.

use std::sync::Arc;

use hearth_chain::anvil::{ANVIL_CHAIN_ID, Anvil};
use hearth_chain::{Chain, ChainError, Contracts, Deployment, RpcChain, deploy_suite};

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let chain = RpcChain::new("http://user:secret@127.0.0.1:1").unwrap();
    let err = chain.chain_id().await.expect_err("unreachable");
    let message = err.to_string();
    assert!(matches!(err, ChainError::Unreachable { .. }), "{message}");
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(!message.contains("secret"), "credentials must not be shown: {message}");
}

#[tokio::test]
async fn a_malformed_url_is_refused_before_any_request() {
    assert!(matches!(RpcChain::new("not a url"), Err(ChainError::Invalid(_))));
    assert!(matches!(RpcChain::new("ftp://127.0.0.1/"), Err(ChainError::Invalid(_))));
}

#[tokio::test]
async fn a_wrong_chain_id_or_missing_contracts_are_refused() {
    let anvil = Anvil::start().unwrap();
    let chain: Arc<dyn Chain> = Arc::new(anvil.chain().unwrap());
    let deployment = deploy_suite(chain.as_ref(), &anvil.dev_wallet()).await.unwrap();
    let err = Contracts::connect(chain.clone(), deployment, Some(1)).await.expect_err("wrong id");
    assert!(matches!(err, ChainError::WrongChainId { expected: 1, actual: ANVIL_CHAIN_ID }), "{err}");
    Contracts::connect(chain.clone(), deployment, Some(ANVIL_CHAIN_ID)).await.expect("right id");
    let nowhere = Deployment::predict(alloy_primitives::Address::repeat_byte(9), 0);
    let err = Contracts::connect(chain, nowhere, None).await.expect_err("no code");
    assert!(matches!(err, ChainError::MissingContract { contract: "ServerRegistry", .. }), "{err}");
}
