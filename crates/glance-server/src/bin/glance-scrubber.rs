//! `glance-scrubber`: the delayed-delete scrubber (see `glance_server::scrubber`).

use clap::Parser;
use glance_server::scrubber::{run, ScrubberArgs, ScrubberExit, PROGRAM};
use glance_server::serving::exit_code;

fn main() -> std::process::ExitCode {
    match run(ScrubberArgs::parse()) {
        Err(e) if e.is::<ScrubberExit>() => {
            // Upstream's `sys.exit("ERROR: ...")`: the message alone, status 1.
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
        result => exit_code(PROGRAM, result),
    }
}
