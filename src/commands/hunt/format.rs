//! How detections are written: a table for people, JSON lines, or CSV.

use crate::cli::HuntFormat;
use serde_json::json;
use std::io::Write;
use vigil_compiler::ir::meta::Meta;
use vigil_runtime::correlation::Detection;

/// What a detection reports about its rule.
#[derive(Clone, Copy)]
pub struct RuleInfo<'a> {
    pub meta: &'a Meta,
    pub path: &'a str,
}

/// The event of a detection: decoded by the matcher (its JSON tree built only if the format prints it), or parsed.
pub enum EventJson<'a> {
    Decoded(&'a vigil_runtime::Event<'a>),
    Parsed(&'a serde_json::Value),
}

impl<'a> EventJson<'a> {
    fn json(&self) -> &'a serde_json::Value {
        match self {
            EventJson::Decoded(event) => event.json(),
            EventJson::Parsed(json) => json,
        }
    }
}

/// A detection of a rule on one event, as handed to the formatter.
pub struct MatchedEvent<'a> {
    pub rule: u32,
    /// The input as shown to the user.
    pub file: &'a str,
    pub record: u64,
    pub event: EventJson<'a>,
    /// The event's time as written, read once for output and correlations.
    pub time: Option<&'a str>,
    /// What matched: per identifier that held, the fields its tests read with the event's values.
    pub matched: serde_json::Map<String, serde_json::Value>,
}

/// The CSV header line.
pub const CSV_HEADER: &str = "timestamp,level,rule_id,rule_title,file,record";

/// One detection in the chosen format, with its end of line.
pub fn detection(buffer: &mut Vec<u8>, format: HuntFormat, rule: RuleInfo<'_>, found: &MatchedEvent<'_>) {
    let meta = rule.meta;
    let level = meta.level.map(|l| l.as_str());
    // Writing into a Vec cannot fail.
    let _ = match format {
        HuntFormat::Jsonl => {
            let line = json!({
                "rule": {"id": meta.id, "title": meta.title, "level": level, "path": rule.path},
                "source": {"file": found.file, "record": found.record},
                "timestamp": found.time,
                "matched": found.matched,
                "event": found.event.json(),
            });
            writeln!(buffer, "{line}")
        }
        HuntFormat::Csv => writeln!(
            buffer,
            "{},{},{},{},{},{}",
            csv_field(found.time.unwrap_or("")),
            level.unwrap_or("unknown"),
            csv_field(meta.id.as_deref().unwrap_or("")),
            csv_field(&meta.title),
            csv_field(found.file),
            found.record
        ),
        HuntFormat::Table => writeln!(
            buffer,
            "{:<28} {:<13} {}  ({}:{})",
            found.time.unwrap_or("-"),
            level.unwrap_or("unknown"),
            meta.title,
            found.file,
            found.record
        ),
    };
}

/// One correlation detection in the chosen format: the correlation, its group, its window and its events.
pub fn correlation(
    buffer: &mut Vec<u8>,
    format: HuntFormat,
    rule: RuleInfo<'_>,
    kind: &str,
    files: &[String],
    d: &Detection,
) {
    let meta = rule.meta;
    let level = meta.level.map(|l| l.as_str());
    let end = vigil_runtime::time::format_millis(d.window_end);
    let start = vigil_runtime::time::format_millis(d.window_start);
    let group: serde_json::Map<String, serde_json::Value> =
        d.group.iter().map(|(k, v)| (k.clone(), v.clone().map_or(serde_json::Value::Null, Into::into))).collect();
    let events: Vec<serde_json::Value> =
        d.events.iter().map(|(file, record)| json!({"file": files.get(*file as usize), "record": record})).collect();
    let last = d.events.last().map(|(f, r)| (files.get(*f as usize).map_or("", String::as_str), *r)).unwrap_or(("", 0));
    let group_text: Vec<String> =
        d.group.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(none)"))).collect();
    let _ = match format {
        HuntFormat::Jsonl => {
            let line = json!({
                "rule": {"id": meta.id, "title": meta.title, "level": level, "path": rule.path},
                "correlation": {"type": kind, "group": group, "window": {"start": start, "end": end}, "value": d.value},
                "timestamp": end,
                "events": events,
            });
            writeln!(buffer, "{line}")
        }
        HuntFormat::Csv => writeln!(
            buffer,
            "{},{},{},{},{},{}",
            csv_field(&end),
            level.unwrap_or("unknown"),
            csv_field(meta.id.as_deref().unwrap_or("")),
            csv_field(&format!("{} [{}]", meta.title, group_text.join(" "))),
            csv_field(last.0),
            last.1
        ),
        HuntFormat::Table => writeln!(
            buffer,
            "{:<28} {:<13} {}  [{kind}: {}; {} events from {start}]  ({}:{})",
            end,
            level.unwrap_or("unknown"),
            meta.title,
            group_text.join(" "),
            d.events.len(),
            last.0,
            last.1
        ),
    };
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
