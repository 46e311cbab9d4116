//! Every KQL query Vigil writes for the active SigmaHQ corpus, checked by Microsoft's own Kusto.Language
//! (npm `@kusto/language-service-next`, run with node by `tests/kusto/check.js`): without a pipeline each query
//! parses; with `microsoft_xdr` and `sentinel_asim` each is analysed against the tables' schemas
//! (`tests/kusto/schema_*.json`), so an unknown table or column, or a type mismatch, is an error too.

mod common;

use common::{stderr, vigil};
use std::path::{Path, PathBuf};
use std::process::Command;

const SEED: &str = "rules/sysmon_wmi_module_load.yml";

fn kusto_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kusto")
}

/// `node check.js QUERIES [SCHEMA]`'s JSON answer.
fn check(queries: &Path, schema: Option<&str>) -> serde_json::Value {
    let mut command = Command::new("node");
    command.current_dir(kusto_dir()).arg("check.js").arg(queries);
    if let Some(schema) = schema {
        command.arg(schema);
    }
    let output = command.output().expect("node runs");
    assert!(output.status.success(), "check.js: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON from check.js")
}

#[test]
#[ignore = "needs ../shared, node and tests/kusto's npm package (npm ci --prefix tests/kusto)"]
fn every_kql_query_passes_kusto_language() {
    assert!(
        kusto_dir().join("node_modules/@kusto/language-service-next").is_dir(),
        "run `npm ci --prefix tests/kusto` first"
    );
    let folders = common::corpus_folders();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    // (pipeline, schema, least number of queries: the corpus must not shrink unnoticed)
    let runs: [(Option<&str>, Option<&str>, u64); 4] = [
        (None, None, 3700),
        (Some("microsoft_xdr"), Some("schema_microsoft_xdr.json"), 2300),
        (Some("sentinel_asim"), Some("schema_sentinel_asim.json"), 1650),
        (Some("azure_monitor"), Some("schema_azure_monitor.json"), 1250),
    ];
    let mut problems = Vec::new();
    for (pipeline, schema, least) in runs {
        let name = pipeline.unwrap_or("no-pipeline");
        let output = tmp.join(format!("kusto-language-{name}.jsonl"));
        let mut args = vec!["convert", "-t", "kusto", "--jsonl", "-o", output.to_str().unwrap_or("")];
        if let Some(p) = pipeline {
            args.extend(["-p", p]);
        }
        args.push(SEED);
        args.extend(folders.iter().map(String::as_str));
        let converted = vigil(&args);
        assert!(matches!(converted.status.code(), Some(0 | 1)), "{name}: {}", stderr(&converted));
        let result = check(&output, schema);
        let (checked, failed) = (result["checked"].as_u64().unwrap_or(0), result["failed"].as_u64().unwrap_or(0));
        eprintln!("{name}: {checked} queries checked by Kusto.Language, {failed} with errors {}", result["by_code"]);
        if failed > 0 {
            problems.push(format!("{name}: {failed} queries with errors, e.g. {:#}", result["examples"]));
        }
        if checked < least {
            problems.push(format!("{name}: only {checked} queries checked (expected at least {least})"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The playbook's rule for Defender XDR: a `DeviceImageLoadEvents` query over XDR's columns, which Kusto.Language
/// accepts against the XDR schema.
#[test]
#[ignore = "needs node and tests/kusto's npm package (npm ci --prefix tests/kusto)"]
fn seed_for_defender_xdr_runs_against_its_schema() {
    let output = vigil(&["convert", "-t", "kusto", "-p", "microsoft_xdr", "--jsonl", SEED]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    let query = line["queries"][0].as_str().unwrap_or_default();
    assert!(query.starts_with("DeviceImageLoadEvents\n| where "), "{query}");
    for column in ["FolderPath", "InitiatingProcessFolderPath"] {
        assert!(query.contains(column), "{column} in {query}");
    }
    assert!(!query.contains("ImageLoaded") && !query.contains("Image "), "Sysmon names left in {query}");
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kusto-language-seed.jsonl");
    std::fs::write(&file, &output.stdout).expect("write");
    let result = check(&file, Some("schema_microsoft_xdr.json"));
    assert_eq!(result["checked"], 1);
    assert_eq!(result["failed"], 0, "{result:#}");
    // The check can fail: Sysmon's column name on the XDR table, and a broken query, are errors.
    let bad = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kusto-language-bad.jsonl");
    let lines = [
        serde_json::json!({"path": "a", "queries": ["DeviceImageLoadEvents\n| where ImageLoaded endswith \"x\""]}),
        serde_json::json!({"path": "b", "queries": ["DeviceImageLoadEvents\n| where (FolderPath endswith"]}),
    ];
    std::fs::write(&bad, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).expect("write");
    let result = check(&bad, Some("schema_microsoft_xdr.json"));
    assert_eq!((result["checked"].as_u64(), result["failed"].as_u64()), (Some(2), Some(2)), "{result:#}");
    assert!(result["by_code"].get("KS142").is_some(), "unknown column reported: {result:#}");
}
