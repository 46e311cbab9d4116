//! `vigil hunt --engine spark`: the rule set in one Spark job (local, or a standalone cluster on loopback) finds
//! exactly the matcher's detections, written the same way. The tests that run Spark need Python with pyspark and
//! Java (`.ci/run` installs pyspark; tests/engines/requirements.txt) and are ignored without `--include-ignored`.

mod common;

use common::{logons, shared, stderr, stdout, vigil, vigil_with_stdin};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a Spark hunt may take here before it counts as hung.
const LIMIT: Duration = Duration::from_secs(900);

/// The matcher's and Spark's JSON lines for the same arguments (both must succeed); Spark's with `spark_args`.
fn both_engines(args: &[&str], spark_args: &[&str]) -> (String, String) {
    let mut args: Vec<&str> = [&["hunt", "--format", "jsonl"][..], args].concat();
    let matcher = vigil(&args);
    assert_eq!(matcher.status.code(), Some(0), "{}", stderr(&matcher));
    args.extend(["--engine", "spark"]);
    args.extend(spark_args);
    let spark = vigil_with_stdin(&args, b"", LIMIT);
    assert_eq!(spark.status.code(), Some(0), "{}", stderr(&spark));
    (stdout(&matcher), stdout(&spark))
}

fn records(jsonl: &str) -> Vec<u64> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["source"]["record"].as_u64().unwrap_or(0))
        .collect()
}

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn the_seed_on_spark_finds_the_matchers_six_detections() {
    let dataset = shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let (matcher, spark) =
        both_engines(&["-r", "rules/sysmon_wmi_module_load.yml", dataset.to_str().unwrap_or("")], &[]);
    assert_eq!(records(&spark), [2169, 2173, 2192, 2195, 2233, 2236]);
    assert_eq!(spark, matcher);
}

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn the_windows_rules_on_spark_find_the_matchers_detections_in_every_mordor_set() {
    let rules = shared("sigma/rules/windows");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(shared("mordor"))
        .expect("../shared/mordor")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    sets.sort();
    assert!(sets.len() >= 12, "{} Mordor sets", sets.len());
    let mut args = vec!["-r", rules.to_str().unwrap_or("")];
    args.extend(sets.iter().map(|p| p.to_str().unwrap_or("")));
    let (matcher, spark) = both_engines(&args, &[]);
    // 508 when written (2,407 rules, 30,685 events).
    assert!(matcher.lines().count() > 400, "{} detections", matcher.lines().count());
    assert!(spark == matcher, "Spark and the matcher disagree over the Mordor sets");
}

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn spark_finds_the_matchers_detections_in_the_regression_events_it_converts() {
    // JSON documents and EVTX files: Vigil converts them to JSON lines for Spark.
    let regression = shared("sigma/regression_data");
    let rules = shared("sigma/rules");
    let (matcher, spark) = both_engines(&["-r", rules.to_str().unwrap_or(""), regression.to_str().unwrap_or("")], &[]);
    assert!(matcher.lines().count() > 200, "{} detections", matcher.lines().count());
    assert!(spark == matcher, "Spark and the matcher disagree over the regression events");
}

/// The lines of JSON lines, sorted: Spark reports correlation detections after the rules', in time order; the
/// matcher as its windows close.
fn sorted_lines(jsonl: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = jsonl.lines().collect();
    lines.sort_unstable();
    lines
}

/// How many detections each case of the logon timeline's correlations gives, by title.
fn per_case(jsonl: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in jsonl.lines() {
        let detection: serde_json::Value = serde_json::from_str(line).expect("JSON");
        *counts.entry(detection["rule"]["title"].as_str().unwrap_or("").to_string()).or_default() += 1;
    }
    counts
}

#[test]
#[ignore = "needs pyspark and Java: tests/engines"]
fn correlations_in_the_spark_job_are_the_matchers_on_the_logon_timeline() {
    // Every type, aliases and a chain over one timeline (tests/common/logons.rs), in one job: each detection as
    // the matcher reports it (group, window, value, the window's events).
    let rules = common::write_in("spark_correlations", "logons.yml", logons::rule_file());
    let events = common::write_in("spark_correlations", "logons.jsonl", logons::jsonl());
    let (matcher, spark) = both_engines(&["-r", &rules, &events], &[]);
    let mut expected: std::collections::BTreeMap<String, usize> =
        logons::CASES.iter().map(|(name, _, found)| (name.to_string(), found.len())).collect();
    // The chain's first correlation reports its own detections too.
    expected.insert("burst".into(), per_case(&matcher).get("burst").copied().unwrap_or(0));
    assert_eq!(per_case(&matcher), expected, "the matcher on the timeline:\n{matcher}");
    assert_eq!(sorted_lines(&spark), sorted_lines(&matcher));
    // Events outside --from / --to feed no correlation.
    let range = ["--from", "2024-01-01T00:00:10Z", "--to", "2024-01-01T00:00:35Z"];
    let (narrowed_matcher, narrowed_spark) = both_engines(&[&range[..], &["-r", &rules, &events]].concat(), &[]);
    let (narrowed, whole) = (narrowed_matcher.lines().count(), matcher.lines().count());
    assert!(0 < narrowed && narrowed < whole, "the range narrows {whole} detections to {narrowed}");
    assert_eq!(sorted_lines(&narrowed_spark), sorted_lines(&narrowed_matcher));
}

