//! Every target on a fixture set covering every IR construct: the conformance fixtures (`tests/conformance`),
//! the backend fixtures (`tests/fixtures/backends`: quoting, nested regexes, placeholders, long lists) and the seed
//! rule, with and without pipelines. One snapshot per target; unsupported constructs show their code.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::backend::{self, ConvertOptions as Options, Target};
use vigil_compiler::compile::{compile_source, Compilation, Compiled, Settings};
use vigil_compiler::ir::correlation::InputSource;
use vigil_compiler::pipeline::{PipelineOptions, PipelineSet};

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
        let file = compile_source(label.clone(), text, &Settings::new(set));
        let Some(lowered) = file.documents[0].rule() else {
            panic!("{label}: not a rule: {:?}", file.documents[0].diagnostics);
        };
        let _ = writeln!(out, "# {label}");
        match backend::convert(&lowered.rule, target, format, &lowered.state, &Options::default()) {
            Ok(queries) => {
                for q in queries {
                    let _ = writeln!(out, "{q}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "unsupported: {} [{}]", e.message, e.code);
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
    let text = "title: t\nlogsource: {product: x}\ndetection:\n  s: {a: b}\n  condition: s\n";
    let file = compile_source("t".into(), text.into(), &Settings::default());
    let rule = &file.documents[0].rule().expect("rule").rule;
    let error = backend::convert(rule, Target::Kusto, "savedsearches", &Default::default(), &Options::default())
        .expect_err("kusto has no savedsearches");
    assert_eq!(error.code, vigil_compiler::Code::UnsupportedFormat);
}

#[test]
fn correlations_on_every_target() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/correlations/logons.yml");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let settings = Settings::default();
    let compilation = Compilation::new(vec![compile_source("logons".into(), text, &settings)], &settings);
    let mut out = String::new();
    for target in Target::ALL {
        // KQL correlations read tables; the SQL targets' default table is `logs` either way.
        let options = Options { table: Some("logs".into()), ..Options::default() };
        let _ = writeln!(out, "## {}", target.name());
        let rules: Vec<Option<String>> = compilation
            .rules()
            .map(|r| {
                backend::convert(&r.rule.rule, target, "default", &r.rule.state, &options).ok().map(|mut q| q.remove(0))
            })
            .collect();
        // Each correlation from the queries of what it reads (in dependency order), printed in document order.
        let mut correlations: Vec<Result<String, vigil_compiler::Diagnostic>> = Vec::new();
        for linked in &compilation.correlations {
            let c = &linked.correlation;
            let inputs: Vec<String> = c
                .inputs
                .iter()
                .filter_map(|i| match i.source {
                    InputSource::Rule(r) => rules[r].clone(),
                    InputSource::Correlation(o) => correlations[o].clone().ok(),
                })
                .collect();
            correlations.push(backend::convert_correlation(c, &inputs, target, &options));
        }
        for (d, document) in compilation.files[0].documents.iter().enumerate() {
            let Some(Compiled::Correlation(_)) = &document.compiled else { continue };
            let (c, linked) = compilation.correlation_of(0, d).expect("every correlation resolves");
            let _ = writeln!(out, "# {}", linked.correlation.meta.title);
            let _ = match &correlations[c] {
                Ok(q) => writeln!(out, "{q}"),
                Err(e) => writeln!(out, "unsupported: {} [{}]", e.message, e.code),
            };
        }
        out.push('\n');
    }
    insta::assert_snapshot!("correlations", out);
}

/// Every deployable format (`backend::deploy::FORMATS`) on a process-creation rule with several tactics,
/// sub-techniques, a multi-line description and a regex, with the pipelines each target is deployed with.
#[test]
fn deployable_formats_on_a_process_creation_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/deploy/process_creation.yml")).expect("fixture");
    let mut out = String::new();
    for (target, format, _) in backend::deploy::FORMATS {
        let pipelines: &[&str] = match (target, *format) {
            (Target::Kusto, _) => &["microsoft_xdr"],
            (Target::Splunk, "data_model") => &["splunk_cim"],
            _ => &["ecs-windows"],
        };
        let names: Vec<String> = pipelines.iter().map(|s| s.to_string()).collect();
        let set = PipelineSet::resolve(&names, PipelineOptions::default()).expect("built-in pipelines");
        let file = compile_source("process_creation.yml".into(), text.clone(), &Settings::new(set));
        let lowered = file.documents[0].rule().expect("a rule");
        let _ = writeln!(out, "# {} -f {format} -p {}", target.name(), pipelines.join(" -p "));
        match backend::convert(&lowered.rule, *target, format, &lowered.state, &Options::default()) {
            Ok(queries) => queries.iter().for_each(|q| {
                let _ = writeln!(out, "{q}");
            }),
            Err(e) => {
                let _ = writeln!(out, "unsupported: {} [{}]", e.message, e.code);
            }
        }
        out.push('\n');
    }
    insta::assert_snapshot!("deployable_formats", out);
}
