//! Pipelines: one case per transformation and condition type (pipeline + rule -> IR snapshot), malformed
//! pipelines with coded errors, the built-ins on SigmaHQ rules.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;
use vigil_compiler::pipeline::{self, PipelineOptions as Options, PipelineSet};
use vigil_compiler::syntax::{load_str, lower, Content, SigmaCorrelation};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Applies `set` to every rule of `rules` and describes the result: the IR, `fields`, custom attributes and
/// the final state, or the pipeline's error.
fn describe(set: &PipelineSet, rules: &str) -> String {
    let mut out = String::new();
    for document in load_str(rules) {
        let Some(Content::Rule(mut rule)) = document.content else {
            let _ = writeln!(out, "not a valid rule: {:?}", document.diagnostics);
            continue;
        };
        match set.apply(&mut rule) {
            Ok(state) => {
                let fields = rule.meta.fields.clone();
                let custom = rule.meta.custom.clone();
                let _ = write!(out, "{}", lower(rule));
                if !fields.is_empty() {
                    let _ = writeln!(out, "fields: {}", fields.join(", "));
                }
                for (k, v) in custom {
                    let _ = writeln!(out, "custom: {k} = {v}");
                }
                for (k, v) in state {
                    let _ = writeln!(out, "state: {k} = {v}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "error[{}] {}", e.code, e.message);
            }
        }
    }
    out
}

fn split_case(text: &str) -> (&str, &str) {
    text.split_once("\n---\n").expect("a case is a pipeline, `---`, then rules")
}

#[test]
fn every_transformation_and_condition_case() {
    insta::glob!("fixtures/pipeline_cases/*.yml", |path| {
        let text = read(path);
        let (pipeline_text, rules) = split_case(&text);
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
        let pipeline = pipeline::parse(pipeline_text, name).unwrap_or_else(|d| panic!("{name}: {d:#?}"));
        let set = PipelineSet::new(vec![pipeline], Options::default());
        insta::assert_snapshot!(describe(&set, rules));
    });
}

/// The cases above must use every transformation type and every condition type, so that none goes untested.
#[test]
fn cases_cover_every_type() {
    let transformations = [
        "field_name_mapping",
        "field_name_prefix_mapping",
        "field_name_prefix",
        "field_name_suffix",
        "drop_detection_item",
        "hashes_fields",
        "extract_fields",
        "add_condition",
        "change_logsource",
        "add_field",
        "remove_field",
        "set_field",
        "replace_string",
        "map_string",
        "regex",
        "set_value",
        "convert_type",
        "case",
        "set_state",
        "set_state_from_values",
        "set_custom_attribute",
        "rule_failure",
        "detection_item_failure",
        "strict_field_mapping_failure",
        "value_placeholders",
        "wildcard_placeholders",
        "query_expression_placeholders",
        "nest",
    ];
    let conditions = [
        "logsource",
        "contains_detection_item",
        "contains_field",
        "processing_item_applied",
        "processing_state",
        "is_sigma_rule",
        "is_sigma_correlation_rule",
        "rule_attribute",
        "tag",
        "match_string",
        "match_value",
        "contains_wildcard",
        "is_null",
        "include_fields",
        "exclude_fields",
    ];
    let options = ["rule_cond_op", "rule_cond_not", "rule_cond_expr", "detection_item_cond_op", "field_name_cond_not"];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipeline_cases");
    let mut used = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("cases").flatten() {
        let text = read(&entry.path());
        for line in text.lines() {
            let line = line.trim().trim_start_matches("- ");
            if let Some(t) = line.strip_prefix("type: ") {
                used.insert(t.trim().to_string());
            }
            if let Some((key, _)) = line.split_once(':') {
                used.insert(key.to_string());
            }
        }
    }
    let missing: Vec<&str> =
        transformations.iter().chain(&conditions).chain(&options).copied().filter(|t| !used.contains(*t)).collect();
    assert!(missing.is_empty(), "no pipeline case uses: {missing:?}");
}

#[test]
fn file_placeholders_need_permission() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("file_placeholders");
    std::fs::create_dir_all(&dir).expect("tmp");
    let values = dir.join("admins.txt");
    std::fs::write(&values, "alice\n\nbob\n").expect("write");
    let text = format!("transformations:\n  - type: file_placeholders\n    path: '{}'\n", values.display());
    let rule = "title: t\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%Admins%'\n    condition: sel\n";
    let denied = PipelineSet::new(vec![pipeline::parse(&text, "p").expect("loads")], Options::default());
    assert!(describe(&denied, rule).contains("error[pipeline-external-source]"));
    let allowed =
        PipelineSet::new(vec![pipeline::parse(&text, "p").expect("loads")], Options { allow_external_sources: true });
    let out = describe(&allowed, rule);
    assert!(out.contains("User == 'alice'") && out.contains("User == 'bob'"), "{out}");
}

#[test]
fn pipelines_run_by_priority_then_in_the_order_given() {
    let late = "priority: 30\ntransformations:\n  - type: field_name_prefix\n    prefix: 'late.'\n";
    let early = "priority: 10\ntransformations:\n  - type: field_name_prefix\n    prefix: 'early.'\n";
    let set = PipelineSet::new(
        vec![pipeline::parse(late, "late").expect("late"), pipeline::parse(early, "early").expect("early")],
        Options::default(),
    );
    let rule = "title: t\nlogsource:\n    product: x\ndetection:\n    sel:\n        F: 1\n    condition: sel\n";
    assert!(describe(&set, rule).contains("late.early.F == 1"));
}

#[test]
fn correlations_get_their_fields_mapped() {
    let text = "transformations:\n  - type: field_name_mapping\n    mapping:\n      TargetUserName: user.name\n      WorkstationName: [a, b]\n    rule_conditions:\n      - type: logsource\n        product: windows\n";
    let set = PipelineSet::new(vec![pipeline::parse(text, "p").expect("loads")], Options::default());
    let doc = "title: c\ncorrelation:\n    type: value_count\n    rules: [r]\n    group-by: [TargetUserName, IpAddress]\n    timespan: 5m\n    condition:\n        gte: 3\n        field: TargetUserName\n";
    let Some(Content::Correlation(mut correlation)) = load_str(doc).remove(0).content else { panic!("correlation") };
    let windows = vigil_compiler::ir::meta::LogSource { product: Some("windows".into()), ..Default::default() };
    set.apply_correlation(&mut correlation, std::slice::from_ref(&windows)).expect("applies");
    assert_eq!(correlation.group_by, vec!["user.name", "IpAddress"]);
    let SigmaCorrelation { condition, .. } = &correlation;
    assert!(format!("{condition:?}").contains("user.name"));
    // Without a Windows rule behind it, the logsource condition does not hold.
    let Some(Content::Correlation(mut untouched)) = load_str(doc).remove(0).content else { panic!("correlation") };
    set.apply_correlation(&mut untouched, &[]).expect("applies");
    assert_eq!(untouched.group_by, vec!["TargetUserName", "IpAddress"]);
}

/// Each malformed pipeline starts with `# expect: CODE line N`.
#[test]
fn malformed_pipelines_get_their_code_and_line() {
    let mut count = 0;
    let mut mismatches = Vec::new();
    insta::glob!("fixtures/malformed_pipelines/*.yml", |path| {
        count += 1;
        let text = read(path);
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("expect header");
        let (code, line) = expect.split_once(" line ").expect("CODE line N");
        let line: u32 = line.parse().expect("line number");
        let problems = match pipeline::parse(&text, "fixture") {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        };
        let found = problems.iter().any(|d| d.code.as_str() == code && d.pos.map_or(0, |p| p.line) == line);
        let described: String = problems
            .iter()
            .map(|d| {
                format!(
                    "{}[{}] {} {}\n",
                    if d.is_error() { "error" } else { "warning" },
                    d.code,
                    d.pos.map_or("-".into(), |p| format!("{}:{}", p.line, p.column)),
                    d.message
                )
            })
            .collect();
        if !found {
            mismatches.push(format!("{}: expected {code} at line {line}, got:\n{described}", path.display()));
        }
        insta::assert_snapshot!(described);
    });
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(count >= 12, "keep at least 12 malformed pipelines, found {count}");
}

/// The built-ins on a sample of SigmaHQ rules, one snapshot per pipeline.
#[test]
#[ignore = "needs ../shared beside the repository"]
fn builtins_on_sigmahq_samples() {
    let root = common::shared_sigma();
    let samples = [
        "rules/windows/process_creation/proc_creation_win_hktl_mimikatz_command_line.yml",
        "rules/windows/image_load/image_load_clfs_load.yml",
        "rules/windows/registry/registry_set/registry_set_add_port_monitor.yml",
        "rules/windows/powershell/powershell_script/posh_ps_access_to_browser_login_data.yml",
        "rules/windows/builtin/security/win_security_account_backdoor_dcsync_rights.yml",
        "rules/windows/network_connection/net_connection_win_rdp_outbound_over_non_standard_tools.yml",
    ];
    for name in ["sysmon", "windows", "windows-audit", "ecs-windows", "evtx", "helk"] {
        let set = PipelineSet::resolve(&[name.to_string()], Options::default()).expect("built-in");
        let mut out = String::new();
        for sample in samples {
            let text = read(&root.join(sample));
            let _ = writeln!(out, "### {sample}");
            out.push_str(&describe(&set, &text));
        }
        insta::assert_snapshot!(format!("builtin_{name}"), out);
    }
}
