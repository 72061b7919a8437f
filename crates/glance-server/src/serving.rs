//! What the server binaries share: the command line, logging, and serving an app
//! with a graceful stop.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use glance_config::{load_for_program, LoadOptions};

#[derive(Parser, Debug)]
pub struct ServerArgs {
    /// Path to a config file (oslo INI); may be repeated.
    #[arg(long = "config-file")]
    pub config_file: Vec<PathBuf>,
    /// Directory of *.conf files loaded after the config files; may be repeated.
    #[arg(long = "config-dir")]
    pub config_dir: Vec<PathBuf>,
    /// Where the embedded SQLite database and filesystem store live (default ./glance-data).
    #[arg(long = "data-dir")]
    pub data_dir: Option<PathBuf>,
    /// Log at INFO level (the seeds' default when `verbose` is not set to false).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Log at DEBUG level.
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    /// A Python logging configuration file (its root level and first handler are used).
    #[arg(long = "log-config", alias = "log-config-append")]
    pub log_config: Option<PathBuf>,
    /// Refuse to start when no configuration file is found (the seeds' rule); also
    /// on when the environment sets GLANCE_STRICT_CONFIG to 1, true or yes.
    #[arg(long = "strict-config")]
    pub strict_config: bool,
}

impl ServerArgs {
    /// What to read: the files and dirs given, else the search path.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            config_files: self.config_file.clone(),
            config_dirs: self.config_dir.clone(),
            data_dir: self.data_dir.clone(),
            use_default_search_path: true,
            require_config_file: self.strict_config || strict_from_env(),
        }
    }

    pub fn log_switches(&self) -> crate::logging::LogSwitches {
        crate::logging::LogSwitches {
            verbose: self.verbose,
            debug: self.debug,
            log_config: self.log_config.clone(),
        }
    }
}

/// `GLANCE_STRICT_CONFIG`: lets servers started by glance-control (which passes
/// only `--config-file`) be strict too.
fn strict_from_env() -> bool {
    std::env::var("GLANCE_STRICT_CONFIG")
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

/// The exit of a binary's `main`: the seeds' `ERROR: Unable to locate any
/// configuration file...` for strict mode, else one line with the cause chain.
pub fn exit_code(program: &str, result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<glance_config::ConfigError>() {
                Some(c @ glance_config::ConfigError::NoConfigFile { .. }) => {
                    eprintln!("ERROR: {c}")
                }
                // No backtrace for operators.
                _ => eprintln!("{program}: error: {e:#}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Loads `program`'s configuration (its `<program>.conf` on the search path when no
/// file is given), then serves `make_app` on its bind address.
pub fn run(
    program: &'static str,
    args: ServerArgs,
    make_app: fn(glance_api::AppState) -> axum::Router,
) -> anyhow::Result<()> {
    let settings = load_for_program(program, &args.load_options())?;
    crate::logging::init(program, &settings, &args.log_switches())?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = settings.workers {
        runtime.worker_threads(workers.max(1));
    }
    runtime
        .enable_all()
        .build()?
        .block_on(serve(program, settings, make_app))
}

/// Binds, builds the state and serves `make_app` until SIGTERM or Ctrl-C.
pub async fn serve(
    program: &str,
    settings: glance_config::Settings,
    make_app: fn(glance_api::AppState) -> axum::Router,
) -> anyhow::Result<()> {
    let addr: SocketAddr = format!("{}:{}", settings.bind_host, settings.bind_port)
        .parse()
        .or_else(|_| {
            std::net::ToSocketAddrs::to_socket_addrs(&(
                settings.bind_host.as_str(),
                settings.bind_port,
            ))
            .map_err(anyhow::Error::from)
            .and_then(|mut a| a.next().context("bind_host resolves to no address"))
        })
        .with_context(|| {
            format!(
                "invalid bind_host/bind_port {}:{}",
                settings.bind_host, settings.bind_port
            )
        })?;
    let data_dir = settings.data_dir.clone();
    let db_url = crate::database_url(&settings)?;
    let state = crate::build_state(settings).await?;
    let app = make_app(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        "{program} serving on http://{} (data directory {}, database {})",
        listener.local_addr()?,
        data_dir.display(),
        glance_db::redact_url(&db_url)
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
