//! Messy and hostile input, as real collections and pull requests hold it: every case ends, within bounded time
//! and memory, with the other inputs' detections all there and a coded message for what was skipped.

mod common;

use common::{stderr, stdout, vigil, vigil_with_stdin as run};
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";

fn tmp(name: &str) -> PathBuf {
    common::tmp_in("robustness_cli", name)
}

fn write(name: &str, bytes: &[u8]) -> String {
    common::write_in("robustness_cli", name, bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("compressed");
    encoder.finish().expect("compressed")
}

fn example() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).expect("the example")
}

/// The largest resident set of the children waited for so far, in MB.
fn peak_child_rss_mb() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    #[allow(unsafe_code)]
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss / 1024
}

fn records(output: &Output) -> Vec<(String, u64)> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .map(|d| {
            let file = d["source"]["file"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
            (file, d["source"]["record"].as_u64().unwrap_or(0))
        })
        .collect()
}

#[test]
fn truncated_and_zero_padded_gzip_beside_a_good_file() {
    let whole = gzip(&example().repeat(2000));
    let truncated = write("truncated.jsonl.gz", &whole[..whole.len() / 2]);
    let mut padded_bytes = gzip(&example());
    padded_bytes.extend([0u8; 65536]);
    let padded = write("padded.jsonl.gz", &padded_bytes);
    let output =
        run(&["hunt", "--format", "jsonl", "-r", SEED, &truncated, &padded, EXAMPLE], b"", Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(3), "ran, one input incomplete: {}", stderr(&output));
    assert!(stderr(&output).contains("truncated.jsonl.gz: error[input-unreadable]"), "{}", stderr(&output));
    assert!(stderr(&output).contains("cut short"), "{}", stderr(&output));
    let found = records(&output);
    let of = |file: &str| found.iter().filter(|(f, _)| f == file).map(|(_, r)| *r).collect::<Vec<_>>();
    assert_eq!(of("wmi_module_load.jsonl"), [1, 2, 5], "the good file's detections are all there");
    assert_eq!(of("padded.jsonl.gz"), [1, 2, 5], "zero padding after gzip is read as zcat reads it");
    assert!(of("truncated.jsonl.gz").len() > 100, "the records before the cut are kept");
}

