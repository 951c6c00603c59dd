//! Contributions benchmark: 1 MiB age files, each encrypted beforehand to a collective
//! node with its member's signed `AddFile`, sent as signed `POST /v1/contributions` over
//! HTTP on loopback by 4 concurrent members. Per contribution the node decrypts it end to
//! end (the recipient check), stages and fsyncs it, relays the registration to
//! `DataRegistry` on the embedded chain, commits it and audits it. Prints contributions
//! per second and MiB/s. Run with `bench/contributions.sh`.

mod support;

use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_chain::{Collective, CollectiveParams, Wallet, deploy_collective};
use hearth_core::SystemClock;
use hearth_server::auth::RequestSigner;
use hearth_server::routes::contributions::CONTRIBUTIONS_SCOPE;
use sha2::Digest;

/// Concurrent members.
const MEMBERS: usize = 4;
/// Contributions each member sends.
const PER_MEMBER: usize = 16;
/// Plaintext bytes of one contribution.
const CONTRIBUTION_BYTES: usize = 1024 * 1024;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node_parts = support::node(dir.path(), None).await;
    let (contracts, node) = (node_parts.contracts.clone(), node_parts.server.clone());
    let members: Vec<Wallet> = (0..MEMBERS).map(|_| Wallet::random()).collect();
    let params = CollectiveParams {
        name: "bench".into(),
        symbol: "B".into(),
        members: members.iter().map(|m| (m.address(), U256::from(1))).collect(),
        voting_delay_secs: 1,
        voting_period_secs: 10,
        proposal_threshold: U256::ZERO,
        quorum_percent: 50,
        timelock_delay_secs: 1,
        challenger: node.address(),
        epoch_secs: 3600,
        reward_per_pass: U256::ZERO,
        reward_pool: U256::ZERO,
    };
    let chain = contracts.chain().clone();
    let collective_deployment = deploy_collective(chain.as_ref(), &node, &params).await.expect("collective");
    let collective = Collective::connect(chain, collective_deployment).await.expect("connect");

    // What each member's device prepares: ciphertext to the node and a signed registration.
    let recipient = node_parts.keys.age_recipient();
    let data = contracts.data();
    let mut prepared: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    for member in &members {
        let mut mine = Vec::new();
        for n in 0..PER_MEMBER {
            let mut plain = vec![0u8; CONTRIBUTION_BYTES];
            getrandom::fill(&mut plain).expect("random");
            let mut ciphertext = Vec::new();
            hearth_crypto::encrypt(std::slice::from_ref(&recipient), &plain[..], &mut ciphertext).expect("encrypt");
            let sha256 = B256::from_slice(&sha2::Sha256::digest(&ciphertext));
            let uri = hearth_server::routes::owner::file_uri(node.address(), sha256);
            let nonce = U256::from(n);
            let signature = data.sign_add_file(member, &uri, sha256, CONTRIBUTIONS_SCOPE, nonce).expect("sign");
            mine.push((format!("/v1/contributions?name=c{n}&nonce={nonce}&registration={signature}"), ciphertext));
        }
        prepared.push(mine);
    }

    let state = support::state(node_parts, dir.path(), support::config(), |s| s.collective = Some(collective));
    let (url, stop) = support::serve(state).await;

    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (member, mine) in members.into_iter().zip(prepared) {
        let signer = RequestSigner::new(member, node.address(), contracts.chain_id());
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            for (target, body) in mine {
                let headers = signer
                    .sign("POST", &target, &body, hearth_core::Clock::now_secs(&SystemClock), 60)
                    .expect("sign request");
                let mut request = http.post(format!("{url}{target}")).body(body);
                for (name, value) in headers.to_pairs() {
                    request = request.header(name, value);
                }
                let response = request.send().await.expect("send");
                assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
            }
        }));
    }
    for t in tasks {
        t.await.expect("member");
    }
    let elapsed: Duration = started.elapsed();
    let total = MEMBERS * PER_MEMBER;
    let rate = total as f64 / elapsed.as_secs_f64();
    let mib = (total * CONTRIBUTION_BYTES) as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64();
    println!("{total} contributions of 1 MiB from {MEMBERS} concurrent members, HTTP on loopback, embedded chain");
    println!("  {rate:>6.1} contributions/s   {mib:>6.1} MiB/s   ({:.2} s)", elapsed.as_secs_f64());
    let _ = stop.send(());
}
