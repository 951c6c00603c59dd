//! `hearth contribute`: a member's side of a collective. Each file is encrypted here, on
//! the member's device, to the node's age recipient; its ciphertext hash is signed in an
//! EIP-712 `AddFile` (scope `contributions`) with the member's key; the node checks both
//! on receipt and registers the file in `DataRegistry`. Plain age on the wire, so any
//! age implementation (a browser, later) can contribute the same way.
//!
//! The recipient comes from the node's `GET /v1/identity`, so before anything is sent it
//! is checked against the node's `ServerRegistry` record on the chain the data directory
//! uses (an embedded chain read as a snapshot, so the node may be serving it): a URL that
//! serves another key than the one registered for the node's address is refused.

use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256};
use hearth_chain::{EmbeddedConfig, Wallet};
use hearth_server::routes::contributions::{CONTRIBUTIONS_SCOPE, ContributionNonce};
use hearth_server::routes::system::Identity;
use hearth_store::FileMeta;
use sha2::Digest;

use crate::client::Client;
use crate::config;
use crate::error::CliError;
use crate::secrets;

/// Largest file `hearth contribute` sends, in bytes: the node's default body limit less
/// 1 MiB for age's framing (16 bytes per 64 KiB chunk plus the header).
pub const CONTRIBUTION_BYTES_MAX: u64 = hearth_server::config::BODY_BYTES_MAX as u64 - 1024 * 1024;

/// `hearth contribute --server URL --collective NODE FILE...`
pub async fn run(data_dir: &Path, server: &str, node: Address, files: &[PathBuf]) -> Result<(), CliError> {
    let key = secrets::from_env(secrets::MEMBER_KEY_ENV).ok_or_else(|| {
        CliError::Missing(format!("set {} to the member's private key (hex)", secrets::MEMBER_KEY_ENV))
    })?;
    let wallet = {
        use hearth_crypto::ExposeSecret;
        Wallet::from_hex(key.expose_secret())?
    };
    let client = Client::connect(server, wallet.clone()).await?;
    // Without naming the node, any registered server answering at URL would pass.
    if client.identity.server != node {
        return Err(CliError::Missing(format!(
            "the server at {server} is node {}, not the collective's node {node}",
            client.identity.server
        )));
    }
    check_registered(data_dir, server, &client.identity).await?;
    let recipient = hearth_crypto::parse_recipient(&client.identity.recipient)?;
    for path in files {
        let ciphertext = encrypt(path, &recipient)?;
        let sha256 = B256::from_slice(&sha2::Sha256::digest(&ciphertext));
        let uri = hearth_server::routes::owner::file_uri(client.identity.server, sha256);
        let ContributionNonce { nonce } =
            client.public(&format!("/v1/contributions/nonce/{}", wallet.address())).await?;
        let signature = client.signing().sign_add_file(&wallet, &uri, sha256, CONTRIBUTIONS_SCOPE, nonce)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let target =
            format!("/v1/contributions?name={}&nonce={nonce}&registration={signature}", name.replace(' ', "%20"));
        let meta: FileMeta = client.json("POST", &target, ciphertext).await?;
        println!("contributed {} as file {} (sha256 {sha256})", path.display(), meta.id);
    }
    Ok(())
}

/// Refuses a server whose identity is not what its address registered in `ServerRegistry`
/// on the chain `data_dir` uses: another chain or suite, an unregistered address, or another
/// age recipient (a man in the middle serving its own key under the node's address).
async fn check_registered(data_dir: &Path, url: &str, identity: &Identity) -> Result<(), CliError> {
    let refuse = |why: String| Err(CliError::Missing(format!("not sending to {url}: {why}")));
    let chain = config::load(data_dir)?.chain;
    let contracts = chain.connect_read_only(data_dir, EmbeddedConfig::default()).await.map_err(|e| {
        CliError::Missing(format!("cannot check the node at {url} on chain ({e}); point --data-dir at a data directory on the collective's chain"))
    })?;
    if identity.chain_id != contracts.chain_id() || identity.contracts != contracts.deployment() {
        return refuse(format!(
            "it serves contracts on chain {}, not this data directory's chain {}",
            identity.chain_id,
            contracts.chain_id()
        ));
    }
    let servers = contracts.servers();
    if !servers.is_registered(identity.server).await? {
        return refuse(format!("node {} is not registered in ServerRegistry", identity.server));
    }
    let registered = servers.get(identity.server).await?.recipient;
    if registered != identity.recipient {
        return refuse(format!(
            "it serves age recipient {}, but node {} registered {registered} on chain",
            identity.recipient, identity.server
        ));
    }
    Ok(())
}

fn encrypt(path: &Path, recipient: &hearth_crypto::age::x25519::Recipient) -> Result<Vec<u8>, CliError> {
    let input = |reason: String| CliError::Input { path: path.to_owned(), reason };
    let meta = std::fs::metadata(path).map_err(|e| input(e.to_string()))?;
    if !meta.is_file() {
        return Err(input("not a regular file".into()));
    }
    if meta.len() > CONTRIBUTION_BYTES_MAX {
        return Err(input(format!("{} bytes, more than {CONTRIBUTION_BYTES_MAX}", meta.len())));
    }
    let file = std::fs::File::open(path).map_err(|e| input(e.to_string()))?;
    let mut ciphertext = Vec::new();
    hearth_crypto::encrypt(std::slice::from_ref(recipient), file, &mut ciphertext)?;
    Ok(ciphertext)
}
