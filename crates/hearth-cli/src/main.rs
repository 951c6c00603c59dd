//! `hearth`: the command-line entry point. Parse, then run, then turn the outcome into an
//! exit code (0 success, 2 error) with one line on stderr per error.

#![forbid(unsafe_code)]

mod cli;
mod client;
mod commands;
mod config;
mod error;
mod node;
mod secrets;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        // `hearth data cat … | head`: the reader left; not an error.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(crate::error::CliError::CheckFailed(report)) => {
            eprintln!("{report}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