#[test]
#[ignore = "needs pyspark and Java: tests/engines"]
fn the_converted_job_run_by_itself_reports_the_matchers_correlations() {
    let rules = common::write_in("spark_job_correlations", "logons.yml", logons::rule_file());
    let events = common::write_in("spark_job_correlations", "logons.jsonl", logons::jsonl());
    let output = vigil(&["convert", "-t", "spark", "-f", "job", &rules]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let correlations = logons::CASES.len() + 1;
    let counted = format!("2 rules and {correlations} correlations in one Spark job, 0 left out");
    assert!(stderr(&output).contains(&counted), "{}", stderr(&output));
    let script = common::write_in("spark_job_correlations", "hunt.py", stdout(&output));
    let ran = Command::new("python3").arg(&script).arg(&events).output().expect("python3 runs");
    assert!(ran.status.success(), "the job failed: {}", String::from_utf8_lossy(&ran.stderr));
    let matcher = vigil(&["hunt", "--format", "jsonl", "-r", &rules, &events]);
    let parsed = |text: &str| -> Vec<String> {
        let mut values: Vec<String> =
            text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON").to_string()).collect();
        values.sort();
        values
    };
    assert_eq!(parsed(&String::from_utf8_lossy(&ran.stdout)), parsed(&stdout(&matcher)));
}

/// A Spark master and a worker on loopback, started with pyspark's own `spark-class`; stopped when dropped.
struct Cluster {
    processes: Vec<Child>,
    url: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn start_cluster() -> Cluster {
    let home = Command::new("python3")
        .args(["-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"])
        .output()
        .expect("python3 runs");
    assert!(home.status.success(), "pyspark is not installed (tests/engines/requirements.txt)");
    let class = PathBuf::from(String::from_utf8_lossy(&home.stdout).trim()).join("bin/spark-class");
    let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spark_cluster");
    std::fs::create_dir_all(&logs).expect("log dir");
    let port = free_port();
    let url = format!("spark://127.0.0.1:{port}");
    let spawn = |args: &[&str], log: &str| {
        let log = std::fs::File::create(logs.join(log)).expect("log file");
        Command::new(&class)
            .args(args)
            .env("SPARK_LOCAL_IP", "127.0.0.1")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spark-class runs")
    };
    let (port_text, web) = (port.to_string(), free_port().to_string());
    let master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", &port_text];
    let mut cluster =
        Cluster { processes: vec![spawn(&[&master[..], &["--webui-port", &web]].concat(), "master.log")], url };
    let web = free_port().to_string();
    let worker_args = [
        "org.apache.spark.deploy.worker.Worker",
        "--host",
        "127.0.0.1",
        "--cores",
        "2",
        "--memory",
        "2g",
        "--webui-port",
    ];
    cluster.processes.push(spawn(&[&worker_args[..], &[&web, &cluster.url]].concat(), "worker.log"));
    // The worker says so in the master's log once it is registered.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        let log = std::fs::read_to_string(logs.join("master.log")).unwrap_or_default();
        if log.contains("Registering worker") {
            return cluster;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the Spark worker did not register within 120 s: see {}", logs.display());
}

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn a_standalone_cluster_on_loopback_finds_the_seed_detections_through_spark_master() {
    let cluster = start_cluster();
    let dataset = shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    // The playbook's dataset read by the workers, and a file Vigil converts (a JSON array) sent by the job.
    let array = common::write_in(
        "spark_cluster",
        "events.json",
        std::fs::read_to_string("examples/wmi_module_load.jsonl")
            .map(|text| format!("[{}]", text.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(",")))
            .expect("the bundled example"),
    );
    let args = ["-r", "rules/sysmon_wmi_module_load.yml", dataset.to_str().unwrap_or(""), &array];
    let (matcher, spark) = both_engines(&args, &["--spark-master", &cluster.url]);
    assert_eq!(records(&spark), [2169, 2173, 2192, 2195, 2233, 2236, 1, 2, 5]);
    assert_eq!(spark, matcher);
    let log = std::fs::read_to_string(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spark_cluster/master.log"))
        .unwrap_or_default();
    assert!(log.contains("Registering app vigil hunt"), "the job ran on the cluster: {log}");
}

#[test]
fn without_spark_the_hunt_fails_with_a_code_and_says_what_to_install() {
    let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["hunt", "--engine", "spark", "-r", "rules", "examples/wmi_module_load.jsonl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SPARK_HOME")
        .env("VIGIL_PYTHON", "/nonexistent/python3")
        .output()
        .expect("vigil runs");
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("error[spark-unavailable]") && message.contains("pip install pyspark"), "{message}");
    let bad_home = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["hunt", "--engine", "spark", "-r", "rules", "examples/wmi_module_load.jsonl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SPARK_HOME", "/nonexistent/spark")
        .output()
        .expect("vigil runs");
    assert_eq!(bad_home.status.code(), Some(2));
    assert!(stderr(&bad_home).contains("no bin/spark-submit"), "{}", stderr(&bad_home));
}

#[test]
fn spark_options_without_a_value_or_without_the_spark_engine_are_usage_errors() {
    let output = vigil(&["hunt", "--engine", "spark", "--spark-conf", "spark.driver.memory", "-r", "rules", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("expected KEY=VALUE"), "{}", stderr(&output));
    let without_engine = vigil(&["hunt", "--spark-table", "events", "-r", "rules", "-"]);
    assert_eq!(without_engine.status.code(), Some(2));
    assert!(stderr(&without_engine).contains("for `--engine spark`"), "{}", stderr(&without_engine));
}

#[test]
#[ignore = "needs pyspark and Java: tests/engines"]
fn a_failed_spark_job_is_reported_with_its_cause() {
    let args = ["hunt", "--engine", "spark", "--spark-conf", "spark.sql.ansi.enabled=maybe", "-r", "rules"];
    let output = vigil_with_stdin(&[&args[..], &["examples/wmi_module_load.jsonl"]].concat(), b"", LIMIT);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("error[spark-job-failed]"), "{message}");
    assert!(message.contains("'maybe'") && message.lines().count() < 12, "the cause, without stack frames: {message}");
}

#[test]
fn convert_writes_the_rule_set_as_one_spark_job_script() {
    let output = vigil(&["convert", "-t", "spark", "-f", "job", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let script = stdout(&output);
    assert!(script.starts_with("\"\"\"Vigil's Spark job"), "{}", &script[..script.len().min(200)]);
    assert!(script.contains("\nEMBEDDED_PLAN = \"{") && script.contains("wmiutils"), "the plan is in the script");
    assert!(stderr(&output).contains("1 rules in one Spark job, 0 left out"), "{}", stderr(&output));
    let jsonl = vigil(&["convert", "-t", "spark", "-f", "job", "--jsonl", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(jsonl.status.code(), Some(2));
    assert!(stderr(&jsonl).contains("unsupported-format"), "{}", stderr(&jsonl));
}

/// Rules and correlations Spark SQL cannot run: an IPv6 CIDR that is no text prefix, a correlation reading that
/// rule, a `temporal_ordered` correlation with a condition; the logon rules and the other correlation go in the job.
fn not_all_on_spark() -> String {
    let odd = "title: Odd network\nname: odd\nlogsource: {product: windows, category: network_connection}\n\
               detection:\n  s: {DestinationIp|cidr: '2001:db8::/33'}\n  condition: s\n";
    let correlations = "title: Many odd connections\ncorrelation:\n  type: event_count\n  rules: [odd]\n  \
                        group-by: [Image]\n  timespan: 1m\n  condition: {gte: 10}\n---\n\
                        title: Failures then success\ncorrelation:\n  type: temporal_ordered\n  rules: [failed, success]\n  \
                        group-by: [TargetUserName]\n  timespan: 1m\n  condition: failed and success\n---\n\
                        title: Many failures\ncorrelation:\n  type: event_count\n  rules: [failed]\n  \
                        group-by: [TargetUserName]\n  timespan: 1m\n  condition: {gte: 5}\n";
    format!("{odd}---\n{}---\n{correlations}", logons::RULES)
}

#[test]
fn rules_and_correlations_spark_cannot_run_are_listed_with_codes_and_the_others_stay() {
    let rules = common::write_in("spark_left_out", "rules.yml", not_all_on_spark());
    let output = vigil(&["convert", "-t", "spark", "-f", "job", &rules]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    for code in ["unsupported-cidr", "unknown-rule-reference", "unsupported-correlation"] {
        assert_eq!(message.matches(&format!("error[{code}] (spark)")).count(), 1, "{code}: {message}");
    }
    assert!(message.contains("2 rules and 1 correlations in one Spark job, 3 left out"), "{message}");
    assert!(stdout(&output).contains("Many failures"), "the correlation that runs is in the job");
}

#[test]
#[ignore = "needs ../shared, pyspark and Java: tests/engines"]
fn the_converted_job_run_by_itself_finds_the_seed_detections() {
    let output = vigil(&["convert", "-t", "spark", "-f", "job", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let script = common::write_in("spark_job", "hunt.py", stdout(&output));
    let detections = common::tmp_in("spark_job", "detections.jsonl");
    let dataset = shared("mordor/empire_psinject_PEinjection.jsonl.gz");
    let ran = Command::new("python3")
        .arg(&script)
        .arg(&dataset)
        .arg("--output")
        .arg(&detections)
        .output()
        .expect("python3 runs");
    assert!(ran.status.success(), "the job failed: {}", String::from_utf8_lossy(&ran.stderr));
    let text = std::fs::read_to_string(&detections).expect("the detections");
    assert_eq!(records(&text), [2169, 2173, 2192, 2195, 2233, 2236]);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or("{}")).expect("JSON");
    assert_eq!(first["rule"]["title"], "WMI Modules Loaded", "{first}");
    assert_eq!(first["source"]["file"], dataset.to_str().unwrap_or(""));
    assert_eq!(first["event"]["EventID"], 7);
}
