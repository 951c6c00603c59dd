//! Liveness challenges over a contributed ciphertext, the Rust half of the collective's
//! `LivenessRegistry`.
//!
//! A contributor splits its ciphertext into chunks of `chunk_size` bytes (the last may be
//! shorter), commits to the root of a sorted-pair Merkle tree over the chunks' leaves
//! ([`hearth_chain::chunk_leaf`]: the chunk's index and sha256, double keccak) and
//! registers that [`StorageCommitment`] on chain. Each epoch the collective node opens the
//! epoch (fixing its seed on chain), derives which chunks each contribution must show
//! ([`challenge_indexes`], the contract's `challengeChunk`), asks the contributor
//! ([`Answerer`]), checks the chunks and their proofs against the registered root
//! ([`check_answer`]) and records pass or fail on chain ([`run_epoch`]).
//!
//! The tree: inner node = `keccak256(min(a, b) ‖ max(a, b))` (OpenZeppelin's sorted pairs,
//! so the contract's `MerkleProof.verify` accepts the proofs); leaves in chunk order; an
//! odd node at the end of a level moves up unchanged. It is `rs_merkle`'s, with our hasher.

pub mod http;
pub mod kept;
pub mod schedule;

use std::future::Future;
use std::pin::Pin;

use alloy_primitives::{B256, U256};
use hearth_chain::{ChainError, ChallengeResult, Collective, StorageCommitment, Wallet, challenge_chunk, chunk_leaf};
use rs_merkle::MerkleTree;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::merkle::{SortedKeccak, hash_pair};

/// Smallest chunk, in bytes.
pub const CHUNK_BYTES_MIN: usize = 64;
/// Largest chunk, in bytes (the contract's `MAX_CHUNK_BYTES`, 16 MiB).
pub const CHUNK_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most chunks one contribution may have (the contract's `MAX_CHUNKS`, 2^32).
pub const CHUNKS_MAX: u64 = 1 << 32;
/// Most sibling hashes in one proof (the contract's `MAX_PROOF_HASHES`).
pub const PROOF_HASHES_MAX: usize = 32;
/// Most chunks the node asks of one contribution per epoch.
pub const CHALLENGE_CHUNKS_MAX: usize = 64;
/// Chunks the node asks of one contribution per epoch unless told otherwise.
pub const CHALLENGE_CHUNKS_DEFAULT: usize = 8;

/// Why a commitment, proof, challenge or epoch could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    /// The chunk size is outside [`CHUNK_BYTES_MIN`]..=[`CHUNK_BYTES_MAX`].
    #[error("chunk size {0} B is not between {CHUNK_BYTES_MIN} B and {CHUNK_BYTES_MAX} B")]
    ChunkSize(usize),
    /// Nothing to commit to.
    #[error("an empty ciphertext has no chunks")]
    Empty,
    /// More than [`CHUNKS_MAX`] chunks.
    #[error("{0} chunks is over the limit of {CHUNKS_MAX}")]
    TooManyChunks(u64),
    /// A chunk index past the last chunk.
    #[error("chunk {index} of a ciphertext of {chunk_count} chunks")]
    IndexOutOfRange {
        /// The asked index.
        index: u64,
        /// Chunks there are.
        chunk_count: u64,
    },
    /// More than [`CHALLENGE_CHUNKS_MAX`] chunks asked at once, or none.
    #[error("{0} challenged chunks is not between 1 and {CHALLENGE_CHUNKS_MAX}")]
    ChallengeSize(usize),
    /// The contributor gave no answer.
    #[error("no answer: {0}")]
    Unanswered(String),
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// The chunk tree of one ciphertext.
struct ChunkTree<'a> {
    ciphertext: &'a [u8],
    chunk_size: usize,
    chunk_count: u64,
    tree: MerkleTree<SortedKeccak>,
}

