//! `hearth serve`: the HTTP API on this data directory until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hearth_core::SystemClock;
use hearth_server::state::{AppState, Parts};

use crate::config::Custody;
use crate::error::CliError;
use crate::node::{Node, connect_collective};

/// Runs the server.
pub async fn run(data_dir: &Path, bind: Option<SocketAddr>) -> Result<(), CliError> {
    // Structured logs on stderr: key=value lines, or JSON lines with HEARTH_LOG_FORMAT=json.
    let filter = tracing_subscriber::EnvFilter::try_from_env("HEARTH_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::env::var("HEARTH_LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().try_init()
    } else {
        logs.try_init()
    };
    let node = Node::load(data_dir)?;
    let (keys, _) = node.server_keys()?;
    let contracts = node.contracts().await?;
    let store = node.store().await?;
    let mut config = node.config.serve.clone();
    if let Some(bind) = bind {
        config.bind = bind;
    }
    let parts = Parts {
        config: config.clone(),
        data_dir: data_dir.to_owned(),
        keys,
        owner: node.owner().address,
        owner_recipient: node.owner().recipient.clone(),
        contracts,
        store,
        clock: Arc::new(SystemClock),
    };
    let mut state = AppState::open(parts).map_err(CliError::Missing)?;
    let mut challenger = None;
    if let Some(section) = &node.config.collective {
        // The same chain handle as the suite's: the embedded chain is opened once per process.
        let collective = connect_collective(state.contracts.chain().clone(), section).await?;
        // Not on stdout: its first line is the listening address.
        tracing::info!(governor = %section.contracts.governor, custody = section.custody.as_str(), "serving a collective");
        if section.custody == Custody::Liveness && collective.liveness().challenger().await? == state.server.address() {
            challenger = Some(collective.clone());
        }
        state.collective = Some(collective);
    }
    let state = Arc::new(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let epochs = challenger.map(|collective| {
        tracing::info!("challenging liveness contributions once per epoch");
        tokio::spawn(hearth_server::liveness::schedule::run(
            collective,
            state.contracts.clone(),
            state.server.clone(),
            state.clock.clone(),
            hearth_server::liveness::schedule::ScheduleConfig::default(),
            stop_rx,
        ))
    });
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| CliError::Io { what: format!("listening on {}", config.bind), source })?;
    let local =
        listener.local_addr().map_err(|source| CliError::Io { what: "reading the bound address".into(), source })?;
    println!("hearth listening on http://{local}");
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    let served = hearth_server::serve(state, listener, shutdown).await;
    if let Some(epochs) = epochs {
        // Told to stop by the shutdown, even in the middle of a round.
        let _ = epochs.await;
    }
    served.map_err(|source| CliError::Io { what: "serving".into(), source })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
}
