//! Named limits of the chain layer; the unit is the last word of each name.

/// Gas a single transaction or call may use on the embedded chain.
pub const TX_GAS_MAX: u64 = 16_000_000;
/// Gas of one embedded block (one transaction per block).
pub const BLOCK_GAS_MAX: u64 = 30_000_000;
/// Largest signed transaction the embedded chain accepts.
pub const RAW_TX_BYTES_MAX: usize = 128 * 1024;
/// Most logs one query returns; narrow the block range for more.
pub const LOGS_PER_QUERY_MAX: usize = 10_000;
/// How long one RPC request may take before the endpoint counts as unreachable.
pub const RPC_TIMEOUT_SECS: u64 = 10;
/// How long to wait for a submitted transaction to be mined.
pub const RECEIPT_WAIT_SECS_MAX: u64 = 120;
/// First pause between polls for a receipt; it doubles up to [`RECEIPT_POLL_MILLIS_MAX`].
pub const RECEIPT_POLL_MILLIS_MIN: u64 = 1;
/// Longest pause between polls for a receipt.
pub const RECEIPT_POLL_MILLIS_MAX: u64 = 250;
/// Longest line of the embedded chain's journal (a record holds one transaction).
pub const JOURNAL_LINE_BYTES_MAX: usize = 2 * RAW_TX_BYTES_MAX + 1024;
/// Most members `deploy_collective` seeds with tokens (one mint transaction each).
pub const COLLECTIVE_MEMBERS_MAX: usize = 1_000;
/// Most token holders `Membership::holders` lists.
pub const COLLECTIVE_HOLDERS_LISTED_MAX: usize = 10_000;
/// Most calls in one governance proposal.
pub const PROPOSAL_ACTIONS_MAX: usize = 16;
/// Longest proposal description (it is stored in the `ProposalCreated` event).
pub const PROPOSAL_DESCRIPTION_BYTES_MAX: usize = 16 * 1024;
/// Most approved code digests one listing reads (one view call each).
pub const CODE_DIGESTS_LISTED_MAX: u64 = 10_000;
/// Blocks whose hash the embedded chain's `BLOCKHASH` answers (the EVM's window).
pub const BLOCK_HASHES_KEPT: u64 = 256;
