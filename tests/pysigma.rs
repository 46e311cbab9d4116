//! Conformance with pySigma 2.0.1: for each target, `vigil convert --jsonl` over the public SigmaHQ rules is
//! compared with pySigma's output (`../shared/oracle/conversions.jsonl.gz`) by `tests/pysigma/compare.py`, which
//! counts the rules giving the same query up to whitespace and grouping, and puts every other rule in a class
//! with its reason (a pySigma bug, a deliberate choice, a pipeline difference, or "ours to fix"). The report, one
//! line per differing rule, is written to `target/tmp/pysigma-<target>.tsv`.

mod common;

use common::{stderr, vigil};
use std::path::PathBuf;
use std::process::Command;

/// (target, Vigil's pipelines, pySigma's pipeline, least number of identical queries: a floor against regressions)
const PAIRS: &[(&str, &[&str], &str, u64)] = &[
    ("splunk", &[], "none", 3600),
    ("kusto", &[], "none", 3200),
    ("sqlite", &[], "none", 3550),
    ("lucene", &[], "none", 3600),
    ("lucene", &["ecs-windows"], "ecs_windows", 2100),
    ("esql", &["ecs-windows"], "ecs_windows", 25),
    ("eql", &["ecs-windows"], "ecs_windows", 1900),
];

#[test]
#[ignore = "needs ../shared beside the repository, and python3"]
fn conversions_compared_with_pysigma() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let oracle = common::shared("oracle/conversions.jsonl.gz");
    let folders = common::corpus_folders();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut problems = Vec::new();
    for (target, pipelines, pysigma_pipeline, floor) in PAIRS {
        let name = format!(
            "{target}{}",
            if pipelines.is_empty() { String::new() } else { format!("-{}", pipelines.join("-")) }
        );
        let ours = tmp.join(format!("pysigma-{name}.jsonl"));
        let report = tmp.join(format!("pysigma-{name}.tsv"));
        let mut args = vec!["convert", "-t", target, "--jsonl", "-o", ours.to_str().unwrap_or("")];
        for p in *pipelines {
            args.extend(["-p", p]);
        }
        args.extend(folders.iter().map(String::as_str));
        let converted = vigil(&args);
        assert!(matches!(converted.status.code(), Some(0 | 1)), "{name}: {}", stderr(&converted));
        let compared = Command::new("python3")
            .arg(root.join("tests/pysigma/compare.py"))
            .args([
                oracle.as_os_str(),
                target.as_ref(),
                pysigma_pipeline.as_ref(),
                ours.as_os_str(),
                report.as_os_str(),
            ])
            .output()
            .expect("python3 runs");
        assert!(compared.status.success(), "{name}: {}", String::from_utf8_lossy(&compared.stderr));
        let result: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("JSON counts");
        let classes = result["classes"].as_object().cloned().unwrap_or_default();
        let count = |class: &str| classes.get(class).and_then(|v| v.as_u64()).unwrap_or(0);
        let total = result["compared"].as_u64().unwrap_or(0);
        eprintln!("{name} (pySigma pipeline {pysigma_pipeline}): {} of {total} identical", count("same"));
        for (class, n) in &classes {
            if class != "same" {
                eprintln!("    {n:>5}  {class}");
            }
        }
        if total < 3700 {
            problems.push(format!("{name}: only {total} rules compared"));
        }
        if count("same") < *floor {
            problems.push(format!("{name}: {} identical queries, fewer than the {floor} before", count("same")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
