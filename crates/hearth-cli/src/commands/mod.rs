//! One module per command group; `run` dispatches.

/// Appends one formatted line to a `String` (which cannot fail), for output printed at once
/// with [`emit`].
macro_rules! put {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

mod app;
mod audit;
mod chain;
mod code;
mod collective;
mod contribute;
mod data;
mod demo;
mod grant;
mod image;
mod init;
mod liveness;
mod owner;
mod serve;

use crate::cli::{
    AppCommand, Args, AuditCommand, ChainCommand, CodeCommand, CollectiveCommand, Command, DataCommand, GrantCommand,
    ImageCommand, LivenessCommand, OwnerCommand,
};
use crate::config;

use crate::error::CliError;
pub use liveness::COMMIT_CHUNK_BYTES_DEFAULT;

/// Writes `text` to standard output; a reader that left early (`| head`) is reported as a
/// broken pipe, which `main` treats as success.
pub(crate) fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io { what: "writing to standard output".into(), source })
}

/// Runs the parsed command.
pub async fn run(args: Args) -> Result<(), CliError> {
    if let Command::Demo { keep } = args.command {
        // The demo makes its own data directory.
        return demo::run(keep).await;
    }
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
        Command::Serve { bind } => serve::run(&data_dir, bind).await,
        Command::Grant(GrantCommand::Create { server, app, scopes, access, operations, params_hash, valid_secs }) => {
            let args = grant::CreateArgs { server, app, scopes, access, operations, params_hash, valid_secs };
            grant::create(&data_dir, args).await
        }
        Command::Grant(GrantCommand::Ls { server }) => grant::ls(&data_dir, &server).await,
        Command::Grant(GrantCommand::Revoke { server, id }) => grant::revoke(&data_dir, &server, &id).await,
        Command::App(AppCommand::Register { server, app_dir, name, url }) => {
            app::register(&server, &app_dir, &name, &url).await
        }
        Command::App(AppCommand::Get { server, app_dir, grant, scope, file, out }) => {
            app::get(app::GetArgs { server, app_dir, grant, scope, file, out }).await
        }
        Command::App(AppCommand::Run { server, app_dir, grant, operation, scope, params, out_dir }) => {
            app::run(app::RunArgs { server, app_dir, grant, operation, scope, params, out_dir }).await
        }
        Command::App(AppCommand::Job { server, app_dir, id }) => app::job(&server, &app_dir, &id).await,
        Command::Demo { .. } => unreachable!("handled above"),
        Command::Audit(AuditCommand::Verify) => audit::verify(&data_dir).await,
        Command::Audit(AuditCommand::Proof { seq }) => audit::proof(&data_dir, seq).await,
        Command::Image(ImageCommand::Import { path }) => image::import(&data_dir, &path),
        Command::Image(ImageCommand::Ls { json }) => image::ls(&data_dir, json),
        Command::Contribute { server, collective, files } => {
            contribute::run(&data_dir, &server, collective, &files).await
        }
        Command::Liveness(LivenessCommand::Commit { server, registry, chunk_bytes, file_id }) => {
            liveness::commit(&data_dir, &server, registry, chunk_bytes, file_id).await
        }
        Command::Liveness(LivenessCommand::Claim { registry }) => liveness::claim(&data_dir, registry).await,
        Command::Liveness(LivenessCommand::Status { registry, json }) => {
            liveness::status(&data_dir, registry, json).await
        }
        Command::Collective(CollectiveCommand::Init(init)) => collective::init(&data_dir, init).await,
        Command::Collective(CollectiveCommand::Info { json }) => collective::info(&data_dir, json).await,
        Command::Collective(CollectiveCommand::Delegate) => collective::delegate(&data_dir).await,
        Command::Collective(CollectiveCommand::Export { server, operation, json }) => {
            collective::export(&data_dir, &server, &operation, json).await
        }
        Command::Collective(CollectiveCommand::AcceptExports { registry, node }) => {
            collective::accept_exports(&data_dir, registry, node)
        }
        Command::Code(CodeCommand::Propose { image, description, uri, export_to }) => {
            code::propose(&data_dir, &image, &description, uri.as_deref(), export_to.as_deref()).await
        }
        Command::Code(CodeCommand::Revoke { digest, description }) => {
            code::revoke(&data_dir, &digest, &description).await
        }
        Command::Code(CodeCommand::Vote { id, support }) => code::vote(&data_dir, &id, support).await,
        Command::Code(CodeCommand::Queue { id }) => code::queue(&data_dir, &id).await,
        Command::Code(CodeCommand::Execute { id }) => code::execute(&data_dir, &id).await,
        Command::Code(CodeCommand::Ls { json }) => code::ls(&data_dir, json).await,
    }
}
