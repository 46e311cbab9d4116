//! Helpers shared by the runtime's integration tests.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared` beside the repository, when it holds `what` (CI always has it; a user's machine may not).
pub fn shared(what: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if path.join(what).exists() {
        return Some(path);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/{what} beside the repository");
    eprintln!("skipping: ../shared/{what} is not beside the repository");
    None
}

/// Every `.yml` file under `dir`.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    files_with(dir, "yml", out);
}

/// Every `.evtx` file under `dir`, sorted.
pub fn evtx_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files_with(dir, "evtx", &mut out);
    out.sort();
    out
}

/// Every file under `dir` whose extension is `ext`.
fn files_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_with(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}
