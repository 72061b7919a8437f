//! `glance-scrubber`: removes the data of images deleted under `delayed_delete`.
//! Runs one pass and exits (for cron, as in the seeds), or with `--daemon` a pass
//! every `wakeup_time` seconds until SIGTERM; `--restore <IMAGE_ID>` puts a
//! `pending_delete` image back to `active`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use glance_config::load_for_program;
use glance_core::{CoreError, Glance};

use crate::serving::{shutdown_signal, ServerArgs};

pub const PROGRAM: &str = "glance-scrubber";

/// Where glance-control keeps the scrubber's pid file by default.
const CONTROL_PID_FILE: &str = "/var/run/glance/glance-scrubber.pid";

#[derive(Parser, Debug)]
#[command(name = "glance-scrubber", version, about = "Glance scrub service")]
pub struct ScrubberArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Run as a daemon: a pass every `wakeup_time` seconds until stopped.
    #[arg(short = 'D', long = "daemon", overrides_with = "nodaemon")]
    pub daemon: bool,
    /// The inverse of --daemon (over `daemon = True` in the configuration).
    #[arg(long = "nodaemon")]
    pub nodaemon: bool,
    /// Restore the image status from 'pending_delete' to 'active'.
    #[arg(long = "restore", value_name = "IMAGE_ID")]
    pub restore: Option<String>,
}

/// A failure with upstream's `ERROR: ...` exit message.
#[derive(Debug, thiserror::Error)]
#[error("ERROR: {0}")]
pub struct ScrubberExit(pub String);

pub fn run(args: ScrubberArgs) -> anyhow::Result<()> {
    let settings = load_for_program(PROGRAM, &args.server.load_options())?;
    crate::logging::init(PROGRAM, &settings, &args.server.log_switches())?;
    let daemon = !args.nodaemon && (args.daemon || settings.scrubber.daemon);
    if args.restore.is_some() && daemon {
        return Err(ScrubberExit(
            "The restore and daemon options should not be set together. Please use either \
             of them in one request."
                .into(),
        )
        .into());
    }
    let wakeup = Duration::from_secs(settings.scrubber.wakeup_time);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let glance = crate::build_state(settings).await?.glance;
        if let Some(id) = &args.restore {
            return restore(&glance, id).await;
        }
        if daemon {
            run_daemon(&glance, wakeup).await;
            return Ok(());
        }
        let report = glance
            .scrub()
            .await
            .context("Can not get scrub jobs from queue")?;
        tracing::info!(
            scrubbed = report.scrubbed.len(),
            left_pending = report.failed.len(),
            "scrubber pass done"
        );
        Ok(())
    })
}

async fn restore(glance: &Glance, id: &str) -> anyhow::Result<()> {
    // Scrubbing while restoring could remove the data of an image that comes back.
    if scrubber_already_running() {
        return Err(ScrubberExit(
            "glance-scrubber is already running. Please ensure that the daemon is stopped.".into(),
        )
        .into());
    }
    match glance.restore_pending(id).await {
        Ok(()) => {
            tracing::info!(image = id, "image restored to active");
            Ok(())
        }
        Err(CoreError::NotFound(m) | CoreError::Conflict(m)) => Err(ScrubberExit(m).into()),
        Err(e) => Err(e.into()),
    }
}

/// A pass every `wakeup` until SIGTERM or Ctrl-C. Stopping mid-pass is safe: each
/// step is recorded only once done, and the next run picks up where this one was.
async fn run_daemon(glance: &Glance, wakeup: Duration) {
    tracing::info!(wakeup_time = wakeup.as_secs(), "Starting Daemon");
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            result = glance.scrub() => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "scrubber pass failed; trying again next wake-up");
                }
            }
        }
        tracing::debug!("Next run scheduled in {} seconds", wakeup.as_secs());
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(wakeup) => {}
        }
    }
    tracing::info!("Daemon stopped");
}

/// Upstream's check: glance-control's pid file names a live process, or another
/// process runs the glance-scrubber program.
fn scrubber_already_running() -> bool {
    let recorded = std::fs::read_to_string(CONTROL_PID_FILE)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok());
    if recorded.is_some_and(|pid| pid != std::process::id() && crate::control::alive(pid)) {
        return true;
    }
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return false;
        };
        pid != me && runs_scrubber(&entry.path()) && crate::control::alive(pid)
    })
}

/// Whether the process at `/proc/<pid>` runs the glance-scrubber program.
fn runs_scrubber(proc_dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    Path::new(std::str::from_utf8(argv0).unwrap_or_default())
        .file_name()
        .is_some_and(|name| name == PROGRAM)
}