impl<'a> ChunkTree<'a> {
    fn new(ciphertext: &'a [u8], chunk_size: usize) -> Result<ChunkTree<'a>, LivenessError> {
        if !(CHUNK_BYTES_MIN..=CHUNK_BYTES_MAX).contains(&chunk_size) {
            return Err(LivenessError::ChunkSize(chunk_size));
        }
        if ciphertext.is_empty() {
            return Err(LivenessError::Empty);
        }
        let chunk_count = ciphertext.len().div_ceil(chunk_size) as u64;
        if chunk_count > CHUNKS_MAX {
            return Err(LivenessError::TooManyChunks(chunk_count));
        }
        let leaves: Vec<[u8; 32]> =
            ciphertext.chunks(chunk_size).zip(0u64..).map(|(chunk, i)| chunk_leaf(i, sha256(chunk)).0).collect();
        Ok(ChunkTree { ciphertext, chunk_size, chunk_count, tree: MerkleTree::from_leaves(&leaves) })
    }

    fn root(&self) -> B256 {
        // A tree of at least one leaf always has a root.
        B256::from(self.tree.root().unwrap_or_default())
    }

    fn prove(&self, index: u64) -> Result<ChunkProof, LivenessError> {
        if index >= self.chunk_count {
            return Err(LivenessError::IndexOutOfRange { index, chunk_count: self.chunk_count });
        }
        // index < chunk_count <= len / chunk_size + 1, so both fit in usize.
        let i = index as usize;
        let start = i * self.chunk_size;
        let end = (start + self.chunk_size).min(self.ciphertext.len());
        let proof = self.tree.proof(&[i]).proof_hashes().iter().map(|h| B256::from(*h)).collect();
        Ok(ChunkProof { index, chunk: self.ciphertext[start..end].to_vec(), proof })
    }
}

/// The commitment a contributor registers for `ciphertext` cut into `chunk_size`-byte chunks.
pub fn commit(ciphertext: &[u8], chunk_size: usize) -> Result<StorageCommitment, LivenessError> {
    let tree = ChunkTree::new(ciphertext, chunk_size)?;
    Ok(StorageCommitment {
        merkle_root: tree.root(),
        ciphertext_sha256: sha256(ciphertext),
        chunk_count: tree.chunk_count,
        // chunk_size <= CHUNK_BYTES_MAX < 2^32.
        chunk_size: chunk_size as u32,
    })
}

/// One chunk and the sibling hashes from its leaf up to the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkProof {
    /// The chunk's index (from 0).
    pub index: u64,
    /// The chunk's bytes (hex in JSON).
    #[serde(with = "alloy_primitives::hex")]
    pub chunk: Vec<u8>,
    /// Sibling hashes, leaf first (at most [`PROOF_HASHES_MAX`]).
    pub proof: Vec<B256>,
}

/// Chunk `index` of `ciphertext` with its proof.
pub fn prove(ciphertext: &[u8], chunk_size: usize, index: u64) -> Result<ChunkProof, LivenessError> {
    ChunkTree::new(ciphertext, chunk_size)?.prove(index)
}

/// Whether `proof` shows a chunk of the ciphertext `commitment` commits to: the index is in
/// range, the chunk is `chunk_size` bytes (the last: 1 to `chunk_size`), the proof is at
/// most [`PROOF_HASHES_MAX`] hashes, and leaf and proof lead to the root (the contract's
/// `verifyChunk`, plus the length check).
pub fn verify(commitment: &StorageCommitment, proof: &ChunkProof) -> bool {
    let size = commitment.chunk_size as usize;
    let last = commitment.chunk_count.checked_sub(1);
    let length_ok = match last {
        None => false,
        Some(last) if proof.index > last => false,
        Some(last) if proof.index == last => !proof.chunk.is_empty() && proof.chunk.len() <= size,
        Some(_) => proof.chunk.len() == size,
    };
    if !length_ok || proof.proof.len() > PROOF_HASHES_MAX {
        return false;
    }
    let leaf = chunk_leaf(proof.index, sha256(&proof.chunk));
    proof.proof.iter().fold(leaf, |node, sibling| hash_pair(node, *sibling)) == commitment.merkle_root
}

/// What the node asks one contribution in one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The contribution's on-chain id.
    pub contribution_id: U256,
    /// The epoch whose seed chose the indexes.
    pub epoch: u64,
    /// The chunks to show, in order (repeats possible).
    pub indexes: Vec<u64>,
}

/// The `n` chunks challenged for contribution `id` with an epoch's `seed`, the contract's
/// `challengeChunk(id, epoch, i)` for `i` in `0..n`.
pub fn challenge_indexes(seed: B256, id: U256, chunk_count: u64, n: usize) -> Result<Vec<u64>, LivenessError> {
    if n == 0 || n > CHALLENGE_CHUNKS_MAX {
        return Err(LivenessError::ChallengeSize(n));
    }
    (0..n as u64).map(|i| Ok(challenge_chunk(seed, id, i, chunk_count)?)).collect()
}

/// A contributor's answer to a [`Challenge`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The contribution it answers for.
    pub contribution_id: U256,
    /// The epoch it answers.
    pub epoch: u64,
    /// One proof per challenged index, in the challenge's order.
    pub proofs: Vec<ChunkProof>,
}

