//! `vigil test`: conversion snapshots and event fixtures for every rule, for rule authors and CI.

mod cases;
pub(crate) mod config;
mod report;
mod snapshots;

use crate::cli::{TestArgs, TestFormat};
use crate::rule_files;
use cases::Verdict;
use config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::{compile_source, read_source, Settings};
use vigil_compiler::ir;
use vigil_compiler::pipeline::{PipelineOptions, PipelineSet, State};
use vigil_runtime::sqlite::SqliteStore;

/// One check of one rule file.
pub struct Check {
    pub rule: String,
    /// `snapshot splunk`, `fixtures`, `regression: <name>`, `orphan snapshot`.
    pub name: String,
    pub status: Status,
    /// A diff, the failing events, or why files are missing.
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Passed,
    /// A snapshot written by `--update` or accepted in `--review`.
    Written,
    Missing,
    Failed,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "ok",
            Status::Written => "written",
            Status::Missing => "missing",
            Status::Failed => "FAILED",
        }
    }
}

/// A snapshot that differs from (or is absent beside) the rule's output, for `--update` and `--review`.
struct Pending {
    check: usize,
    path: PathBuf,
    source: String,
    expression: String,
    content: String,
}

/// Files among the paths that are not rules: configs, sidecars, SigmaHQ's info files, snapshots.
fn is_rule_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !(config::NAMES.contains(&name) || name.ends_with(".tests.yml") || name == "info.yml")
}

fn pipelines(names: &[String]) -> Result<PipelineSet, Vec<(String, vigil_compiler::Diagnostic)>> {
    PipelineSet::resolve(names, PipelineOptions::default())
}

/// Runs the rule's SQLite query over `events`: which of them it returns.
fn sqlite_matches(rule: &ir::Rule, state: &State, events: &[serde_json::Value]) -> Result<Vec<bool>, String> {
    let options = ConvertOptions { table: Some(vigil_runtime::sqlite::TABLE.into()), ..ConvertOptions::default() };
    let query =
        backend::convert(rule, Target::Sqlite, "default", state, &options).map_err(|e| e.to_string())?.remove(0);
    let mut store = SqliteStore::create(None, &[rule])?;
    for (i, event) in events.iter().enumerate() {
        store.add(0, i as u64 + 1, event)?;
    }
    store.commit()?;
    let hits: BTreeSet<u64> = store.run(&query)?.into_iter().map(|row| row.record).collect();
    Ok((1..=events.len() as u64).map(|r| hits.contains(&r)).collect())
}

