//! The permission check before every app action: the grant on chain (not revoked, in
//! its window), issued by this server's owner to the caller, covering the scope and the
//! access level, and the owner still trusting this server.
//!
//! Grants and trust are cached. Before each check the cache follows the contracts'
//! events up to the chain's latest block, so a revocation is enforced on the first
//! request after the revoking transaction is mined. When the chain cannot be reached,
//! cached answers are used for at most `chain_staleness_secs_max`; after that every
//! check fails with 503 `chain_unavailable`.

use std::collections::HashMap;
use std::sync::Arc;

use alloy_primitives::{Address, B256};
use hearth_chain::bindings::{PermissionRegistry::PermissionRegistryEvents, ServerRegistry::ServerRegistryEvents};
use hearth_chain::{ChainError, Contracts, GrantRecord};
use hearth_core::{AccessRequest, Clock, GrantTerms, Wanted};
use tokio::sync::Mutex;

use crate::error::ApiError;

/// Most grants kept in the cache; beyond it the cache is cleared (and refilled on use).
pub const CACHED_GRANTS_MAX: usize = 100_000;

#[derive(Default)]
struct Cache {
    /// Highest block whose events have been applied.
    synced_block: u64,
    /// When the chain last answered (unix seconds).
    synced_at: u64,
    grants: HashMap<B256, Arc<GrantRecord>>,
    trusted: HashMap<Address, bool>,
}

/// Grant checks against the chain, cached and kept current by following events.
pub struct Permissions {
    contracts: Contracts,
    server: Address,
    owner: Address,
    clock: Arc<dyn Clock>,
    staleness_secs_max: u64,
    caching: bool,
    cache: Mutex<Cache>,
}

impl Permissions {
    /// A checker for `server`, which holds `owner`'s data.
    pub fn new(
        contracts: Contracts,
        server: Address,
        owner: Address,
        clock: Arc<dyn Clock>,
        staleness_secs_max: u64,
    ) -> Permissions {
        let cache = Cache { synced_at: clock.now_secs(), ..Cache::default() };
        Permissions { contracts, server, owner, clock, staleness_secs_max, caching: true, cache: Mutex::new(cache) }
    }

    /// Turns caching off: every check asks the chain (benchmarks of the cold path).
    pub fn without_cache(mut self) -> Permissions {
        self.caching = false;
        self
    }

    /// Applies the events mined since the last sync.
    async fn sync(&self, cache: &mut Cache) -> Result<(), ApiError> {
        let now = self.clock.now_secs();
        let head = match self.contracts.chain().block_number().await {
            Ok(head) => head,
            Err(e) if now.saturating_sub(cache.synced_at) <= self.staleness_secs_max => {
                tracing::warn!(error = %e, "chain unreachable; answering from cache");
                return Ok(());
            }
            Err(e) => return Err(ApiError::chain_unavailable(e)),
        };
        if cache.synced_block == 0 && cache.grants.is_empty() && cache.trusted.is_empty() {
            // Nothing cached yet, so no history to replay: start following from here.
            cache.synced_block = head;
        }
        if head > cache.synced_block {
            let from = cache.synced_block + 1;
            let grants = self.contracts.permissions().events(from).await.map_err(ApiError::chain_unavailable)?;
            for (_, event) in grants {
                if let PermissionRegistryEvents::GrantRevoked(r) = event {
                    cache.grants.remove(&r.grantId);
                }
            }
            let servers = self.contracts.servers().events(from).await.map_err(ApiError::chain_unavailable)?;
            for (_, event) in servers {
                match event {
                    ServerRegistryEvents::ServerTrusted(t) if t.server == self.server => {
                        cache.trusted.remove(&t.owner);
                    }
                    ServerRegistryEvents::ServerUntrusted(t) if t.server == self.server => {
                        cache.trusted.remove(&t.owner);
                    }
                    _ => {}
                }
            }
            cache.synced_block = head;
        }
        cache.synced_at = now;
        Ok(())
    }

    async fn grant(&self, cache: &mut Cache, id: B256) -> Result<Arc<GrantRecord>, ApiError> {
        if self.caching
            && let Some(g) = cache.grants.get(&id)
        {
            return Ok(g.clone());
        }
        let record = match self.contracts.permissions().grant(id).await {
            Ok(r) => Arc::new(r),
            Err(ChainError::Reverted { reason, .. }) if reason.starts_with("UnknownGrant") => {
                return Err(ApiError::forbidden("unknown_grant", "no such grant on chain"));
            }
            Err(e) => return Err(ApiError::chain_unavailable(e)),
        };
        if self.caching {
            if cache.grants.len() >= CACHED_GRANTS_MAX {
                cache.grants.clear();
            }
            cache.grants.insert(id, record.clone());
        }
        Ok(record)
    }

    async fn trusted(&self, cache: &mut Cache, grantor: Address) -> Result<bool, ApiError> {
        if self.caching
            && let Some(t) = cache.trusted.get(&grantor)
        {
            return Ok(*t);
        }
        let trusted =
            self.contracts.servers().is_trusted(grantor, self.server).await.map_err(ApiError::chain_unavailable)?;
        if self.caching {
            cache.trusted.insert(grantor, trusted);
        }
        Ok(trusted)
    }

    /// Checks that grant `id` lets `caller` do `wanted` on `scope` now. Returns the terms.
    pub async fn check(&self, caller: Address, id: B256, scope: &str, wanted: Wanted) -> Result<GrantTerms, ApiError> {
        let mut cache = self.cache.lock().await;
        self.sync(&mut cache).await?;
        let record = self.grant(&mut cache, id).await?;
        if record.revoked_at.is_some() {
            return Err(ApiError::forbidden("grant_revoked", "the grant was revoked"));
        }
        let terms = &record.terms;
        if terms.grantor != self.owner {
            return Err(ApiError::forbidden("grant_not_from_owner", "the grant was not issued by this server's owner"));
        }
        let request = AccessRequest { grantee: caller, scope, wanted };
        terms.check(&request, self.clock.now_secs()).map_err(|d| ApiError::forbidden(d.code(), d.to_string()))?;
        if !self.trusted(&mut cache, terms.grantor).await? {
            return Err(ApiError::forbidden("server_not_trusted", "the grantor does not trust this server"));
        }
        Ok(terms.clone())
    }
}
