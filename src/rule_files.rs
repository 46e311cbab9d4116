//! Finding the Sigma files named on the command line and compiling them (`vigil_compiler::compile`), one file per
//! core.

use crate::rule_cache::{Keyed, RuleCache, Stored};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use vigil_compiler::compile::{
    compile_loaded, load_source, read_source, unreadable_source, Compilation, LoadedSource, Settings, SourceFile,
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

/// A found file's text, or why it cannot be read (a missing path: `file-unreadable`).
fn read_found(found: &Found) -> Result<String, Diagnostic> {
    match found {
        Found::File(path) => read_source(path),
        Found::Missing { error, .. } => Err(Diagnostic::error(Code::FileUnreadable, None, error.clone())),
    }
}

/// Files found and read, in order, in parallel.
struct Read {
    found: Vec<Found>,
    texts: Vec<Result<String, Diagnostic>>,
}

impl Read {
    fn new(paths: &[PathBuf]) -> Read {
        let found = find(paths);
        let texts = found.par_iter().map(read_found).collect();
        Read { found, texts }
    }

    /// The files as the cache's key reads them (`filter`: `--filter` files).
    fn keyed(&self, filter: bool) -> impl Iterator<Item = Keyed<'_>> {
        self.found.iter().zip(&self.texts).map(move |(found, text)| Keyed {
            filter,
            path: found.path().to_str().unwrap_or_default(),
            text: text.as_deref().unwrap_or_default(),
        })
    }

    /// Every file loaded (YAML, rule syntax), in parallel, in order.
    fn load(self) -> Vec<LoadedSource> {
        self.found
            .into_par_iter()
            .zip(self.texts)
            .map(|(found, text)| {
                let shown = found.path().display().to_string();
                match text {
                    Ok(text) => load_source(shown, text),
                    Err(diagnostic) => unreadable_source(shown, diagnostic),
                }
            })
            .collect()
    }
}

/// The rule files and `--filter` files (filter documents only), loaded, with the settings their filters complete.
/// A `--filter` file with a problem stops the command (its problems are printed and `None` returned): a team's
/// exclusions are configuration, like pipelines.
fn load_with_filters(rules: Read, filters: Read, settings: &Settings) -> Option<(Vec<LoadedSource>, Settings)> {
    let mut loaded = rules.load();
    let mut filter_files = filters.load();
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
    Some(load_with_filters(Read::new(paths), Read::new(filter_paths), &Settings::default())?.1.filters)
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
    let (loaded, settings) = load_with_filters(Read::new(paths), Read::new(filter_paths), settings)?;
    Some(Compilation::new(compile_each(loaded, &settings), &settings))
}

/// [`compile`] through the compiled rule-set cache (`rule_cache.rs`), for the matcher: the compilation stored for
/// exactly these files' paths and texts, these settings and this program, else compiled and stored. A
/// compilation from the cache carries no query postprocessing and no rule syntax of correlations and filters
/// (`vigil_compiler::compile::cache`). The second value is its place in the cache (none when it cannot be cached).
pub fn compile_cached(
    paths: &[PathBuf],
    filter_paths: &[PathBuf],
    settings: &Settings,
    cache: RuleCache,
) -> Option<(Compilation, Option<Stored>)> {
    let (mut rules, mut filters) = (Read::new(paths), Read::new(filter_paths));
    // Only when every file could be read: an unreadable one is read (and reported) again next time.
    let key = if rules.texts.iter().chain(&filters.texts).all(Result::is_ok) {
        let paths_shown = rules.found.iter().chain(&filters.found).all(|f| f.path().to_str().is_some());
        paths_shown.then(|| RuleCache::key(settings, rules.keyed(false).chain(filters.keyed(true)))).flatten()
    } else {
        None
    };
    if let Some(key) = &key {
        // The texts move into the restored compilation, or back for compiling.
        let mut texts: Vec<String> =
            rules.texts.iter_mut().chain(filters.texts.iter_mut()).flatten().map(std::mem::take).collect();
        if let Some(compilation) = cache.load(key, &mut texts) {
            return Some((compilation, Some(Stored { cache, key: key.clone(), hit: true })));
        }
        for (slot, text) in rules.texts.iter_mut().chain(filters.texts.iter_mut()).flatten().zip(texts) {
            *slot = text;
        }
    }
    let (loaded, settings) = load_with_filters(rules, filters, settings)?;
    let compilation = Compilation::new(compile_each(loaded, &settings), &settings);
    let stored = key.map(|key| {
        cache.store(&key, &compilation);
        Stored { cache, key, hit: false }
    });
    Some((compilation, stored))
}

/// [`compile`] without resolving correlations (`vigil check` checks each file on its own).
pub fn compile_unlinked(paths: &[PathBuf], filter_paths: &[PathBuf], settings: &Settings) -> Option<Compilation> {
    let (loaded, settings) = load_with_filters(Read::new(paths), Read::new(filter_paths), settings)?;
    Some(Compilation::unlinked(compile_each(loaded, &settings), &settings))
}
