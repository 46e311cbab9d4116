//! Running the `vigil` binary from the CLI tests, and SQL engines through `tests/engines/run_sql.py`.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

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

/// Sends one request to `tests/engines/run_sql.py` (SQLite, DuckDB, PostgreSQL or Spark) and returns its result
/// per case. `None` when the engine is not installed here; in CI (which installs them all) that fails the test.
pub fn run_sql(request: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    let engine = request["engine"].as_str().unwrap_or("?");
    let spawned = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engines/run_sql.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = spawned else {
        assert!(std::env::var_os("CI").is_none(), "python3 must be installed in CI");
        return None;
    };
    child.stdin.take()?.write_all(request.to_string().as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        assert!(std::env::var_os("CI").is_none(), "{engine} is not available in CI: {why}");
        eprintln!("skipping {engine}: {}", why.lines().last().unwrap_or(""));
        return None;
    }
    Some(serde_json::from_slice(&output.stdout).expect("JSON from run_sql.py"))
}
