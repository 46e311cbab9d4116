//! `vigil check` and `vigil ir` as a user runs them: exit codes, output formats, every file reported.

mod common;

use common::{stderr, stdout, vigil};
use std::path::{Path, PathBuf};

const MALFORMED: &str = "compiler/tests/fixtures/malformed";
const VALID: &str = "compiler/tests/fixtures/ir";

fn yaml_count(dir: &str) -> usize {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .expect("fixture dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yml")))
        .count()
}

#[test]
fn seed_rule_checks_ok() {
    let output = vigil(&["check", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).starts_with("1 files, 1 documents: 1 ok, 0 with errors; 0 errors, 0 warnings"));
}

#[test]
fn json_reports_every_document_of_every_file() {
    let output = vigil(&["check", "--format", "json", MALFORMED, VALID]);
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<serde_json::Value> =
        stdout(&output).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    let mut paths: Vec<&str> = lines.iter().map(|l| l["path"].as_str().expect("path")).collect();
    paths.dedup();
    assert_eq!(paths.len(), yaml_count(MALFORMED) + yaml_count(VALID), "every file is reported");
    for line in &lines {
        for key in ["path", "id", "title", "kind", "ok", "diagnostics"] {
            assert!(line.get(key).is_some(), "missing {key} in {line}");
        }
        let path = line["path"].as_str().unwrap_or_default();
        let errors =
            line["diagnostics"].as_array().map_or(0, |d| d.iter().filter(|d| d["severity"] == "error").count());
        assert_eq!(line["ok"].as_bool(), Some(errors == 0), "{line}");
        if path.contains("malformed") {
            assert!(errors > 0, "malformed fixture reported ok: {line}");
        } else {
            assert_eq!(errors, 0, "valid fixture has errors: {line}");
        }
        for d in line["diagnostics"].as_array().into_iter().flatten() {
            assert!(d["code"].is_string() && d["message"].is_string() && d["severity"].is_string(), "{d}");
        }
    }
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    for kind in ["rule", "correlation", "filter"] {
        assert!(kinds.contains(&kind), "no {kind} document reported");
    }
}

