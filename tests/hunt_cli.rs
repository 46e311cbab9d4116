//! `vigil hunt` as a user runs it.

mod common;

use common::{stderr, stdout, vigil};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn jsonl(output: &Output) -> Vec<serde_json::Value> {
    stdout(output).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("hunt_cli", name)
}

#[test]
fn bundled_example_gives_its_three_detections() {
    let output = vigil(&["hunt", "--format", "jsonl", "-r", "rules", EXAMPLE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let detections = jsonl(&output);
    let records: Vec<u64> = detections.iter().map(|d| d["source"]["record"].as_u64().unwrap_or(0)).collect();
    assert_eq!(records, vec![1, 2, 5]);
    let first = &detections[0];
    assert_eq!(first["rule"]["title"], "WMI Modules Loaded");
    assert_eq!(first["rule"]["id"], "30fc055c-5bb3-4cff-9ac4-713632adc935");
    assert_eq!(first["rule"]["level"], "critical");
    assert_eq!(first["rule"]["path"], "rules/sysmon_wmi_module_load.yml");
    assert_eq!(first["source"]["file"], EXAMPLE);
    assert_eq!(first["timestamp"], "2024-05-02T09:14:03.120Z");
    assert_eq!(first["event"]["Image"], "C:\\Windows\\System32\\notepad.exe");
    assert!(stderr(&output).contains("8 events from 1 inputs"), "{}", stderr(&output));
    assert!(stderr(&output).contains("3 detections (critical 3)"), "{}", stderr(&output));
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn seed_dataset_gives_exactly_six_notepad_detections() {
    let dataset = common::shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let output =
        vigil(&["hunt", "--format", "jsonl", "-r", "rules/sysmon_wmi_module_load.yml", dataset.to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let detections = jsonl(&output);
    assert_eq!(detections.len(), 6);
    for d in &detections {
        assert_eq!(d["event"]["Image"], "C:\\Windows\\System32\\notepad.exe");
    }
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn every_seed_detection_says_which_image_load_matched_in_both_engines() {
    let dataset = common::shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    for engine in ["matcher", "sqlite"] {
        let args = ["hunt", "--engine", engine, "--format", "jsonl", "-r", "rules/sysmon_wmi_module_load.yml"];
        let output = vigil(&[&args[..], &[dataset.to_str().unwrap_or("")]].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let detections = jsonl(&output);
        assert_eq!(detections.len(), 6, "{engine}");
        for d in &detections {
            assert_eq!(d["matched"]["selection"]["ImageLoaded"], d["event"]["ImageLoaded"], "{engine}: {d}");
            assert_eq!(d["matched"]["selection"]["EventID"], 7, "{engine}: {d}");
            // `filter` is under `not`: it never shows as matched.
            assert_eq!(d["matched"].as_object().map(|m| m.len()), Some(1), "{engine}: {d}");
        }
    }
}

/// A rule of a list of selections, a keyword list and a filter, with events that hit each part.
const MATCHED_RULE: &str = r#"title: Matched parts
logsource: {product: windows}
detection:
    selection_img:
        - Image|endswith: '\whoami.exe'
        - OriginalFileName: 'whoami.exe'
    selection_cli:
        CommandLine|contains: '/all'
    keywords:
        - '*mimikatz*'
    filter:
        User: 'SYSTEM'
    condition: (all of selection_* or keywords) and not filter
"#;

#[test]
fn matched_names_each_identifier_that_held_with_the_event_values() {
    let rule = common::write_in("hunt_cli", "matched.yml", MATCHED_RULE);
    let events = common::write_in(
        "hunt_cli",
        "matched.jsonl",
        concat!(
            r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\Windows\\System32\\whoami.exe", "OriginalFileName": "other.exe", "CommandLine": "whoami /all", "User": "bob"}"#,
            "\n",
            r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\tools\\x.exe", "CommandLine": "x.exe mimikatz /all", "User": "bob"}"#,
            "\n",
            r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /all", "User": "SYSTEM"}"#,
            "\n",
        ),
    );
    let output = vigil(&["hunt", "--format", "jsonl", "-r", &rule, &events]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let detections = jsonl(&output);
    assert_eq!(detections.len(), 2, "{}", stdout(&output));
    // Only the alternative of `selection_img` that held is shown; `filter` (under `not`) never is.
    assert_eq!(
        detections[0]["matched"],
        serde_json::json!({
            "selection_img": {"Image": "C:\\Windows\\System32\\whoami.exe"},
            "selection_cli": {"CommandLine": "whoami /all"}
        })
    );
    // A keyword identifier lists the event's texts that contained it; `selection_cli` held too, on its own.
    assert_eq!(
        detections[1]["matched"],
        serde_json::json!({"selection_cli": {"CommandLine": "x.exe mimikatz /all"}, "keywords": ["x.exe mimikatz /all"]})
    );
}

#[test]
fn matched_reads_security_process_creations_by_their_own_field_names() {
    let rule = common::write_in(
        "hunt_cli",
        "whoami_process.yml",
        "title: Whoami\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\n",
    );
    let events = common::write_in(
        "hunt_cli",
        "whoami_security.jsonl",
        concat!(
            r#"{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\Windows\\System32\\whoami.exe"}"#,
            "\n"
        ),
    );
    let output = vigil(&["hunt", "--format", "jsonl", "-r", &rule, &events]);
    let detections = jsonl(&output);
    assert_eq!(detections.len(), 1, "{}", stderr(&output));
    assert_eq!(
        detections[0]["matched"],
        serde_json::json!({"selection": {"NewProcessName": "C:\\Windows\\System32\\whoami.exe"}})
    );
}

#[test]
fn routing_adds_the_log_source_and_can_be_turned_off() {
    let rule = tmp("notepad_process.yml");
    std::fs::write(
        &rule,
        "title: Notepad\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\notepad.exe'\n    condition: selection\n",
    )
    .expect("write");
    let routed = vigil(&["hunt", "--format", "csv", "-r", rule.to_str().unwrap_or(""), EXAMPLE]);
    assert_eq!(stdout(&routed).lines().count(), 2, "{}", stdout(&routed)); // header + the EventID 1 event
    assert!(stdout(&routed).lines().nth(1).unwrap_or("").contains(".jsonl,7,"), "{}", stdout(&routed));
    // Without routing the rule has no EventID condition, but each event's log source still counts: the image loads
    // (Sysmon 7, category image_load) are not process creations.
    let unrouted = vigil(&["hunt", "--no-routing", "--format", "csv", "-r", rule.to_str().unwrap_or(""), EXAMPLE]);
    assert_eq!(stdout(&unrouted).lines().count(), 2, "{}", stdout(&unrouted));
    // With the log source forced to Windows alone (no category known), it runs on every notepad event.
    let rule = rule.to_str().unwrap_or("");
    let forced =
        vigil(&["hunt", "--no-routing", "--logsource", "product=windows", "--format", "csv", "-r", rule, EXAMPLE]);
    assert_eq!(stdout(&forced).lines().count(), 5, "{}", stdout(&forced)); // every notepad event
}

#[test]
fn csv_and_table_formats() {
    let csv = vigil(&["hunt", "--format", "csv", "-r", "rules", EXAMPLE]);
    let text = stdout(&csv);
    assert_eq!(
        text.lines().next(),
        Some("timestamp,level,rule_id,rule_title,file,record,computer,event_id,channel,details")
    );
    assert!(text.contains("2024-05-02T09:14:07.010Z,critical,30fc055c-5bb3-4cff-9ac4-713632adc935,WMI Modules Loaded,examples/wmi_module_load.jsonl,5,WORKSTATION5.example.lab,7,Microsoft-Windows-Sysmon/Operational,EventID: 7 ¦ ImageLoaded: C:\\Windows\\System32\\wbem\\WMINet_Utils.dll ¦ Image: C:\\Users\\alice\\AppData\\Local\\Temp\\updater.exe"), "{text}");
    // --fields adds columns (and details in the table).
    let fields = vigil(&["hunt", "--format", "csv", "--fields", "ProcessId,Nope", "-r", "rules", EXAMPLE]);
    let text = stdout(&fields);
    assert!(text.lines().next().unwrap_or("").ends_with(",details,ProcessId,Nope"), "{text}");
    assert!(text.lines().nth(1).unwrap_or("").ends_with(",4242,"), "{text}");
    let table = vigil(&["hunt", "-r", "rules", "--fields", "ProcessId", EXAMPLE]);
    let text = stdout(&table);
    let row = text.lines().nth(1).unwrap_or("");
    assert!(
        row.starts_with("2024-05-02T09:14:03.180Z     WORKSTATION5.example.lab critical      WMI Modules Loaded  "),
        "{row}"
    );
    assert!(row.contains("ImageLoaded: C:\\Windows\\System32\\wbem\\fastprox.dll ¦ Image: C:\\Windows\\System32\\notepad.exe ¦ ProcessId: 4242"), "{row}");
    assert!(row.ends_with("  (examples/wmi_module_load.jsonl:2)"), "{row}");
    assert!(!text.contains('\x1b'), "no colours when the output is not a terminal");
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_seed_table_shows_the_computer_and_the_image() {
    let dataset = common::shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let output = vigil(&["hunt", "-r", "rules/sysmon_wmi_module_load.yml", dataset.to_str().unwrap_or("")]);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 6, "{}", stderr(&output));
    for row in text.lines() {
        assert!(row.contains(" WORKSTATION5.theshire.local critical "), "{row}");
        assert!(row.contains("Image: C:\\Windows\\System32\\notepad.exe"), "{row}");
    }
}

#[test]
fn stdin_and_output_file() {
    let out = tmp("detections.jsonl");
    let input = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).expect("example");
    let args = ["hunt", "--format", "jsonl", "-o", out.to_str().unwrap_or(""), "-r", "rules", "-"];
    let output = common::vigil_with_stdin(&args, &input, std::time::Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&out).expect("output").lines().count(), 3);
}

#[test]
fn malformed_lines_are_counted_and_the_rest_is_read() {
    let input = tmp("broken.jsonl");
    let good = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).expect("example");
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(1, "{not json");
    std::fs::write(&input, lines.join("\n")).expect("write");
    let output = vigil(&["hunt", "--format", "jsonl", "-r", "rules", input.to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(0));
    let records: Vec<u64> = jsonl(&output).iter().map(|d| d["source"]["record"].as_u64().unwrap_or(0)).collect();
    assert_eq!(records, vec![1, 3, 6], "line numbers count the bad line too");
    assert!(stderr(&output).contains("skipped: line 2"), "{}", stderr(&output));
    assert!(stderr(&output).contains("1 unreadable records"), "{}", stderr(&output));
}

#[test]
fn output_order_does_not_depend_on_threads() {
    let mordor = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/mordor");
    let inputs = if mordor.is_dir() { mordor.to_str().unwrap_or("").to_string() } else { EXAMPLE.to_string() };
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma/rules/windows/process_creation");
    let rules = if rules.is_dir() { rules.to_str().unwrap_or("").to_string() } else { "rules".to_string() };
    let one = vigil(&["hunt", "--threads", "1", "--format", "jsonl", "-r", &rules, &inputs]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert!(!stdout(&one).is_empty());
    for threads in ["2", "5"] {
        let other = vigil(&["hunt", "--threads", threads, "--format", "jsonl", "-r", &rules, &inputs]);
        assert!(stdout(&one) == stdout(&other), "output differs between 1 and {threads} threads");
    }
}

/// With several workers, as many inputs are read at once: small inputs after large ones and large after small,
/// and one that cannot be read, come out in input order whatever the thread count, and never hang (a reader ahead
/// must not take the memory the input being written needs).
#[test]
fn inputs_read_at_once_come_out_in_input_order() {
    let example = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).expect("example");
    // 8 MB: many times the records one reader may hold in flight.
    let large = example.repeat(3000);
    let mut inputs = Vec::new();
    for (i, text) in [&example, &large, &example, &example, &large, &example].into_iter().enumerate() {
        inputs.push(common::write_in("hunt_cli", &format!("order_{i}.jsonl"), text));
        if i == 2 {
            inputs.push("no/such/input.jsonl".to_string());
        }
    }
    let run = |threads: &str| {
        let mut args = vec!["hunt", "--threads", threads, "--format", "jsonl", "-r", "rules"];
        args.extend(inputs.iter().map(String::as_str));
        common::vigil_with_stdin(&args, b"", std::time::Duration::from_secs(120))
    };
    let one = run("1");
    assert_eq!(one.status.code(), Some(3), "one input could not be read: {}", stderr(&one));
    assert_eq!(stdout(&one).lines().count(), 3 * (4 + 2 * 3000));
    for threads in ["2", "3", "8"] {
        let other = run(threads);
        assert_eq!(other.status.code(), Some(3), "{}", stderr(&other));
        assert!(stdout(&one) == stdout(&other), "output differs between 1 and {threads} threads");
        assert!(stderr(&other).contains("no/such/input.jsonl: error[input-unreadable]"), "{}", stderr(&other));
    }
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn a_closed_output_stops_the_scan() {
    let mordor = common::shared("mordor");
    // One thread (all in the calling thread) and several (reader, workers, writer).
    for threads in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "hunt",
                "--threads",
                threads,
                "--no-routing",
                "--format",
                "jsonl",
                "-r",
                "../shared/sigma/rules/windows",
            ])
            .arg(&mordor)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("vigil runs");
        let mut first = String::new();
        let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        std::io::BufRead::read_line(&mut reader, &mut first).expect("a first detection");
        drop(reader); // as `| head -1` does
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait()));
        let status = rx.recv_timeout(std::time::Duration::from_secs(120)).expect("vigil stops when its output closes");
        assert_eq!(status.expect("exit status").code(), Some(141), "a closed pipe, quietly");
    }
}

#[test]
fn exit_codes() {
    let missing = vigil(&["hunt", "-r", "rules", "no/such/file.jsonl"]);
    assert_eq!(missing.status.code(), Some(1), "nothing could be read");
    assert!(stderr(&missing).contains("no/such/file.jsonl: error[input-unreadable]"), "{}", stderr(&missing));
    let beside = vigil(&["hunt", "-r", "rules", "no/such/file.jsonl", EXAMPLE]);
    assert_eq!(beside.status.code(), Some(3), "the other input ran, one was skipped");
    assert_eq!(stdout(&beside).lines().count(), 3, "{}", stdout(&beside));
    assert_eq!(vigil(&["hunt", "-r", "rules"]).status.code(), Some(2), "no input is a usage error");
    let empty = tmp("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    assert_eq!(vigil(&["hunt", "-r", "rules", empty.to_str().unwrap_or("")]).status.code(), Some(1), "no event read");
    let no_rules = tmp("no_rules");
    std::fs::create_dir_all(&no_rules).expect("dir");
    assert_eq!(
        vigil(&["hunt", "-r", no_rules.to_str().unwrap_or(""), EXAMPLE]).status.code(),
        Some(1),
        "no rule loaded"
    );
}

#[test]
fn correlations_in_hunt() {
    let dir = tmp("correlations");
    std::fs::create_dir_all(&dir).expect("dir");
    let rules = dir.join("rules.yml");
    // A base rule and two correlations on it in one file: failed logons, many per user (event_count), then
    // a success after them (temporal_ordered, chained).
    std::fs::write(
        &rules,
        "title: Failed logon\nname: failed\nlogsource: {product: windows, service: security}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n---\n\
title: Successful logon\nname: success\nlogsource: {product: windows, service: security}\ndetection:\n  s: {EventID: 4624}\n  condition: s\n---\n\
title: Many failed logons\nname: many_failures\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 3}\nlevel: medium\n---\n\
title: Logon after many failures\ncorrelation:\n  type: temporal_ordered\n  rules: [many_failures, success]\n  group-by: [TargetUserName]\n  timespan: 1m\nlevel: high\n",
    )
    .expect("rules");
    let events = dir.join("logons.jsonl");
    let line = |t: &str, id: u32, user: &str| {
        format!("{{\"@timestamp\": \"2024-01-01T00:00:{t}Z\", \"Channel\": \"Security\", \"EventID\": {id}, \"TargetUserName\": \"{user}\"}}\n")
    };
    let text: String = [
        line("01", 4625, "eve"),
        line("02", 4625, "eve"),
        line("03", 4625, "bob"),
        line("04", 4625, "eve"),
        line("30", 4624, "eve"),
        line("31", 4624, "bob"),
    ]
    .concat();
    std::fs::write(&events, text).expect("events");
    let output =
        vigil(&["hunt", "--format", "jsonl", "-r", rules.to_str().unwrap_or(""), events.to_str().unwrap_or("")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let found = jsonl(&output);
    let titles: Vec<&str> = found.iter().map(|d| d["rule"]["title"].as_str().unwrap_or("")).collect();
    // The base rules are referenced by correlations without `generate: true`: only correlations print.
    assert_eq!(titles, vec!["Many failed logons", "Logon after many failures"], "{}", stdout(&output));
    assert_eq!(found[0]["correlation"]["type"], "event_count");
    assert_eq!(found[0]["correlation"]["group"]["TargetUserName"], "eve");
    assert_eq!(found[0]["correlation"]["value"], 3.0);
    assert_eq!(found[0]["events"].as_array().map(Vec::len), Some(3));
    assert_eq!(found[1]["correlation"]["window"]["end"], "2024-01-01T00:00:30Z");
    assert!(stderr(&output).contains("2 detections (high 1, medium 1)"), "{}", stderr(&output));
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn every_correlation_of_the_spec_and_pysigma_examples_loads() {
    let dir = common::shared("oracle/correlations");
    let output = vigil(&["hunt", "-r", dir.to_str().unwrap_or(""), EXAMPLE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("rules: 45 loaded and 29 correlations, 0 not loaded"), "{}", stderr(&output));
}
