//! The Merkle hashing both the audit anchors and the liveness commitments use, so that
//! OpenZeppelin's `MerkleProof.verify` accepts their proofs: inner node =
//! `keccak256(min(a, b) ‖ max(a, b))` (`Hashes.commutativeKeccak256`), an odd node at
//! the end of a level moves up unchanged. Trees are `rs_merkle`'s; only the hasher is ours.

use alloy_primitives::{B256, keccak256};
use rs_merkle::Hasher;

/// keccak256 with sorted pairs and odd nodes promoted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SortedKeccak;

impl Hasher for SortedKeccak {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        keccak256(data).0
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => hash_pair(B256::from(*left), B256::from(*right)).0,
            None => *left,
        }
    }
}

/// `keccak256(min(a, b) ‖ max(a, b))`, OpenZeppelin's `Hashes.commutativeKeccak256`.
pub(crate) fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut both = [0u8; 64];
    both[..32].copy_from_slice(lo.as_slice());
    both[32..].copy_from_slice(hi.as_slice());
    keccak256(both)
}
