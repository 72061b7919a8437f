//! `glance-api`: the Image API server.

use clap::Parser;
use glance_server::serving::{exit_code, run, ServerArgs};

// Listing and rendering a page of 1,000 images makes tens of thousands of small
// allocations; mimalloc serves them markedly faster than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "glance-api", version, about = "OpenStack Image API server")]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> std::process::ExitCode {
    let program = "glance-api";
    exit_code(
        program,
        run(program, Args::parse().server, glance_api::build_app),
    )
}
