//! `vigil test` output: a line per rule for people, JUnit XML for CI systems, JSON for scripts.

use super::{Check, Status};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Counts per status.
fn counts(checks: &[Check]) -> BTreeMap<Status, usize> {
    let mut out = BTreeMap::new();
    for c in checks {
        *out.entry(c.status).or_insert(0) += 1;
    }
    out
}

/// Checks grouped by rule file, in the order the rules were read; a rule's status is its worst check's.
fn by_rule(checks: &[Check]) -> Vec<(&str, Vec<&Check>)> {
    let mut out: Vec<(&str, Vec<&Check>)> = Vec::new();
    for c in checks {
        match out.iter_mut().find(|(rule, _)| *rule == c.rule) {
            Some((_, list)) => list.push(c),
            None => out.push((&c.rule, vec![c])),
        }
    }
    out
}

pub fn summary(checks: &[Check], seconds: f64, files: usize) -> String {
    let rules = by_rule(checks);
    let failed_rules = rules.iter().filter(|(_, list)| list.iter().any(|c| c.status == Status::Failed)).count();
    let n = counts(checks);
    let get = |s| n.get(&s).copied().unwrap_or(0);
    format!(
        "{files} rule files, {} with checks: {} ok, {failed_rules} failed; checks: {} passed, {} failed, {} written, {} missing (files absent); {seconds:.2}s\n",
        rules.len(),
        rules.len() - failed_rules,
        get(Status::Passed),
        get(Status::Failed),
        get(Status::Written),
        get(Status::Missing),
    )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}\n")).collect()
}

pub fn text(checks: &[Check], seconds: f64, files: usize, verbose: bool) -> String {
    let mut out = String::new();
    for (rule, list) in by_rule(checks) {
        let worst = list.iter().map(|c| c.status).max().unwrap_or(Status::Passed);
        let names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(out, "{:<7} {rule}  ({})", worst.word(), names.join(", "));
        for c in list {
            if c.status != Status::Passed || verbose {
                let _ = writeln!(out, "    {} {}", c.status.word(), c.name);
                if let Some(detail) = &c.detail {
                    out.push_str(&indent(detail));
                }
            }
        }
    }
    out.push_str(&summary(checks, seconds, files));
    out
}

use crate::commands::check::xml;

/// JUnit XML as Jenkins, GitLab and GitHub test reporters read it: a test case per check, its rule file as the
/// class name; failures carry the diff, missing regression files are skipped cases.
pub fn junit(checks: &[Check], seconds: f64) -> String {
    let n = counts(checks);
    let get = |s| n.get(&s).copied().unwrap_or(0);
    let (tests, failures, skipped) = (checks.len(), get(Status::Failed), get(Status::Missing));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vigil test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{seconds:.3}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"vigil test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{seconds:.3}\">"
    );
    for c in checks {
        let head = format!("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", xml(&c.rule), xml(&c.name));
        let detail = c.detail.as_deref().unwrap_or("");
        let first = detail.lines().next().unwrap_or("");
        match c.status {
            Status::Passed | Status::Written => {
                let _ = writeln!(out, "{head}/>");
            }
            Status::Missing => {
                let _ = writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", xml(first));
            }
            Status::Failed => {
                let _ = writeln!(
                    out,
                    "{head}>\n      <failure message=\"{}\" type=\"vigil\">{}</failure>\n    </testcase>",
                    xml(first),
                    xml(detail)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

pub fn json(checks: &[Check], seconds: f64, files: usize) -> String {
    let n = counts(checks);
    let get = |s| n.get(&s).copied().unwrap_or(0);
    let list: Vec<serde_json::Value> = checks
        .iter()
        .map(|c| json!({"rule": c.rule, "check": c.name, "status": c.status.word().to_lowercase(), "detail": c.detail}))
        .collect();
    let value = json!({
        "summary": {
            "rule_files": files,
            "checks": checks.len(),
            "passed": get(Status::Passed),
            "failed": get(Status::Failed),
            "written": get(Status::Written),
            "missing": get(Status::Missing),
            "seconds": seconds,
        },
        "checks": list,
    });
    format!("{value}\n")
}
