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
    /// Inspect or set up the chain that holds permissions.
    #[command(subcommand)]
    Chain(ChainCommand),
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
