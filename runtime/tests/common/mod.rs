//! Helpers shared by the runtime's integration tests.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared` beside the repository, which must hold `what`. The tests that read it are
/// `#[ignore = "needs ../shared ..."]`, so that a machine without it reports them as ignored, never as passed;
/// `--include-ignored` runs them where it is (CI).
pub fn shared(what: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        path.join(what).exists(),
        "{} is missing: this test needs ../shared beside the repository",
        path.join(what).display()
    );
    path
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
