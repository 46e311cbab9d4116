//! `vigil hunt`: rules in, logs in, detections out.

mod correlate;
mod scan;
mod sql_engine;

use crate::cli::{Engine, HuntArgs, HuntFormat};
use crate::rule_files;
use indicatif::{ProgressBar, ProgressStyle};
use scan::{Found, Totals};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;
use vigil_compiler::ir::meta::Level;
use vigil_compiler::pipeline::{load_spec, Options, PipelineSet};
use vigil_compiler::{load_str, lower, Content};
use vigil_runtime::correlation::Detection;
use vigil_runtime::RuleSet;

/// Log-source routing, then the user's pipelines; all sorted by priority.
fn pipelines(args: &HuntArgs) -> Option<PipelineSet> {
    let mut specs: Vec<String> = Vec::new();
    if !args.no_routing {
        specs.extend(["sysmon".to_string(), "windows".to_string()]);
    }
    specs.extend(args.pipeline.pipelines.iter().cloned());
    let mut loaded = Vec::new();
    for spec in &specs {
        match load_spec(spec) {
            Ok(p) => loaded.push(p),
            Err(problems) => {
                for p in problems {
                    let at = p.pos.map(|p| format!(":{}:{}", p.line, p.column)).unwrap_or_default();
                    eprintln!("vigil: {spec}{at}: error[{}]: {}", p.code, p.message);
                }
                return None;
            }
        }
    }
    Some(PipelineSet::new(loaded, Options { allow_external_sources: args.pipeline.allow_external_sources }))
}

/// A rule ready for an engine: where it came from, its IR, and the state its pipelines left (for SQL).
pub struct LoadedRule {
    pub path: String,
    pub rule: vigil_compiler::ir::Rule,
    pub state: vigil_compiler::pipeline::State,
}

/// What detections print about their rule.
#[derive(Clone)]
pub struct RuleInfo {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<Level>,
    pub path: String,
}

/// Loads, transforms and lowers every rule; problems are reported and counted, never fatal.
fn load_rules(
    paths: &[PathBuf],
    pipelines: &PipelineSet,
) -> (Vec<LoadedRule>, Vec<correlate::LoadedCorrelation>, Vec<String>, bool) {
    let mut rules = Vec::new();
    let mut correlations = Vec::new();
    let mut problems = Vec::new();
    let mut io_error = false;
    for found in rule_files::find(paths) {
        let Some((shown, text)) = rule_files::open(&found) else {
            io_error = true;
            continue;
        };
        for document in load_str(&text) {
            match document.content {
                Some(Content::Rule(mut rule)) => match pipelines.apply(&mut rule) {
                    Ok(state) => rules.push(LoadedRule { path: shown.clone(), rule: lower(rule), state }),
                    Err(e) => problems.push(format!("{shown}: {} [{}]", e.message, e.code)),
                },
                Some(Content::Correlation(rule)) => {
                    correlations.push(correlate::LoadedCorrelation { path: shown.clone(), rule })
                }
                Some(Content::Filter(_)) => {
                    problems.push(format!("{shown}: filter documents are not applied by `hunt` yet"))
                }
                None if document.kind == vigil_compiler::DocumentKind::Pipeline => {}
                None => {
                    let first = document.diagnostics.iter().find(|d| d.is_error());
                    let why = first.map_or_else(|| "invalid".to_string(), |d| format!("{} [{}]", d.message, d.code));
                    problems.push(format!("{shown}: {why}"));
                }
            }
        }
    }
    (rules, correlations, problems, io_error)
}

/// Input files: files as given, directories searched for log files.
fn inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    const LOGS: [&str; 6] = ["json", "jsonl", "ndjson", "evtx", "gz", "log"];
    let mut out = Vec::new();
    let mut io_error = false;
    for path in paths {
        if path.as_os_str() == "-" || path.is_file() {
            out.push(path.clone());
        } else if path.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| {
                    p.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| LOGS.contains(&x.to_ascii_lowercase().as_str()))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else {
            eprintln!("vigil: {}: no such file or directory", path.display());
            io_error = true;
        }
    }
    (out, io_error)
}

/// The event's time, from the fields logs usually carry it in.
fn timestamp(event: &serde_json::Value) -> Option<String> {
    vigil_runtime::time::event_time(event)
}

