//! How detections are written: a table for people, JSON lines, CSV, or Timesketch's JSON lines or CSV.

use super::details;
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
    pub fn json(&self) -> &'a serde_json::Value {
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

/// How detections are laid out: the format, and for people the colours, the width and the fields asked for.
pub struct Layout {
    pub format: HuntFormat,
    /// Levels in colour (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// The terminal's width: table rows are cut to it (`None`: not a terminal, rows whole).
    pub width: Option<usize>,
    /// `--fields`: event fields added to the table's details and as CSV columns.
    pub fields: Vec<String>,
}

/// Timesketch's columns, in order (after them, the `--fields`).
const TIMESKETCH_COLUMNS: [&str; 14] = [
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "rule_title",
    "rule_id",
    "rule_level",
    "rule_tags",
    "computer",
    "event_id",
    "channel",
    "details",
    "file",
    "record",
];

/// What Timesketch shows as the kind of time of each detection.
const TIMESKETCH_TIME: &str = "Event Time";

impl Layout {
    /// The CSV header line, if the format has one: the first six columns as before, then the event's facts and the
    /// `--fields`; Timesketch's columns for its CSV.
    pub fn csv_header(&self) -> Option<String> {
        let mut header = match self.format {
            HuntFormat::Csv => {
                "timestamp,level,rule_id,rule_title,file,record,computer,event_id,channel,details".to_string()
            }
            HuntFormat::TimesketchCsv => TIMESKETCH_COLUMNS.join(","),
            HuntFormat::Table | HuntFormat::Jsonl | HuntFormat::Timesketch => return None,
        };
        for field in &self.fields {
            header.push(',');
            header.push_str(&csv_field(field));
        }
        Some(header)
    }
}

/// One Timesketch event, its values in [`TIMESKETCH_COLUMNS`] order then the `--fields`, as JSON lines or CSV.
fn timesketch(buffer: &mut Vec<u8>, layout: &Layout, values: Vec<serde_json::Value>) {
    let names = TIMESKETCH_COLUMNS.iter().copied().chain(layout.fields.iter().map(String::as_str));
    let _ = if layout.format == HuntFormat::Timesketch {
        let object: serde_json::Map<String, serde_json::Value> =
            names.zip(values).map(|(name, value)| (name.to_string(), value)).collect();
        writeln!(buffer, "{}", serde_json::Value::Object(object))
    } else {
        let cells: Vec<String> = values
            .iter()
            .map(|v| match v {
                serde_json::Value::String(text) => csv_field(text),
                serde_json::Value::Null => String::new(),
                other => csv_field(&other.to_string()),
            })
            .collect();
        writeln!(buffer, "{}", cells.join(","))
    };
}

/// The first Timesketch columns of a detection at `millis`.
fn timesketch_head(message: String, millis: i64, meta: &Meta) -> Vec<serde_json::Value> {
    vec![
        message.into(),
        vigil_runtime::time::format_millis(millis).into(),
        json!(millis.saturating_mul(1000)),
        TIMESKETCH_TIME.into(),
        meta.title.clone().into(),
        json!(meta.id),
        json!(meta.level.map(|l| l.as_str())),
        meta.tags.join(",").into(),
    ]
}

/// ANSI colours of the levels (`NO_COLOR` and non-terminals get none).
fn colored(level: &str) -> String {
    let code = match level {
        "critical" => "1;31",
        "high" => "31",
        "medium" => "33",
        "low" => "32",
        _ => "36",
    };
    format!("\x1b[{code}m{level:<13}\x1b[0m")
}

