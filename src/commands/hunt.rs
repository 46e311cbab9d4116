//! `vigil hunt`: rules in, logs in, detections out.

use crate::cli::{HuntArgs, HuntFormat};
use crate::rule_files;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil_compiler::pipeline::{load_spec, Options, PipelineSet};
use vigil_compiler::{load_str, lower, Content};
use vigil_runtime::read;
use vigil_runtime::RuleSet;

/// One detection, as found in a file.
struct Detection {
    rule: u32,
    record: u64,
    timestamp: Option<String>,
    event: serde_json::Value,
}

/// What reading one input produced.
#[derive(Default)]
struct InputResult {
    detections: Vec<Detection>,
    events: u64,
    errors: u64,
    first_errors: Vec<String>,
    io_error: Option<String>,
}

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

/// Loads, transforms and lowers every rule; problems are reported and counted, never fatal.
fn load_rules(
    paths: &[PathBuf],
    pipelines: &PipelineSet,
) -> (Vec<(String, vigil_compiler::ir::Rule)>, Vec<String>, bool) {
    let mut rules = Vec::new();
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
                    Ok(_) => rules.push((shown.clone(), lower(rule))),
                    Err(e) => problems.push(format!("{shown}: {} [{}]", e.message, e.code)),
                },
                Some(Content::Correlation(_)) => {
                    problems.push(format!("{shown}: correlation rules are not evaluated by `hunt` yet"))
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
    (rules, problems, io_error)
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
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    if let Some(t) = event.pointer("/Event/System/TimeCreated/#attributes/SystemTime").and_then(text) {
        return Some(t);
    }
    ["@timestamp", "UtcTime", "TimeCreated", "EventTime", "timestamp", "time"]
        .iter()
        .find_map(|k| event.get(*k).and_then(text))
}

fn hunt_input(path: &Path, rules: &RuleSet, progress: &ProgressBar) -> InputResult {
    let mut result = InputResult::default();
    let mut sink = |record: u64, parsed: Result<serde_json::Value, String>| match parsed {
        Ok(json) => {
            result.events += 1;
            if result.events % 4096 == 0 {
                progress.inc(4096);
            }
            let matched = {
                let event = rules.event(&json);
                rules.matches(&event)
            };
            if matched.is_empty() {
                return;
            }
            let timestamp = timestamp(&json);
            let Some((last, others)) = matched.split_last() else { return };
            for rule in others {
                result.detections.push(Detection {
                    rule: *rule,
                    record,
                    timestamp: timestamp.clone(),
                    event: json.clone(),
                });
            }
            // The event itself goes to the last detection.
            result.detections.push(Detection { rule: *last, record, timestamp, event: json });
        }
        Err(message) => {
            result.errors += 1;
            if result.first_errors.len() < 5 {
                result.first_errors.push(message);
            }
        }
    };
    let outcome = if path.as_os_str() == "-" {
        read::read_json(std::io::stdin().lock(), &mut sink)
    } else {
        read::read_path(path, &mut sink)
    };
    progress.inc(result.events % 4096);
    if let Err(e) = outcome {
        result.io_error = Some(e.to_string());
    }
    result
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
    let Some(pipelines) = pipelines(args) else { return 2 };
    let (ir_rules, problems, rules_io_error) = load_rules(&args.rules, &pipelines);
    let (rules, rejected) = RuleSet::build(ir_rules);
    for problem in &problems {
        eprintln!("vigil: rule not loaded: {problem}");
    }
    for r in &rejected {
        eprintln!("vigil: rule not loaded: {}: {}", r.path, r.reason);
    }
    let loaded_in = started.elapsed().as_secs_f64();
    let (files, inputs_io_error) = inputs(&args.inputs);
    if rules_io_error || inputs_io_error {
        return 2;
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.threads.unwrap_or(0)).build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("vigil: cannot start worker threads: {e}");
            return 2;
        }
    };
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
    let scanning = Instant::now();
    let results: Vec<InputResult> =
        pool.install(|| files.par_iter().map(|f| hunt_input(f, &rules, &progress)).collect());
    let scanned_in = scanning.elapsed().as_secs_f64();
    progress.finish_and_clear();

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("vigil: {}: {e}", path.display());
                return 2;
            }
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut by_level: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut events, mut errors, mut detections) = (0u64, 0u64, 0u64);
    let mut io_failed = false;
    if args.format == HuntFormat::Csv {
        let _ = writeln!(out, "timestamp,level,rule_id,rule_title,file,record");
    }
    for (file, result) in files.iter().zip(&results) {
        let shown = file.display().to_string();
        events += result.events;
        errors += result.errors;
        for message in &result.first_errors {
            eprintln!("vigil: {shown}: skipped: {message}");
        }
        if result.errors > result.first_errors.len() as u64 {
            eprintln!("vigil: {shown}: {} more unreadable records", result.errors - result.first_errors.len() as u64);
        }
        if let Some(e) = &result.io_error {
            eprintln!("vigil: {shown}: {e}");
            io_failed = true;
        }
        for d in &result.detections {
            detections += 1;
            let rule = &rules.rules[d.rule as usize];
            let level = rule.level.map_or("unknown", |l| l.as_str());
            *by_level.entry(level).or_default() += 1;
            let written = match args.format {
                HuntFormat::Jsonl => writeln!(
                    out,
                    "{}",
                    json!({
                        "rule": {"id": rule.id, "title": rule.title, "level": rule.level.map(|l| l.as_str()), "path": rule.path},
                        "source": {"file": shown, "record": d.record},
                        "timestamp": d.timestamp,
                        "event": d.event,
                    })
                ),
                HuntFormat::Csv => writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    csv_field(d.timestamp.as_deref().unwrap_or("")),
                    level,
                    csv_field(rule.id.as_deref().unwrap_or("")),
                    csv_field(&rule.title),
                    csv_field(&shown),
                    d.record
                ),
                HuntFormat::Table => writeln!(
                    out,
                    "{:<28} {:<13} {}  ({}:{})",
                    d.timestamp.as_deref().unwrap_or("-"),
                    level,
                    rule.title,
                    shown,
                    d.record
                ),
            };
            if written.is_err() {
                return 2; // the reader went away (`| head`)
            }
        }
    }
    let _ = out.flush();
    let levels: Vec<String> = by_level.iter().map(|(l, n)| format!("{l} {n}")).collect();
    eprintln!(
        "{events} events from {} inputs in {scanned_in:.2}s ({:.0} events/s; rules loaded in {loaded_in:.2}s); {detections} detections ({}); rules: {} loaded, {} not loaded; {errors} unreadable records",
        files.len(),
        events as f64 / scanned_in.max(1e-9),
        if levels.is_empty() { "none".to_string() } else { levels.join(", ") },
        rules.rules.len(),
        problems.len() + rejected.len(),
    );
    if io_failed {
        2
    } else if rules.rules.is_empty() || events == 0 {
        1
    } else {
        0
    }
}