/// One detection in the chosen format, with its end of line.
fn write_detection(buffer: &mut Vec<u8>, format: HuntFormat, rules: &[RuleInfo], found: &Found<'_>) {
    let rule = &rules[found.rule as usize];
    let level = rule.level.map(|l| l.as_str());
    let timestamp = timestamp(found.event);
    // Writing into a Vec cannot fail.
    let _ = match format {
        HuntFormat::Jsonl => {
            let line = json!({
                "rule": {"id": rule.id, "title": rule.title, "level": level, "path": rule.path},
                "source": {"file": found.file, "record": found.record},
                "timestamp": timestamp,
                "event": found.event,
            });
            writeln!(buffer, "{line}")
        }
        HuntFormat::Csv => writeln!(
            buffer,
            "{},{},{},{},{},{}",
            csv_field(timestamp.as_deref().unwrap_or("")),
            level.unwrap_or("unknown"),
            csv_field(rule.id.as_deref().unwrap_or("")),
            csv_field(&rule.title),
            csv_field(found.file),
            found.record
        ),
        HuntFormat::Table => writeln!(
            buffer,
            "{:<28} {:<13} {}  ({}:{})",
            timestamp.as_deref().unwrap_or("-"),
            level.unwrap_or("unknown"),
            rule.title,
            found.file,
            found.record
        ),
    };
}

