//! Command-line syntax. This layer only parses: it touches no files.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// hearth: a personal data server whose permissions live on chain.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about)]
pub struct Args {
    /// The data directory [default: $XDG_DATA_HOME/hearth or ~/.local/share/hearth].
    #[arg(long, global = true, env = "HEARTH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory and the server's keys, and register the server on chain.
    /// Never overwrites existing keys. The key file is sealed with a passphrase when
    /// HEARTH_PASSPHRASE is set or --seal is given.
    Init(InitArgs),
    /// The owner's keys.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// The owner's encrypted data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Inspect or set up the chain that holds permissions.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Run the HTTP API on this data directory.
    Serve {
        /// Address to listen on (overrides `[serve] bind`); port 0 picks a free port.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::SocketAddr>,
    },
    /// The owner's grants, through a running server.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// An app's side: register, and fetch data it was granted.
    #[command(subcommand)]
    App(AppCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// OCI images: the operations apps may run, named by manifest digest.
    #[command(subcommand)]
    Image(ImageCommand),
    /// A data collective on this node's chain: deploy its contracts, show them, delegate votes.
    #[command(subcommand)]
    Collective(CollectiveCommand),
    /// Contribute files to a collective: each is encrypted here to the node's age
    /// recipient and its ciphertext hash signed (DataRegistry `AddFile`, scope
    /// `contributions`) with the member's key from HEARTH_MEMBER_KEY; the node checks both.
    Contribute {
        /// The collective node's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The collective node's server address: nothing is sent unless the server at URL
        /// is this node and serves the recipient it registered on chain.
        #[arg(long, value_name = "ADDRESS")]
        collective: alloy_primitives::Address,
        /// Files to contribute.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Liveness collectives, the contributor's side: commit a kept file, claim rewards, status.
    #[command(subcommand)]
    Liveness(LivenessCommand),
    /// Code the collective runs, decided by vote: propose, vote, queue, execute, list.
    /// The acting wallet is HEARTH_MEMBER_KEY (hex) when set, otherwise the owner's.
    #[command(subcommand)]
    Code(CodeCommand),
    /// A guided tour on the embedded chain in a fresh temporary data directory: an
    /// owner, a server and an app; sample data; a COMPUTE grant for an example
    /// operation; the job and its result; the audit record's inclusion proof; the
    /// grant revoked and the next request refused. Needs root and runc.
    Demo {
        /// Keep the temporary data directory (its path is printed).
        #[arg(long)]
        keep: bool,
    },
}

/// `hearth image …`
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import a `docker save` / `podman save` tarball or an OCI image layout (directory
    /// or tar); every digest is verified and the root filesystem unpacked read-only.
    Import {
        /// The archive or layout directory.
        path: std::path::PathBuf,
    },
    /// List imported images.
    Ls {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `hearth grant …` (signed by the owner's wallet).
#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Sign a grant and have the server submit it to the chain.
    Create {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The app (grantee) address.
        #[arg(long, value_name = "ADDRESS")]
        app: String,
        /// Scope patterns (`journal`, `messages.*`, `*`); repeat for several.
        #[arg(long = "scope", required = true, value_name = "PATTERN")]
        scopes: Vec<String>,
        /// `compute` (results only) or `read` (a full copy).
        #[arg(long)]
        access: String,
        /// Operation digests (0x + 32 bytes) the app may run; repeat for several.
        #[arg(long = "op", value_name = "DIGEST")]
        operations: Vec<String>,
        /// Fix the parameters to those hashing to this (0x + 32 bytes).
        #[arg(long, value_name = "HASH")]
        params_hash: Option<String>,
        /// How long the grant lasts, in seconds.
        #[arg(long, default_value_t = 30 * 24 * 3600)]
        valid_secs: u64,
    },
    /// List the owner's grants.
    Ls {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
    },
    /// Revoke a grant (a signed revocation the server submits).
    Revoke {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The grant id.
        id: String,
    },
}

/// `hearth app …` (signed by the app's key in `--app-dir`).
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create the app's key and age identity (once) and register them on chain.
    Register {
        /// The server's URL (it relays the signed registration).
        #[arg(long, value_name = "URL")]
        server: String,
        /// Where the app's key file lives.
        #[arg(long, value_name = "DIR")]
        app_dir: std::path::PathBuf,
        /// The app's display name.
        #[arg(long, default_value = "hearth app")]
        name: String,
        /// The app's URL.
        #[arg(long, default_value = "")]
        url: String,
    },
    /// Fetch a file of a scope under a READ grant and decrypt it with the app's identity.
    Get {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Where the app's key file lives.
        #[arg(long, value_name = "DIR")]
        app_dir: std::path::PathBuf,
        /// The grant id.
        #[arg(long)]
        grant: String,
        /// The scope.
        #[arg(long)]
        scope: String,
        /// Which file (needed when the scope holds several).
        #[arg(long)]
        file: Option<u64>,
        /// Where to write the plaintext.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Run an operation over a scope under a COMPUTE grant; wait for it and print its
    /// phases and result. Exit code 1 when the job ends other than succeeded.
    Run {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Where the app's key file lives.
        #[arg(long, value_name = "DIR")]
        app_dir: std::path::PathBuf,
        /// The grant id.
        #[arg(long)]
        grant: String,
        /// The operation: the image's manifest digest.
        #[arg(long)]
        operation: String,
        /// The scope whose files are the inputs.
        #[arg(long)]
        scope: String,
        /// Parameters as JSON (`/input/params.json`).
        #[arg(long, default_value = "{}")]
        params: String,
        /// Where to write the decrypted output files besides result.json.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
    /// Print a job's status (phase, times, reason, result) as JSON.
    Job {
        /// The server's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Where the app's key file lives.
        #[arg(long, value_name = "DIR")]
        app_dir: std::path::PathBuf,
        /// The job id.
        id: String,
    },
}

/// `hearth audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record's hash chain and every anchored batch against the chain.
    /// Exit code 1 when a record fails.
    Verify,
    /// Print a record with its Merkle inclusion proof, checked against the root
    /// anchored on chain (exit code 1 when it does not verify).
    Proof {
        /// The record's sequence number.
        seq: u64,
    },
}

/// `hearth init`
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Create a new owner wallet (an Ethereum JSON keystore in the data directory),
    /// protected by HEARTH_OWNER_PASSPHRASE or a prompted passphrase.
    #[arg(long, conflicts_with = "owner_keystore")]
    pub new_owner: bool,
    /// The owner's existing Ethereum JSON keystore file.
    #[arg(long, value_name = "FILE")]
    pub owner_keystore: Option<PathBuf>,
    /// Seal the server's key file with a passphrase asked at the terminal.
    #[arg(long)]
    pub seal: bool,
    /// The URL this server will be reachable at (registered on chain).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8480")]
    pub url: String,
}

/// `hearth owner …`
#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Print the owner's age identity (derived from the owner's wallet), usable with
    /// `age -d -i`, with its recipient as a comment. This prints a secret.
    Identity,
}

/// `hearth data …`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Encrypt files to the server and the owner and store them (an age file already
    /// encrypted to the server's recipient is verified and stored as it is).
    Add {
        /// Files to add.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The scope they belong to (e.g. `journal`, `messages.sms`).
        #[arg(long)]
        scope: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List stored files.
    Ls {
        /// Only this scope or pattern (`messages.*`, `*`).
        #[arg(long)]
        scope: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decrypt a file to standard output.
    Cat {
        /// The file's id.
        id: u64,
    },
    /// Delete a file (and mark it removed on chain).
    Rm {
        /// The file's id.
        id: u64,
    },
    /// Write a copy of every file in a scope, re-encrypted to someone else's age recipient.
    Export {
        /// The scope or pattern to export.
        #[arg(long)]
        scope: String,
        /// The age recipient (`age1…`) that alone can read the copy.
        #[arg(long, value_name = "AGE_RECIPIENT")]
        to: String,
        /// Where to write `<id>.age` files.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
}

/// `hearth chain …`
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Show the backend, chain id, latest block and contract addresses.
    Info {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deploy the contract suite to an RPC chain and switch the config to it.
    /// The deployer key comes from HEARTH_DEPLOYER_KEY (hex).
    Deploy {
        /// The chain's JSON-RPC URL (http or https).
        #[arg(long, value_name = "URL")]
        rpc: String,
        /// Refuse unless the endpoint reports this chain id.
        #[arg(long, value_name = "ID")]
        chain_id: Option<u64>,
    },
}

/// `hearth liveness …`: the registry is `--registry`, else this data directory's collective's.
#[derive(Debug, Subcommand)]
pub enum LivenessCommand {
    /// Register the Merkle commitment over kept file FILE_ID (read from the running server)
    /// with the owner's wallet, and have the server answer the collective's challenges for it.
    Commit {
        /// This data directory's running server.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The collective's LivenessRegistry.
        #[arg(long, value_name = "ADDRESS")]
        registry: Option<alloy_primitives::Address>,
        /// Bytes per chunk.
        #[arg(long, default_value_t = crate::commands::COMMIT_CHUNK_BYTES_DEFAULT)]
        chunk_bytes: usize,
        /// The kept file's id on the server.
        file_id: u64,
    },
    /// Claim the rewards the owner's contributions accrued (the wallet `commit` registers with).
    Claim {
        /// The collective's LivenessRegistry.
        #[arg(long, value_name = "ADDRESS")]
        registry: Option<alloy_primitives::Address>,
    },
    /// The owner's contributions, their recent results and the unclaimed rewards.
    Status {
        /// The collective's LivenessRegistry.
        #[arg(long, value_name = "ADDRESS")]
        registry: Option<alloy_primitives::Address>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `hearth collective …`
#[derive(Debug, Subcommand)]
pub enum CollectiveCommand {
    /// Deploy a collective (token, timelock, governor, code and liveness registries) with
    /// this server's wallet as deployer and liveness challenger, and write `[collective]`.
    Init(CollectiveInitArgs),
    /// Show the collective's addresses, settings and members.
    Info {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The acting member (HEARTH_MEMBER_KEY, or the owner) delegates its votes to itself.
    /// Votes count only from then on: delegate before proposals are made.
    Delegate,
    /// Export the contributions for code the collective approved for export (signed by
    /// the node's owner): each file is re-encrypted to the destination server named in the
    /// approval and delivered to it.
    Export {
        /// The collective node's URL.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The approved code digest (`sha256:<hex>` or `0x<hex>`).
        #[arg(long, value_name = "DIGEST")]
        operation: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// On a requester's node: accept exports from a collective (its code registry) when
    /// they come from its node. Written to `[[serve.imports_from]]`; takes effect at the
    /// next `hearth serve`.
    AcceptExports {
        /// The collective's `CodeRegistry` address (`hearth collective info` on the node).
        #[arg(long, value_name = "ADDRESS")]
        registry: alloy_primitives::Address,
        /// The collective node's server address.
        #[arg(long, value_name = "ADDRESS")]
        node: alloy_primitives::Address,
    },
}

/// `hearth collective init`. Token amounts are in whole tokens (18 decimals; `1.5` allowed).
#[derive(Debug, clap::Args)]
pub struct CollectiveInitArgs {
    /// An initial member and its tokens; repeat for several.
    #[arg(long = "member", required = true, value_name = "ADDR=AMOUNT")]
    pub members: Vec<String>,
    /// The collective's name (the token's and the governor's).
    #[arg(long, default_value = "hearth collective")]
    pub name: String,
    /// The token's symbol.
    #[arg(long, default_value = "HEARTH")]
    pub symbol: String,
    /// Seconds from a proposal to its snapshot (votes count as delegated then).
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub voting_delay_secs: u64,
    /// Seconds a vote stays open.
    #[arg(long, default_value_t = 3600, value_name = "N")]
    pub voting_period_secs: u32,
    /// Seconds between queueing a passed proposal and executing it.
    #[arg(long, default_value_t = 3600, value_name = "N")]
    pub timelock_delay_secs: u64,
    /// Percent of the token supply that must vote for or abstain.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub quorum_percent: u8,
    /// Votes (tokens) needed to propose; 0 lets anyone, such as a data requester, propose.
    #[arg(long, default_value = "0", value_name = "N")]
    pub proposal_threshold: String,
    /// Length of a liveness epoch, in seconds.
    #[arg(long, default_value_t = 24 * 3600, value_name = "N")]
    pub epoch_secs: u64,
    /// Tokens one passed storage challenge earns.
    #[arg(long, default_value = "0", value_name = "N")]
    pub reward_per_pass: String,
    /// Tokens minted to the liveness registry to pay rewards from (they count in the
    /// supply that the quorum is a percentage of, but never vote).
    #[arg(long, default_value = "0", value_name = "N")]
    pub reward_pool: String,
    /// How contributions are kept: on this node (escrow) or by contributors (liveness).
    #[arg(long, value_enum, default_value_t = crate::config::Custody::Escrow)]
    pub custody: crate::config::Custody,
}

/// `hearth code …`
#[derive(Debug, Subcommand)]
pub enum CodeCommand {
    /// Propose approving code: IMAGE is a digest (`sha256:<hex>`, `0x<hex>`) or an image
    /// archive, imported into this data directory's image store first.
    Propose {
        /// A digest, or a `docker save` / `podman save` tarball or OCI layout.
        image: String,
        /// What voters read (a title line, then details).
        #[arg(long, value_name = "TEXT")]
        description: String,
        /// Where voters read what the code does [default: the digest].
        #[arg(long, value_name = "URI")]
        uri: Option<String>,
        /// Run it on this registered server after exporting the data to it, instead of on the node.
        #[arg(long, value_name = "NODE_ADDRESS")]
        export_to: Option<String>,
    },
    /// Propose revoking an approval.
    Revoke {
        /// The approved digest.
        digest: String,
        /// What voters read.
        #[arg(long, value_name = "TEXT")]
        description: String,
    },
    /// Vote on an active proposal with the votes delegated at its snapshot.
    Vote {
        /// The proposal id (decimal or 0x hex).
        id: String,
        /// for, against or abstain.
        #[arg(value_enum)]
        support: VoteChoice,
    },
    /// Queue a passed proposal in the timelock.
    Queue {
        /// The proposal id.
        id: String,
    },
    /// Execute a queued proposal once its timelock delay has passed.
    Execute {
        /// The proposal id.
        id: String,
    },
    /// List approvals and proposals.
    Ls {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A vote's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VoteChoice {
    /// In favour.
    For,
    /// Opposed.
    Against,
    /// Counts toward quorum only.
    Abstain,
}
