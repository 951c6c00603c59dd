//! One module per command group; `run` dispatches.

mod chain;
mod data;
mod init;
mod owner;

use crate::cli::{Args, ChainCommand, Command, DataCommand, OwnerCommand};
use crate::config;
use crate::error::CliError;

/// Runs the parsed command.
pub async fn run(args: Args) -> Result<(), CliError> {
    let data_dir = config::data_dir(args.data_dir)?;
    match args.command {
        Command::Init(init) => init::run(&data_dir, init).await,
        Command::Owner(OwnerCommand::Identity) => owner::identity(&data_dir),
        Command::Data(DataCommand::Add { files, scope, json }) => data::add(&data_dir, &files, &scope, json).await,
        Command::Data(DataCommand::Ls { scope, json }) => data::ls(&data_dir, scope.as_deref(), json).await,
        Command::Data(DataCommand::Cat { id }) => data::cat(&data_dir, id).await,
        Command::Data(DataCommand::Rm { id }) => data::rm(&data_dir, id).await,
        Command::Data(DataCommand::Export { scope, to, out }) => data::export(&data_dir, &scope, &to, &out).await,
        Command::Chain(ChainCommand::Info { json }) => chain::info(&data_dir, json).await,
        Command::Chain(ChainCommand::Deploy { rpc, chain_id }) => chain::deploy(&data_dir, &rpc, chain_id).await,
    }
}
