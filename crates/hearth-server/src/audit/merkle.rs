//! Merkle trees over a batch of record hashes, built so OpenZeppelin's
//! `MerkleProof.verify(proof, root, leaf)` accepts the proofs:
//!
//! - leaf = `keccak256(bytes.concat(keccak256(abi.encode(recordHash))))` — the double
//!   hash of OpenZeppelin's `StandardMerkleTree`, so a leaf is never a valid inner node;
//! - inner node = `keccak256(a ‖ b)` with `a <= b` (pairs sorted, as `Hashes.commutativeKeccak256`);
//! - leaves in sequence order; an odd node at the end of a level moves up unchanged.
//!
//! The tree itself is `rs_merkle`'s; only the hasher is ours.

use alloy_primitives::{B256, keccak256};
use rs_merkle::MerkleTree;

use crate::merkle::{SortedKeccak, hash_pair};

/// Deepest a proof can be: a batch never has more than 2^64 records.
pub(crate) const PROOF_DEPTH_MAX: usize = 64;

/// The leaf of a record: `keccak256(keccak256(abi.encode(recordHash)))`; the ABI
/// encoding of one `bytes32` is the 32 bytes themselves.
pub(crate) fn leaf(record_hash: B256) -> B256 {
    keccak256(keccak256(record_hash))
}

/// The tree of one batch.
pub(crate) struct BatchTree {
    tree: MerkleTree<SortedKeccak>,
    len: usize,
}

impl BatchTree {
    /// Builds the tree of `record_hashes` (in sequence order; at least one).
    pub(crate) fn new(record_hashes: &[B256]) -> BatchTree {
        assert!(!record_hashes.is_empty(), "a batch has at least one record");
        let leaves: Vec<[u8; 32]> = record_hashes.iter().map(|h| leaf(*h).0).collect();
        BatchTree { tree: MerkleTree::from_leaves(&leaves), len: leaves.len() }
    }

    /// The root.
    pub(crate) fn root(&self) -> B256 {
        // A tree built from at least one leaf always has a root.
        B256::from(self.tree.root().unwrap_or_default())
    }

    /// The sibling hashes from leaf `index` up to the root.
    pub(crate) fn path(&self, index: usize) -> Vec<B256> {
        assert!(index < self.len, "leaf {index} of a batch of {}", self.len);
        self.tree.proof(&[index]).proof_hashes().iter().map(|h| B256::from(*h)).collect()
    }
}

/// The root `path` leads to from `record_hash`: OpenZeppelin's `MerkleProof.processProof`.
pub(crate) fn root_from_path(record_hash: B256, path: &[B256]) -> B256 {
    path.iter().fold(leaf(record_hash), |node, sibling| hash_pair(node, *sibling))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(n: usize) -> Vec<B256> {
        (0..n).map(|i| keccak256(i.to_be_bytes())).collect()
    }

    #[test]
    fn every_path_leads_to_the_root_for_sizes_1_to_33() {
        for n in 1..=33 {
            let hs = hashes(n);
            let tree = BatchTree::new(&hs);
            for (i, h) in hs.iter().enumerate() {
                let path = tree.path(i);
                assert!(path.len() <= PROOF_DEPTH_MAX);
                assert_eq!(root_from_path(*h, &path), tree.root(), "batch of {n}, leaf {i}");
            }
        }
    }

    #[test]
    fn small_trees_have_the_expected_shape() {
        let hs = hashes(3);
        let (a, b, c) = (leaf(hs[0]), leaf(hs[1]), leaf(hs[2]));
        assert_eq!(BatchTree::new(&hs[..1]).root(), a);
        assert_eq!(BatchTree::new(&hs[..2]).root(), hash_pair(a, b));
        assert_eq!(BatchTree::new(&hs).root(), hash_pair(hash_pair(a, b), c));
        assert_eq!(BatchTree::new(&hs).path(2), vec![hash_pair(a, b)]);
    }

    #[test]
    fn pairs_are_sorted_before_hashing() {
        let (a, b) = (B256::repeat_byte(1), B256::repeat_byte(2));
        assert_eq!(hash_pair(a, b), hash_pair(b, a));
        assert_eq!(hash_pair(a, b), keccak256([a.as_slice(), b.as_slice()].concat()));
    }

    #[test]
    fn a_wrong_record_hash_leads_elsewhere() {
        let hs = hashes(5);
        let tree = BatchTree::new(&hs);
        assert_ne!(root_from_path(B256::repeat_byte(7), &tree.path(3)), tree.root());
    }
}
