//! `glance-registry`: the seeds' registry server (image metadata as JSON, port 9191),
//! on the same database as `glance-api`.

use clap::Parser;
use glance_server::serving::{run, ServerArgs};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "glance-registry",
    version,
    about = "OpenStack Image registry server"
)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> std::process::ExitCode {
    match run(
        "glance-registry",
        Args::parse().server,
        glance_api::build_registry_app,
    ) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glance-registry: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
