//! The summary of a hunt: detections per level, top rules, top computers, ATT&CK tactics and the time span of
//! the detections, on stderr after every hunt and as JSON with `--summary FILE`.

use super::format::RuleInfo;
use serde_json::json;
use std::collections::BTreeMap;

/// How many rules and computers the top lists name.
const TOP: usize = 5;

/// The ATT&CK tactics, as SigmaHQ tags name them (`attack.execution`), in the matrix's order.
const TACTICS: [&str; 16] = vigil_compiler::validate::ATTACK_TACTICS;

/// Detections counted by what they are about.
#[derive(Default)]
pub struct Tally {
    pub by_level: BTreeMap<&'static str, u64>,
    /// (count, title, id, level), most detections first.
    pub rules: Vec<(u64, String, Option<String>, &'static str)>,
    /// Detections per tactic of their rules' tags, in the matrix's order.
    pub tactics: Vec<(&'static str, u64)>,
    /// Detections per ATT&CK technique of their rules' tags (`T1047`).
    pub techniques: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts detections of rules (`counts`: the rule's report and its detections).
    pub fn new<'r>(counts: impl Iterator<Item = (RuleInfo<'r>, u64)>) -> Tally {
        let mut tally = Tally::default();
        let mut tactics = [0u64; TACTICS.len()];
        for (info, count) in counts {
            let level = info.meta.level.map_or("unknown", |l| l.as_str());
            *tally.by_level.entry(level).or_default() += count;
            tally.rules.push((count, info.meta.title.clone(), info.meta.id.clone(), level));
            crate::navigator::add(&mut tally.techniques, &info.meta.tags, count);
            for (i, tactic) in TACTICS.iter().enumerate() {
                let tagged = |t: &String| t.strip_prefix("attack.").is_some_and(|t| t.eq_ignore_ascii_case(tactic));
                if info.meta.tags.iter().any(tagged) {
                    tactics[i] += count;
                }
            }
        }
        tally.rules.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        tally.tactics = TACTICS.iter().copied().zip(tactics).filter(|(_, n)| *n > 0).collect();
        tally
    }

    pub fn detections(&self) -> u64 {
        self.by_level.values().sum()
    }
}

/// The computers, most detections first.
fn ranked(per_computer: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut all: Vec<(&str, u64)> = per_computer.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    all
}

/// The lines after the one-line summary on stderr (none without detections).
pub fn lines(tally: &Tally, per_computer: &BTreeMap<String, u64>, span: (Option<i64>, Option<i64>)) -> Vec<String> {
    let mut lines = Vec::new();
    if tally.rules.is_empty() {
        return lines;
    }
    let rules: Vec<String> =
        tally.rules.iter().take(TOP).map(|(n, title, _, level)| format!("{n} {title} ({level})")).collect();
    lines.push(format!("top rules: {}", rules.join(" · ")));
    let computers: Vec<String> = ranked(per_computer).iter().take(TOP).map(|(c, n)| format!("{n} {c}")).collect();
    if !computers.is_empty() {
        lines.push(format!("top computers: {}", computers.join(" · ")));
    }
    if !tally.tactics.is_empty() {
        let tactics: Vec<String> = tally.tactics.iter().map(|(t, n)| format!("{t} {n}")).collect();
        lines.push(format!("ATT&CK tactics: {}", tactics.join(", ")));
    }
    if let (Some(first), Some(last)) = span {
        let (first, last) = (vigil_runtime::time::format_millis(first), vigil_runtime::time::format_millis(last));
        lines.push(format!("detections from {first} to {last}"));
    }
    lines
}

/// What `--summary FILE` holds.
pub struct Facts<'a> {
    pub tally: &'a Tally,
    pub per_computer: &'a BTreeMap<String, u64>,
    pub span: (Option<i64>, Option<i64>),
    pub events: u64,
    pub inputs: usize,
    pub seconds: f64,
    pub rules_loaded: usize,
    pub rules_not_loaded: usize,
    pub rules_left_out: usize,
    pub detections_outside_range: u64,
    pub unreadable_records: u64,
    pub unknown_source_events: u64,
}

pub fn json(facts: &Facts<'_>) -> serde_json::Value {
    let tally = facts.tally;
    let time = |t: Option<i64>| t.map(vigil_runtime::time::format_millis);
    json!({
        "events": facts.events,
        "inputs": facts.inputs,
        "seconds": facts.seconds,
        "events_per_second": facts.events as f64 / facts.seconds.max(1e-9),
        "detections": tally.detections(),
        "by_level": tally.by_level,
        "rules": tally.rules.iter().map(|(n, title, id, level)| json!({"title": title, "id": id, "level": level, "detections": n})).collect::<Vec<_>>(),
        "computers": ranked(facts.per_computer).iter().map(|(c, n)| json!({"computer": c, "detections": n})).collect::<Vec<_>>(),
        "tactics": tally.tactics.iter().map(|(t, n)| (t.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "first_detection": time(facts.span.0),
        "last_detection": time(facts.span.1),
        "rules_loaded": facts.rules_loaded,
        "rules_not_loaded": facts.rules_not_loaded,
        "rules_left_out": facts.rules_left_out,
        "detections_outside_range": facts.detections_outside_range,
        "unreadable_records": facts.unreadable_records,
        "unknown_source_events": facts.unknown_source_events,
    })
}
