// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

//! Helpers shared by the compiler's integration tests.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::syntax::{load_str, Content, LoadedDocument};
use vigil_compiler::syntax::{lower, lower_conditions, CorrelationCondition, FilterRules};
use vigil_compiler::Severity;

/// `../shared/sigma` beside the repository. The tests that read it are `#[ignore = "needs ../shared ..."]`, so that
/// a machine without it reports them as ignored, never as passed; `--include-ignored` runs them where it is (CI).
pub fn shared_sigma() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/sigma");
    assert!(path.is_dir(), "{} is missing: this test needs ../shared beside the repository", path.display());
    path
}

/// `../shared/sigma` when it is there, for a test that also runs (on less) without it.
pub fn shared_sigma_if_present() -> Option<PathBuf> {
    Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/sigma")).filter(|p| p.is_dir())
}

pub fn describe_diagnostics(document: &LoadedDocument, out: &mut String) {
    for d in &document.diagnostics {
        let severity = if d.severity == Severity::Error { "error" } else { "warning" };
        let at = d.pos.map_or("-".to_string(), |p| format!("{}:{}", p.line, p.column));
        let _ = writeln!(out, "{severity}[{}] {at} {}", d.code, d.message);
    }
}

/// A readable description of every document in a file: diagnostics, then the IR (or the correlation/filter).
pub fn describe_file(text: &str) -> String {
    let mut out = String::new();
    for document in load_str(text) {
        let _ = writeln!(out, "--- document {} ({})", document.index, document.kind.as_str());
        describe_diagnostics(&document, &mut out);
        match document.content {
            Some(Content::Rule(rule)) => {
                let _ = write!(out, "{}", lower(rule));
            }
            Some(Content::Correlation(c)) => {
                let _ = writeln!(out, "correlation {} rules={:?} group-by={:?}", c.kind.as_str(), c.rules, c.group_by);
                let timespan = c.timespan.map_or("none".to_string(), |s| format!("{s}s"));
                let _ = writeln!(out, "timespan: {timespan} generate: {}", c.generate);
                match c.condition {
                    Some(CorrelationCondition::Threshold { ops, field, percentile }) => {
                        let _ = writeln!(out, "condition: {ops:?} field={field:?} percentile={percentile:?}");
                    }
                    Some(CorrelationCondition::Extended(tree)) => {
                        let _ = writeln!(out, "condition: {tree}");
                    }
                    None => {
                        let _ = writeln!(out, "condition: default");
                    }
                }
            }
            Some(Content::Filter(f)) => {
                let rules = match &f.rules {
                    FilterRules::Any => "any".to_string(),
                    FilterRules::Named(names) => names.join(", "),
                };
                let _ = writeln!(out, "filter for: {rules}\nlogsource: {}\nexpr:", f.logsource);
                let _ = write!(out, "{}", lower_conditions(f.detections, &f.conditions));
            }
            None => {}
        }
    }
    out
}

/// Every `.yml`/`.yaml` file under `dir`, recursively, sorted (nothing when `dir` cannot be read).
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
