//! Which files to read, as oslo.config decides for `project = "glance"` and
//! a program such as `glance-api`:
//!
//! * config files: the `--config-file`s given, else (with the default search
//!   path) the first existing `glance.conf` and the first existing
//!   `<program>.conf` in `~/.glance/`, `~/`, `/etc/glance/`, `/etc/`
//!   (then `$SNAP_COMMON/etc/glance/`, `$SNAP/etc/glance/` when set);
//! * config dirs: the `--config-dir`s given (each must exist), else the first
//!   existing `glance.conf.d/` and `<program>.conf.d/` in the same places;
//!   every `*.conf` file of a config dir is read, sorted by name, after the
//!   config files.
//!
//! As oslo, giving `--config-file` does not turn off the default config dirs,
//! nor `--config-dir` the default config files.

use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::load::LoadOptions;

/// The oslo "project" of every Glance program.
pub(crate) const PROJECT: &str = "glance";

/// The files to read in order, and the directories to record in
/// [`crate::Settings::config_dirs`].
#[derive(Debug, Default)]
pub(crate) struct ConfigSources {
    pub files: Vec<PathBuf>,
    pub config_dirs: Vec<PathBuf>,
}

impl ConfigSources {
    fn add_file(&mut self, file: PathBuf) {
        if let Some(parent) = file.parent() {
            self.add_dir(parent.to_path_buf());
        }
        self.files.push(file);
    }

    fn add_dir(&mut self, dir: PathBuf) {
        if !self.config_dirs.contains(&dir) {
            self.config_dirs.push(dir);
        }
    }
}

/// The file names a program reads: the project's, then its own. `glance-manage`
/// also reads `glance-api`'s, as upstream's does (it acts on the API's database).
fn names_of(program: &str) -> Vec<&str> {
    match program {
        "glance-manage" => vec![PROJECT, "glance-api", program],
        _ => vec![PROJECT, program],
    }
}

pub(crate) fn collect(program: &str, opts: &LoadOptions) -> Result<ConfigSources, ConfigError> {
    let mut sources = ConfigSources::default();
    let search_dirs = if opts.use_default_search_path {
        default_search_dirs()
    } else {
        Vec::new()
    };

    if !opts.config_files.is_empty() {
        for file in &opts.config_files {
            sources.add_file(fix_path(file));
        }
    } else {
        for name in names_of(program) {
            if let Some(file) = first_existing(&search_dirs, &format!("{name}.conf")) {
                sources.add_file(file);
            }
        }
    }

    if !opts.config_dirs.is_empty() {
        for dir in &opts.config_dirs {
            let dir = fix_path(dir);
            if !dir.is_dir() {
                return Err(ConfigError::DirNotFound { path: dir });
            }
            add_config_dir(&mut sources, dir)?;
        }
    } else {
        for name in names_of(program) {
            if let Some(dir) = first_existing(&search_dirs, &format!("{name}.conf.d")) {
                if dir.is_dir() {
                    add_config_dir(&mut sources, dir)?;
                }
            }
        }
    }
    Ok(sources)
}

/// Records a config dir and queues its `*.conf` files, sorted by name
/// (hidden files are skipped, as Python's `glob` does).
fn add_config_dir(sources: &mut ConfigSources, dir: PathBuf) -> Result<(), ConfigError> {
    let entries = std::fs::read_dir(&dir).map_err(|source| ConfigError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConfigError::Io {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !name.ends_with(".conf") {
            continue;
        }
        let path = entry.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    sources.add_dir(dir);
    for file in files {
        sources.add_file(file);
    }
    Ok(())
}

/// `~/.glance/`, `~/`, `/etc/glance/`, `/etc/`, then the snap directories.
pub(crate) fn default_search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = home_dir() {
        dirs.push(home.join(format!(".{PROJECT}")));
        dirs.push(home);
    }
    dirs.push(Path::new("/etc").join(PROJECT));
    dirs.push(PathBuf::from("/etc"));
    for variable in ["SNAP_COMMON", "SNAP"] {
        if let Some(root) = std::env::var_os(variable).filter(|value| !value.is_empty()) {
            dirs.push(PathBuf::from(root).join("etc").join(PROJECT));
        }
    }
    dirs
}

/// The first `<dir>/<name>` that exists.
pub(crate) fn first_existing(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter()
        .map(|dir| dir.join(name))
        .find(|path| path.exists())
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

/// `~` expansion and an absolute path (oslo's `_fixpath`).
pub(crate) fn fix_path(path: &Path) -> PathBuf {
    let expanded = match (path.strip_prefix("~"), home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&expanded).unwrap_or(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_existing_takes_the_topmost_directory() {
        let root = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = ["a", "b", "c"]
            .iter()
            .map(|d| root.path().join(d))
            .collect();
        for dir in &dirs {
            std::fs::create_dir(dir).unwrap();
        }
        std::fs::write(dirs[1].join("glance-api.conf"), "").unwrap();
        std::fs::write(dirs[2].join("glance-api.conf"), "").unwrap();
        assert_eq!(
            first_existing(&dirs, "glance-api.conf"),
            Some(dirs[1].join("glance-api.conf"))
        );
        assert_eq!(first_existing(&dirs, "glance.conf"), None);
    }

    #[test]
    fn config_dir_files_are_sorted_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.conf",
            "a.conf",
            ".hidden.conf",
            "c.conf.bak",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.conf")).unwrap();
        let mut sources = ConfigSources::default();
        add_config_dir(&mut sources, dir.path().to_path_buf()).unwrap();
        let names: Vec<_> = sources
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert_eq!(sources.config_dirs, [dir.path().to_path_buf()]);
    }

    #[test]
    fn fix_path_makes_paths_absolute() {
        assert!(fix_path(Path::new("relative.conf")).is_absolute());
        assert_eq!(
            fix_path(Path::new("/etc/glance")),
            PathBuf::from("/etc/glance")
        );
    }
}
