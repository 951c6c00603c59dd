//! One module per command group; `run` dispatches.

mod chain;

use crate::cli::{Args, ChainCommand, Command};
use crate::config;
use crate::error::CliError;

/// Runs the parsed command.
pub async fn run(args: Args) -> Result<(), CliError> {
    let data_dir = config::data_dir(args.data_dir)?;
    match args.command {
        Command::Chain(ChainCommand::Info { json }) => chain::info(&data_dir, json).await,
        Command::Chain(ChainCommand::Deploy { rpc, chain_id }) => chain::deploy(&data_dir, &rpc, chain_id).await,
    }
}
