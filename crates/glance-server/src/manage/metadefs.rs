//! `db load_metadefs`, `db unload_metadefs` and `db export_metadefs`: the catalogue
//! of metadata definitions between JSON files (one namespace each) and the database.
//!
//! Upstream logs its refusals (options that do not go together, a path without
//! JSON files) and still exits 0; we print the same messages and exit 1, so that a
//! script sees that nothing was loaded. Each file loads in one transaction.

mod document;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use glance_db::{Db, DbError, LoadMode, Loaded};

use super::Outcome;

const NEEDS_MERGE: &str = "To use --prefer_new or --overwrite you need to combine of these \
                           options with --merge option.";
const ONE_OF: &str = "Please provide no more than one option from this list: --prefer_new, \
                      --overwrite";

pub async fn load(
    db: &Db,
    path: &Path,
    merge: bool,
    prefer_new: bool,
    overwrite: bool,
) -> anyhow::Result<Outcome> {
    let mode = match (merge, prefer_new, overwrite) {
        (false, false, false) => LoadMode::Skip,
        (false, _, _) => return Ok(Outcome::Failed(NEEDS_MERGE.into())),
        (true, true, true) => return Ok(Outcome::Failed(ONE_OF.into())),
        (true, true, false) => LoadMode::PreferNew,
        (true, false, true) => LoadMode::Overwrite,
        (true, false, false) => LoadMode::Merge,
    };
    let files = match json_files(path) {
        Ok(files) if files.is_empty() => {
            return Ok(Outcome::Failed(format!(
                "Json schema files not found in {}. Aborting.",
                path.display()
            )))
        }
        Ok(files) => files,
        Err(e) => return Ok(Outcome::Failed(format!("{}: {e}", path.display()))),
    };
    let mut failed = Vec::new();
    for file in &files {
        let doc = match read_document(file) {
            Ok(doc) => doc,
            Err(e) => {
                // As upstream: a file that is not a namespace is skipped, the rest load.
                tracing::error!(
                    "Failed to parse json file {} while populating metadata due to: {e}",
                    file.display()
                );
                continue;
            }
        };
        match db.load_metadef_namespace(&doc, mode).await {
            Ok(Loaded::Skipped) => tracing::info!(
                "Skipping namespace {}. It already exists in the database.",
                doc.namespace
            ),
            Ok(loaded) => {
                if loaded == Loaded::Overwritten {
                    tracing::info!("Overwriting namespace {}", doc.namespace);
                }
                tracing::info!("File {} loaded to database.", file.display());
            }
            // Without a database there is nothing more to try.
            Err(e @ DbError::Unreachable(_)) => return Err(e.into()),
            Err(e) => {
                tracing::error!("Failed to load {} to database: {e}", file.display());
                failed.push(file.display().to_string());
            }
        }
    }
    tracing::info!("Metadata loading finished");
    if failed.is_empty() {
        Ok(Outcome::Done)
    } else {
        Ok(Outcome::Failed(format!(
            "Failed to load to database (nothing of these files was kept): {}",
            failed.join(", ")
        )))
    }
}

pub async fn unload(db: &Db) -> anyhow::Result<Outcome> {
    for (table, rows) in db.unload_metadefs().await? {
        tracing::info!("Table {table} has been cleared ({rows} rows)");
    }
    Ok(Outcome::Done)
}

pub async fn export(db: &Db, path: &Path) -> anyhow::Result<Outcome> {
    // Upstream appends the file name to the path as a string (so "/tmp/x" writes
    // "/tmp/xName.json"); we write into the directory, which must exist.
    if !path.is_dir() {
        return Ok(Outcome::Failed(format!(
            "{} is not a directory; export_metadefs writes its files into an existing one.",
            path.display()
        )));
    }
    let mut written: HashMap<PathBuf, String> = HashMap::new();
    let mut failed = Vec::new();
    for doc in db.export_metadefs().await? {
        let file = path.join(format!("{}.json", document::file_stem(&doc)));
        let json = match document::to_json(&doc) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!("Namespace {} not exported: {e}", doc.namespace);
                failed.push(doc.namespace);
                continue;
            }
        };
        if let Some(earlier) = written.get(&file) {
            // Display names that differ only in punctuation share a file name.
            tracing::warn!(
                "Overwriting: {} (written for namespace {earlier} a moment ago)",
                file.display()
            );
        } else if file.is_file() {
            tracing::info!("Overwriting: {}", file.display());
        }
        match std::fs::write(&file, glance_domain::python_json::dumps(&json)) {
            Ok(()) => {
                tracing::info!("Namespace {} saved in {}", doc.namespace, file.display());
                written.insert(file, doc.namespace);
            }
            Err(e) => {
                tracing::error!(
                    "Namespace {} not saved in {}: {e}",
                    doc.namespace,
                    file.display()
                );
                failed.push(doc.namespace);
            }
        }
    }
    if failed.is_empty() {
        Ok(Outcome::Done)
    } else {
        Ok(Outcome::Failed(format!(
            "Failed to export namespaces: {}",
            failed.join(", ")
        )))
    }
}

/// The file itself, or the `*.json` files of the directory (by name, so loads are
/// repeatable; upstream takes the directory's order).
fn json_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        let is_json = file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".json"));
        if is_json && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

fn read_document(file: &Path) -> Result<glance_db::NamespaceDocument, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    document::from_json(&value)
}
