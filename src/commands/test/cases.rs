//! Event fixtures: a rule's sidecar file (`<rule stem>.tests.yml`) with true positives and true negatives, and
//! SigmaHQ's layout (`regression_tests_path` pointing at an `info.yml` with `.evtx`/`.json` files and
//! `match_count`). Both run through the matcher, and the sidecar's also through SQLite when asked.
//!
//! ```yaml
//! true_positives:
//!   - event: {"EventID": 7, "ImageLoaded": "C:\\x\\wmiclnt.dll", "Image": "C:\\notepad.exe"}
//!   - path: ../logs/attack.jsonl          # relative to this file; JSON, JSONL, gzip or EVTX
//! true_negatives:
//!   - event: {"EventID": 7, "ImageLoaded": "C:\\x\\wmiclnt.dll", "Image": "C:\\Windows\\System32\\svchost.exe"}
//! match_count: 6                          # events matching over all true positives; without it every one must
//! ```

use std::path::{Path, PathBuf};
use vigil_compiler::ir;
use vigil_runtime::{read, RuleSet};

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Passed,
    Failed(String),
    /// Its files are absent (SigmaHQ ships part of its regression data): listed, not a failure.
    Missing(String),
}

/// Where the events of a fixture entry come from.
enum Source {
    Inline(serde_json::Value),
    File(PathBuf),
}

/// Each event of a source with a label for messages: `(label, event)`; `Err` when the file is absent.
fn events(source: &Source) -> Result<Vec<(String, serde_json::Value)>, String> {
    match source {
        Source::Inline(event) => Ok(vec![("inline event".into(), event.clone())]),
        Source::File(path) => {
            if !path.exists() {
                return Err(path.display().to_string());
            }
            let mut out = Vec::new();
            let shown = path.display().to_string();
            read::read_path(path, &mut |record, parsed| {
                if let Ok(json) = parsed {
                    out.push((format!("{shown}:{record}"), json));
                }
            })
            .map_err(|e| format!("{shown}: {e}"))?;
            Ok(out)
        }
    }
}

fn matches(rules: &RuleSet, event: &serde_json::Value) -> bool {
    !rules.matches(&rules.event(event)).is_empty()
}

/// The sidecar fixture of `rule_path`, if it has one.
pub fn sidecar(rule_path: &Path) -> Option<PathBuf> {
    let stem = rule_path.file_stem()?.to_str()?;
    let path = rule_path.with_file_name(format!("{stem}.tests.yml"));
    path.is_file().then_some(path)
}

fn sources(list: Option<&serde_yaml::Value>, base: &Path, what: &str) -> Result<Vec<Source>, String> {
    let Some(list) = list else { return Ok(Vec::new()) };
    let items = list.as_sequence().ok_or_else(|| format!("{what}: a list of `event:` or `path:` entries"))?;
    items
        .iter()
        .map(|item| {
            if let Some(event) = item.get("event") {
                serde_json::to_value(event).map(Source::Inline).map_err(|e| format!("{what}: {e}"))
            } else if let Some(path) = item.get("path").and_then(|p| p.as_str()) {
                Ok(Source::File(base.join(path)))
            } else {
                Err(format!("{what}: each entry is `event: {{...}}` or `path: FILE`"))
            }
        })
        .collect()
}

/// Runs a rule's SQL over events: which of them it returns (for fixtures that also check SQLite).
pub type SqlRun<'a> = &'a dyn Fn(&[serde_json::Value]) -> Result<Vec<bool>, String>;

/// Runs a sidecar fixture: `rules` holds the rule (with the routing the config asks for).
pub fn run_sidecar(path: &Path, rules: &RuleSet, sql: Option<SqlRun<'_>>) -> Verdict {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Verdict::Failed(format!("{}: {e}", path.display())),
    };
    let parsed: Result<serde_yaml::Value, _> = serde_yaml::from_str(&text);
    let root = match parsed {
        Ok(r) => r,
        Err(e) => return Verdict::Failed(format!("{}: {e}", path.display())),
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let (positives, negatives) = match (
        sources(root.get("true_positives"), base, "true_positives"),
        sources(root.get("true_negatives"), base, "true_negatives"),
    ) {
        (Ok(p), Ok(n)) => (p, n),
        (Err(e), _) | (_, Err(e)) => return Verdict::Failed(format!("{}: {e}", path.display())),
    };
    let expected_count = root.get("match_count").and_then(|c| c.as_u64());
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut matched = 0u64;
    let mut all: Vec<(String, serde_json::Value, bool)> = Vec::new();
    for (source, positive) in positives.iter().map(|s| (s, true)).chain(negatives.iter().map(|s| (s, false))) {
        match events(source) {
            Err(absent) => missing.push(absent),
            Ok(list) => all.extend(list.into_iter().map(|(label, event)| (label, event, positive))),
        }
    }
    for (label, event, positive) in &all {
        let hit = matches(rules, event);
        if *positive && hit {
            matched += 1;
        }
        if *positive && !hit && expected_count.is_none() {
            problems.push(format!("true positive does not match: {label}: {}", short(event)));
        }
        if !*positive && hit {
            problems.push(format!("true negative matches: {label}: {}", short(event)));
        }
    }
    if let Some(count) = expected_count {
        if missing.is_empty() && matched != count {
            problems.push(format!("match_count {count}, but {matched} true-positive events match"));
        }
    }
    if let Some(sql) = sql {
        let events: Vec<serde_json::Value> = all.iter().map(|(_, e, _)| e.clone()).collect();
        match sql(&events) {
            Ok(hits) => {
                for ((label, event, _), hit) in all.iter().zip(hits) {
                    if hit != matches(rules, event) {
                        problems.push(format!("SQLite disagrees with the matcher ({hit}): {label}: {}", short(event)));
                    }
                }
            }
            Err(e) => problems.push(format!("SQLite: {e}")),
        }
    }
    if !problems.is_empty() {
        Verdict::Failed(problems.join("\n"))
    } else if !missing.is_empty() {
        Verdict::Missing(format!("files absent: {}", missing.join(", ")))
    } else {
        Verdict::Passed
    }
}

