//! Precision on real collections: every rule only on its own log source, Sysmon and Security in one run, SigmaHQ
//! field names, Sigma filters, and `--engine sqlite` giving the matcher's detections.

mod common;

use common::{stderr, stdout, vigil};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("precision_cli", name)
}

fn write(name: &str, text: &str) -> String {
    common::write_in("precision_cli", name, text)
}

/// `../shared/<what>` beside the repository (CI has it).
fn shared(what: &str) -> PathBuf {
    common::shared(what)
}

fn jsonl(output: &Output) -> Vec<serde_json::Value> {
    stdout(output).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

/// The records of a hunt's detections, in order.
fn records(output: &Output) -> Vec<u64> {
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(output));
    jsonl(output).iter().map(|d| d["source"]["record"].as_u64().unwrap_or(0)).collect()
}

fn hunt(args: &[&str]) -> Output {
    let mut all = vec!["hunt", "--format", "jsonl"];
    all.extend(args);
    vigil(&all)
}

/// The seed rule with a `name`, for filters that name it.
fn named_seed() -> String {
    let text = std::fs::read_to_string(SEED).expect("seed");
    write("named_seed.yml", &text.replacen("id: ", "name: wmi_modules_loaded\nid: ", 1))
}

#[test]
fn filters_include_exclude_by_id_name_and_any_and_compose() {
    let seed = named_seed();
    assert_eq!(records(&hunt(&["-r", &seed, EXAMPLE])), vec![1, 2, 5]);
    for engine in ["matcher", "sqlite"] {
        let run = |filters: &[&str]| {
            let mut args = vec!["--engine", engine, "-r", &seed];
            for f in filters {
                args.extend(["--filter", f]);
            }
            args.push(EXAMPLE);
            records(&hunt(&args))
        };
        assert_eq!(run(&["tests/filters/include_notepad_only.yml"]), vec![1, 2], "{engine}: inclusion, by name");
        assert_eq!(run(&["tests/filters/exclude_fastprox.yml"]), vec![1, 5], "{engine}: exclusion, by id");
        assert_eq!(run(&["tests/filters/any_exclude_temp.yml"]), vec![1, 2], "{engine}: rules: any");
        assert_eq!(run(&["tests/filters/linux_only.yml"]), vec![1, 2, 5], "{engine}: log source not covering");
        let both = ["tests/filters/exclude_fastprox.yml", "tests/filters/any_exclude_temp.yml"];
        assert_eq!(run(&both), vec![1], "{engine}: two filters");
    }
    // A filter document among the rules applies as `--filter` does.
    let dir = tmp("rules_with_filter");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(&seed, dir.join("seed.yml")).expect("copy");
    std::fs::copy("tests/filters/exclude_fastprox.yml", dir.join("mf_fastprox.yml")).expect("copy");
    assert_eq!(records(&hunt(&["-r", dir.to_str().unwrap_or(""), EXAMPLE])), vec![1, 5]);
    // A filter that names no loaded rule is a coded warning, and changes nothing.
    let unused = hunt(&["-r", &seed, "--filter", "tests/filters/unknown_rule.yml", EXAMPLE]);
    assert_eq!(records(&unused), vec![1, 2, 5]);
    assert!(stderr(&unused).contains("warning[filter-unused]"), "{}", stderr(&unused));
    // A broken `--filter` file stops the run: a team's exclusions are configuration, like a pipeline.
    let broken = write(
        "broken_filter.yml",
        "title: x\nlogsource: {product: windows}\nfilter:\n    selection: {a: b}\n    condition: not selection\n",
    );
    let refused = hunt(&["-r", &seed, "--filter", &broken, EXAMPLE]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("error[invalid-filter]"), "{}", stderr(&refused));
}

#[test]
fn filters_apply_to_a_correlations_base_rules_not_to_the_correlation() {
    let seed = named_seed();
    let correlation = write(
        "per_image.yml",
        "title: Two WMI module loads by one process\nname: two_loads\ncorrelation:\n  type: event_count\n  rules: [wmi_modules_loaded]\n  group-by: [Image]\n  timespan: 1h\n  condition: {gte: 2}\n",
    );
    let correlated = |filters: &[&str]| {
        let mut args = vec!["-r", &seed, "-r", &correlation];
        for f in filters {
            args.extend(["--filter", f]);
        }
        args.push(EXAMPLE);
        jsonl(&hunt(&args)).iter().filter(|d| d.get("correlation").is_some()).count()
    };
    assert_eq!(correlated(&[]), 1, "notepad.exe loaded two WMI modules");
    assert_eq!(correlated(&["tests/filters/exclude_fastprox.yml"]), 0, "one of them is filtered out of the base rule");
    // `rules: any` names every rule, never a correlation: the correlation itself is not filtered.
    assert_eq!(correlated(&["tests/filters/linux_only.yml"]), 1);
}

