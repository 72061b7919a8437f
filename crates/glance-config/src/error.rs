//! Errors of the loader. Every message names the file and, where there is
//! one, the group (section) and option, like oslo.config's messages.

use std::path::{Path, PathBuf};

/// Why the configuration could not be loaded.
#[derive(thiserror::Error, Debug)]
pub enum ConfigError {
    /// A `--config-file` that does not exist (oslo: `ConfigFilesNotFoundError`).
    #[error("config file {} not found", .path.display())]
    FileNotFound { path: PathBuf },

    /// A `--config-dir` that does not exist (oslo: `ConfigDirNotFoundError`).
    #[error("config directory {} not found", .path.display())]
    DirNotFound { path: PathBuf },

    /// Strict mode found no configuration file to read (the seeds' message).
    #[error("Unable to locate any configuration file. Cannot load application {program}")]
    NoConfigFile { program: String },

    /// A config file or directory that exists but cannot be read.
    #[error("failed to read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The INI syntax is broken (oslo: `ConfigFileParseError`).
    #[error("failed to parse {}: at line {line}, {message}: {text:?}", source_name(.file))]
    Parse {
        /// None for a document given as a string ([`crate::load_from_str`]).
        file: Option<PathBuf>,
        line: usize,
        message: String,
        text: String,
    },

    /// A value that does not convert to the option's type or is not one of its
    /// choices (oslo: `ConfigFileValueError`).
    #[error(
        "invalid value for option {option} in group [{group}]{}: {reason}",
        in_file(.file)
    )]
    InvalidValue {
        /// The file the value came from (None for [`crate::load_from_str`]).
        file: Option<PathBuf>,
        /// The group as written in the file (`DEFAULT` upper-cased, others lower-cased).
        group: String,
        /// The option name as found (an alias when the value came from one).
        option: String,
        value: String,
        reason: String,
    },

    /// An option that the rest of the configuration makes mandatory is not set.
    #[error("option {option} in group [{group}] is required: {reason}")]
    MissingOption {
        group: String,
        option: String,
        reason: String,
    },
}

fn source_name(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => path.display().to_string(),
        None => "<string>".to_string(),
    }
}

fn in_file(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => format!(" in file {}", path.display()),
        None => String::new(),
    }
}

impl ConfigError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::FileNotFound {
                path: path.to_path_buf(),
            }
        } else {
            ConfigError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// How a group name is shown to people: oslo keeps `DEFAULT` upper-case and
/// lower-cases every other group.
pub(crate) fn display_group(group: &str) -> String {
    if group.eq_ignore_ascii_case("default") {
        "DEFAULT".to_string()
    } else {
        group.to_ascii_lowercase()
    }
}