/// `text` cut to `width` display columns, with an ellipsis when cut.
fn fit(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if unicode_width::UnicodeWidthStr::width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// One detection in the chosen layout, with its end of line.
pub fn detection(buffer: &mut Vec<u8>, layout: &Layout, rule: RuleInfo<'_>, found: &MatchedEvent<'_>) {
    let meta = rule.meta;
    let level = meta.level.map(|l| l.as_str());
    // Writing into a Vec cannot fail.
    let _ = match layout.format {
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
        HuntFormat::Csv => {
            let event = found.event.json();
            let fact = |value: Option<String>| csv_field(&value.unwrap_or_default());
            let mut line = format!(
                "{},{},{},{},{},{},{},{},{},{}",
                csv_field(found.time.unwrap_or("")),
                level.unwrap_or("unknown"),
                csv_field(meta.id.as_deref().unwrap_or("")),
                csv_field(&meta.title),
                csv_field(found.file),
                found.record,
                fact(details::computer(event)),
                fact(details::event_id(event)),
                fact(details::channel(event)),
                csv_field(&details::details(&found.matched, event, &[])),
            );
            for field in &layout.fields {
                line.push(',');
                line.push_str(&fact(details::lookup(event, field).and_then(details::text)));
            }
            writeln!(buffer, "{line}")
        }
        HuntFormat::Table => {
            let event = found.event.json();
            let level = level.unwrap_or("unknown");
            let level = if layout.color { colored(level) } else { format!("{level:<13}") };
            let computer = details::computer(event).unwrap_or_else(|| "-".to_string());
            let head = format!("{:<28} {computer:<16} {level} {}", found.time.unwrap_or("-"), meta.title);
            let source = format!("({}:{})", found.file, found.record);
            let details = details::details(&found.matched, event, &layout.fields);
            let details = match layout.width {
                // The colour codes take no columns on screen.
                Some(width) => {
                    let used = unicode_width::UnicodeWidthStr::width(head.as_str()) - if layout.color { 9 } else { 0 }
                        + source.len()
                        + 4;
                    fit(&details, width.saturating_sub(used).max(20))
                }
                None => details,
            };
            if details.is_empty() {
                writeln!(buffer, "{head}  {source}")
            } else {
                writeln!(buffer, "{head}  {details}  {source}")
            }
        }
        HuntFormat::Timesketch | HuntFormat::TimesketchCsv => {
            // Timesketch places every event on its timeline: a detection without a time is left out (counted).
            let Some(millis) = found.time.and_then(vigil_runtime::time::millis) else { return };
            let event = found.event.json();
            let details = details::details(&found.matched, event, &[]);
            let computer = details::computer(event);
            let message = match &computer {
                Some(computer) => format!("{} on {computer}: {details}", meta.title),
                None => format!("{}: {details}", meta.title),
            };
            let mut values = timesketch_head(message, millis, meta);
            values.extend([
                json!(computer),
                json!(details::event_id(event)),
                json!(details::channel(event)),
                details.into(),
                found.file.into(),
                found.record.into(),
            ]);
            values.extend(layout.fields.iter().map(|f| json!(details::lookup(event, f).and_then(details::text))));
            timesketch(buffer, layout, values);
            Ok(())
        }
    };
}

/// One correlation detection in the chosen format: the correlation, its group, its window and its events.
pub fn correlation(
    buffer: &mut Vec<u8>,
    layout: &Layout,
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
    let fields = layout.fields.len();
    let _ = match layout.format {
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
            "{},{},{},{},{},{},,,,{}{}",
            csv_field(&end),
            level.unwrap_or("unknown"),
            csv_field(meta.id.as_deref().unwrap_or("")),
            csv_field(&format!("{} [{}]", meta.title, group_text.join(" "))),
            csv_field(last.0),
            last.1,
            csv_field(&format!("{kind}: {}; {} events from {start}", group_text.join(" "), d.events.len())),
            ",".repeat(fields)
        ),
        HuntFormat::Timesketch | HuntFormat::TimesketchCsv => {
            let details = format!("{kind}: {}; {} events from {start}", group_text.join(" "), d.events.len());
            let message = format!("{} [{}]: {details}", meta.title, group_text.join(" "));
            let mut values = timesketch_head(message, d.window_end, meta);
            values.extend([json!(null), json!(null), json!(null), details.into(), last.0.into(), last.1.into()]);
            values.extend(std::iter::repeat_n(serde_json::Value::Null, fields));
            timesketch(buffer, layout, values);
            Ok(())
        }
        HuntFormat::Table => writeln!(
            buffer,
            "{:<28} {:<16} {} {}  [{kind}: {}; {} events from {start}]  ({}:{})",
            end,
            "-",
            if layout.color {
                colored(level.unwrap_or("unknown"))
            } else {
                format!("{:<13}", level.unwrap_or("unknown"))
            },
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
