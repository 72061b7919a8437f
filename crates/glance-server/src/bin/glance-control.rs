//! `glance-control [options] <SERVER> <COMMAND> [CONFPATH]`: starts, stops, restarts,
//! reloads and reports the Glance servers with pid files, as the seeds' tool.

use std::path::PathBuf;

use glance_server::control::{servers_named, Control, COMMANDS};

const USAGE: &str = "Usage: glance-control [options] <SERVER> <COMMAND> [CONFPATH]

Where <SERVER> is one of:

    all, api, registry, scrubber

And command is one of:

    start, stop, shutdown, restart, reload, force-reload, status

And CONFPATH is the optional configuration file to use.

Options:
  --version          show program's version number and exit
  -h, --help         show this help message and exit
  --pid-file=PATH    File to use as pid file. Default: /var/run/glance/$server.pid";

fn main() {
    std::process::exit(run(std::env::args().skip(1).collect()));
}

fn run(args: Vec<String>) -> i32 {
    let mut pid_file = None;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            "--version" => {
                println!("glance-control {}", env!("CARGO_PKG_VERSION"));
                return 0;
            }
            "--pid-file" => match args.next() {
                Some(v) => pid_file = Some(PathBuf::from(v)),
                None => {
                    eprintln!("glance-control: error: --pid-file option requires an argument");
                    return 2;
                }
            },
            other if other.starts_with("--pid-file=") => {
                pid_file = Some(PathBuf::from(&other["--pid-file=".len()..]));
            }
            other if other.starts_with('-') => {
                eprintln!("{USAGE}\n\nglance-control: error: no such option: {other}");
                return 2;
            }
            other => positional.push(other.to_string()),
        }
    }
    if positional.len() < 2 {
        println!("{USAGE}");
        return 1;
    }
    let servers = match servers_named(&positional[0]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let command = positional[1].to_lowercase();
    if !COMMANDS.contains(&command.as_str()) {
        eprintln!(
            "Unknown command {command} specified. Please specify a command in this list: {}",
            COMMANDS.join(", ")
        );
        return 1;
    }
    let control = Control {
        pid_file,
        run_dir: PathBuf::from("/var/run/glance"),
        conf: positional.get(2).map(PathBuf::from),
    };
    servers
        .iter()
        .map(|server| control.run(&command, server))
        .max()
        .unwrap_or(0)
}
