//! Finding and reading Sigma files named on the command line.

use std::path::{Path, PathBuf};

/// A file to read, or a path that could not be used.
pub enum Found {
    File(PathBuf),
    Missing { path: PathBuf, error: String },
}

/// Expands the given paths: files as they are, directories recursively to their `.yml`/`.yaml` files, sorted so
/// that output is the same on every run.
pub fn find(paths: &[PathBuf]) -> Vec<Found> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                match entry {
                    Ok(entry) if entry.file_type().is_file() && is_yaml(entry.path()) => files.push(entry.into_path()),
                    Ok(_) => {}
                    Err(error) => out.push(Found::Missing {
                        path: error.path().map_or_else(|| path.clone(), Path::to_path_buf),
                        error: error.to_string(),
                    }),
                }
            }
            files.sort();
            out.extend(files.into_iter().map(Found::File));
        } else if path.is_file() {
            out.push(Found::File(path.clone()));
        } else {
            out.push(Found::Missing { path: path.clone(), error: "no such file or directory".into() });
        }
    }
    out
}

/// A `.yml`/`.yaml` file that can hold Sigma documents: `vigil test`'s own files (`vigil.yml`, `<rule>.tests.yml`)
/// sit among the rules and are not rules.
fn is_yaml(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
        && !matches!(name, "vigil.yml" | ".vigil.yml")
        && !name.ends_with(".tests.yml")
}

/// Reads a file as UTF-8 text.
pub fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
}

/// Opens a found file: its path as shown to the user, and its text. A missing or unreadable file is reported on
/// stderr and gives `None`, so that callers count an I/O error and go on with the other files.
pub fn open(found: &Found) -> Option<(String, String)> {
    let path = match found {
        Found::File(path) => path,
        Found::Missing { path, error } => {
            eprintln!("vigil: {}: {error}", path.display());
            return None;
        }
    };
    let shown = path.display().to_string();
    match read(path) {
        Ok(text) => Some((shown, text)),
        Err(error) => {
            eprintln!("vigil: {shown}: {error}");
            None
        }
    }
}