#[test]
fn a_bom_a_cut_first_line_and_latin1_lines_lose_only_themselves() {
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(example());
    let mut cut = b"{\"Image\": \"C:\\\\Windows\\\\notep\n".to_vec();
    cut.extend(example());
    let mut latin1 = b"{\"Image\": \"caf\xE9\"}\n".to_vec();
    latin1.extend(example());
    let (bom, cut, latin1) = (write("bom.jsonl", &bom), write("cut.jsonl", &cut), write("latin1.jsonl", &latin1));
    let output = run(&["hunt", "--format", "jsonl", "-r", SEED, &bom, &cut, &latin1], b"", Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let found = records(&output);
    let of = |file: &str| found.iter().filter(|(f, _)| f == file).map(|(_, r)| *r).collect::<Vec<_>>();
    assert_eq!(of("bom.jsonl"), [1, 2, 5]);
    assert_eq!(of("cut.jsonl"), [2, 3, 6], "line numbers stay those of the file");
    assert_eq!(of("latin1.jsonl"), [2, 3, 6]);
    assert!(stderr(&output).contains("latin1.jsonl: error[record-unreadable]: skipped: line 1: not UTF-8"));
    assert!(stderr(&output).contains("2 unreadable records"), "{}", stderr(&output));
}

#[test]
fn gzip_on_standard_input_and_without_its_extension() {
    let compressed = gzip(&example());
    let output = run(&["hunt", "--format", "jsonl", "-r", SEED, "-"], &compressed, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(records(&output).len(), 3);
    let unnamed = write("compressed.data", &compressed);
    let output = run(&["hunt", "--format", "jsonl", "-r", SEED, &unnamed], b"", Duration::from_secs(60));
    assert_eq!(records(&output).len(), 3, "{}", stderr(&output));
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn evtx_on_standard_input_renamed_and_gzipped() {
    let evtx = common::shared("evtx/UACME_59_Sysmon.evtx");
    let bytes = std::fs::read(&evtx).expect("EVTX");
    let rules = common::shared("sigma/rules/windows").display().to_string();
    let evtx = evtx.display().to_string();
    let expected = run(&["hunt", "--format", "jsonl", "-r", &rules, &evtx], b"", Duration::from_secs(60));
    assert!(!stdout(&expected).is_empty(), "{}", stderr(&expected));
    let renamed = write("renamed.log", &bytes);
    let gzipped = write("events.evtx.gz", &gzip(&bytes));
    for (what, input, stdin) in
        [("stdin", "-", bytes.clone()), ("renamed", &renamed, vec![]), ("gzip", &gzipped, vec![])]
    {
        let output = run(&["hunt", "--format", "jsonl", "-r", &rules, input], &stdin, Duration::from_secs(60));
        assert_eq!(output.status.code(), Some(0), "{what}: {}", stderr(&output));
        let found = |o: &Output| {
            let text = stdout(o);
            let detections = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"));
            detections.map(|d| (d["rule"]["id"].to_string(), d["source"]["record"].as_u64())).collect::<Vec<_>>()
        };
        assert_eq!(found(&output), found(&expected), "{what}");
    }
}

#[test]
fn an_undecodable_rule_file_beside_good_ones() {
    let dir = tmp("rules_with_latin1");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("latin1.yml"), b"title: caf\xe9\nlogsource: {product: windows}\n").expect("write");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED), dir.join("seed.yml")).expect("copy");
    let rules = dir.display().to_string();
    let output = run(&["hunt", "--format", "jsonl", "-r", &rules, EXAMPLE], b"", Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(3), "ran, one rule file skipped: {}", stderr(&output));
    assert!(stderr(&output).contains("error[invalid-utf8]"), "{}", stderr(&output));
    assert_eq!(records(&output).len(), 3);
}

#[test]
fn hostile_rules_are_refused_in_bounded_time_and_memory() {
    // A billion laughs: nine levels of nine aliases.
    let mut bomb =
        String::from("title: bomb\nlogsource: {product: windows}\ndetection:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let refs = vec![format!("*a{}", level - 1); 9].join(", ");
        bomb.push_str(&format!("  a{level}: &a{level} [{refs}]\n"));
    }
    bomb.push_str("  sel: {Image: *a9}\n  condition: sel\n");
    // Sixty regexes of about 6 MB each: each fits alone, not together.
    let mut regexes =
        String::from("title: regexes\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|re:\n");
    for i in 0..60 {
        regexes.push_str(&format!("      - '\\w{{100}}x{i}'\n"));
    }
    regexes.push_str("  condition: sel\n");
    // A condition of 9,000 unknown names (under the length cap: its identifiers are looked up).
    let names: Vec<String> = (0..9_000).map(|i| format!("x{i}")).collect();
    let long = format!(
        "title: long\nlogsource: {{product: windows}}\ndetection:\n  sel: {{a: 1}}\n  condition: {}\n",
        names.join(" or ")
    );
    for (name, text, code) in [
        ("bomb.yml", bomb, "too-large"),
        ("regexes.yml", regexes, "too-large"),
        ("long.yml", long, "undefined-identifier"),
    ] {
        let path = write(name, text.as_bytes());
        let started = std::time::Instant::now();
        let output = run(&["hunt", "-r", &path, "-r", SEED, EXAMPLE], b"", Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(10), "{name}: {:?}", started.elapsed());
        let shown: String = stderr(&output).chars().take(2000).collect();
        assert!(stderr(&output).contains(&format!("error[{code}]")), "{name}: {shown}");
        assert!(stderr(&output).len() < 100_000, "{name}: diagnostics show long lines only around the caret");
        assert!(stderr(&output).contains("3 detections"), "{name}: the other rule ran: {shown}");
    }
    assert!(peak_child_rss_mb() < 200, "peak RSS {} MB", peak_child_rss_mb());
}