/// The contributor's side: answers `challenge` from the kept `ciphertext`.
pub fn answer(ciphertext: &[u8], chunk_size: usize, challenge: &Challenge) -> Result<Answer, LivenessError> {
    if challenge.indexes.is_empty() || challenge.indexes.len() > CHALLENGE_CHUNKS_MAX {
        return Err(LivenessError::ChallengeSize(challenge.indexes.len()));
    }
    let tree = ChunkTree::new(ciphertext, chunk_size)?;
    let proofs = challenge.indexes.iter().map(|i| tree.prove(*i)).collect::<Result<_, _>>()?;
    Ok(Answer { contribution_id: challenge.contribution_id, epoch: challenge.epoch, proofs })
}

/// The node's side: whether `answer` answers `challenge` for the contribution committed as
/// `commitment`: same contribution and epoch (an answer kept from another epoch fails),
/// exactly the challenged indexes in order, each chunk verified against the root.
pub fn check_answer(commitment: &StorageCommitment, challenge: &Challenge, answer: &Answer) -> bool {
    answer.contribution_id == challenge.contribution_id
        && answer.epoch == challenge.epoch
        && answer.proofs.len() == challenge.indexes.len()
        && answer.proofs.iter().zip(&challenge.indexes).all(|(p, i)| p.index == *i && verify(commitment, p))
}

/// A future answer.
pub type AnswerFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer, LivenessError>> + Send + 'a>>;

/// Whoever the node asks for a contribution's answer: in production the contributor's
/// server; in tests anything holding (or having lost) the ciphertext.
pub trait Answerer: Send + Sync {
    /// Answers `challenge` (an error counts as a failed challenge).
    fn answer<'a>(&'a self, challenge: &'a Challenge) -> AnswerFuture<'a>;
}

impl<F> Answerer for F
where
    F: Fn(&Challenge) -> Result<Answer, LivenessError> + Send + Sync,
{
    fn answer<'a>(&'a self, challenge: &'a Challenge) -> AnswerFuture<'a> {
        let result = self(challenge);
        Box::pin(std::future::ready(result))
    }
}

/// What became of one contribution's result on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recording {
    /// Recorded by this run.
    Recorded,
    /// Recorded earlier (by an interrupted run); not asked again.
    AlreadyRecorded,
    /// Not recorded: the chain refused or could not be reached (a later run retries).
    Error(String),
}

/// One contribution's result in an epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochResult {
    /// The contribution.
    pub contribution_id: U256,
    /// Whether it passed (and so accrued a reward, once recorded).
    pub passed: bool,
    /// Why it failed, when it did.
    pub failure: Option<String>,
    /// Whether the result is on chain.
    pub recording: Recording,
}

/// The node runs the current epoch: opens it (or, if already opened, reads its seed),
/// challenges each contribution with `chunks` chunks, checks each answer and records pass or
/// fail on chain. A contribution whose result is already recorded for the epoch is skipped;
/// a chain error about one contribution is reported in its result and the others go on.
/// Returns the epoch and one result per contribution, in order; fails only when the epoch
/// cannot be opened or read.
pub async fn run_epoch(
    collective: &Collective,
    node: &Wallet,
    contributions: &[(U256, &dyn Answerer)],
    chunks: usize,
) -> Result<(u64, Vec<EpochResult>), LivenessError> {
    if chunks == 0 || chunks > CHALLENGE_CHUNKS_MAX {
        return Err(LivenessError::ChallengeSize(chunks));
    }
    let l = collective.liveness();
    let (epoch, seed) = match l.open_epoch(node).await {
        Ok(opened) => opened,
        Err(ChainError::Reverted { reason, .. }) if reason.starts_with("EpochAlreadyOpen") => {
            let epoch = l.current_epoch().await?;
            (epoch, l.challenge_seed(epoch).await?)
        }
        Err(other) => return Err(other.into()),
    };
    let mut results = Vec::with_capacity(contributions.len());
    for (id, answerer) in contributions {
        let result = match challenge_one(collective, node, *id, *answerer, epoch, seed, chunks).await {
            Ok(result) => result,
            Err(e) => EpochResult {
                contribution_id: *id,
                passed: false,
                failure: Some(e.to_string()),
                recording: Recording::Error(e.to_string()),
            },
        };
        results.push(result);
    }
    Ok((epoch, results))
}

