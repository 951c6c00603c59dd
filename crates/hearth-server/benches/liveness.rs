//! Liveness benchmark: the node's pure verification of one contributor's answer
//! (`check_answer`: [`CHALLENGED`] chunks of [`CHUNK_BYTES`] with their proofs against the
//! commitment of a [`CIPHERTEXT_BYTES`] ciphertext), over [`ITERATIONS`] runs; prints the
//! median and the spread per contributor. No chain. Run with `bench/liveness.sh`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_server::liveness::{Challenge, answer, challenge_indexes, check_answer, commit};

/// Bytes per chunk (64 KiB).
const CHUNK_BYTES: usize = 64 * 1024;
/// The contributed ciphertext's size (64 MiB).
const CIPHERTEXT_BYTES: usize = 64 * 1024 * 1024;
/// Chunks challenged per contributor and epoch.
const CHALLENGED: usize = 8;
/// Timed verifications.
const ITERATIONS: usize = 500;

fn main() {
    let ciphertext: Vec<u8> = (0..CIPHERTEXT_BYTES).map(|i| (i as u64).wrapping_mul(2_654_435_761) as u8).collect();
    let started = Instant::now();
    let commitment = commit(&ciphertext, CHUNK_BYTES).unwrap();
    let commit_time = started.elapsed();
    let id = U256::from(1);
    let indexes = challenge_indexes(B256::repeat_byte(0x5e), id, commitment.chunk_count, CHALLENGED).unwrap();
    let challenge = Challenge { contribution_id: id, epoch: 7, indexes };
    let started = Instant::now();
    let reply = answer(&ciphertext, CHUNK_BYTES, &challenge).unwrap();
    let answer_time = started.elapsed();

    let mut samples: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let started = Instant::now();
            assert!(black_box(check_answer(black_box(&commitment), black_box(&challenge), black_box(&reply))));
            started.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "liveness: {} MiB ciphertext, {} chunks of {} KiB, {} challenged",
        CIPHERTEXT_BYTES >> 20,
        commitment.chunk_count,
        CHUNK_BYTES >> 10,
        CHALLENGED
    );
    println!(
        "check_answer per contributor: median {:.1} µs (p10 {:.1} µs, p90 {:.1} µs, {} runs)",
        at(0.5).as_secs_f64() * 1e6,
        at(0.1).as_secs_f64() * 1e6,
        at(0.9).as_secs_f64() * 1e6,
        ITERATIONS
    );
    println!(
        "contributor side, once: commit {:.0} ms, answer (tree + proofs) {:.0} ms",
        commit_time.as_secs_f64() * 1e3,
        answer_time.as_secs_f64() * 1e3
    );
}
