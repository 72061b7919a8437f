//! `glance-api`: the Image API server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use glance_config::{load, LoadOptions};
use tracing_subscriber::EnvFilter;

// Listing and rendering a page of 1,000 images makes tens of thousands of small
// allocations; mimalloc serves them markedly faster than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "glance-api", version, about = "OpenStack Image API server")]
struct Args {
    /// Path to a config file (oslo INI); may be repeated.
    #[arg(long = "config-file")]
    config_file: Vec<PathBuf>,
    /// Directory of *.conf files loaded after the config files; may be repeated.
    #[arg(long = "config-dir")]
    config_dir: Vec<PathBuf>,
    /// Where the embedded SQLite database and filesystem store live (default ./glance-data).
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line with the whole cause chain; no backtrace for operators.
            eprintln!("glance-api: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let settings = load(&LoadOptions {
        config_files: args.config_file,
        config_dirs: args.config_dir,
        data_dir: args.data_dir,
        use_default_search_path: true,
    })?;
    init_logging(&settings)?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = settings.workers {
        runtime.worker_threads(workers.max(1));
    }
    runtime.enable_all().build()?.block_on(serve(settings))
}

fn init_logging(settings: &glance_config::Settings) -> anyhow::Result<()> {
    let default = if settings.debug { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match &settings.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening log_file {}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => builder.init(),
    }
    Ok(())
}

async fn serve(settings: glance_config::Settings) -> anyhow::Result<()> {
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
    let db_url = glance_server::database_url(&settings)?;
    let state = glance_server::build_state(settings).await?;
    let app = glance_api::build_app(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        "glance-api serving on http://{} (data directory {}, database {})",
        listener.local_addr()?,
        data_dir.display(),
        glance_db::redact_url(&db_url)
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
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