async fn challenge_one(
    collective: &Collective,
    node: &Wallet,
    id: U256,
    answerer: &dyn Answerer,
    epoch: u64,
    seed: B256,
    chunks: usize,
) -> Result<EpochResult, LivenessError> {
    let l = collective.liveness();
    let earlier = l.result(id, epoch).await?;
    if earlier != ChallengeResult::None {
        let passed = earlier == ChallengeResult::Passed;
        let failure = (!passed).then(|| "failed earlier in this epoch".to_owned());
        return Ok(EpochResult { contribution_id: id, passed, failure, recording: Recording::AlreadyRecorded });
    }
    let stored = l.contribution(id).await?;
    let commitment = StorageCommitment {
        merkle_root: stored.merkleRoot,
        ciphertext_sha256: stored.ciphertextSha256,
        chunk_count: stored.chunkCount,
        chunk_size: stored.chunkSize,
    };
    let challenge =
        Challenge { contribution_id: id, epoch, indexes: challenge_indexes(seed, id, stored.chunkCount, chunks)? };
    let failure = match answerer.answer(&challenge).await {
        Ok(answer) if check_answer(&commitment, &challenge, &answer) => None,
        Ok(_) => Some("the answer does not verify".to_owned()),
        Err(e) => Some(e.to_string()),
    };
    let passed = failure.is_none();
    let recording = match l.record_result(node, id, epoch, passed).await {
        Ok(_) => Recording::Recorded,
        Err(e) => Recording::Error(e.to_string()),
    };
    Ok(EpochResult { contribution_id: id, passed, failure, recording })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn every_chunk_verifies_for_sizes_1_to_20_chunks() {
        for n in 1..=20usize {
            // A short last chunk every other size.
            let ct = data(n * 100 - (n % 2) * 30);
            let c = commit(&ct, 100).unwrap();
            assert_eq!(c.chunk_count, n as u64);
            for i in 0..n as u64 {
                let p = prove(&ct, 100, i).unwrap();
                assert!(verify(&c, &p), "{n} chunks, chunk {i}");
            }
        }
    }

    #[test]
    fn a_changed_byte_a_wrong_index_or_a_wrong_length_fails() {
        let ct = data(5 * 128 + 7);
        let c = commit(&ct, 128).unwrap();
        let good = prove(&ct, 128, 2).unwrap();
        assert!(verify(&c, &good));
        let mut changed = good.clone();
        changed.chunk[5] ^= 1;
        assert!(!verify(&c, &changed));
        assert!(!verify(&c, &ChunkProof { index: 3, ..good.clone() }));
        assert!(!verify(&c, &ChunkProof { index: 6, ..good.clone() }), "out of range");
        let mut longer = good.clone();
        longer.chunk.push(0);
        assert!(!verify(&c, &longer));
        let mut long_proof = good.clone();
        long_proof.proof = vec![B256::ZERO; PROOF_HASHES_MAX + 1];
        assert!(!verify(&c, &long_proof));
        let last = prove(&ct, 128, 5).unwrap();
        assert_eq!(last.chunk.len(), 7);
        assert!(verify(&c, &last));
    }

    #[test]
    fn limits_are_enforced() {
        assert!(matches!(commit(&[], 128), Err(LivenessError::Empty)));
        assert!(matches!(commit(&[1; 100], CHUNK_BYTES_MIN - 1), Err(LivenessError::ChunkSize(_))));
        assert!(matches!(commit(&[1; 100], CHUNK_BYTES_MAX + 1), Err(LivenessError::ChunkSize(_))));
        assert!(matches!(prove(&[1; 100], 64, 2), Err(LivenessError::IndexOutOfRange { index: 2, chunk_count: 2 })));
        assert!(matches!(
            challenge_indexes(B256::ZERO, U256::from(1), 4, CHALLENGE_CHUNKS_MAX + 1),
            Err(LivenessError::ChallengeSize(_))
        ));
    }

    #[test]
    fn an_answer_checks_only_for_its_own_challenge() {
        let ct = data(10 * 64);
        let c = commit(&ct, 64).unwrap();
        let id = U256::from(3);
        let indexes = challenge_indexes(B256::repeat_byte(1), id, c.chunk_count, 4).unwrap();
        let challenge = Challenge { contribution_id: id, epoch: 2, indexes };
        let a = answer(&ct, 64, &challenge).unwrap();
        assert!(check_answer(&c, &challenge, &a));
        assert!(!check_answer(&c, &Challenge { epoch: 3, ..challenge.clone() }, &a), "another epoch");
        assert!(!check_answer(&c, &Challenge { contribution_id: U256::from(4), ..challenge.clone() }, &a));
        let mut short = a.clone();
        short.proofs.pop();
        assert!(!check_answer(&c, &challenge, &short), "a missing chunk");
    }
}
