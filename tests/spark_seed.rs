//! The seed's own query on a real Spark: `vigil convert -t spark -p sysmon -p windows -p helk` run by a local
//! Spark (pyspark) over the playbook's Mordor dataset, loaded as HELK's `mordor_file` table, returns the same six
//! events as the matcher. Needs Python with pyspark and Java; `.ci/run` installs pyspark.

mod common;

use common::{stderr, stdout, vigil};
use std::path::PathBuf;
use std::process::Command;

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn the_seed_spark_query_returns_the_matchers_six_events() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dataset = common::shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let has_spark = Command::new("python3").args(["-c", "import pyspark"]).output().is_ok_and(|o| o.status.success());
    assert!(has_spark, "pyspark is not installed (tests/engines/requirements.txt)");
    let dataset = dataset.to_str().unwrap_or("");
    let rule = "rules/sysmon_wmi_module_load.yml";
    let converted = vigil(&["convert", "-t", "spark", "-p", "sysmon", "-p", "windows", "-p", "helk", rule]);
    assert_eq!(converted.status.code(), Some(0), "{}", stderr(&converted));
    let query = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("seed_spark.sql");
    std::fs::write(&query, stdout(&converted)).expect("write the query");

    let spark = Command::new("python3")
        .arg(root.join("tests/engines/run_spark.py"))
        .arg(dataset)
        .arg(&query)
        .output()
        .expect("python3 runs");
    assert!(spark.status.success(), "Spark failed: {}", String::from_utf8_lossy(&spark.stderr));
    let spark_records: Vec<u64> =
        serde_json::from_slice(String::from_utf8_lossy(&spark.stdout).lines().last().unwrap_or("[]").as_bytes())
            .expect("a JSON list of records");

    let hunted = vigil(&["hunt", "--format", "jsonl", "-r", rule, dataset]);
    let matcher_records: Vec<u64> = stdout(&hunted)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["source"]["record"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(matcher_records.len(), 6);
    assert_eq!(spark_records, matcher_records);
}
