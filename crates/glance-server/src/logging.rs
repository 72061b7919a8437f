//! Where the servers log and how, from the seeds' options: `debug` / `verbose` (DEBUG,
//! INFO or WARNING), `log_file` / `log_dir`, `log_date_format`, `use_syslog` with
//! `syslog_log_facility`, and a Python logging file given by `--log-config`
//! (`log_config_append`), of which the root logger's level and first handler are used.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use glance_config::Settings;
use tracing::Level;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The local syslog socket (`GLANCE_SYSLOG_SOCKET` names another, e.g. for tests).
fn syslog_socket_path() -> PathBuf {
    std::env::var_os("GLANCE_SYSLOG_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/log"))
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq)]
enum Destination {
    Stdout,
    Stderr,
    File(PathBuf),
    Syslog,
}

/// What a Python logging configuration file says that we honour.
#[derive(Debug, Clone, PartialEq)]
struct PythonLogConfig {
    level: Option<String>,
    destination: Destination,
}

/// Reads `[logger_root]` (level, first handler) and that `[handler_<name>]` (class and
/// the first quoted string of `args`).
fn read_python_log_config(text: &str) -> Result<PythonLogConfig, String> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.trim().to_string(), Vec::new()));
        } else if let (Some((key, value)), Some(section)) =
            (line.split_once(['=', ':']), sections.last_mut())
        {
            section
                .1
                .push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let get = |section: &str, key: &str| -> Option<String> {
        sections
            .iter()
            .find(|(name, _)| name == section)
            .and_then(|(_, items)| items.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    };
    let handler = get("logger_root", "handlers")
        .and_then(|h| {
            h.split(',')
                .map(str::trim)
                .find(|h| !h.is_empty())
                .map(String::from)
        })
        .ok_or("no [logger_root] with handlers")?;
    let section = format!("handler_{handler}");
    let class = get(&section, "class").ok_or(format!("no class in [{section}]"))?;
    let args = get(&section, "args").unwrap_or_default();
    let first_string = args.split(['\'', '"']).nth(1).map(str::to_string);
    let destination = match class.rsplit('.').next().unwrap_or(&class) {
        "FileHandler"
        | "WatchedFileHandler"
        | "RotatingFileHandler"
        | "TimedRotatingFileHandler" => Destination::File(PathBuf::from(
            first_string.ok_or(format!("no file name in [{section}] args"))?,
        )),
        "StreamHandler" if args.contains("stdout") => Destination::Stdout,
        "StreamHandler" => Destination::Stderr,
        "SysLogHandler" => Destination::Syslog,
        other => return Err(format!("handler class {other} is not supported")),
    };
    Ok(PythonLogConfig {
        level: get("logger_root", "level"),
        destination,
    })
}

/// The syslog facility number of a `syslog_log_facility` name.
fn facility_code(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_uppercase();
    let name = name.strip_prefix("LOG_").unwrap_or(&name);
    Some(match name {
        "KERN" => 0,
        "USER" => 1,
        "MAIL" => 2,
        "DAEMON" => 3,
        "AUTH" => 4,
        "SYSLOG" => 5,
        "LPR" => 6,
        "NEWS" => 7,
        "UUCP" => 8,
        "CRON" => 9,
        "AUTHPRIV" => 10,
        "FTP" => 11,
        local if local.starts_with("LOCAL") => {
            16 + local[5..].parse::<u8>().ok().filter(|n| *n < 8)?
        }
        _ => return None,
    })
}

fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Sends each log line as one datagram to the syslog socket.
#[derive(Clone)]
struct SyslogWriter {
    socket: Arc<UnixDatagram>,
    facility: u8,
    program: &'static str,
}

struct SyslogLine {
    writer: SyslogWriter,
    priority: u8,
    buf: Vec<u8>,
}

impl Write for SyslogLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let message = format!(
            "<{}>{}: {}",
            self.priority,
            self.writer.program,
            text.trim_end()
        );
        // A syslog that is gone cannot be told so; the line is lost, as with oslo.
        let _ = self.writer.socket.send(message.as_bytes());
    }
}

impl<'a> MakeWriter<'a> for SyslogWriter {
    type Writer = SyslogLine;
    fn make_writer(&'a self) -> SyslogLine {
        self.line(6)
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> SyslogLine {
        self.line(severity(meta.level()))
    }
}

impl SyslogWriter {
    fn line(&self, severity: u8) -> SyslogLine {
        SyslogLine {
            writer: self.clone(),
            priority: self.facility * 8 + severity,
            buf: Vec::new(),
        }
    }
}

/// Timestamps in `log_date_format` (local time, as Python's logging).
struct DateFormat(String);

impl FormatTime for DateFormat {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", chrono::Local::now().format(&self.0))
    }
}