/// One correlation detection in the chosen format: the correlation, its group, its window and its events.
fn write_correlation(
    buffer: &mut Vec<u8>,
    format: HuntFormat,
    infos: &[(RuleInfo, &'static str)],
    files: &[String],
    d: &Detection,
) {
    let Some((rule, kind)) = infos.get(d.correlation) else { return };
    let level = rule.level.map(|l| l.as_str());
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
                "rule": {"id": rule.id, "title": rule.title, "level": level, "path": rule.path},
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
            csv_field(rule.id.as_deref().unwrap_or("")),
            csv_field(&format!("{} [{}]", rule.title, group_text.join(" "))),
            csv_field(last.0),
            last.1
        ),
        HuntFormat::Table => writeln!(
            buffer,
            "{:<28} {:<13} {}  [{kind}: {}; {} events from {start}]  ({}:{})",
            end,
            level.unwrap_or("unknown"),
            rule.title,
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

pub fn run(args: &HuntArgs) -> u8 {
    let started = Instant::now();
    if args.db.is_some() && args.engine != Engine::Sqlite {
        eprintln!("vigil: --db keeps the SQLite database of `--engine sqlite`; add `--engine sqlite`");
        return 2;
    }
    let Some(pipelines) = pipelines(args) else { return 2 };
    let (loaded, correlations, mut problems, rules_io_error) = load_rules(&args.rules, &pipelines);
    let (files, inputs_io_error) = inputs(&args.inputs);
    if rules_io_error || inputs_io_error {
        return 2;
    }
    let Some(mut out) = crate::output::open(&args.output) else { return 2 };
    if args.format == HuntFormat::Csv {
        let _ = writeln!(out, "timestamp,level,rule_id,rule_title,file,record");
    }
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} events, {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut correlation_levels: BTreeMap<&str, u64> = BTreeMap::new();
    let mut correlation_count = 0;
    let (infos, totals, loaded_in, scanned_in) = match args.engine {
        Engine::Matcher => {
            let names: Vec<(Option<String>, Option<String>)> =
                loaded.iter().map(|r| (r.rule.meta.id.clone(), r.rule.meta.name.clone())).collect();
            let ir_rules = loaded.into_iter().map(|r| (r.path, r.rule)).collect();
            let (rules, rejected) = RuleSet::build(ir_rules);
            problems.extend(rejected.into_iter().map(|r| format!("{}: {}", r.path, r.reason)));
            let settings = correlate::Settings {
                time_field: args.time_field.clone(),
                lateness_ms: (args.lateness * 1000.0) as i64,
                max_groups: args.max_groups,
            };
            let (mut correlations, correlation_problems) =
                correlate::prepare(correlations, &names, &rules, &pipelines, settings);
            problems.extend(correlation_problems);
            report_problems(&problems);
            let infos: Vec<RuleInfo> = rules
                .rules
                .iter()
                .map(|r| RuleInfo { id: r.id.clone(), title: r.title.clone(), level: r.level, path: r.path.clone() })
                .collect();
            let loaded_in = started.elapsed().as_secs_f64();
            let format = |buffer: &mut Vec<u8>, found: &Found<'_>| write_detection(buffer, args.format, &infos, found);
            let workers = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let scanning = Instant::now();
            let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            let correlation_infos: Vec<(RuleInfo, &'static str)> = correlations
                .as_ref()
                .map(|c| c.infos.iter().map(|(i, k)| (i.clone(), *k)).collect())
                .unwrap_or_default();
            correlation_count = correlation_infos.len();
            let correlation_format = |buffer: &mut Vec<u8>, d: &Detection| {
                write_correlation(buffer, args.format, &correlation_infos, &shown, d)
            };
            let correlating = correlations.as_mut().map(|c| scan::Correlating {
                extract: &c.extract,
                engine: &mut c.engine,
                format: &correlation_format,
            });
            let totals = scan::scan(&files, &rules, workers, &format, correlating, &mut out, &progress);
            if let Some(c) = &correlations {
                let no_time = c.extract.no_time.load(std::sync::atomic::Ordering::Relaxed);
                if no_time > 0 {
                    eprintln!("vigil: {no_time} detections of correlated rules had no readable time and were left out of correlations (--time-field names the field)");
                }
                if c.engine.limits.too_late > 0 {
                    eprintln!(
                        "vigil: {} detections came later than --lateness allows and were left out of correlations",
                        c.engine.limits.too_late
                    );
                }
                if c.engine.limits.groups_dropped > 0 {
                    eprintln!(
                        "vigil: {} detections started a group beyond --max-groups and were left out of correlations",
                        c.engine.limits.groups_dropped
                    );
                }
            }
            for (c, count) in &totals.per_correlation {
                if let Some((info, _)) = correlation_infos.get(*c) {
                    *correlation_levels.entry(info.level.map_or("unknown", |l| l.as_str())).or_default() += count;
                }
            }
            (infos, totals, loaded_in, scanning.elapsed().as_secs_f64())
        }
        Engine::Sqlite => {
            problems.extend(correlations.iter().map(|c| {
                format!("{}: correlation rules run with the matcher engine only (not --engine sqlite)", c.path)
            }));
            let prepared = sql_engine::prepare(loaded);
            problems.extend(prepared.rejected.iter().cloned());
            report_problems(&problems);
            let loaded_in = started.elapsed().as_secs_f64();
            let scanning = Instant::now();
            let infos = &prepared.infos;
            let format = |buffer: &mut Vec<u8>, found: &Found<'_>| write_detection(buffer, args.format, infos, found);
            let totals = match sql_engine::hunt(&prepared, &files, args.db.as_deref(), &format, &mut out, &progress) {
                Ok(totals) => totals,
                Err(e) => {
                    eprintln!("vigil: SQLite: {e}");
                    return 2;
                }
            };
            (prepared.infos, totals, loaded_in, scanning.elapsed().as_secs_f64())
        }
    };
    progress.finish_and_clear();
    if totals.output_failed {
        return 2; // the reader went away (`| head`)
    }
    let Totals { events, unreadable: errors, io_failed, .. } = totals;
    let mut by_level: BTreeMap<&str, u64> = BTreeMap::new();
    let mut detections = 0;
    for (rule, count) in &totals.per_rule {
        detections += count;
        *by_level.entry(infos[*rule as usize].level.map_or("unknown", |l| l.as_str())).or_default() += count;
    }
    for (level, count) in &correlation_levels {
        detections += count;
        *by_level.entry(level).or_default() += count;
    }
    let _ = out.flush();
    let levels: Vec<String> = by_level.iter().map(|(l, n)| format!("{l} {n}")).collect();
    eprintln!(
        "{events} events from {} inputs in {scanned_in:.2}s ({:.0} events/s; rules loaded in {loaded_in:.2}s); {detections} detections ({}); rules: {} loaded{}, {} not loaded; {errors} unreadable records",
        files.len(),
        events as f64 / scanned_in.max(1e-9),
        if levels.is_empty() { "none".to_string() } else { levels.join(", ") },
        infos.len(),
        if correlation_count > 0 { format!(" and {correlation_count} correlations") } else { String::new() },
        problems.len(),
    );
    if io_failed {
        2
    } else if infos.is_empty() || events == 0 {
        1
    } else {
        0
    }
}

fn report_problems(problems: &[String]) {
    for problem in problems {
        eprintln!("vigil: rule not loaded: {problem}");
    }
}
