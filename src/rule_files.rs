//! Finding the Sigma files named on the command line and compiling them (`vigil_compiler::compile`), one file per
//! core.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use vigil_compiler::compile::{
    compile_loaded, load_path, unreadable_source, Compilation, LoadedSource, Settings, SourceFile,
};
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

/// Reads and loads one found file; a missing path is a file that could not be read (`file-unreadable`).
fn load_found(found: &Found) -> LoadedSource {
    match found {
        Found::File(path) => load_path(path, path.display().to_string()),
        Found::Missing { path, error } => {
            unreadable_source(path.display().to_string(), Diagnostic::error(Code::FileUnreadable, None, error.clone()))
        }
    }
}

/// Loads every file of `found`, in parallel, in order.
fn load_each(found: &[Found]) -> Vec<LoadedSource> {
    found.par_iter().map(load_found).collect()
}

/// The files under `paths` (rules, and filters among them) and under `filter_paths` (`--filter`: filter documents
/// only), loaded, with the settings their filters complete. A `--filter` file with a problem stops the command
/// (its problems are printed and `None` returned): a team's exclusions are configuration, like pipelines.
fn load_with_filters(
    paths: &[PathBuf],
    filter_paths: &[PathBuf],
    settings: &Settings,
) -> Option<(Vec<LoadedSource>, Settings)> {
    let mut loaded = load_each(&find(paths));
    let mut filter_files = load_each(&find(filter_paths));
    let mut broken = false;
    for source in &mut filter_files {
        for document in &mut source.documents {
            let parsed = !document.diagnostics.iter().any(Diagnostic::is_error);
            if parsed && document.kind != vigil_compiler::DocumentKind::Filter {
                document.content = None;
                document.diagnostics.push(Diagnostic::error(
                    Code::InvalidFilter,
                    document.pos,
                    format!("a --filter file holds filter documents only, not a {}", document.kind.as_str()),
                ));
            }
            for d in document.diagnostics.iter().filter(|d| d.is_error()) {
                crate::report::problem_in(&source.path, &source.text, d);
                broken = true;
            }
        }
    }
    if broken {
        return None;
    }
    loaded.extend(filter_files);
    let settings = settings.clone().with_filters_of(&loaded);
    Some((loaded, settings))
}

/// The filters among the files under `paths` and in `filter_paths`, for commands that compile files one by one.
pub fn filters(paths: &[PathBuf], filter_paths: &[PathBuf]) -> Option<Vec<vigil_compiler::compile::Filter>> {
    Some(load_with_filters(paths, filter_paths, &Settings::default())?.1.filters)
}

/// Compiles every loaded source, in parallel, in order.
fn compile_each(loaded: Vec<LoadedSource>, settings: &Settings) -> Vec<SourceFile> {
    if rayon::current_num_threads() <= 1 {
        return loaded.into_iter().map(|source| compile_loaded(source, settings)).collect();
    }
    loaded.into_par_iter().map(|source| compile_loaded(source, settings)).collect()
}

/// Finds and compiles the files under `paths` with the filters among them and in `filter_paths`, and links their
/// correlations; `None` when a `--filter` file has a problem (printed).
pub fn compile(paths: &[PathBuf], filter_paths: &[PathBuf], settings: &Settings) -> Option<Compilation> {
    let (loaded, settings) = load_with_filters(paths, filter_paths, settings)?;
    Some(Compilation::new(compile_each(loaded, &settings), &settings))
}

/// [`compile`] without resolving correlations (`vigil check` checks each file on its own).
pub fn compile_unlinked(paths: &[PathBuf], filter_paths: &[PathBuf], settings: &Settings) -> Option<Compilation> {
    let (loaded, settings) = load_with_filters(paths, filter_paths, settings)?;
    Some(Compilation::unlinked(compile_each(loaded, &settings), &settings))
}
