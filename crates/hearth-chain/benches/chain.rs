//! Chain benchmark: "is this grant active" latency on the embedded backend and by
//! `eth_call` to a real anvil, side by side, and signed-grant submissions per second.
//! Run with `bench/chain.sh`; prints medians, p99 and the ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_chain::anvil::Anvil;
use hearth_chain::{Contracts, EmbeddedChain, EmbeddedConfig, Wallet, deploy_suite};
use hearth_core::{Access, Clock, GrantTerms, SystemClock};

/// Calls timed per backend for the latency figures.
const CALLS: usize = 2_000;
/// Grants submitted for the throughput figure.
const SUBMISSIONS: usize = 500;

fn terms(owner: &Wallet, app: &Wallet, nonce: u64) -> GrantTerms {
    let now = SystemClock.now_secs();
    GrantTerms {
        grantor: owner.address(),
        grantee: app.address(),
        scopes: vec!["journal".into(), "messages.*".into()],
        access: Access::Compute,
        operations: vec![B256::repeat_byte(0xab)],
        params_hash: B256::ZERO,
        not_before: now - 60,
        expires_at: now + 86_400,
        nonce: U256::from(nonce),
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats { median: samples[samples.len() / 2], p99: samples[samples.len() * 99 / 100] }
}

async fn is_active_latency(contracts: &Contracts, relayer: &Wallet) -> Stats {
    let (owner, app) = (Wallet::random(), Wallet::random());
    let t = terms(&owner, &app, 0);
    let p = contracts.permissions();
    let sig = p.sign_grant(&owner, &t).expect("sign");
    let (id, _) = p.submit_grant(relayer, &t, sig).await.expect("submit");
    let mut samples = Vec::with_capacity(CALLS);
    for i in 0..CALLS + 100 {
        let start = Instant::now();
        let active = p.is_active(id, app.address(), "messages.sms", Access::Compute, B256::repeat_byte(0xab)).await;
        let elapsed = start.elapsed();
        assert!(active.expect("isActive"), "grant must be active");
        if i >= 100 {
            samples.push(elapsed); // the first 100 warm up
        }
    }
    stats(samples)
}

async fn submissions(contracts: &Contracts, relayer: &Wallet, count: usize) -> (f64, Stats) {
    let owner = Wallet::random();
    let p = contracts.permissions();
    let signed: Vec<_> = (0..count)
        .map(|i| {
            let t = terms(&owner, &Wallet::random(), i as u64);
            let sig = p.sign_grant(&owner, &t).expect("sign");
            (t, sig)
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    let start = Instant::now();
    for (t, sig) in signed {
        let one = Instant::now();
        p.submit_grant(relayer, &t, sig).await.expect("submit");
        samples.push(one.elapsed());
    }
    (count as f64 / start.elapsed().as_secs_f64(), stats(samples))
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let embedded = EmbeddedChain::open(dir.path(), EmbeddedConfig::default()).expect("embedded");
    let deployment = embedded.deployment();
    let embedded = Contracts::connect(Arc::new(embedded), deployment, None).await.expect("connect");
    let relayer = Wallet::random();

    let anvil = Anvil::start().expect("anvil (run `npm --prefix contracts install`)");
    let rpc = anvil.chain().expect("rpc");
    let rpc_deployment = deploy_suite(&rpc, &anvil.dev_wallet()).await.expect("deploy");
    let rpc_contracts = Contracts::connect(Arc::new(rpc), rpc_deployment, None).await.expect("connect");
    assert_eq!(rpc_contracts.chain().backend().to_string(), "rpc");

    let e = is_active_latency(&embedded, &relayer).await;
    let r = is_active_latency(&rpc_contracts, &anvil.dev_wallet()).await;
    println!("isActive latency over {CALLS} calls (after 100 warm-up calls)");
    println!("  embedded (revm in process)   median {:>8.1} µs   p99 {:>8.1} µs", us(e.median), us(e.p99));
    println!("  anvil eth_call (loopback)    median {:>8.1} µs   p99 {:>8.1} µs", us(r.median), us(r.p99));
    println!("  ratio anvil / embedded       {:.1}x (medians)", us(r.median) / us(e.median));

    let (rate, s) = submissions(&embedded, &relayer, SUBMISSIONS).await;
    let (rpc_rate, rs) = submissions(&rpc_contracts, &anvil.dev_wallet(), SUBMISSIONS / 5).await;
    println!("signed-grant submissions (pre-signed by the owner, relayed, mined, durable)");
    println!(
        "  embedded   {rate:>8.0} grants/s over {SUBMISSIONS}   median {:>8.1} µs   p99 {:>8.1} µs",
        us(s.median),
        us(s.p99)
    );
    println!(
        "  anvil      {rpc_rate:>8.0} grants/s over {}   median {:>8.1} µs   p99 {:>8.1} µs",
        SUBMISSIONS / 5,
        us(rs.median),
        us(rs.p99)
    );
}
