//! Every Lucene and EQL query Vigil writes for the active SigmaHQ corpus, parsed by the languages' own parsers
//! (`tests/elastic/check.py`): luqum for Lucene query strings, Elastic's `eql` package (Elasticsearch syntax) for
//! EQL, without a pipeline and with `ecs-windows`.

mod common;

use common::{stderr, vigil};
use std::path::{Path, PathBuf};
use std::process::Command;

fn check(target: &str, queries: &Path) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/elastic/check.py");
    let output = Command::new("python3").arg(script).arg(target).arg(queries).output().expect("python3 runs");
    assert!(output.status.success(), "check.py {target}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON from check.py")
}

#[test]
#[ignore = "needs ../shared, and python3 with tests/elastic/requirements.txt (eql, luqum)"]
fn every_lucene_and_eql_query_parses() {
    let folders = common::corpus_folders();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut problems = Vec::new();
    for target in ["lucene", "eql"] {
        for pipeline in [None, Some("ecs-windows")] {
            let name = format!("{target}-{}", pipeline.unwrap_or("no-pipeline"));
            let output = tmp.join(format!("elastic-parsers-{name}.jsonl"));
            let mut args = vec!["convert", "-t", target, "--jsonl", "-o", output.to_str().unwrap_or("")];
            if let Some(p) = pipeline {
                args.extend(["-p", p]);
            }
            args.extend(folders.iter().map(String::as_str));
            let converted = vigil(&args);
            assert!(matches!(converted.status.code(), Some(0 | 1)), "{name}: {}", stderr(&converted));
            let result = check(target, &output);
            let (checked, failed) = (result["checked"].as_u64().unwrap_or(0), result["failed"].as_u64().unwrap_or(0));
            eprintln!("{name}: {checked} queries parsed, {failed} refused");
            if failed > 0 {
                problems.push(format!("{name}: {failed} queries refused, e.g. {:#}", result["examples"]));
            }
            if checked < 3700 {
                problems.push(format!("{name}: only {checked} queries"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The parsers refuse what they should: the check can fail.
#[test]
#[ignore = "needs python3 with tests/elastic/requirements.txt (eql, luqum)"]
fn the_parsers_refuse_broken_queries() {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("elastic-parsers-broken.jsonl");
    for (target, query) in [("lucene", "Image:(a OR"), ("eql", "any where Image ==")] {
        std::fs::write(&file, format!("{}\n", serde_json::json!({"path": "broken", "queries": [query]})))
            .expect("write");
        let result = check(target, &file);
        assert_eq!((result["checked"].as_u64(), result["failed"].as_u64()), (Some(1), Some(1)), "{target}: {result}");
    }
}
