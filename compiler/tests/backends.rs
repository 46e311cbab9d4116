//! Every target on a fixture set covering every IR construct: the conformance fixtures (`tests/conformance`),
//! the backend fixtures (`tests/fixtures/backends`: quoting, nested regexes, placeholders, long lists) and the seed
//! rule, with and without pipelines. One snapshot per target; unsupported constructs show their code.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::backend::correlation::Input;
use vigil_compiler::backend::{self, Options, Target};
use vigil_compiler::pipeline::{Options as PipelineOptions, PipelineSet};
use vigil_compiler::{load_str, lower, Content};

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// (label, rule text, pipelines)
fn cases() -> Vec<(String, String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cases = Vec::new();
    for dir in [root.join("tests/conformance"), root.join("compiler/tests/fixtures/backends")] {
        for path in yaml_files(&dir) {
            let text = std::fs::read_to_string(&path).expect("UTF-8");
            let rule = text.split("\n---\n").next().unwrap_or("").to_string();
            let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("").to_string();
            cases.push((name, rule, Vec::new()));
        }
    }
    let seed = std::fs::read_to_string(root.join("rules/sysmon_wmi_module_load.yml")).expect("seed rule");
    cases.push(("seed".into(), seed.clone(), Vec::new()));
    let with = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    cases.push(("seed -p sysmon -p windows".into(), seed.clone(), with(&["sysmon", "windows"])));
    cases.push(("seed -p sysmon -p windows -p helk".into(), seed, with(&["sysmon", "windows", "helk"])));
    cases
}

fn render(target: Target, format: &str) -> String {
    let mut out = String::new();
    for (label, text, pipelines) in cases() {
        let set = PipelineSet::resolve(&pipelines, PipelineOptions::default()).expect("built-in pipelines");
        let Some(Content::Rule(mut rule)) = load_str(&text).remove(0).content else {
            panic!("{label}: not a rule");
        };
        let state = set.apply(&mut rule).expect("pipelines apply");
        let rule = lower(rule);
        let _ = writeln!(out, "# {label}");
        match backend::convert(&rule, target, format, &state, &Options::default()) {
            Ok(queries) => {
                for q in queries {
                    let _ = writeln!(out, "{q}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "unsupported: {e}");
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn every_target_on_the_fixture_set() {
    for target in Target::ALL {
        insta::assert_snapshot!(target.name(), render(target, "default"));
    }
}

#[test]
fn splunk_savedsearches_format() {
    let mut out = backend::prelude(Target::Splunk, "savedsearches").unwrap_or("").to_string();
    out.push_str(&render(Target::Splunk, "savedsearches"));
    insta::assert_snapshot!("splunk_savedsearches", out);
}

#[test]
fn unknown_formats_are_unsupported() {
    let Some(Content::Rule(rule)) =
        load_str("title: t\nlogsource: {product: x}\ndetection:\n  s: {a: b}\n  condition: s\n").remove(0).content
    else {
        panic!("rule")
    };
    let error =
        backend::convert(&lower(rule), Target::Kusto, "savedsearches", &Default::default(), &Options::default())
            .expect_err("kusto has no savedsearches");
    assert_eq!(error.code, vigil_compiler::Code::UnsupportedFormat);
}

#[test]
fn correlations_on_every_target() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/correlations/logons.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let documents = load_str(&text);
    let mut out = String::new();
    for target in Target::ALL {
        let mut queries: std::collections::HashMap<String, Input> = std::collections::HashMap::new();
        // KQL correlations read tables; the SQL targets' default table is `logs` either way.
        let options = Options { table: Some("logs".into()), ..Options::default() };
        let _ = writeln!(out, "## {}", target.name());
        for document in &documents {
            match &document.content {
                Some(Content::Rule(rule)) => {
                    let name = rule.meta.name.clone().unwrap_or_default();
                    let converted =
                        backend::convert(&lower(rule.clone()), target, "default", &Default::default(), &options);
                    if let Ok(mut q) = converted {
                        queries.insert(name, Input::rule(q.remove(0)));
                    }
                }
                Some(Content::Correlation(c)) => {
                    let inputs: Vec<Input> = c.rules.iter().filter_map(|r| queries.get(r).cloned()).collect();
                    let _ = writeln!(out, "# {}", c.meta.title);
                    match backend::convert_correlation(c, &inputs, target, &options) {
                        Ok(q) => {
                            if let Some(name) = &c.meta.name {
                                queries.insert(name.clone(), Input::correlation(q.clone(), c.group_by.clone()));
                            }
                            let _ = writeln!(out, "{q}");
                        }
                        Err(e) => {
                            let _ = writeln!(out, "unsupported: {e}");
                        }
                    }
                }
                _ => {}
            }
        }
        out.push('\n');
    }
    insta::assert_snapshot!("correlations", out);
}
