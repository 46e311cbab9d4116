//! The SigmaHQ corpus in `../shared/sigma`: the active folders load without errors; the legacy folders load
//! without panics and every rejected document carries a specific code; conditions print and re-parse identically.

mod common;

use std::collections::BTreeMap;
use vigil_compiler::syntax::{load_str, lower, parse_condition, Content};
use vigil_compiler::{Code, Severity};

const ACTIVE: [&str; 5] =
    ["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder"];
const LEGACY: [&str; 2] = ["deprecated", "unsupported"];

#[test]
#[ignore = "needs ../shared beside the repository"]
fn active_folders_have_no_errors_and_conditions_round_trip() {
    let root = common::shared_sigma();
    for folder in ACTIVE {
        let files = common::yaml_files(&root.join(folder));
        assert!(!files.is_empty(), "{folder} is empty");
        let mut documents = 0;
        let mut failures = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
            for document in load_str(&text) {
                documents += 1;
                let errors: Vec<_> = document.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
                if !errors.is_empty() {
                    failures.push(format!("{}: {errors:?}", path.display()));
                }
                if let Some(Content::Rule(rule)) = document.content {
                    for c in &rule.conditions {
                        let printed = c.tree.to_string();
                        let reparsed = parse_condition(&printed).map(|(tree, _)| tree);
                        assert_eq!(
                            reparsed.as_ref(),
                            Ok(&c.tree),
                            "{}: `{}` printed as `{printed}`",
                            path.display(),
                            c.source
                        );
                    }
                    let ir = lower(rule);
                    assert!(!matches!(ir.expr, vigil_compiler::ir::Expr::Const(_)), "{}: constant IR", path.display());
                }
            }
        }
        assert!(failures.is_empty(), "{folder}: {} documents with errors:\n{}", failures.len(), failures.join("\n"));
        eprintln!("{folder}: {} files, {documents} documents, 0 errors", files.len());
    }
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn legacy_folders_are_ok_or_rejected_with_a_specific_code() {
    let root = common::shared_sigma();
    // The codes these folders may be rejected with: legacy syntax Vigil reports as such.
    let expected = [Code::LegacyAggregation, Code::ConditionSyntax];
    for folder in LEGACY {
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        let mut ok = 0;
        for path in common::yaml_files(&root.join(folder)) {
            let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
            for document in load_str(&text) {
                let errors: Vec<_> = document.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
                if errors.is_empty() {
                    ok += 1;
                    assert!(document.content.is_some(), "{}: ok without content", path.display());
                }
                for e in errors {
                    assert!(expected.contains(&e.code), "{}: unexpected {}: {}", path.display(), e.code, e.message);
                    assert!(e.pos.is_some(), "{}: {} without a position", path.display(), e.code);
                    *by_code.entry(e.code.as_str()).or_default() += 1;
                }
            }
        }
        eprintln!("{folder}: {ok} ok, rejected: {by_code:?}");
        assert!(ok > 0);
    }
}

/// Every built-in pipeline loads and applies to every active rule. Rules a pipeline rejects on purpose
/// (`rule_failure`) are counted and listed with their reason; anything else is a failure.
#[test]
#[ignore = "needs ../shared beside the repository"]
fn builtin_pipelines_apply_to_every_active_rule() {
    use vigil_compiler::pipeline::{builtin, PipelineOptions as Options, PipelineSet};
    let root = common::shared_sigma();
    let mut rules = Vec::new();
    for folder in ACTIVE {
        for path in common::yaml_files(&root.join(folder)) {
            let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
            for document in load_str(&text) {
                if let Some(Content::Rule(rule)) = document.content {
                    rules.push((path.clone(), rule));
                }
            }
        }
    }
    assert!(rules.len() >= 3700, "expected the whole active corpus, got {} rules", rules.len());
    for name in builtin::names() {
        let set = PipelineSet::resolve(&[name.to_string()], Options::default()).expect("built-in loads");
        let mut rejected = Vec::new();
        for (path, rule) in &rules {
            let mut rule = rule.clone();
            match set.apply(&mut rule) {
                Ok(_) => drop(lower(rule)),
                Err(e) if e.code == Code::RuleFailure => rejected.push(format!("{}: {}", path.display(), e.message)),
                // The SIEM pipelines split `Hashes` by algorithm; a rule with only others (IMPHASH) has none left.
                Err(e) if e.message.starts_with("no valid hash algorithm") => {
                    rejected.push(format!("{}: {}", path.display(), e.message))
                }
                Err(e) => panic!("{name} on {}: {e:?}", path.display()),
            }
        }
        let shown: Vec<&String> = rejected.iter().take(5).collect();
        eprintln!("{name}: applied to {} rules, {} rejected on purpose, e.g. {shown:?}", rules.len(), rejected.len());
    }
}
