//! `glance-control`: starts, stops and reports the Glance servers as the seeds' tool
//! did, with pid files. A server is started detached (its own process group, standard
//! streams on /dev/null) from the binary next to `glance-control`, or on `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const SERVERS: [&str; 3] = ["glance-api", "glance-registry", "glance-scrubber"];
pub const COMMANDS: [&str; 7] = [
    "start",
    "stop",
    "shutdown",
    "restart",
    "reload",
    "force-reload",
    "status",
];

/// How long `stop` waits for a server to exit after the signal.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// What one run of `glance-control` was asked.
pub struct Control {
    /// `--pid-file`; otherwise `<run_dir>/<server>.pid`.
    pub pid_file: Option<PathBuf>,
    /// Where pid files live by default (`/var/run/glance`, as in the seeds).
    pub run_dir: PathBuf,
    /// `CONFPATH`, the configuration file to start the server with.
    pub conf: Option<PathBuf>,
}

/// The servers a `<SERVER>` argument names (`all`, `api`, `glance-api`, ...).
pub fn servers_named(name: &str) -> Result<Vec<&'static str>, String> {
    let name = name.to_lowercase();
    if name == "all" {
        return Ok(SERVERS.to_vec());
    }
    let full = if name.starts_with("glance-") {
        name.clone()
    } else {
        format!("glance-{name}")
    };
    SERVERS
        .iter()
        .find(|s| **s == full)
        .map(|s| vec![*s])
        .ok_or_else(|| {
            format!(
                "Unknown server '{full}' specified. Please specify all, or one of the servers: \
                 api, registry, scrubber"
            )
        })
}

pub(crate) fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by its parent) is not running.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

impl Control {
    fn pid_path(&self, server: &str) -> PathBuf {
        match &self.pid_file {
            Some(p) => std::path::absolute(p).unwrap_or_else(|_| p.clone()),
            None => self.run_dir.join(format!("{server}.pid")),
        }
    }

    /// The pid recorded for `server`, if its pid file exists and reads.
    fn recorded_pid(&self, server: &str) -> Option<(PathBuf, u32)> {
        let path = self.pid_path(server);
        let pid = std::fs::read_to_string(&path).ok()?.trim().parse().ok()?;
        Some((path, pid))
    }

    /// Runs `command` for `server`; the exit code.
    pub fn run(&self, command: &str, server: &str) -> i32 {
        match command {
            "start" => self.start(server),
            "stop" | "shutdown" => self.stop(server),
            "restart" | "reload" | "force-reload" => {
                // A restart re-reads the configuration: the servers read it at start.
                self.stop(server);
                self.start(server)
            }
            _ => self.status(server),
        }
    }

    pub fn start(&self, server: &str) -> i32 {
        if let Some((path, pid)) = self.recorded_pid(server) {
            if alive(pid) {
                println!("{server} appears to already be running: {}", path.display());
                return 1;
            }
            println!("Removing stale pid file {}", path.display());
            let _ = std::fs::remove_file(&path);
        }
        let pid_path = self.pid_path(server);
        if let Some(dir) = pid_path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!(
                    "Unable to create {}.  Running as non-root? ({e})",
                    dir.display()
                );
                return 1;
            }
        }
        let binary = server_binary(server);
        let mut command = Command::new(&binary);
        // A scrubber under a pid file is a service: it keeps running (one pass
        // every wakeup_time) instead of making one pass and exiting.
        if server == "glance-scrubber" {
            command.arg("--daemon");
        }
        match &self.conf {
            Some(conf) => {
                println!("Starting {server} with {}", conf.display());
                command.arg("--config-file").arg(conf);
            }
            None => println!("Starting {server} with its default configuration"),
        }
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                eprintln!("unable to launch {server}. Got error: {e}");
                return 1;
            }
        };
        if let Err(e) = std::fs::write(&pid_path, format!("{}\n", child.id())) {
            eprintln!("Unable to write the pid file {}: {e}", pid_path.display());
            let _ = child.kill();
            return 1;
        }
        // A server that cannot start (bad configuration, port taken) exits at once:
        // say so instead of leaving a pid file for nothing.
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                let _ = std::fs::remove_file(&pid_path);
                eprintln!(
                    "{server} exited at start ({status}); run it in the foreground to see why"
                );
                return 1;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        0
    }

    /// SIGTERM (the servers stop gracefully on it), then up to 15 s for the exit.
    pub fn stop(&self, server: &str) -> i32 {
        let Some((path, pid)) = self.recorded_pid(server) else {
            println!("No {server} running");
            return 0;
        };
        println!("Stopping {server}  pid: {pid}  signal: 15");
        let signalled = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !signalled {
            println!("Process {pid} not running");
        }
        let _ = std::fs::remove_file(&path);
        let deadline = Instant::now() + STOP_WAIT;
        while alive(pid) {
            if Instant::now() >= deadline {
                println!(
                    "Waited 15 seconds for pid {pid} ({}) to die; giving up",
                    path.display()
                );
                return 1;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        0
    }

    /// LSB's answers: 0 running, 1 dead with a pid file left, 3 not running.
    pub fn status(&self, server: &str) -> i32 {
        match self.recorded_pid(server) {
            Some((_, pid)) if alive(pid) => {
                println!("{server} (pid {pid}) is running...");
                0
            }
            Some((path, pid)) => {
                println!(
                    "{server} is dead (pid {pid} in {} is not running)",
                    path.display()
                );
                1
            }
            None => {
                println!("{server} is stopped");
                3
            }
        }
    }
}

/// The server's binary: next to this program when it is there (an installed set of
/// binaries), else found on `PATH`.
fn server_binary(server: &str) -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(server)));
    match beside {
        Some(path) if Path::new(&path).is_file() => path,
        _ => PathBuf::from(server),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_follow_the_seeds() {
        assert_eq!(servers_named("api").unwrap(), ["glance-api"]);
        assert_eq!(
            servers_named("glance-registry").unwrap(),
            ["glance-registry"]
        );
        assert_eq!(servers_named("ALL").unwrap().len(), 3);
        assert_eq!(
            servers_named("cache").unwrap_err(),
            "Unknown server 'glance-cache' specified. Please specify all, or one of the \
             servers: api, registry, scrubber"
        );
    }
}