fn check_date_format(format: &str) -> anyhow::Result<()> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        bail!("invalid value for option log_date_format: '{format}' is not a strftime format");
    }
    Ok(())
}

/// Command-line switches that override the configuration files.
#[derive(Debug, Clone, Default)]
pub struct LogSwitches {
    pub verbose: bool,
    pub debug: bool,
    pub log_config: Option<PathBuf>,
}

/// Sets up the process's logging from the settings (and `RUST_LOG`, which wins).
pub fn init(
    program: &'static str,
    settings: &Settings,
    switches: &LogSwitches,
) -> anyhow::Result<()> {
    check_date_format(&settings.log_date_format)?;
    let log_config = switches.log_config.clone().or(settings.log_config.clone());
    let python = match &log_config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the logging configuration {}", path.display()))
                .and_then(|text| {
                    read_python_log_config(&text).map_err(|why| {
                        anyhow::anyhow!("logging configuration {}: {why}", path.display())
                    })
                })?,
        ),
        None => None,
    };
    let level = if switches.debug || settings.debug {
        "debug".to_string()
    } else if let Some(level) = python.as_ref().and_then(|p| p.level.clone()) {
        match level.to_ascii_uppercase().as_str() {
            "CRITICAL" | "ERROR" => "error".into(),
            "WARNING" | "WARN" => "warn".into(),
            "DEBUG" | "NOTSET" => "debug".into(),
            _ => "info".into(),
        }
    } else if switches.verbose || settings.verbose != Some(false) {
        "info".into()
    } else {
        "warn".into()
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let destination = match (&python, settings.use_syslog, &settings.log_file) {
        (Some(p), _, _) => p.destination.clone(),
        (None, true, _) => Destination::Syslog,
        (None, false, Some(file)) => Destination::File(file.clone()),
        (None, false, None) => Destination::Stdout,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(DateFormat(settings.log_date_format.clone()));
    match destination {
        Destination::Stdout => builder.init(),
        Destination::Stderr => builder.with_writer(std::io::stderr).init(),
        Destination::File(path) => {
            let file = open_log_file(&path)?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init()
        }
        Destination::Syslog => {
            let facility = facility_code(&settings.syslog_log_facility).with_context(|| {
                format!(
                    "invalid value for option syslog_log_facility: '{}'",
                    settings.syslog_log_facility
                )
            })?;
            let path = syslog_socket_path();
            let socket = UnixDatagram::unbound().context("creating a syslog socket")?;
            socket.connect(&path).with_context(|| {
                format!("use_syslog: cannot reach syslog at {}", path.display())
            })?;
            builder
                .with_ansi(false)
                .without_time()
                .with_writer(SyslogWriter {
                    socket: Arc::new(socket),
                    facility,
                    program,
                })
                .init()
        }
    }
    Ok(())
}

fn open_log_file(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log_file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_logging_files_give_their_root_level_and_handler() {
        let text = "[loggers]\nkeys=root\n\n[handlers]\nkeys=file\n\n[logger_root]\nlevel=WARNING\nhandlers=file\n\n\
                    [handler_file]\nclass=handlers.WatchedFileHandler\nargs=('/var/log/glance/api.log',)\n";
        assert_eq!(
            read_python_log_config(text).unwrap(),
            PythonLogConfig {
                level: Some("WARNING".into()),
                destination: Destination::File("/var/log/glance/api.log".into()),
            }
        );
        let stdout = "[logger_root]\nhandlers=console\n[handler_console]\nclass=StreamHandler\nargs=(sys.stdout,)\n";
        assert_eq!(
            read_python_log_config(stdout).unwrap().destination,
            Destination::Stdout
        );
        let odd = "[logger_root]\nhandlers=x\n[handler_x]\nclass=handlers.SMTPHandler\n";
        assert_eq!(
            read_python_log_config(odd).unwrap_err(),
            "handler class SMTPHandler is not supported"
        );
    }

    #[test]
    fn facilities_and_date_formats_are_checked() {
        assert_eq!(facility_code("LOG_USER"), Some(1));
        assert_eq!(facility_code("local7"), Some(23));
        assert_eq!(facility_code("LOG_LOCAL8"), None);
        assert!(check_date_format("%Y-%m-%d %H:%M:%S").is_ok());
        assert!(check_date_format("%Q").is_err());
    }
}