pub fn run(args: &TestArgs) -> u8 {
    let started = Instant::now();
    if args.review && args.update {
        return crate::report::usage("--update writes every snapshot, --review asks for each: choose one");
    }
    let mut configs: BTreeMap<PathBuf, Config> = BTreeMap::new();
    let mut checks: Vec<Check> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut expected_snapshots: BTreeSet<PathBuf> = BTreeSet::new();
    let mut snapshot_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut io_error = false;
    let mut files = 0usize;
    let Some(filters) = rule_files::filters(&args.paths, &args.filters) else { return 2 };
    let with_filters = |mut settings: Settings| {
        settings.filters = filters.clone();
        settings
    };
    let routing = with_filters(Settings::routing());
    let no_pipelines = with_filters(Settings::default());
    let mut target_settings: BTreeMap<Vec<String>, Settings> = BTreeMap::new();

    for found in rule_files::find(&args.paths) {
        if let rule_files::Found::File(path) = &found {
            if !is_rule_file(path) {
                continue;
            }
        }
        let shown = found.path().display().to_string();
        let text = match &found {
            rule_files::Found::File(path) => read_source(path),
            rule_files::Found::Missing { error, .. } => {
                Err(vigil_compiler::Diagnostic::error(vigil_compiler::Code::FileUnreadable, None, error.clone()))
            }
        };
        let text = match text {
            Ok(text) => text,
            Err(problem) => {
                crate::report::problem_in(&shown, "", &problem);
                io_error = true;
                continue;
            }
        };
        let path = PathBuf::from(&shown);
        let config = match config::find(&path) {
            None => Config::default(),
            Some(config_path) => match configs.get(&config_path) {
                Some(c) => c.clone(),
                None => {
                    let loaded = std::fs::read_to_string(&config_path)
                        .map_err(|e| e.to_string())
                        .and_then(|t| config::parse(&t));
                    match loaded {
                        Ok(c) => {
                            configs.insert(config_path, c.clone());
                            c
                        }
                        Err(e) => {
                            let problem =
                                vigil_compiler::Diagnostic::error(vigil_compiler::Code::InvalidConfig, None, e);
                            crate::report::problem_in(&config_path.display().to_string(), "", &problem);
                            return 2;
                        }
                    }
                }
            },
        };
        // Event fixtures and SigmaHQ regression cases run on the rules with the config's routing.
        let as_written = compile_source(shown.clone(), text.clone(), &no_pipelines);
        if !as_written.documents.iter().any(|d| d.rule().is_some()) {
            continue; // pipelines, correlations alone, filters: nothing to test
        }
        let parsed: Vec<bool> = as_written.documents.iter().map(|d| d.rule().is_some()).collect();
        let compiled = if config.routing { compile_source(shown.clone(), text.clone(), &routing) } else { as_written };
        files += 1;

        // Conversion snapshots.
        for target in &config.targets {
            let settings = match target_settings.get(&target.pipelines) {
                Some(settings) => settings,
                None => match pipelines(&target.pipelines) {
                    Ok(set) => {
                        target_settings.entry(target.pipelines.clone()).or_insert(with_filters(Settings::new(set)))
                    }
                    Err(e) => {
                        for (spec, problem) in e {
                            let text = problem.pos.and_then(|_| vigil_compiler::pipeline::spec_text(&spec));
                            crate::report::problem_in(&spec, &text.unwrap_or_default(), &problem);
                        }
                        return 2;
                    }
                },
            };
            let snap = snapshots::path_for(&path, &config.directory, target);
            snapshot_dirs.insert(snap.parent().map(Path::to_path_buf).unwrap_or_default());
            expected_snapshots.insert(snap.clone());
            let content = snapshots::render(&shown, &text, target, settings);
            let name = format!("snapshot {}", target.suffix());
            let (status, detail) = match snapshots::read(&snap) {
                Some(old) if old == content => (Status::Passed, None),
                old => {
                    let diff = snapshots::diff(old.as_deref().unwrap_or(""), &content, &snap.display().to_string());
                    let what = if old.is_none() { "new snapshot" } else { "snapshot changed" };
                    pending.push(Pending {
                        check: checks.len(),
                        path: snap.clone(),
                        source: shown.clone(),
                        expression: target.command(),
                        content,
                    });
                    (Status::Failed, Some(format!("{what}: {}\n{diff}", snap.display())))
                }
            };
            checks.push(Check { rule: shown.clone(), name, status, detail });
        }

        // Event fixtures and SigmaHQ regression cases run on the rules compiled with the config's routing.
        let mut rules: Vec<(ir::Rule, State, Option<String>)> = Vec::new();
        for (document, _) in compiled.documents.iter().zip(&parsed).filter(|(_, parsed)| **parsed) {
            // A rule that parses but that its pipelines reject fails; one that does not parse is `vigil check`'s.
            match document.rule() {
                Some(lowered) => {
                    let meta = &lowered.rule.meta;
                    let regression =
                        meta.custom.get("regression_tests_path").and_then(|v| v.as_str()).map(str::to_string);
                    rules.push((lowered.rule.clone(), lowered.state.clone(), regression));
                }
                None => {
                    if let Some(error) = document.first_error() {
                        checks.push(Check {
                            rule: shown.clone(),
                            name: "rule".into(),
                            status: Status::Failed,
                            detail: Some(error.to_string()),
                        });
                    }
                }
            }
        }
        if let Some(sidecar) = cases::sidecar(&path) {
            let verdict = match rules.first() {
                None => Verdict::Failed("no rule to run the fixtures on".into()),
                Some((first, state, _)) => {
                    let all: Vec<(String, ir::Rule)> =
                        rules.iter().map(|(r, _, _)| (shown.clone(), r.clone())).collect();
                    let (set, rejected) = vigil_runtime::RuleSet::build(all);
                    if let Some(r) = rejected.first() {
                        Verdict::Failed(format!("the matcher cannot run the rule: {}", r.diagnostic))
                    } else {
                        let sql = |events: &[serde_json::Value]| sqlite_matches(first, state, events);
                        cases::run_sidecar(
                            &sidecar,
                            &set,
                            config.sql.then_some(&sql as &dyn Fn(&[serde_json::Value]) -> Result<Vec<bool>, String>),
                        )
                    }
                }
            };
            checks.push(check_from(&shown, "fixtures".into(), verdict, None));
        }
        for (rule, _, regression) in &rules {
            let Some(info) = regression else { continue };
            let set = match cases::rule_set(&shown, rule.clone()) {
                Ok(set) => set,
                Err(e) => {
                    checks.push(check_from(&shown, "regression".into(), Verdict::Failed(e), None));
                    continue;
                }
            };
            match cases::regression_cases(&path, info) {
                Err(why) => checks.push(check_from(&shown, "regression".into(), Verdict::Missing(why), None)),
                Ok(list) => {
                    for case in list {
                        let (verdict, note) = cases::run_regression(&case, &set, args.strict_counts);
                        checks.push(check_from(&shown, format!("regression: {}", case.name), verdict, note));
                    }
                }
            }
        }
    }

    // Snapshots whose rule file or target is gone.
    for dir in &snapshot_dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "snap") && !expected_snapshots.contains(&file) {
                let (status, detail) = if args.prune {
                    match std::fs::remove_file(&file) {
                        Ok(()) => (Status::Written, Some(format!("removed {}", file.display()))),
                        Err(e) => (Status::Failed, Some(format!("{}: {e}", file.display()))),
                    }
                } else {
                    (
                        Status::Failed,
                        Some(format!("{}: no rule or target makes it; `--prune` removes it", file.display())),
                    )
                };
                checks.push(Check { rule: file.display().to_string(), name: "orphan snapshot".into(), status, detail });
            }
        }
    }

    if args.update || args.review {
        let interactive = args.review;
        if interactive && !std::io::stdin().is_terminal() {
            let warning = vigil_compiler::Diagnostic::warning(
                vigil_compiler::Code::Usage,
                None,
                "--review reads answers from standard input, which is not a terminal",
            );
            crate::report::general(&warning);
        }
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        for p in &pending {
            let accept = if interactive {
                eprintln!("\n{}", checks[p.check].detail.as_deref().unwrap_or(""));
                eprint!("{} {}: accept (a), reject (r), skip (s)? ", p.source, checks[p.check].name);
                let _ = std::io::stderr().flush();
                match lines.next() {
                    Some(Ok(answer)) => matches!(answer.trim(), "a" | "accept" | "y" | "yes"),
                    _ => false,
                }
            } else {
                true
            };
            if accept {
                match snapshots::write(&p.path, &p.source, &p.expression, &p.content) {
                    Ok(()) => {
                        checks[p.check].status = Status::Written;
                        checks[p.check].detail = Some(format!("wrote {}", p.path.display()));
                    }
                    Err(e) => {
                        checks[p.check].detail = Some(format!("{}: {e}", p.path.display()));
                        io_error = true;
                    }
                }
            }
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    let output = match args.format {
        TestFormat::Text => report::text(&checks, elapsed, files, args.verbose),
        TestFormat::Junit => report::junit(&checks, elapsed),
        TestFormat::Json => report::json(&checks, elapsed, files),
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, output),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(output.as_bytes()).and_then(|()| out.flush())
        }
    };
    if let Err(e) = written {
        return crate::output::failed(&e, args.output.as_deref());
    }
    if args.format != TestFormat::Text {
        eprint!("{}", report::summary(&checks, elapsed, files));
    }
    if io_error {
        2
    } else if checks.iter().any(|c| c.status == Status::Failed) {
        1
    } else {
        0
    }
}

fn check_from(rule: &str, name: String, verdict: Verdict, note: Option<String>) -> Check {
    let (status, detail) = match verdict {
        Verdict::Passed => (Status::Passed, note),
        Verdict::Failed(why) => (Status::Failed, Some(why)),
        Verdict::Missing(why) => (Status::Missing, Some(why)),
    };
    Check { rule: rule.to_string(), name, status, detail }
}
