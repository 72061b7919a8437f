//! `glance-registry`: the seeds' registry server (image metadata as JSON, port 9191),
//! on the same database as `glance-api`.

use clap::Parser;
use glance_server::serving::{exit_code, run, ServerArgs};

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
    let program = "glance-registry";
    exit_code(
        program,
        run(
            program,
            Args::parse().server,
            glance_api::build_registry_app,
        ),
    )
}
