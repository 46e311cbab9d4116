//! The built-in SIEM pipelines against pySigma's (`../shared/oracle/conversions.jsonl.gz`, pySigma 2.0.1):
//! `microsoft_xdr` and `sentinel_asim` (kusto) and `splunk_windows` (splunk) convert the public SigmaHQ rules, and
//! `tests/siem_pipelines/compare.py` compares each rule's table and columns with pySigma's. Holds: Vigil converts at
//! least as many rules; among the rules both convert, the same table for 99% and the same table and columns for 95%;
//! every other difference has a reason. The report, one line per rule that differs, is written to
//! `target/tmp/siem-<pipeline>.tsv`.

mod common;

use common::{stderr, vigil};
use std::path::PathBuf;
use std::process::Command;

/// (target, Vigil's pipeline, pySigma's pipeline)
const PIPELINES: &[(&str, &str, &str)] = &[
    ("kusto", "microsoft_xdr", "microsoft_xdr"),
    ("kusto", "sentinel_asim", "sentinel_asim"),
    ("splunk", "splunk_windows", "splunk_windows"),
];

#[test]
#[ignore = "needs ../shared beside the repository, and python3"]
fn tables_and_columns_as_pysigma() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let oracle = common::shared("oracle/conversions.jsonl.gz");
    let folders = common::corpus_folders();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut problems = Vec::new();
    for (target, ours, theirs) in PIPELINES {
        let output = tmp.join(format!("siem-{ours}.jsonl"));
        let report = tmp.join(format!("siem-{ours}.tsv"));
        let mut args = vec!["convert", "-t", target, "-p", ours, "--jsonl", "-o", output.to_str().unwrap_or("")];
        args.extend(folders.iter().map(String::as_str));
        let converted = vigil(&args);
        assert!(matches!(converted.status.code(), Some(0 | 1)), "{ours}: {}", stderr(&converted));
        let compared = Command::new("python3")
            .arg(root.join("tests/siem_pipelines/compare.py"))
            .args([oracle.as_os_str(), target.as_ref(), theirs.as_ref(), output.as_os_str(), report.as_os_str()])
            .output()
            .expect("python3 runs");
        assert!(compared.status.success(), "{ours}: {}", String::from_utf8_lossy(&compared.stderr));
        let result: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("JSON counts");
        let n = |key: &str| result[key].as_u64().unwrap_or(0);
        let (both, same_table, same_columns) = (n("both"), n("same_table"), n("same_table_and_columns"));
        eprintln!(
            "{ours}: {} rules compared; converted by pySigma {}, by Vigil {}, by both {both}; same table {same_table} \
             ({:.1}%), same table and columns {same_columns} ({:.1}%)",
            n("compared"),
            n("converted_pysigma"),
            n("converted_vigil"),
            100.0 * same_table as f64 / both.max(1) as f64,
            100.0 * same_columns as f64 / both.max(1) as f64,
        );
        let classes = result["classes"].as_object().cloned().unwrap_or_default();
        for (class, count) in &classes {
            eprintln!("    {:>5}  {class}", count.as_u64().unwrap_or(0));
            if class.contains("ours to fix") {
                problems.push(format!("{ours}: {count} rules differ without a reason: {class}"));
            }
        }
        if n("compared") < 3700 {
            problems.push(format!("{ours}: only {} rules compared", n("compared")));
        }
        if n("converted_vigil") < n("converted_pysigma") {
            problems.push(format!(
                "{ours}: Vigil converts {}, pySigma {}",
                n("converted_vigil"),
                n("converted_pysigma")
            ));
        }
        if (same_table as f64) < 0.99 * both as f64 {
            problems.push(format!("{ours}: the same table for {same_table} of {both} rules, under 99%"));
        }
        if (same_columns as f64) < 0.95 * both as f64 {
            problems.push(format!("{ours}: the same table and columns for {same_columns} of {both} rules, under 95%"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
