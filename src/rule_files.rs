//! Finding the Sigma files named on the command line and compiling them (`vigil_compiler::compile`), one file per
//! core.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use vigil_compiler::compile::{compile_path, unreadable, Compilation, Settings, SourceFile};
use vigil_compiler::{Code, Diagnostic};

/// A file to read, or a path that could not be used.
pub enum Found {
    File(PathBuf),
    Missing { path: PathBuf, error: String },
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::File(path) | Found::Missing { path, .. } => path,
        }
    }
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

/// Compiles one found file; a missing path is a file that could not be read (`file-unreadable`).
pub fn compile_found(found: &Found, settings: &Settings) -> SourceFile {
    match found {
        Found::File(path) => compile_path(path, path.display().to_string(), settings),
        Found::Missing { path, error } => {
            unreadable(path.display().to_string(), Diagnostic::error(Code::FileUnreadable, None, error.clone()))
        }
    }
}

/// Compiles every file of `found`, in parallel, in order.
pub fn compile_each(found: &[Found], settings: &Settings) -> Vec<SourceFile> {
    found.par_iter().map(|f| compile_found(f, settings)).collect()
}

/// Finds and compiles the files under `paths` and links their correlations.
pub fn compile(paths: &[PathBuf], settings: &Settings) -> Compilation {
    Compilation::new(compile_each(&find(paths), settings), settings)
}
