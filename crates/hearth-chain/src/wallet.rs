//! A secp256k1 key that signs transactions and EIP-712 data; it never prints its secret.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Eip712Domain, SolStruct};

use crate::chain::{CallRequest, Chain, Receipt};
use crate::error::{ChainError, Result};

/// One lock per sending address in this process: a transaction's nonce is read and the
/// transaction sent under it, so concurrent sends from one wallet (a server relaying
/// several requests at once) take consecutive nonces instead of colliding.
fn send_lock(from: Address) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<Address, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut locks = LOCKS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(from).or_default().clone()
}

/// A signing key. The secret lives in `k256`'s zeroizing key type; `Debug` shows only
/// the address.
#[derive(Clone)]
pub struct Wallet {
    signer: PrivateKeySigner,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").field("address", &self.address()).finish_non_exhaustive()
    }
}

impl Wallet {
    /// A fresh random key.
    pub fn random() -> Wallet {
        Wallet { signer: PrivateKeySigner::random() }
    }

    /// A key from 32 bytes of hex (with or without `0x`). The error never echoes the input.
    pub fn from_hex(secret: &str) -> Result<Wallet> {
        let signer = secret
            .trim()
            .parse::<PrivateKeySigner>()
            .map_err(|_| ChainError::Invalid("not a valid secp256k1 private key (expected 32 bytes of hex)".into()))?;
        Ok(Wallet { signer })
    }

    /// A key from its 32 secret bytes (as read from a key file or keystore).
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<Wallet> {
        let signer = PrivateKeySigner::from_bytes(&B256::from(*secret))
            .map_err(|_| ChainError::Invalid("the secret bytes are not a valid secp256k1 private key".into()))?;
        Ok(Wallet { signer })
    }

    /// Signs `message` the EIP-191 way (`personal_sign`), as browser wallets do;
    /// returns the 65-byte `r ‖ s ‖ v` signature. Deterministic (RFC 6979).
    pub fn sign_message(&self, message: &[u8]) -> Result<Bytes> {
        let sig =
            self.signer.sign_message_sync(message).map_err(|e| ChainError::Invalid(format!("signing failed: {e}")))?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    /// The key's Ethereum address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Signs a 32-byte digest; returns the 65-byte `r ‖ s ‖ v` signature.
    pub fn sign_digest(&self, digest: B256) -> Result<Bytes> {
        let sig =
            self.signer.sign_hash_sync(&digest).map_err(|e| ChainError::Invalid(format!("signing failed: {e}")))?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    /// Signs EIP-712 typed data.
    pub fn sign_typed<T: SolStruct>(&self, value: &T, domain: &Eip712Domain) -> Result<Bytes> {
        self.sign_digest(value.eip712_signing_hash(domain))
    }

    /// Builds, signs and submits an EIP-1559 transaction calling `to` (or creating a
    /// contract when `None`), then waits for its receipt. A revert found while
    /// estimating gas is returned as [`ChainError::Reverted`] and nothing is sent.
    pub async fn send(&self, chain: &dyn Chain, chain_id: u64, to: Option<Address>, input: Bytes) -> Result<Receipt> {
        self.send_with_extra_gas(chain, chain_id, to, input, 0).await
    }

    /// Like [`Wallet::send`], with `extra_gas` over the estimate: for calls whose cost depends
    /// on the block they land in (a vote checkpoint written in a new second takes a fresh
    /// storage slot, which the estimate made in the previous second did not pay for).
    pub async fn send_with_extra_gas(
        &self,
        chain: &dyn Chain,
        chain_id: u64,
        to: Option<Address>,
        input: Bytes,
        extra_gas: u64,
    ) -> Result<Receipt> {
        let from = self.address();
        let lock = send_lock(from);
        let _sending = lock.lock().await;
        let request = CallRequest { from: Some(from), to, input: input.clone() };
        let gas_limit = chain.estimate_gas(&request).await?.saturating_add(extra_gas);
        let nonce = chain.transaction_count(from).await?;
        let fees = chain.fees().await?;
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        };
        let signature = self
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| ChainError::Invalid(format!("signing failed: {e}")))?;
        let envelope = TxEnvelope::from(tx.into_signed(signature));
        let receipt = chain.send_raw_transaction(envelope.encoded_2718().into()).await?;
        if !receipt.success {
            return Err(ChainError::Reverted {
                contract: "transaction",
                reason: format!("mined in block {} but reverted", receipt.block_number),
                data: Bytes::new(),
            });
        }
        Ok(receipt)
    }
}