#[test]
fn every_target_query_shows_the_filter() {
    let count = |text: &str| text.matches("fastprox").count();
    for target in ["sqlite", "postgres", "duckdb", "spark", "kusto", "splunk", "lucene", "esql", "eql"] {
        let plain = vigil(&["convert", "-t", target, SEED]);
        let filtered = vigil(&["convert", "-t", target, "--filter", "tests/filters/exclude_fastprox.yml", SEED]);
        assert_eq!(filtered.status.code(), Some(0), "{target}: {}", stderr(&filtered));
        assert_eq!(count(&stdout(&filtered)), count(&stdout(&plain)) + 1, "{target}: {}", stdout(&filtered));
    }
    let ir = stdout(&vigil(&["ir", "--filter", "tests/filters/exclude_fastprox.yml", SEED]));
    assert!(ir.contains("condition: (selection and not filter) and (not _filt_0_fastprox)"), "{ir}");
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_seed_with_a_filter_gives_five_of_its_six_playbook_detections() {
    let playbook = shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let playbook = playbook.to_str().unwrap_or("");
    let filter = "tests/filters/exclude_wbemcomn.yml";
    for engine in ["matcher", "sqlite"] {
        assert_eq!(records(&hunt(&["--engine", engine, "-r", SEED, playbook])), [2169, 2173, 2192, 2195, 2233, 2236]);
        let filtered = records(&hunt(&["--engine", engine, "-r", SEED, "--filter", filter, playbook]));
        assert_eq!(filtered.len(), 5, "{engine}: {filtered:?}");
    }
}

/// A process creation as Sysmon (1) and as Windows Security (4688) log it, and a Security logon.
const PROCESSES: &str = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /all"}
{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /all", "ParentProcessName": "C:\\Windows\\System32\\cmd.exe"}
{"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\Windows\\System32\\notepad.exe", "CommandLine": "notepad"}
{"Channel": "Security", "EventID": 4624, "TargetUserName": "bob"}
"#;

const WHOAMI: &str = "title: Whoami\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\n";

#[test]
fn sysmon_and_security_process_creations_in_one_run() {
    let events = write("processes.jsonl", PROCESSES);
    let rule = write("whoami.yml", WHOAMI);
    for engine in ["matcher", "sqlite"] {
        let run = |extra: &[&str]| {
            let mut args = vec!["--engine", engine, "-r", &rule];
            args.extend(extra);
            args.push(&events);
            records(&hunt(&args))
        };
        assert_eq!(run(&[]), vec![1, 2], "{engine}: both sources by default");
        assert_eq!(run(&["-p", "windows-audit"]), vec![2], "{engine}: Security only, as asked");
        assert_eq!(run(&["-p", "sysmon"]), vec![1], "{engine}: Sysmon only, as asked");
    }
}

#[test]
fn defender_fields_with_spaces_answer_to_sigmahq_names() {
    let events = write(
        "defender.jsonl",
        concat!(
            r#"{"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116, "Threat Name": "HackTool:Win32/Mimikatz"}"#,
            "\n",
            r#"{"Event": {"System": {"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116}, "EventData": {"Threat Name": "HackTool:Win32/Mimikatz.D"}}}"#,
            "\n",
            r#"{"Channel": "Microsoft-Windows-Windows Defender/Operational", "EventID": 1116, "Threat Name": "HackTool:Win32/Mimikatz", "ThreatName": "Benign"}"#,
            "\n"
        ),
    );
    let rule = write(
        "defender.yml",
        "title: Mimikatz by Defender\nlogsource: {product: windows, service: windefend}\ndetection:\n    selection:\n        EventID: 1116\n        ThreatName|contains: 'Mimikatz'\n    condition: selection\n",
    );
    for engine in ["matcher", "sqlite"] {
        // The third event has both names: the exact one wins.
        assert_eq!(records(&hunt(&["--engine", engine, "-r", &rule, &events])), vec![1, 2], "{engine}");
    }
}

#[test]
fn the_log_source_can_be_forced_and_told_by_a_users_table() {
    let rule = write(
        "app.yml",
        "title: App\nlogsource: {product: myapp}\ndetection:\n    selection:\n        action: delete\n    condition: selection\n",
    );
    let events = write(
        "app.jsonl",
        "{\"Channel\": \"Security\", \"action\": \"delete\"}\n{\"app_id\": 7, \"action\": \"delete\"}\n",
    );
    // The first event is a Windows event (its Channel): the myapp rule does not run on it; the second is unknown.
    let run = hunt(&["-r", &rule, &events]);
    assert_eq!(records(&run), vec![2]);
    assert!(stderr(&run).contains("1 events of unknown log source"), "{}", stderr(&run));
    let table = write("table.yml", "- logsource: {product: myapp}\n  recognise: {all_of: [app_id]}\n");
    let told = hunt(&["--logsource-table", &table, "-r", &rule, &events]);
    assert_eq!(records(&told), vec![2]);
    assert!(stderr(&told).contains("0 events of unknown log source"), "{}", stderr(&told));
    assert_eq!(records(&hunt(&["--logsource", "product=myapp", "-r", &rule, &events])), vec![1, 2]);
    let bad = hunt(&["--logsource", "vendor=x", "-r", &rule, &events]);
    assert_eq!(bad.status.code(), Some(2));
    let broken = write("broken_table.yml", "- logsource: {product: x}\n  recognize: {all_of: [a]}\n");
    let refused = hunt(&["--logsource-table", &broken, "-r", &rule, &events]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("error[invalid-logsource-table]"), "{}", stderr(&refused));
}

#[test]
fn db_never_replaces_a_file_that_is_not_a_vigil_database() {
    let precious = write("precious.txt", "not a database");
    let refused = vigil(&["hunt", "--engine", "sqlite", "--db", &precious, "-r", "rules", EXAMPLE]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("error[output-unwritable]"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(&precious).expect("kept"), "not a database");
    let db = tmp("kept.db");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().unwrap_or("");
    for _ in 0..2 {
        // A database a hunt wrote is replaced by the next hunt.
        let run = vigil(&["hunt", "--engine", "sqlite", "--db", db, "-r", "rules", EXAMPLE]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    }
    let forced = vigil(&["hunt", "--engine", "sqlite", "--db", &precious, "--db-overwrite", "-r", "rules", EXAMPLE]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
}

/// Rule files of the active corpus whose documents are all of product `windows`, and the product of every rule
/// file by its path.
fn corpus(sigma: &Path) -> (Vec<String>, BTreeMap<String, String>) {
    let mut files = Vec::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        collect(&sigma.join(folder), &mut files);
    }
    files.sort();
    let mut windows = Vec::new();
    let mut products = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut product = String::new();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let Ok(value) = serde_yaml::Value::deserialize(document) else { continue };
            if let Some(p) = value.get("logsource").and_then(|l| l.get("product")).and_then(|p| p.as_str()) {
                product = p.to_string();
            }
        }
        let shown = file.display().to_string();
        if product == "windows" {
            windows.push(shown.clone());
        }
        products.insert(shown, product);
    }
    (windows, products)
}

use serde::Deserialize;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
}

/// The logs of `../shared`: the EVTX files and every Mordor set.
fn shared_logs(shared: &Path) -> Vec<String> {
    let mut logs = vec![shared.join("evtx").display().to_string()];
    let mut sets: Vec<String> = std::fs::read_dir(shared.join("mordor"))
        .expect("mordor")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .map(|p| p.display().to_string())
        .collect();
    sets.sort();
    logs.extend(sets);
    logs
}

type Found = BTreeSet<(String, String, u64)>;

fn found(output: &Output) -> Found {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    jsonl(output)
        .iter()
        .map(|d| {
            let path = d["rule"]["path"].as_str().unwrap_or("").to_string();
            (path, d["source"]["file"].as_str().unwrap_or("").to_string(), d["source"]["record"].as_u64().unwrap_or(0))
        })
        .collect()
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn the_whole_corpus_over_windows_logs_gives_only_windows_detections() {
    let (shared, sigma) = (shared(""), shared("sigma"));
    let (windows, products) = corpus(&sigma);
    let logs = shared_logs(&shared);
    let mut all = vec!["hunt".to_string(), "--format".into(), "jsonl".into()];
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        all.extend(["-r".to_string(), sigma.join(folder).display().to_string()]);
    }
    all.extend(logs.iter().cloned());
    let everything = found(&vigil(&all.iter().map(String::as_str).collect::<Vec<_>>()));
    let others: Vec<&(String, String, u64)> =
        everything.iter().filter(|(rule, ..)| products.get(rule).map(String::as_str) != Some("windows")).collect();
    assert!(
        others.is_empty(),
        "{} detections of rules of another product: {:?}",
        others.len(),
        &others[..others.len().min(5)]
    );
    let mut only_windows = vec!["hunt".to_string(), "--format".into(), "jsonl".into()];
    for rule in &windows {
        only_windows.extend(["-r".to_string(), rule.clone()]);
    }
    only_windows.extend(logs);
    let windows_found = found(&vigil(&only_windows.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(everything, windows_found, "the Windows rules find the same with the whole corpus loaded");
    assert!(everything.len() > 2000, "{} detections", everything.len());
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn sqlite_gives_the_matchers_detections_over_every_shared_log() {
    let (shared, windows) = (shared(""), shared("sigma/rules/windows"));
    let windows = windows.display().to_string();
    for log in shared_logs(&shared) {
        let matcher = hunt(&["-r", &windows, &log]);
        let sqlite = hunt(&["--engine", "sqlite", "-r", &windows, &log]);
        assert_eq!(matcher.status.code(), Some(0), "{}", stderr(&matcher));
        assert_eq!(sqlite.status.code(), Some(0), "{}", stderr(&sqlite));
        assert!(stdout(&matcher) == stdout(&sqlite), "the engines disagree on {log}");
    }
}
