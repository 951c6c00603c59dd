//! `hearth grant create|ls|revoke`: the owner's grants, signed here, submitted by the server.

use std::path::Path;
use std::str::FromStr;

use alloy_primitives::{Address, B256};
use hearth_core::{Access, Clock, GrantTerms, SystemClock};
use hearth_server::routes::owner::{Listed, Nonce, SignedGrant, SignedRevoke, Submitted};

use crate::client::Client;
use crate::config;
use crate::error::CliError;
use crate::node::owner_wallet;

fn parse<T: FromStr>(what: &str, value: &str) -> Result<T, CliError> {
    value.parse().map_err(|_| CliError::Missing(format!("invalid {what}: {value}")))
}

/// An operation digest as `0x<hex>`, `<hex>` or `sha256:<hex>` (as `hearth image ls` prints it).
pub fn parse_operation(value: &str) -> Result<B256, CliError> {
    parse::<B256>("operation digest", value.strip_prefix("sha256:").unwrap_or(value))
}

pub(crate) async fn owner_client(data_dir: &Path, server: &str) -> Result<Client, CliError> {
    let keystore = config::load(data_dir)?.owner.and_then(|o| o.keystore);
    let owner = owner_wallet(data_dir, keystore.as_deref())?;
    Client::connect(server, owner).await
}

/// Options of `hearth grant create`.
pub struct CreateArgs {
    /// Server URL.
    pub server: String,
    /// Grantee.
    pub app: String,
    /// Scope patterns.
    pub scopes: Vec<String>,
    /// compute or read.
    pub access: String,
    /// Operation digests.
    pub operations: Vec<String>,
    /// Fixed parameters hash.
    pub params_hash: Option<String>,
    /// Validity in seconds.
    pub valid_secs: u64,
}

/// `hearth grant create`.
pub async fn create(data_dir: &Path, args: CreateArgs) -> Result<(), CliError> {
    let client = owner_client(data_dir, &args.server).await?;
    if client.identity.owner != client_owner(&client) {
        return Err(CliError::Missing(format!(
            "this wallet is not the owner of the server (owner {})",
            client.identity.owner
        )));
    }
    let access: Access = args.access.parse().map_err(|e: hearth_core::CoreError| CliError::Missing(e.to_string()))?;
    let operations = args.operations.iter().map(|o| parse_operation(o)).collect::<Result<Vec<_>, _>>()?;
    let params_hash =
        args.params_hash.as_deref().map(|h| parse::<B256>("params hash", h)).transpose()?.unwrap_or_default();
    let Nonce { nonce } = client.json("GET", "/v1/owner/nonce", vec![]).await?;
    let now = SystemClock.now_secs();
    let terms = GrantTerms {
        grantor: client.identity.owner,
        grantee: parse::<Address>("app address", &args.app)?,
        scopes: args.scopes,
        access,
        operations,
        params_hash,
        not_before: now.saturating_sub(60),
        expires_at: now + args.valid_secs,
        nonce,
    };
    terms.validate().map_err(|e| CliError::Missing(e.to_string()))?;
    let signature = client.signing().sign_grant(owner_of(&client)?, &terms)?;
    let body = serde_json::to_vec(&SignedGrant { terms, signature }).map_err(|e| CliError::Missing(e.to_string()))?;
    let Submitted { grant_id, block } = client.json("POST", "/v1/owner/grants", body).await?;
    println!("grant {grant_id} (mined in block {block})");
    Ok(())
}

fn client_owner(client: &Client) -> Address {
    client.signer_address()
}

fn owner_of(client: &Client) -> Result<&hearth_chain::Wallet, CliError> {
    Ok(client.wallet())
}

/// `hearth grant ls`.
pub async fn ls(data_dir: &Path, server: &str) -> Result<(), CliError> {
    let client = owner_client(data_dir, server).await?;
    let grants: Vec<Listed> = client.json("GET", "/v1/owner/grants", vec![]).await?;
    println!("{:<66}  {:<42}  {:<8} {:<10} {:<8} SCOPES", "GRANT", "APP", "ACCESS", "EXPIRES", "STATUS");
    for g in grants {
        let access = Access::from_code(g.access).map(|a| a.to_string()).unwrap_or_default();
        let status = if g.revoked {
            "revoked"
        } else if g.expires_at <= SystemClock.now_secs() {
            "expired"
        } else {
            "active"
        };
        println!("{}  {}  {access:<8} {:<10} {status:<8} {}", g.grant_id, g.grantee, g.expires_at, g.scopes.join(","));
    }
    Ok(())
}

/// `hearth grant revoke`.
pub async fn revoke(data_dir: &Path, server: &str, id: &str) -> Result<(), CliError> {
    let client = owner_client(data_dir, server).await?;
    let id: B256 = parse("grant id", id)?;
    let Nonce { nonce } = client.json("GET", "/v1/owner/nonce", vec![]).await?;
    let signature = client.signing().sign_revoke(client.wallet(), id, nonce)?;
    let body = serde_json::to_vec(&SignedRevoke { nonce, signature }).map_err(|e| CliError::Missing(e.to_string()))?;
    client.call("POST", &format!("/v1/owner/grants/{id}/revoke"), body).await?;
    println!("revoked {id}");
    Ok(())
}
