//! `vigil explain`: why each rule did or did not match one event.

use crate::cli::{ExplainArgs, ExplainFormat};
use crate::report;
use serde_json::json;
use std::path::{Path, PathBuf};
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::explain::Explanation;
use vigil_runtime::read::{self, Raw};
use vigil_runtime::{Record, RuleInput, RuleSet};

/// The event to explain, read as the hunt reads its inputs.
struct TheEvent {
    /// As shown: `file:record`, `file` or `-`.
    shown: String,
    record: Record,
    position: u64,
}

/// `FILE:RECORD` when the part after the last colon is a record number and the part before it a file;
/// otherwise the whole text is the file.
fn split_spec(spec: &str) -> (PathBuf, Option<u64>) {
    if let Some((file, record)) = spec.rsplit_once(':') {
        if let Ok(record) = record.parse::<u64>() {
            if Path::new(file).is_file() {
                return (PathBuf::from(file), Some(record));
            }
        }
    }
    (PathBuf::from(spec), None)
}

fn read_event(spec: &str) -> Result<TheEvent, String> {
    let (path, wanted) = split_spec(spec);
    let mut found: Vec<(u64, Raw)> = Vec::new();
    let mut count = 0u64;
    let mut sink = |position: u64, raw: Raw| {
        count += 1;
        let keep = match wanted {
            Some(w) => position == w,
            None => found.is_empty(),
        };
        if keep {
            found.push((position, raw));
        }
    };
    let outcome = if spec == "-" {
        read::read_reader_raw(std::io::stdin().lock(), &mut sink)
    } else {
        if !path.is_file() {
            return Err(format!("{}: no such file", path.display()));
        }
        read::read_path_raw(&path, &mut sink)
    };
    outcome.map_err(|e| format!("{spec}: {e}"))?;
    if wanted.is_none() && count > 1 {
        return Err(format!(
            "{spec} holds {count} events: name one as FILE:RECORD (records count from 1, as detections print them)"
        ));
    }
    let Some((position, raw)) = found.pop() else {
        return Err(match wanted {
            Some(w) => format!("{}: no record {w} ({count} records)", path.display()),
            None => format!("{spec}: no event"),
        });
    };
    let record = raw.into_record()?;
    let shown = match wanted {
        Some(w) => format!("{}:{w}", path.display()),
        None => spec.to_string(),
    };
    Ok(TheEvent { shown, record, position })
}

