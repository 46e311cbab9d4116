//! `vigil hunt --engine sqlite`: every event loaded into SQLite, then each rule's generated SQL run there.
//! Detections come out in the matcher's order (input order, then rule order), so both engines print the same.

use super::format::{EventJson, MatchedEvent, RuleInfo};
use super::scan::{Format, Reading, Seen, Totals};
use std::path::{Path, PathBuf};
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::RuleRef;
use vigil_compiler::ir;
use vigil_compiler::ir::meta::{LogSource, Meta};
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::read;
use vigil_runtime::sqlite::{Row, SqliteStore, TABLE};
use vigil_runtime::LogSources;

/// Rules with their SQL.
pub struct Prepared {
    /// What detections report about each rule: its metadata and file.
    pub rules: Vec<(Meta, String)>,
    pub irs: Vec<ir::Rule>,
    /// Each rule's log source as written.
    pub logsources: Vec<LogSource>,
    /// Each rule's query (SQLite) or condition (Spark).
    pub queries: Vec<String>,
    /// Each rule's position among the rules given to [`prepare`].
    pub positions: Vec<usize>,
}

impl Prepared {
    pub fn info(&self, rule: usize) -> RuleInfo<'_> {
        let (meta, path) = &self.rules[rule];
        RuleInfo { meta, path }
    }
}

