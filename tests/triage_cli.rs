//! Triage with `vigil hunt`: narrowing the report to levels, tags, rules and a time range.

mod common;

use common::{stderr, stdout, vigil};
use std::process::Output;

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";

/// A low-level rule beside the seed (critical): it matches the process creation of the example (record 7).
const LOW_RULE: &str = "title: Notepad started\nid: 9c1a1f0e-0000-4000-8000-000000000001\nstatus: test\nlevel: low\ntags: [attack.discovery]\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\notepad.exe'\n    condition: selection\n";

fn low_rule() -> String {
    common::write_in("triage_cli", "notepad_started.yml", LOW_RULE)
}

fn hunt(extra: &[&str]) -> Output {
    let low = low_rule();
    let args = [&["hunt", "--format", "jsonl", "-r", SEED, "-r", &low, EXAMPLE], extra].concat();
    vigil(&args)
}

fn records(output: &Output) -> Vec<(String, u64)> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .map(|d| (d["rule"]["level"].as_str().unwrap_or("").to_string(), d["source"]["record"].as_u64().unwrap_or(0)))
        .collect()
}

fn critical(records: &[u64]) -> Vec<(String, u64)> {
    records.iter().map(|r| ("critical".to_string(), *r)).collect()
}

#[test]
fn min_level_leaves_lower_rules_out_and_says_so() {
    let all = hunt(&[]);
    assert_eq!(records(&all), [critical(&[1, 2, 5]), vec![("low".into(), 7)]].concat(), "{}", stderr(&all));
    let high = hunt(&["--min-level", "high"]);
    assert_eq!(high.status.code(), Some(0), "{}", stderr(&high));
    assert_eq!(records(&high), critical(&[1, 2, 5]));
    assert!(stderr(&high).contains("rules: 1 loaded"), "{}", stderr(&high));
    assert!(stderr(&high).contains("left out: 1 rules by --min-level high"), "{}", stderr(&high));
    let unknown = hunt(&["--min-level", "severe"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("error[usage]: --min-level severe: not a level"), "{}", stderr(&unknown));
}

#[test]
fn from_and_to_keep_detections_in_an_inclusive_time_range() {
    let range = hunt(&["--from", "2024-05-02T09:14:03.180Z", "--to", "2024-05-02T09:14:07.010Z"]);
    assert_eq!(range.status.code(), Some(0), "{}", stderr(&range));
    assert_eq!(records(&range), critical(&[2, 5]), "both ends are inclusive");
    assert!(stderr(&range).contains("left out: 2 detections outside --from/--to"), "{}", stderr(&range));
    // A date is its whole day (UTC).
    assert_eq!(records(&hunt(&["--from", "2024-05-02", "--to", "2024-05-02"])).len(), 4);
    assert!(records(&hunt(&["--to", "2024-05-01"])).is_empty());
    let bad = hunt(&["--from", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--from yesterday: not a time"), "{}", stderr(&bad));
    // The SQLite engine narrows the same way.
    let sqlite = hunt(&["--engine", "sqlite", "--min-level", "high", "--from", "2024-05-02T09:14:03.180Z"]);
    assert_eq!(records(&sqlite), critical(&[2, 5]), "{}", stderr(&sqlite));
    let reversed = hunt(&["--from", "2024-05-03", "--to", "2024-05-02"]);
    assert_eq!(reversed.status.code(), Some(2), "{}", stderr(&reversed));
}

#[test]
fn tags_rules_and_statuses_choose_the_rules_that_run() {
    assert_eq!(records(&hunt(&["--tags", "attack.t1047"])), critical(&[1, 2, 5]));
    assert_eq!(records(&hunt(&["--tags", "ATTACK.DISC*"])), vec![("low".to_string(), 7)], "globs, any case");
    assert_eq!(records(&hunt(&["--tags", "attack.t1047,attack.discovery"])).len(), 4);
    assert_eq!(records(&hunt(&["--exclude-tags", "attack.execution"])), vec![("low".to_string(), 7)]);
    assert_eq!(records(&hunt(&["--rule", "*wmi modules*"])), critical(&[1, 2, 5]), "a title glob");
    let by_id = hunt(&["--exclude-rule", "30fc055c-5bb3-4cff-9ac4-713632adc935"]);
    assert_eq!(records(&by_id), vec![("low".to_string(), 7)]);
    let tested = hunt(&["--status", "test,stable"]);
    assert_eq!(records(&tested), vec![("low".to_string(), 7)], "the seed is experimental");
    assert!(stderr(&tested).contains("left out: 1 rules by --status"), "{}", stderr(&tested));
    assert_eq!(hunt(&["--status", "beta"]).status.code(), Some(2));
}

#[test]
fn a_correlation_keeps_the_rules_it_reads_without_reporting_them() {
    let rules = common::write_in(
        "triage_cli",
        "correlated.yml",
        "title: Failed logon\nname: failed\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n---\n\
title: Many failed logons\ncorrelation:\n  type: event_count\n  rules: [failed]\n  generate: true\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 2}\nlevel: high\n",
    );
    let line = |t: &str| {
        format!("{{\"@timestamp\": \"2024-01-01T00:00:{t}Z\", \"Channel\": \"Security\", \"EventID\": 4625, \"TargetUserName\": \"eve\"}}\n")
    };
    let events = common::write_in("triage_cli", "failed.jsonl", [line("01"), line("02")].concat());
    let titles = |output: &Output| -> Vec<String> {
        let lines = stdout(output);
        let parsed = lines.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"));
        parsed.map(|d| d["rule"]["title"].as_str().unwrap_or("").to_string()).collect()
    };
    let all = vigil(&["hunt", "--format", "jsonl", "-r", &rules, &events]);
    assert_eq!(titles(&all), ["Failed logon", "Failed logon", "Many failed logons"], "{}", stderr(&all));
    let high = vigil(&["hunt", "--format", "jsonl", "--min-level", "high", "-r", &rules, &events]);
    assert_eq!(titles(&high), ["Many failed logons"], "{}", stderr(&high));
    let low = vigil(&["hunt", "--format", "jsonl", "--rule", "Failed logon", "-r", &rules, &events]);
    assert_eq!(titles(&low), ["Failed logon", "Failed logon"], "{}", stderr(&low));
}

#[test]
fn zero_threads_is_a_usage_error() {
    let output = vigil(&["hunt", "--threads", "0", "-r", SEED, EXAMPLE]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--threads"), "{}", stderr(&output));
}
