//! `vigil hunt --engine sqlite`: every event loaded into SQLite, then each rule's generated SQL run there.
//! Detections come out in the matcher's order (input order, then rule order), so both engines print the same.

use super::scan::{Format, Found, Totals};
use super::{LoadedRule, RuleInfo};
use indicatif::ProgressBar;
use std::io::Write;
use std::path::{Path, PathBuf};
use vigil_compiler::backend::{self, Options, Target};
use vigil_compiler::ir;
use vigil_runtime::read;
use vigil_runtime::sqlite::{SqliteStore, TABLE};

/// Rules with their SQL; the others, with the reason.
pub struct Prepared {
    pub infos: Vec<RuleInfo>,
    rules: Vec<ir::Rule>,
    queries: Vec<String>,
    pub rejected: Vec<String>,
}

/// Converts every rule for SQLite, querying the `logs` table of the store.
pub fn prepare(loaded: Vec<LoadedRule>) -> Prepared {
    let options = Options { table: Some(TABLE.to_string()), ..Options::default() };
    let mut prepared = Prepared { infos: Vec::new(), rules: Vec::new(), queries: Vec::new(), rejected: Vec::new() };
    for LoadedRule { path, rule, state } in loaded {
        match backend::convert(&rule, Target::Sqlite, "default", &state, &options) {
            Ok(mut queries) => {
                let meta = &rule.meta;
                prepared.infos.push(RuleInfo {
                    id: meta.id.clone(),
                    title: meta.title.clone(),
                    level: meta.level,
                    path,
                });
                prepared.queries.push(queries.remove(0));
                prepared.rules.push(rule);
            }
            Err(e) => prepared.rejected.push(format!("{path}: {e}")),
        }
    }
    prepared
}

/// Loads `files` into the store (a file with `db`) and runs every query; detections go to `out` in order.
pub fn hunt(
    prepared: &Prepared,
    files: &[PathBuf],
    db: Option<&Path>,
    format: &Format<'_>,
    out: &mut dyn Write,
    progress: &ProgressBar,
) -> Result<Totals, String> {
    if let Some(path) = db {
        // A kept database holds this run's events only.
        if path.exists() {
            std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let rules: Vec<&ir::Rule> = prepared.rules.iter().collect();
    let mut store = SqliteStore::create(db, &rules)?;
    let mut totals = Totals::default();
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for (index, path) in files.iter().enumerate() {
        let mut failure = None;
        let mut errors_shown = 0;
        let mut sink = |record: u64, parsed: Result<serde_json::Value, String>| match parsed {
            Ok(json) => {
                totals.events += 1;
                progress.inc(1);
                if failure.is_none() {
                    failure = store.add(index as u32, record, &json).err();
                }
            }
            Err(message) => {
                totals.unreadable += 1;
                if errors_shown < 5 {
                    errors_shown += 1;
                    eprintln!("vigil: {}: skipped: {message}", shown[index]);
                }
            }
        };
        let outcome = if path.as_os_str() == "-" {
            read::read_json(std::io::stdin().lock(), &mut sink)
        } else {
            read::read_path(path, &mut sink)
        };
        if let Some(e) = failure {
            return Err(e);
        }
        if let Err(e) = outcome {
            eprintln!("vigil: {}: {e}", shown[index]);
            totals.io_failed = true;
        }
    }
    store.commit()?;

    // (file, record, rule, event): sorted into the matcher's order.
    let mut found = Vec::new();
    for (rule, query) in prepared.queries.iter().enumerate() {
        let rows = store.run(query).map_err(|e| {
            let shown: String = query.chars().take(300).collect();
            format!(
                "{}: {e}\n  query: {shown}{}",
                prepared.infos[rule].path,
                if shown.len() < query.len() { "..." } else { "" }
            )
        })?;
        for (file, record, event) in rows {
            found.push((file, record, rule as u32, event));
        }
    }
    found.sort_by_key(|(file, record, rule, _)| (*file, *record, *rule));
    let mut buffer = Vec::new();
    for (file, record, rule, event) in found {
        let event: serde_json::Value = serde_json::from_str(&event).map_err(|e| e.to_string())?;
        *totals.per_rule.entry(rule).or_default() += 1;
        buffer.clear();
        format(&mut buffer, &Found { rule, file: &shown[file as usize], record, event: &event });
        if out.write_all(&buffer).is_err() {
            totals.output_failed = true;
            break;
        }
    }
    Ok(totals)
}