/// Converts every rule for `target`: for SQLite its query over the `logs` table of the store, for Spark its
/// condition (the one-pass job tests them all); the rules that cannot be converted come back with their diagnostic,
/// located.
pub fn prepare<'c>(
    rules: impl Iterator<Item = RuleRef<'c>>,
    target: Target,
) -> (Prepared, Vec<(RuleRef<'c>, Diagnostic)>) {
    let options = ConvertOptions { table: Some(TABLE.to_string()), ..ConvertOptions::default() };
    let mut prepared = Prepared {
        rules: Vec::new(),
        irs: Vec::new(),
        logsources: Vec::new(),
        queries: Vec::new(),
        positions: Vec::new(),
    };
    let mut rejected = Vec::new();
    for (position, r) in rules.enumerate() {
        let lowered = r.rule;
        let converted = match target {
            Target::Spark => backend::sql_condition(&lowered.rule, target, &lowered.state, &options),
            _ => backend::convert(&lowered.rule, target, "default", &lowered.state, &options).map(|mut q| q.remove(0)),
        };
        match converted {
            Ok(query) => {
                prepared.rules.push((lowered.rule.meta.clone(), r.file.path.clone()));
                prepared.queries.push(query);
                prepared.irs.push(lowered.rule.clone());
                prepared.logsources.push(lowered.logsource.clone());
                prepared.positions.push(position);
            }
            Err(e) => rejected.push((r, e.located(lowered.pos))),
        }
    }
    (prepared, rejected)
}

/// Loads `files` into the store (a file with `db`) and runs every query; detections go to the emitter in order.
/// A stop (Ctrl-C) ends the loading: the queries run on what was loaded.
pub fn hunt(
    prepared: &Prepared,
    sources: &LogSources,
    files: &[PathBuf],
    db: Option<&Path>,
    format: &Format<'_>,
    range: Option<super::narrow::TimeRange>,
    reading: Reading<'_, '_>,
) -> Result<Totals, String> {
    let Reading { watch, progress, emitter } = reading;
    if let Some(path) = db {
        // A kept database holds this run's events only (`hunt::run` refused a file that is not one of Vigil's).
        if path.exists() {
            std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let rules: Vec<&ir::Rule> = prepared.irs.iter().collect();
    let mut store = SqliteStore::create_with(db, &rules, sources)?;
    let mut totals = Totals::default();
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for (index, path) in files.iter().enumerate() {
        let mut failure = None;
        let mut errors_shown = 0;
        let mut sink = |record: u64, raw: read::Raw| {
            let lost = raw.unreadable().max(1);
            match raw.parse(record) {
                Ok(json) => {
                    totals.events += 1;
                    if totals.events % 1024 == 0 {
                        progress.update(index, totals.events);
                    }
                    if failure.is_none() {
                        failure = store.add(index as u32, record, &json).err();
                    }
                }
                Err(message) => {
                    totals.unreadable += lost;
                    if errors_shown < 5 {
                        errors_shown += 1;
                        let problem = Diagnostic::error(Code::RecordUnreadable, None, format!("skipped: {message}"));
                        crate::report::problem_in(&shown[index], "", &problem);
                    }
                }
            }
        };
        let outcome = if path.as_os_str() == "-" {
            read::read_reader_watched(std::io::stdin().lock(), watch, &mut sink)
        } else {
            read::read_path_watched(path, watch, &mut sink)
        };
        if let Some(e) = failure {
            return Err(e);
        }
        if watch.stopped() {
            break;
        }
        if let Err(e) = outcome {
            crate::report::problem_in(
                &shown[index],
                "",
                &Diagnostic::error(Code::InputUnreadable, None, e.to_string()),
            );
            totals.io_failed = true;
        }
    }
    store.commit()?;

    // (file, record, rule, event): sorted into the matcher's order.
    let mut found = Vec::new();
    for (rule, query) in prepared.queries.iter().enumerate() {
        let rows = store.run_among(query, store.admitted(&prepared.logsources[rule]).as_deref()).map_err(|e| {
            let shown: String = query.chars().take(300).collect();
            format!(
                "{}: {e}\n  query: {shown}{}",
                prepared.rules[rule].1,
                if shown.len() < query.len() { "..." } else { "" }
            )
        })?;
        for row in rows {
            found.push((rule as u32, row));
        }
    }
    emit(&prepared.irs, &prepared.rules, found, &shown, format, range, emitter, &mut totals)?;
    progress.update(files.len(), totals.events);
    Ok(totals)
}

/// Detections found by a query engine, `(rule, row)`, to the emitter in the matcher's order (input order, then rule
/// order), narrowed to `range`; what matched is told by the matcher's own evaluation of the same rules (`irs`), on
/// the detections only.
#[allow(clippy::too_many_arguments)]
pub fn emit(
    irs: &[ir::Rule],
    rules: &[(Meta, String)],
    mut found: Vec<(u32, Row)>,
    shown: &[String],
    format: &Format<'_>,
    range: Option<super::narrow::TimeRange>,
    emitter: &mut super::emit::Emitter<'_>,
    totals: &mut Totals,
) -> Result<(), String> {
    found.sort_by_key(|(rule, row)| (row.file, row.record, *rule));
    // What matched is told by the matcher's own evaluation of the same rules, on the detections only.
    let irs = irs.iter().zip(rules).map(|(rule, (_, path))| (path.clone(), rule.clone()));
    let (explainer, _) = vigil_runtime::RuleSet::build(irs.collect());
    let compiled: std::collections::HashMap<usize, u32> =
        explainer.rules.iter().enumerate().map(|(i, r)| (r.source_index, i as u32)).collect();
    let mut buffer = Vec::new();
    for (rule, row) in found {
        if let Some(range) = &range {
            if !range.contains(row.time.as_deref().and_then(vigil_runtime::time::millis)) {
                totals.outside_range += 1;
                continue;
            }
        }
        let (file, record) = (row.file, row.record);
        let event = row.event;
        let event: serde_json::Value = serde_json::from_str(&event).map_err(|e| e.to_string())?;
        buffer.clear();
        let matched = compiled.get(&(rule as usize)).map(|&compiled| {
            let decoded = explainer.event(&event);
            explainer.matched_json(compiled, &decoded.event)
        });
        let found = MatchedEvent {
            rule,
            file: &shown[file as usize],
            record,
            event: EventJson::Parsed(&event),
            time: row.time.as_deref(),
            matched: matched.unwrap_or_default(),
        };
        format(&mut buffer, &found);
        let seen = Seen {
            rule,
            computer: super::details::computer(&event),
            millis: row.time.as_deref().and_then(vigil_runtime::time::millis),
            end: buffer.len(),
            file,
            record,
            details: emitter.reporting().then(|| super::details::details(&found.matched, &event, &[])),
        };
        totals.count(&seen);
        if emitter.reporting() {
            emitter.row(seen.row());
        }
        if buffer.is_empty() {
            totals.not_written += 1;
        } else if let Err(e) = emitter.detection(&buffer, seen.millis) {
            totals.output_error = Some(e);
            break;
        }
    }
    Ok(())
}
