//! `glance-manage`: database management (see `glance_server::manage`).

use std::process::ExitCode;

use clap::Parser;
use glance_config::{load_for_program, LoadOptions};
use glance_server::manage::{self, Cli, Outcome};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match load_for_program(
        "glance-manage",
        &LoadOptions {
            config_files: cli.config_file.clone(),
            config_dirs: cli.config_dir.clone(),
            data_dir: None,
            use_default_search_path: true,
            require_config_file: false,
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Logs go to stderr, as upstream's glance-manage sets use_stderr.
    let default = if settings.debug { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(manage::run(cli.command, &settings)) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Code(code)) => ExitCode::from(code),
        Ok(Outcome::Failed(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            ExitCode::FAILURE
        }
    }
}