pub fn run(args: &ExplainArgs) -> u8 {
    let event = match read_event(&args.event) {
        Ok(event) => event,
        Err(why) => {
            report::general(&Diagnostic::error(Code::InputUnreadable, None, why));
            return 2;
        }
    };
    let Some((sources, compilation, _)) = super::hunt::load_rules(&args.source, true) else { return 2 };
    for (file, diagnostic) in compilation.diagnostics().filter(|(_, d)| d.is_error()) {
        report::problem(file, diagnostic);
    }
    // The rules stay beside the matcher: their identifiers and items are explained from the IR.
    let rules: Vec<_> = compilation.rules().collect();
    let inputs = rules
        .iter()
        .enumerate()
        .map(|(index, r)| RuleInput {
            index,
            path: r.file.path.clone(),
            rule: r.rule.rule.clone(),
            logsource: r.rule.logsource.clone(),
        })
        .collect();
    let (set, rejected) = RuleSet::build_with(inputs, &[], &sources);
    for r in &rejected {
        let rule = rules[r.index];
        report::problem(rule.file, &r.diagnostic.clone().located(rule.rule.pos));
    }
    if set.rules.is_empty() {
        report::general(&Diagnostic::error(Code::Usage, None, "no rule loaded"));
        return 1;
    }
    let decoded = match set.decode(&event.record, event.position) {
        Ok(decoded) => decoded,
        Err(why) => {
            report::general(&Diagnostic::error(Code::RecordUnreadable, None, format!("{}: {why}", event.shown)));
            return 2;
        }
    };
    let source = set.event_source(&decoded).map_or_else(|| "unknown".to_string(), describe_source);
    let explained: Vec<(usize, Explanation)> = set
        .rules
        .iter()
        .enumerate()
        .map(|(compiled, r)| (r.source_index, set.explain(compiled as u32, &rules[r.source_index].rule.rule, &decoded)))
        .collect();
    let mut out = String::new();
    match args.format {
        ExplainFormat::Json => {
            for (index, e) in &explained {
                let rule = &rules[*index];
                let meta = &rule.rule.rule.meta;
                let identifiers: serde_json::Map<String, serde_json::Value> =
                    e.identifiers.iter().map(|i| (i.name.clone(), json!(i.value))).collect();
                let line = json!({
                    "rule": {"id": meta.id, "title": meta.title, "path": rule.file.path},
                    "event": event.shown,
                    "matched": e.matched,
                    "identifiers": identifiers,
                    "items": e.items,
                    "logsource": {"event": source, "rule": rule.rule.logsource.to_string(), "admitted": e.logsource_admitted},
                    "candidate": e.candidate,
                    "condition": rule.rule.rule.condition_source,
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
        ExplainFormat::Text => text(&mut out, args.all, &event.shown, &source, &rules, &explained),
    }
    match crate::output::print(&out) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// `product=windows service=sysmon category=image_load`, or `unknown`.
fn describe_source(source: &vigil_runtime::logsource::EventSource) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &source.product {
        parts.push(format!("product={p}"));
    }
    if let Some(s) = &source.service {
        parts.push(format!("service={s}"));
    }
    if !source.categories.is_empty() {
        parts.push(format!("category={}", source.categories.join("|")));
    }
    if parts.is_empty() {
        "unknown".to_string()
    } else {
        parts.join(" ")
    }
}

fn text(
    out: &mut String,
    all: bool,
    shown: &str,
    source: &str,
    rules: &[vigil_compiler::compile::RuleRef<'_>],
    explained: &[(usize, Explanation)],
) {
    use std::fmt::Write;
    let _ = writeln!(out, "event {shown} (log source: {source})");
    let (mut other_source, mut ruled_out) = (0, 0);
    for (index, e) in explained {
        let rule = &rules[*index];
        let meta = &rule.rule.rule.meta;
        let head = format!("{} ({})", meta.title, rule.file.path);
        if !e.logsource_admitted {
            other_source += 1;
            if all {
                let _ =
                    writeln!(out, "\n{head}: not matched: its log source ({}) is not the event's", rule.rule.logsource);
            }
            continue;
        }
        if !e.candidate && !e.matched && !all {
            ruled_out += 1;
            continue;
        }
        let verdict = if e.matched { "MATCHED" } else { "not matched" };
        let _ = writeln!(out, "\n{head}: {verdict}");
        if !e.candidate {
            let _ =
                writeln!(out, "  the index (Channel, EventID) and the literal prefilter rule it out: it cannot match");
        }
        let values: Vec<String> = e.identifiers.iter().map(|i| format!("{}={}", i.name, i.value)).collect();
        let _ = writeln!(out, "  condition: {}  ({})", rule.rule.rule.condition_source.join(" | "), values.join(", "));
        for identifier in &e.identifiers {
            let role = match identifier.name.as_str() {
                n if n.starts_with("_cond_") => " (added by a pipeline)",
                n if n.starts_with("_filt_") => " (a Sigma filter)",
                _ if !identifier.selects => " (under `not`)",
                _ => "",
            };
            let _ = writeln!(out, "  {}{role}: {}", identifier.name, identifier.value);
            for item in e.items.iter().filter(|i| i.identifier == identifier.name) {
                let mut tests = item.expected.join(" | ");
                if item.more > 0 {
                    tests.push_str(&format!(" | … and {} more", item.more));
                }
                let value = match &item.field {
                    Some(field) if item.value.is_null() => format!("{field} absent"),
                    Some(field) => format!("{field} = {}", item.value),
                    None => "several fields".to_string(),
                };
                let mark = if item.result { "true " } else { "false" };
                let _ = writeln!(out, "    {mark} {tests}    [event: {value}]");
            }
        }
    }
    if other_source + ruled_out > 0 && !all {
        let _ = writeln!(
            out,
            "\n{other_source} rules of another log source and {ruled_out} ruled out by the index and prefilter were not evaluated (--all lists them)"
        );
    }
}