fn short(event: &serde_json::Value) -> String {
    let text = event.to_string();
    if text.chars().count() > 200 {
        format!("{}...", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

/// One SigmaHQ regression case (an entry of `regression_tests_info`).
pub struct RegressionCase {
    pub name: String,
    pub files: Vec<PathBuf>,
    pub match_count: Option<u64>,
}

/// The regression cases of a rule: its `regression_tests_path` resolved from the folders above the rule (the
/// SigmaHQ repository root holds `regression_data/`). `Err` when the info file is absent.
pub fn regression_cases(rule_path: &Path, info_path: &str) -> Result<Vec<RegressionCase>, String> {
    let start = std::fs::canonicalize(rule_path).unwrap_or_else(|_| rule_path.to_path_buf());
    let Some(root) = start.ancestors().skip(1).find(|dir| dir.join(info_path).is_file()) else {
        return Err(format!("{info_path} not found above the rule"));
    };
    let info_file = root.join(info_path);
    let text = std::fs::read_to_string(&info_file).map_err(|e| format!("{}: {e}", info_file.display()))?;
    let info: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", info_file.display()))?;
    let tests = info.get("regression_tests_info").and_then(|t| t.as_sequence()).cloned().unwrap_or_default();
    Ok(tests
        .iter()
        .filter_map(|t| {
            let evtx = root.join(t.get("path")?.as_str()?);
            // The `.json` rendering beside the `.evtx`, as SigmaHQ ships both.
            let json = evtx.with_extension("json");
            Some(RegressionCase {
                name: t.get("name").and_then(|n| n.as_str()).unwrap_or("regression test").to_string(),
                files: vec![evtx, json],
                match_count: t.get("match_count").and_then(|c| c.as_u64()),
            })
        })
        .collect())
}

/// Runs a regression case: the rule must fire on each of its files. With `strict_counts`, the number of matching
/// events must also equal `match_count`; otherwise a different count is reported in the verdict's text.
pub fn run_regression(case: &RegressionCase, rules: &RuleSet, strict_counts: bool) -> (Verdict, Option<String>) {
    let present: Vec<&PathBuf> = case.files.iter().filter(|f| f.exists()).collect();
    if present.is_empty() {
        let names: Vec<String> = case.files.iter().map(|f| f.display().to_string()).collect();
        return (Verdict::Missing(format!("files absent: {}", names.join(", "))), None);
    }
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for file in present {
        let mut count = 0u64;
        let outcome = read::read_path(file, &mut |_, parsed| {
            if let Ok(json) = parsed {
                count += matches(rules, &json) as u64;
            }
        });
        if let Err(e) = outcome {
            problems.push(format!("{}: {e}", file.display()));
            continue;
        }
        if count == 0 {
            problems.push(format!("no event of {} matches", file.display()));
        } else if let Some(expected) = case.match_count.filter(|c| *c != count) {
            let text = format!("match_count {expected}, {count} events of {} match", file.display());
            if strict_counts {
                problems.push(text);
            } else {
                notes.push(text);
            }
        }
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    if problems.is_empty() {
        (Verdict::Passed, note)
    } else {
        (Verdict::Failed(problems.join("\n")), note)
    }
}

/// A rule set of one rule, for fixtures.
pub fn rule_set(path: &str, rule: ir::Rule) -> Result<RuleSet, String> {
    let (set, rejected) = RuleSet::build(vec![(path.to_string(), rule)]);
    match rejected.first() {
        Some(r) => Err(r.diagnostic.to_string()),
        None => Ok(set),
    }
}