#[test]
fn text_diagnostics_show_location_source_line_and_caret() {
    let path = format!("{MALFORMED}/unknown_modifier.yml");
    let output = vigil(&["check", &path]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{path}:8:9: error[unknown-modifier]: unknown modifier `endswiht`")), "{text}");
    assert!(text.contains("8 |         Image|endswiht: x\n  |         ^\n"), "{text}");
    assert!(stderr(&output).contains("1 with errors"));
}

#[test]
fn warnings_alone_exit_zero() {
    let output = vigil(&["check", &format!("{VALID}/conditions.yml")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("warning[uppercase-operator]"));
}

#[test]
fn a_missing_path_is_a_document_with_an_error_and_other_files_are_still_checked() {
    let output = vigil(&["check", "--format", "json", "no/such/dir", "rules"]);
    assert_eq!(output.status.code(), Some(1));
    let documents: Vec<serde_json::Value> =
        stdout(&output).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let missing = documents.iter().find(|d| d["path"] == "no/such/dir").expect("the missing path is reported");
    assert_eq!(missing["ok"], false);
    assert_eq!(missing["diagnostics"][0]["code"], "file-unreadable");
    assert!(documents.iter().any(|d| d["path"].as_str().is_some_and(|p| p.ends_with("sysmon_wmi_module_load.yml"))));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(vigil(&["check"]).status.code(), Some(2));
    assert_eq!(vigil(&["check", "--format", "xml", "rules"]).status.code(), Some(2));
}

#[test]
fn help_explains_exit_codes() {
    let output = vigil(&["check", "--help"]);
    assert!(
        stdout(&output).contains("Exit status: 0 no errors (warnings allowed), 1 some document has an error (a file"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn ir_prints_the_seed_rule() {
    let output = vigil(&["ir", "rules"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("    EventID == 7\n"));
    assert!(text.contains("      ImageLoaded endswith 'fastprox.dll'\n"));
}

#[test]
fn no_fixture_crashes_the_cli() {
    let output = vigil(&["ir", MALFORMED, VALID]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"));
}

#[test]
fn non_utf8_files_are_reported() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("non_utf8");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("latin1.yml");
    std::fs::write(&file, b"title: caf\xe9\n").expect("write");
    let output = vigil(&["check", file.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error[invalid-utf8]"), "{}", stdout(&output));
    assert!(stdout(&output).contains("not UTF-8"), "{}", stdout(&output));
    let json = vigil(&["check", "--format", "json", file.to_str().expect("utf-8 path")]);
    let document: serde_json::Value = serde_json::from_str(stdout(&json).trim()).expect("one JSON document");
    assert_eq!(document["diagnostics"][0]["code"], "invalid-utf8");
    assert_eq!(document["diagnostics"][0]["line"], 1, "located: {document}");
}

#[test]
fn list_pipelines_names_every_builtin() {
    let output = vigil(&["list", "pipelines"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for name in ["sysmon", "windows", "windows-audit", "ecs-windows", "evtx", "helk"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing from:\n{text}");
    }
}

#[test]
fn seed_with_sysmon_and_windows_pipelines_gets_channel_and_event_id() {
    let output = vigil(&["ir", "-p", "sysmon", "-p", "windows", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("    Channel == 'Microsoft-Windows-Sysmon/Operational'\n"), "{text}");
    assert!(text.contains("    EventID == 7\n"), "{text}");
}

#[test]
fn seed_with_helk_pipeline_uses_the_playbook_column_names() {
    let output = vigil(&["ir", "-p", "sysmon", "-p", "windows", "-p", "helk", "rules/sysmon_wmi_module_load.yml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("    channel == 'Microsoft-Windows-Sysmon/Operational'\n"), "{text}");
    assert!(text.contains("    event_id == 7\n"), "{text}");
    assert!(text.contains("ImageLoaded endswith 'wmiclnt.dll'"), "{text}");
    assert!(text.contains("state: table = \"mordor_file\""), "{text}");
}

#[test]
fn unknown_pipeline_is_a_usage_error() {
    let output = vigil(&["check", "-p", "no-such-pipeline", "rules"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("error[pipeline-not-found]"), "{}", stderr(&output));
}

#[test]
fn malformed_pipeline_file_is_reported_with_its_location() {
    let path = "compiler/tests/fixtures/malformed_pipelines/unknown_transformation_type.yml";
    let output = vigil(&["check", "-p", path, "rules"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(&format!("{path}:4:11: error[pipeline-unknown-type]")), "{}", stderr(&output));
}

#[test]
fn check_reports_rules_a_pipeline_rejects() {
    let path = "compiler/tests/fixtures/pipeline_cases/rule_failure.yml";
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rule_failure_pipeline");
    std::fs::create_dir_all(&dir).expect("tmp");
    let text = std::fs::read_to_string(path).expect("fixture");
    let (pipeline, rule) = text.split_once("\n---\n").expect("case");
    std::fs::write(dir.join("pipeline.yml"), pipeline).expect("write");
    std::fs::write(dir.join("rule.yml"), rule).expect("write");
    let output = vigil(&[
        "check",
        "--format",
        "json",
        "-p",
        dir.join("pipeline.yml").to_str().unwrap_or(""),
        dir.join("rule.yml").to_str().unwrap_or(""),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("\"code\":\"rule-failure\""), "{}", stdout(&output));
}

/// A rule that does not load is reported by `hunt` and `convert --jsonl` with the code and position `check` gives.
#[test]
fn every_command_reports_an_unloadable_rule_as_check_does() {
    let rule = "compiler/tests/fixtures/malformed/unknown_modifier.yml";
    let check = vigil(&["check", "--format", "json", rule]);
    let checked: serde_json::Value =
        serde_json::from_str(stdout(&check).lines().next().expect("a line")).expect("JSON");
    let d = &checked["diagnostics"][0];
    let (code, line, column) = (d["code"].as_str().expect("code"), d["line"].clone(), d["column"].clone());
    assert_eq!(code, "unknown-modifier");

    let convert = vigil(&["convert", "-t", "splunk", "--jsonl", rule]);
    let converted: serde_json::Value =
        serde_json::from_str(stdout(&convert).lines().next().expect("a line")).expect("JSON");
    assert_eq!(converted["error"]["code"], code);
    assert_eq!(
        (converted["error"]["line"].clone(), converted["error"]["column"].clone()),
        (line.clone(), column.clone())
    );

    let hunt = vigil(&["hunt", "-r", rule, "-r", "rules", "examples/wmi_module_load.jsonl"]);
    let located = format!("{rule}:{line}:{column}: error[{code}]");
    assert!(stderr(&hunt).contains(&located), "{located} in:\n{}", stderr(&hunt));
    assert_eq!(hunt.status.code(), Some(0), "the other rules still run");
}