#[test]
fn a_placeholder_product_is_refused() {
    let vars: Vec<String> = (0..9).map(|i| format!("  p{i}: [a, b, c, d, e, f, g, h, i, j]")).collect();
    let pipeline = format!("name: many\nvars:\n{}\ntransformations:\n  - type: value_placeholders\n", vars.join("\n"));
    let pipeline = write("many.yml", pipeline.as_bytes());
    let rule = write(
        "placeholders.yml",
        b"title: placeholders\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|expand: '%p0%%p1%%p2%%p3%%p4%%p5%%p6%%p7%%p8%'\n  condition: sel\n",
    );
    let output = run(&["check", "-p", &pipeline, &rule], b"", Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("error[too-large]"), "{}", stdout(&output));
    assert!(peak_child_rss_mb() < 200, "peak RSS {} MB", peak_child_rss_mb());
}

#[test]
fn a_gzip_of_zeros_and_deep_nesting_are_reported() {
    let zeros = write("zeros.jsonl.gz", &gzip(&vec![0u8; 64 << 20]));
    let deep = write("deep.jsonl", format!("{}{}\n", "{\"a\":".repeat(300), "}".repeat(300)).as_bytes());
    let output = run(&["hunt", "-r", SEED, &zeros, &deep, EXAMPLE], b"", Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("zeros.jsonl.gz: error[input-unreadable]: not JSON, gzip or EVTX"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("nested more than 128 levels deep"), "{}", stderr(&output));
    assert!(stderr(&output).contains("3 detections"), "{}", stderr(&output));
    assert!(peak_child_rss_mb() < 200, "peak RSS {} MB", peak_child_rss_mb());
}

#[test]
fn times_past_year_9999_match_nothing_and_never_panic() {
    let event = b"{\"EventID\": 4625, \"TargetUserName\": \"bob\", \"UtcTime\": \"9999-12-31T23:59:59-00:01\"}\n";
    let events = write("year10000.jsonl", event);
    let rules = write(
        "year10000.yml",
        b"title: Late hour\nname: late\nlogsource: {product: windows}\ndetection:\n  sel:\n    UtcTime|hour: 23\n  failed: {EventID: 4625}\n  condition: sel or failed\n---\ntitle: Many\ncorrelation:\n  type: event_count\n  rules: [late]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition: {gte: 1}\n  generate: true\n",
    );
    let output =
        run(&["hunt", "--format", "jsonl", "--no-routing", "-r", &rules, &events], b"", Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"));
    // The base rule matches on the EventID, not on the hour; the correlation has no time to count it in.
    assert_eq!(stdout(&output).lines().count(), 1, "{}", stdout(&output));
    assert!(stderr(&output).contains("1 detections"), "{}", stderr(&output));
}

#[test]
fn closed_pipes_are_quiet_and_full_disks_are_errors() {
    for args in [
        &["ir", "rules"][..],
        &["list", "targets"],
        &["check", "--format", "json", "rules"],
        &["convert", "-t", "splunk", "rules"],
    ] {
        // The reader is gone before vigil starts, so that its first write finds the pipe closed (a reader
        // dropped after the spawn races with vigil's writes into the pipe's buffer).
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("vigil runs");
        assert_eq!(output.status.code(), Some(141), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).is_empty() || !stderr(&output).contains("panicked"), "{args:?}: {}", stderr(&output));
    }
    if Path::new("/dev/full").exists() {
        let output = vigil(&["hunt", "-r", "rules", "-o", "/dev/full", EXAMPLE]);
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("/dev/full: error[output-unwritable]"), "{}", stderr(&output));
        let file = std::fs::File::create("/dev/full").expect("/dev/full");
        let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["list", "targets"])
            .stdout(file)
            .output()
            .expect("vigil runs");
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("error[output-unwritable]"), "{}", stderr(&output));
    }
}
