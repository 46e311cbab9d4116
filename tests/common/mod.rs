//! Running the `vigil` binary from the CLI tests, and SQL engines through `tests/engines/run_sql.py`.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

pub mod logons;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// `../shared/<what>` beside the repository. The tests that read it are `#[ignore = "needs ../shared ..."]`, so
/// that a machine without it reports them as ignored, never as passed; `cargo test -- --include-ignored` runs them
/// where it is (CI).
pub fn shared(what: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(what);
    assert!(path.exists(), "{} is missing: this test needs ../shared beside the repository", path.display());
    path
}

/// Runs `vigil` from the repository root.
pub fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("vigil runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs vigil with `stdin`, failing the test if it does not end within `limit` (a hang is the bug).
pub fn vigil_with_stdin(args: &[&str], stdin: &[u8], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil runs");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    std::thread::spawn(move || input.write_all(&stdin));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("vigil {args:?} did not end within {limit:?}")).expect("output")
}

/// A path under the test binary's own temporary folder (`dir`, created).
pub fn tmp_in(dir: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// Writes `bytes` to [`tmp_in`]`(dir, name)`; its path as text, for the command line.
pub fn write_in(dir: &str, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = tmp_in(dir, name);
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

/// Sends one request to `tests/engines/run_sql.py` (SQLite, DuckDB, PostgreSQL or Spark) and returns its result
/// per case. The tests that call it are ignored unless asked for (`--include-ignored`): a missing engine fails them.
pub fn run_sql(request: &serde_json::Value) -> Vec<serde_json::Value> {
    let engine = request["engine"].as_str().unwrap_or("?");
    let mut child = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engines/run_sql.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (tests/engines)");
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("request written");
    let output = child.wait_with_output().expect("run_sql.py ends");
    let why = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{engine} is not available (tests/engines/requirements.txt): {why}");
    serde_json::from_slice(&output.stdout).expect("JSON from run_sql.py")
}

/// The folders of the SigmaHQ corpus in `../shared/sigma` that the conversion tests read (every rule set pySigma's
/// results cover), as paths for `vigil convert`.
pub fn corpus_folders() -> Vec<String> {
    let sigma = shared("sigma");
    ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"]
        .iter()
        .map(|f| sigma.join(f).display().to_string())
        .collect()
}
