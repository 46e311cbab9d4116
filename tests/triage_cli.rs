//! Triage with `vigil hunt`: narrowing the report to levels, tags, rules and a time range.

mod common;

use common::{stderr, stdout, vigil};
use std::process::Output;

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";

/// A low-level rule beside the seed (critical): it matches the process creation of the example (record 7).
const LOW_RULE: &str = "title: Notepad started\nid: 9c1a1f0e-0000-4000-8000-000000000001\nstatus: test\nlevel: low\ntags: [attack.discovery]\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\notepad.exe'\n    condition: selection\n";

/// Written once: tests run in parallel, and one rewriting it while another reads it would race.
fn low_rule() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| common::write_in("triage_cli", "notepad_started.yml", LOW_RULE))
}

fn hunt(extra: &[&str]) -> Output {
    hunt_as("jsonl", extra)
}

fn hunt_as(format: &str, extra: &[&str]) -> Output {
    let args = [&["hunt", "--format", format, "-r", SEED, "-r", low_rule(), EXAMPLE], extra].concat();
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

fn explain_json(event: &str) -> Vec<serde_json::Value> {
    let output = vigil(&["explain", "--format", "json", "-r", SEED, event]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect()
}

#[test]
fn explain_says_why_a_detection_matched_and_why_another_event_did_not() {
    let [hit] = &explain_json("examples/wmi_module_load.jsonl:5")[..] else { panic!("one rule") };
    assert_eq!(hit["matched"], true);
    assert_eq!(hit["identifiers"]["selection"], true);
    assert_eq!(hit["identifiers"]["filter"], false);
    assert_eq!(hit["rule"]["id"], "30fc055c-5bb3-4cff-9ac4-713632adc935");
    assert_eq!(hit["logsource"]["admitted"], true);
    assert_eq!(hit["candidate"], true);
    // Record 6 loads kernel32.dll: the ImageLoaded item of `selection` failed, with the event's value.
    let [miss] = &explain_json("examples/wmi_module_load.jsonl:6")[..] else { panic!("one rule") };
    assert_eq!(miss["matched"], false);
    assert_eq!(miss["identifiers"]["selection"], false);
    let items = miss["items"].as_array().cloned().unwrap_or_default();
    let failed: Vec<&serde_json::Value> = items.iter().filter(|i| i["result"] == false).collect();
    assert_eq!(failed[0]["identifier"], "selection");
    assert_eq!(failed[0]["field"], "ImageLoaded");
    assert_eq!(failed[0]["value"], "C:\\Windows\\System32\\kernel32.dll");
    assert!(failed[0]["expected"][0].as_str().unwrap_or("").starts_with("ImageLoaded endswith"), "{items:?}");
    // Text says the same for people.
    let text = vigil(&["explain", "-r", SEED, "examples/wmi_module_load.jsonl:6"]);
    let text = stdout(&text);
    assert!(text.contains("WMI Modules Loaded (rules/sysmon_wmi_module_load.yml): not matched"), "{text}");
    assert!(text.contains("    false ImageLoaded endswith 'wmiclnt.dll'"), "{text}");
    assert!(text.contains("[event: ImageLoaded = \"C:\\\\Windows\\\\System32\\\\kernel32.dll\"]"), "{text}");
}

#[test]
fn explain_reads_standard_input_and_says_when_a_rule_cannot_run_on_the_event() {
    let logon = br#"{"Channel": "Security", "EventID": 4624, "TargetUserName": "bob"}"#;
    let output =
        common::vigil_with_stdin(&["explain", "-r", SEED, "--all", "-"], logon, std::time::Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("(log source: product=windows service=security"), "{text}");
    assert!(text.contains("not matched: its log source (product=windows service=sysmon) is not the event's"), "{text}");
    // A file of several events needs a record; a record that is not there is an error.
    let several = vigil(&["explain", "-r", SEED, EXAMPLE]);
    assert_eq!(several.status.code(), Some(2));
    assert!(stderr(&several).contains("holds 8 events: name one as FILE:RECORD"), "{}", stderr(&several));
    let absent = vigil(&["explain", "-r", SEED, "examples/wmi_module_load.jsonl:99"]);
    assert_eq!(absent.status.code(), Some(2));
    assert!(stderr(&absent).contains("no record 99 (8 records)"), "{}", stderr(&absent));
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn explain_a_seed_detection_of_the_playbook() {
    let dataset = common::shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let [hit] = &explain_json(&format!("{}:2173", dataset.display()))[..] else { panic!("one rule") };
    assert_eq!((hit["matched"].clone(), hit["identifiers"]["selection"].clone()), (true.into(), true.into()));
    assert_eq!(hit["identifiers"]["filter"], false);
}

#[test]
fn the_summary_names_top_rules_computers_tactics_and_the_time_span() {
    let path = common::tmp_in("triage_cli", "summary.json");
    let output = hunt(&["--summary", path.to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("top rules: 3 WMI Modules Loaded (critical) · 1 Notepad started (low)"), "{err}");
    assert!(err.contains("top computers: 4 WORKSTATION5.example.lab"), "{err}");
    assert!(err.contains("ATT&CK tactics: execution 3, discovery 1"), "{err}");
    assert!(err.contains("detections from 2024-05-02T09:14:03.12Z to 2024-05-02T09:14:09Z"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the summary")).expect("JSON");
    assert_eq!(summary["detections"], 4);
    assert_eq!(summary["by_level"], serde_json::json!({"critical": 3, "low": 1}));
    assert_eq!(summary["rules"][0]["id"], "30fc055c-5bb3-4cff-9ac4-713632adc935");
    assert_eq!(summary["computers"][0], serde_json::json!({"computer": "WORKSTATION5.example.lab", "detections": 4}));
    assert_eq!(summary["tactics"]["execution"], 3);
    assert_eq!(summary["events"], 8);
    assert_eq!(summary["rules_loaded"], 2);
}

#[test]
fn navigator_layers_of_a_hunt_and_of_a_rule_set() {
    let hunt_layer = common::tmp_in("triage_cli", "hunt_layer.json");
    let output = vigil(&["hunt", "--navigator", hunt_layer.to_str().unwrap_or(""), "-r", SEED, EXAMPLE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hunt_layer).expect("layer")).expect("JSON");
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(
        layer["techniques"],
        serde_json::json!([{"techniqueID": "T1047", "score": 3, "comment": "3 detections", "enabled": true}])
    );
    let coverage_layer = common::tmp_in("triage_cli", "coverage_layer.json");
    let output = vigil(&["coverage", "--navigator", coverage_layer.to_str().unwrap_or(""), SEED, low_rule()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "T1047\t1\n");
    assert!(stderr(&output).contains("2 rules cover 1 ATT&CK techniques"), "{}", stderr(&output));
    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&coverage_layer).expect("layer")).expect("JSON");
    assert_eq!(layer["techniques"][0]["techniqueID"], "T1047");
}

/// A process creation of notepad (the low rule's) at `time`, or without a time.
fn notepad_at(time: Option<&str>, pid: usize) -> String {
    let time = time.map_or(String::new(), |t| format!("\"@timestamp\": \"{t}\", "));
    format!(
        "{{\"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"Hostname\": \"WS1\", {time}\"EventID\": 1, \
         \"Image\": \"C:\\\\Windows\\\\System32\\\\notepad.exe\", \"ProcessId\": {pid}}}\n"
    )
}

fn times(output: &Output) -> Vec<Option<String>> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .map(|d| d["timestamp"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn sort_time_orders_the_detections_of_all_inputs_by_event_time() {
    let late: String = [Some("2024-05-03T10:00:00Z"), None, Some("2024-05-03T08:00:00Z")]
        .iter()
        .enumerate()
        .map(|(i, t)| notepad_at(*t, i))
        .collect();
    let early = notepad_at(Some("2024-05-01T12:00:00Z"), 9);
    let late = common::write_in("triage_sort", "late.jsonl", late);
    let early = common::write_in("triage_sort", "early.jsonl", early);
    let as_read = vigil(&["hunt", "--format", "jsonl", "-r", low_rule(), &late, &early]);
    let t = |s: &str| Some(s.to_string());
    assert_eq!(
        times(&as_read),
        [t("2024-05-03T10:00:00Z"), None, t("2024-05-03T08:00:00Z"), t("2024-05-01T12:00:00Z")],
        "input order by default"
    );
    for engine in ["matcher", "sqlite"] {
        let sorted = vigil(&[
            "hunt",
            "--engine",
            engine,
            "--sort",
            "time",
            "--format",
            "jsonl",
            "-r",
            low_rule(),
            &late,
            &early,
        ]);
        assert_eq!(sorted.status.code(), Some(0), "{}", stderr(&sorted));
        assert_eq!(
            times(&sorted),
            [t("2024-05-01T12:00:00Z"), t("2024-05-03T08:00:00Z"), t("2024-05-03T10:00:00Z"), None],
            "{engine}: by time, a detection without one last"
        );
    }
}

#[test]
fn sort_time_spills_past_its_memory_limit_and_keeps_every_detection() {
    // 20,000 detections, newest first across two files: more than one sorted run is spilled and merged.
    let events = |from: usize| -> String {
        (from..from + 10_000)
            .rev()
            .map(|i| {
                notepad_at(
                    Some(&format!(
                        "2024-05-{:02}T{:02}:{:02}:{:02}Z",
                        1 + i / 3600 / 24 % 28,
                        i / 3600 % 24,
                        i / 60 % 60,
                        i % 60
                    )),
                    i,
                )
            })
            .collect()
    };
    let newer = common::write_in("triage_sort", "newer.jsonl", events(10_000));
    let older = common::write_in("triage_sort", "older.jsonl", events(0));
    let sorted = vigil(&["hunt", "--sort", "time", "--format", "jsonl", "-r", low_rule(), &newer, &older]);
    assert_eq!(sorted.status.code(), Some(0), "{}", stderr(&sorted));
    let times: Vec<String> = times(&sorted).into_iter().map(|t| t.expect("a time")).collect();
    assert_eq!(times.len(), 20_000);
    assert!(times.windows(2).all(|w| w[0] < w[1]), "in time order");
}

#[test]
fn timesketch_formats_carry_message_datetime_and_timestamp_desc() {
    let jsonl = hunt_as("timesketch", &[]);
    assert_eq!(jsonl.status.code(), Some(0), "{}", stderr(&jsonl));
    let events: Vec<serde_json::Value> =
        stdout(&jsonl).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(events.len(), 4);
    let first = &events[0];
    assert_eq!(first["datetime"], "2024-05-02T09:14:03.12Z");
    assert_eq!(first["timestamp"], 1_714_641_243_120_000u64, "microseconds since the epoch");
    assert_eq!(first["timestamp_desc"], "Event Time");
    assert_eq!(first["rule_title"], "WMI Modules Loaded");
    assert_eq!(first["computer"], "WORKSTATION5.example.lab");
    assert!(first["message"].as_str().unwrap_or("").starts_with("WMI Modules Loaded on WORKSTATION5.example.lab: "));
    assert!(first["details"].as_str().unwrap_or("").contains("wmiutils.dll"), "{first}");

    let csv = hunt_as("timesketch-csv", &["--fields", "ProcessId"]);
    let text = stdout(&csv);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "message,datetime,timestamp,timestamp_desc,rule_title,rule_id,rule_level,rule_tags,computer,event_id,\
             channel,details,file,record,ProcessId"
        )
    );
    assert_eq!(lines.count(), 4);

    // Timesketch cannot place an event without a time: it is left out, and the hunt says so.
    let timeless = common::write_in("triage_timesketch", "timeless.jsonl", notepad_at(None, 1));
    let left_out = vigil(&["hunt", "--format", "timesketch", "-r", low_rule(), &timeless]);
    assert_eq!(stdout(&left_out), "");
    assert!(stderr(&left_out).contains("warning[missing-event-time]"), "{}", stderr(&left_out));
}

/// `tail -f | vigil hunt -`: each detection is written within a second of its event, and Ctrl-C ends the hunt with
/// what was found and the summary (exit 130).
#[cfg(unix)]
#[test]
fn standard_input_is_hunted_live_and_an_interrupt_keeps_what_was_found() {
    use std::io::{BufRead, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["hunt", "--format", "jsonl", "-r", low_rule(), "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil runs");
    let mut input = child.stdin.take().expect("stdin");
    let output = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || output.lines().map_while(Result::ok).try_for_each(|l| lines_tx.send(l)));
    // The first detection also waits for the start (rules loaded); the second one is timed.
    input.write_all(notepad_at(Some("2024-05-02T10:00:00Z"), 1).as_bytes()).expect("write");
    input.flush().expect("flush");
    lines.recv_timeout(Duration::from_secs(20)).expect("a first detection while the input stays open");
    let sent = Instant::now();
    input.write_all(notepad_at(Some("2024-05-02T10:00:01Z"), 2).as_bytes()).expect("write");
    input.flush().expect("flush");
    let second = lines.recv_timeout(Duration::from_secs(1)).expect("the second detection within a second");
    assert!(second.contains("2024-05-02T10:00:01Z"), "{second}; after {:?}", sent.elapsed());

    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let (done_tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || done_tx.send(child.wait_with_output()));
    let ended = done.recv_timeout(Duration::from_secs(10)).expect("vigil ends after Ctrl-C").expect("output");
    drop(input);
    let errors = stderr(&ended);
    assert_eq!(ended.status.code(), Some(130), "{errors}");
    assert!(errors.contains("warning[interrupted]"), "{errors}");
    assert!(errors.contains("2 detections (low 2)"), "the summary covers what was found: {errors}");
}
