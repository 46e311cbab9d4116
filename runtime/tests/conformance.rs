//! The conformance fixtures (`tests/conformance/*.yml` at the repository root): a rule, then events each marked
//! `match: true|false`. Every modifier and value type has one; the SQL backends run the same files.

use std::path::Path;
use vigil_compiler::compile::{compile_source, Settings};
use vigil_runtime::RuleSet;

#[derive(serde::Deserialize)]
struct Case {
    #[serde(rename = "match")]
    expected: bool,
    event: serde_json::Value,
}

#[derive(serde::Deserialize)]
struct Cases {
    events: Vec<Case>,
}

#[test]
fn every_conformance_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("fixtures").flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 20, "expected the conformance fixtures in {}", dir.display());
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("UTF-8");
        let (rule_text, cases_text) = text.split_once("\n---\n").expect("a rule, `---`, then the events");
        let file = compile_source(path.display().to_string(), rule_text.to_string(), &Settings::default());
        let Some(rule) = file.documents[0].rule() else {
            panic!("{}: the rule does not load", path.display());
        };
        let (rules, rejected) = RuleSet::build(vec![(path.display().to_string(), rule.rule.clone())]);
        assert!(rejected.is_empty(), "{}: {rejected:?}", path.display());
        let cases: Cases = serde_yaml::from_str(cases_text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (i, case) in cases.events.iter().enumerate() {
            let event = rules.event(&case.event);
            let matched = !rules.matches(&event).is_empty();
            if matched != case.expected {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                failures.push(format!("{name} event {} expected {}: {}", i + 1, case.expected, case.event));
            }
        }
    }
    assert!(failures.is_empty(), "{} events disagree:\n{}", failures.len(), failures.join("\n"));
}
