//! `vigil hunt`: rules in, logs in, detections out.

mod batches;
mod details;
mod emit;
mod format;
mod html;
mod narrow;
mod progress;
mod scan;
mod spark_correlate;
mod spark_engine;
mod sql_engine;
mod summary;

use crate::cli::{HuntArgs, HuntEngine, HuntSort, RuleSourceArgs};
use crate::rule_cache::Stored;
use crate::{report, rule_files};
use emit::Emitter;
use format::{MatchedEvent, RuleInfo};
use html::{Named, Origins};
use progress::Progress;
use scan::{Reading, Totals};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use vigil_compiler::backend::Target;
use vigil_compiler::compile::Compilation;
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::correlate::{self, Correlator, Limits};
use vigil_runtime::correlation::Detection;
use vigil_runtime::read::Watch;
use vigil_runtime::{LogSources, RuleInput, RuleSet};

/// The exit status of a hunt that ran but could not read everything: a rule file or an input was skipped, or an
/// input could not be read to its end (each reported).
const SOMETHING_SKIPPED: u8 = 3;
/// The exit status of a hunt stopped by Ctrl-C (what was found and the summary written first): a shell's for a
/// process ended by SIGINT.
const INTERRUPTED: u8 = 130;

/// Ctrl-C was pressed during this hunt.
static INTERRUPT_SEEN: AtomicBool = AtomicBool::new(false);

/// On Ctrl-C the inputs stop being read (what was read is matched and written, then the summary); on a second,
/// the process ends at once.
fn stop_on_interrupt(watch: &Watch) {
    let watch = watch.clone();
    let handler = move || {
        if INTERRUPT_SEEN.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED));
        }
        watch.stop();
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        report::general(&Diagnostic::warning(Code::Usage, None, format!("Ctrl-C will not stop the hunt cleanly: {e}")));
    }
}

/// The input files: files as given (read whatever their name: the format is told by content), directories
/// searched for files named as logs are (`LOGS`). Whether a path was skipped: each is reported.
fn inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    const LOGS: [&str; 6] = ["json", "jsonl", "ndjson", "evtx", "gz", "log"];
    let mut out = Vec::new();
    let mut skipped = false;
    let mut skip = |path: &std::path::Path, why: String| {
        report::problem_in(&path.display().to_string(), "", &Diagnostic::error(Code::InputUnreadable, None, why));
        skipped = true;
    };
    for path in paths {
        if path.as_os_str() == "-" || path.is_file() {
            out.push(path.clone());
        } else if path.is_dir() {
            let mut files = Vec::new();
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => {
                        let name = entry.path().extension().and_then(|x| x.to_str()).unwrap_or("");
                        if LOGS.contains(&name.to_ascii_lowercase().as_str()) {
                            files.push(entry.into_path());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => skip(e.path().unwrap_or(path), e.to_string()),
                }
            }
            files.sort();
            out.extend(files);
        } else {
            let why = if path.exists() { "not a file or directory" } else { "no such file or directory" };
            skip(path, why.to_string());
        }
    }
    (out, skipped)
}

/// Reports every document that will not run (its errors, with their codes and locations, as `vigil check` gives
/// them); returns how many, and whether a rule file could not be read.
fn report_unloaded(compilation: &Compilation) -> (usize, bool) {
    let (mut unloaded, mut io_error) = (0, false);
    for file in &compilation.files {
        io_error |= !file.readable;
        for document in &file.documents {
            if document.kind.is_data() {
                continue;
            }
            if document.has_errors() {
                unloaded += 1;
            }
            // Errors, and the warnings that say a document does not do what it was meant to.
            for d in document.diagnostics.iter().filter(|d| d.is_error() || d.code == Code::FilterUnused) {
                report::problem(file, d);
            }
        }
    }
    (unloaded, io_error)
}

/// How events' log sources are told: `--logsource`, or the built-in table after the user's `--logsource-table`s.
/// The rules compiled with their pipelines and filters, and how events' log sources are told; `None` after
/// reporting a usage problem.
/// `for_matcher`: the compilation feeds the matcher alone (not conversions), so it may come from the compiled
/// rule-set cache (unless `--no-cache`); the last value is its place there.
pub(crate) fn load_rules(
    source: &RuleSourceArgs,
    for_matcher: bool,
) -> Option<(LogSources, Compilation, Option<Stored>)> {
    let settings = report::settings(&source.pipeline, !source.no_routing)?;
    let sources = log_sources(source.logsource.as_deref(), &source.logsource_tables)?;
    let cache = (for_matcher && !source.no_cache).then(crate::rule_cache::RuleCache::locate).flatten();
    Some(match cache {
        Some(cache) => {
            let (compilation, stored) =
                rule_files::compile_cached(&source.rules, &source.pipeline.filters, &settings, cache)?;
            (sources, compilation, stored)
        }
        None => (sources, rule_files::compile(&source.rules, &source.pipeline.filters, &settings)?, None),
    })
}

fn log_sources(logsource: Option<&str>, tables: &[PathBuf]) -> Option<LogSources> {
    use vigil_compiler::logsources::{parse_forced, LogSourceTable};
    if let Some(forced) = logsource {
        return match parse_forced(forced) {
            Ok(logsource) => Some(LogSources::Forced(logsource)),
            Err(why) => {
                report::general(&Diagnostic::error(Code::Usage, None, format!("--logsource {forced}: {why}")));
                None
            }
        };
    }
    let mut table = LogSourceTable::default();
    for path in tables {
        let shown = path.display().to_string();
        let parsed = vigil_compiler::compile::read_source(path)
            .and_then(|text| LogSourceTable::parse(&text).inspect_err(|d| report::problem_in(&shown, &text, d)));
        match parsed {
            Ok(user) => table.entries.extend(user.entries),
            Err(d) => {
                if d.code != Code::InvalidLogsourceTable {
                    report::problem_in(&shown, "", &d);
                }
                return None;
            }
        }
    }
    Some(LogSources::Table(LogSourceTable::builtin().after(table)))
}

/// The layout of the detections: colours and the terminal's width only when they go to a terminal.
fn layout(args: &HuntArgs) -> format::Layout {
    let terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = terminal.then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))).flatten();
    format::Layout { format: args.format, color: terminal && !no_color, width, fields: args.fields.clone() }
}

/// What a hunt found, for the summary.
struct Outcome {
    totals: Totals,
    /// Detections per level, rule and tactic.
    tally: summary::Tally,
    rules_loaded: usize,
    correlations_loaded: usize,
    not_loaded: usize,
    /// Rules (and correlations) that `--min-level`, `--status`, `--tags`, `--rule` and their exclusions left out.
    left_out: usize,
    loaded_in: f64,
    scanned_in: f64,
    /// The names of the rules and correlations, for the report.
    origins: Origins,
}

/// How the report names a rule or a correlation.
fn named(info: RuleInfo<'_>) -> Named {
    Named {
        title: info.meta.title.clone(),
        level: info.meta.level.map_or("unknown", |l| l.as_str()),
        id: info.meta.id.clone(),
    }
}

pub fn run(args: &HuntArgs) -> u8 {
    let started = Instant::now();
    if args.db.is_some() && args.engine != HuntEngine::Sqlite {
        return report::usage("--db keeps the SQLite database of `--engine sqlite`; add `--engine sqlite`");
    }
    let spark_options = args.spark_master != "local[*]" || !args.spark_conf.is_empty() || !args.spark_table.is_empty();
    if spark_options && args.engine != HuntEngine::Spark {
        return report::usage("--spark-master, --spark-conf and --spark-table are for `--engine spark`; add it");
    }
    if let Some(threads) = args.threads {
        // Rule files are compiled on the same number of threads as events are matched.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(usize::from(threads)).build_global();
    }
    if let Some(db) = &args.db {
        if db.exists() && !args.db_overwrite && !vigil_runtime::sqlite::is_vigil_database(db) {
            let problem = Diagnostic::error(
                Code::OutputUnwritable,
                None,
                "exists and is not a database a Vigil hunt wrote: refusing to replace it (--db-overwrite replaces it)",
            );
            report::problem_in(&db.display().to_string(), "", &problem);
            return 2;
        }
    }
    let selection = match narrow::RuleSelection::new(&args.narrow) {
        Ok(selection) => selection,
        Err(why) => return report::usage(why),
    };
    let range = match narrow::TimeRange::new(args.narrow.from.as_deref(), args.narrow.to.as_deref()) {
        Ok(range) => range,
        Err(why) => return report::usage(why),
    };
    let for_matcher = args.engine == HuntEngine::Matcher;
    let Some((sources, compilation, stored)) = load_rules(&args.source, for_matcher) else { return 2 };
    let cached = stored.as_ref().is_some_and(|s| s.hit);
    // A rule file or an input that cannot be read is reported and the others run; the exit status says so.
    let (not_loaded, rules_skipped) = report_unloaded(&compilation);
    let (files, inputs_skipped) = inputs(&args.inputs);
    let Some(mut out) = crate::output::open(&args.output) else { return 2 };
    let layout = layout(args);
    if let Some(header) = layout.csv_header() {
        let _ = writeln!(out, "{header}");
    }
    let watch = Watch::default();
    stop_on_interrupt(&watch);
    let progress = Progress::new(&files, &watch);
    let mut emitter = Emitter::new(&mut *out, args.sort == HuntSort::Time, args.report.is_some());
    let reading = Reading { watch: &watch, progress: &progress, emitter: &mut emitter };
    let outcome = match args.engine {
        HuntEngine::Matcher => {
            let narrow = (&selection, range);
            matcher(args, &layout, &sources, (compilation, stored.as_ref()), narrow, &files, reading, started)
        }
        HuntEngine::Sqlite | HuntEngine::Spark => {
            query_engine(args, &layout, &sources, &compilation, (&selection, range), &files, reading, started)
        }
    };
    progress.finish();
    let (written, rows) = emitter.finish();
    let Some(mut outcome) = outcome else { return 2 };
    outcome.not_loaded += not_loaded;
    if let Some(e) = outcome.totals.output_error.take().or(written.err()) {
        return crate::output::failed(&e, args.output.as_deref());
    }
    let interrupted = INTERRUPT_SEEN.load(Ordering::SeqCst);
    if interrupted {
        report::general(&Diagnostic::warning(
            Code::Interrupted,
            None,
            "interrupted (Ctrl-C): the detections and the summary cover the events read until then",
        ));
    }
    if outcome.totals.not_written > 0 {
        report::general(&Diagnostic::warning(
            Code::MissingEventTime,
            None,
            format!(
                "{} detections had no readable event time and are not in the Timesketch output (--time-field names the field)",
                outcome.totals.not_written
            ),
        ));
    }
    let Outcome { totals, tally, .. } = &outcome;
    let detections = tally.detections();
    let levels: Vec<String> = tally.by_level.iter().map(|(l, n)| format!("{l} {n}")).collect();
    let mut left_out = Vec::new();
    if outcome.left_out > 0 {
        left_out.push(format!("{} rules by {}", outcome.left_out, selection.describe(&args.narrow)));
    }
    if totals.outside_range > 0 {
        left_out.push(format!("{} detections outside --from/--to", totals.outside_range));
    }
    let left_out = if left_out.is_empty() { String::new() } else { format!("; left out: {}", left_out.join(", ")) };
    eprintln!(
        "{} events from {} inputs in {:.2}s ({:.0} events/s; rules loaded in {:.2}s{}); {detections} detections ({}); rules: {} loaded{}, {} not loaded; {} unreadable records; {} events of unknown log source{left_out}",
        totals.events,
        files.len(),
        outcome.scanned_in,
        totals.events as f64 / outcome.scanned_in.max(1e-9),
        outcome.loaded_in,
        if cached { " from the cache" } else { "" },
        if levels.is_empty() { "none".to_string() } else { levels.join(", ") },
        outcome.rules_loaded,
        if outcome.correlations_loaded > 0 { format!(" and {} correlations", outcome.correlations_loaded) } else { String::new() },
        outcome.not_loaded,
        totals.unreadable,
        totals.unknown_source,
    );
    let span = (totals.first, totals.last);
    for line in summary::lines(tally, &totals.per_computer, span) {
        eprintln!("{line}");
    }
    if let Some(path) = &args.navigator {
        let description = format!("ATT&CK techniques of {detections} detections, scored by detections");
        let layer = crate::navigator::layer("Vigil hunt", &description, &tally.techniques, "detections");
        if let Err(code) = crate::navigator::write(path, &layer) {
            return code;
        }
    }
    let facts = summary::Facts {
        tally,
        per_computer: &totals.per_computer,
        span,
        events: totals.events,
        inputs: files.len(),
        seconds: outcome.scanned_in,
        rules_loaded: outcome.rules_loaded,
        rules_not_loaded: outcome.not_loaded,
        rules_left_out: outcome.left_out,
        detections_outside_range: totals.outside_range,
        unreadable_records: totals.unreadable,
        unknown_source_events: totals.unknown_source,
    };
    if let Some(path) = &args.summary {
        let text = format!("{:#}\n", summary::json(&facts));
        if let Err(e) = std::fs::write(path, text) {
            return crate::output::failed(&e, Some(path));
        }
    }
    if let (Some(path), Some(rows)) = (&args.report, rows) {
        let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let page = html::page(&facts, &rows, &outcome.origins, &shown);
        if let Err(e) = std::fs::write(path, page) {
            return crate::output::failed(&e, Some(path));
        }
    }
    if interrupted {
        INTERRUPTED
    } else if outcome.rules_loaded == 0 || totals.events == 0 {
        1
    } else if totals.io_failed || rules_skipped || inputs_skipped {
        SOMETHING_SKIPPED
    } else {
        0
    }
}

/// The compiled matcher over every input, correlations included.
#[allow(clippy::too_many_arguments)]
fn matcher(
    args: &HuntArgs,
    layout: &format::Layout,
    sources: &LogSources,
    (mut compilation, stored): (Compilation, Option<&Stored>),
    (selection, range): (&narrow::RuleSelection, Option<narrow::TimeRange>),
    files: &[PathBuf],
    reading: Reading<'_, '_>,
    started: Instant,
) -> Option<Outcome> {
    // The rules move into the matcher.
    let rules = compilation.take_rules();
    let positions: Vec<(usize, vigil_compiler::Pos)> = rules.iter().map(|(f, r)| (*f, r.pos)).collect();
    let lowered: Vec<vigil_compiler::ir::correlation::Correlation> =
        compilation.correlations.iter().map(|c| c.correlation.clone()).collect();
    // The fields detections report (correlation groups and values, the event time) are decoded with the rules'.
    let time_names = vigil_runtime::time::time_fields(args.time_field.as_deref());
    let mut also_read: Vec<String> = correlate::fields_read(&lowered);
    also_read.extend(time_names.iter().map(|s| s.to_string()));
    let also_read: Vec<&str> = also_read.iter().map(String::as_str).collect();
    let paths: Vec<String> = compilation.files.iter().map(|f| f.path.clone()).collect();
    // Rules a correlation reads run even when not selected: the correlation needs them, but their own
    // detections are not reported.
    let admitted: Vec<bool> = rules.iter().map(|(_, r)| selection.admits(&r.rule.meta)).collect();
    let mut needed = vec![false; rules.len()];
    for input in lowered.iter().flat_map(|c| &c.inputs) {
        if let vigil_compiler::ir::correlation::InputSource::Rule(r) = input.source {
            needed[r] = true;
        }
    }
    let correlations_admitted: Vec<bool> = lowered.iter().map(|c| selection.admits(&c.meta)).collect();
    let left_out = (0..rules.len()).filter(|&r| !admitted[r] && !needed[r]).count()
        + correlations_admitted.iter().filter(|a| !**a).count();
    let inputs = rules
        .into_iter()
        .enumerate()
        .filter(|(index, _)| admitted[*index] || needed[*index])
        .map(|(index, (f, lowered))| RuleInput {
            index,
            path: paths[f].clone(),
            rule: lowered.rule,
            logsource: lowered.logsource,
        })
        .collect();
    // What an earlier build derived from the same compilation (witnesses, regex sizes), and kept when it lacked.
    let known = stored.map(|s| s.cache.derived(&s.key).unwrap_or_default());
    let (set, rejected, derived) = RuleSet::build_knowing(inputs, &also_read, sources, known);
    if let (Some(stored), Some(derived)) = (stored, derived) {
        stored.cache.store_derived(&stored.key, &derived);
    }
    let silent: Vec<bool> = set.rules.iter().map(|r| !admitted[r.source_index]).collect();
    let mut not_loaded = rejected.len();
    for r in &rejected {
        let (file, pos) = positions[r.index];
        report::problem(&compilation.files[file], &r.diagnostic.clone().located(pos));
    }
    let limits = Limits { lateness_ms: (args.lateness * 1000.0) as i64, max_groups: args.max_groups };
    let (mut correlator, problems) = Correlator::new(&lowered, &set, limits);
    not_loaded += report_correlation_problems(&compilation, &problems);
    // What correlation detections report, by their position in the engine.
    let wired: Vec<(vigil_compiler::ir::meta::Meta, String, &'static str, bool)> = compilation
        .correlations
        .iter()
        .zip(&correlator.engine_index)
        .zip(&correlations_admitted)
        .filter(|((_, e), _)| e.is_some())
        .map(|((c, _), admitted)| {
            (c.correlation.meta.clone(), paths[c.file].clone(), c.correlation.kind.as_str(), *admitted)
        })
        .collect();
    drop((compilation, lowered));
    crate::release_free_memory();
    let wired: Vec<(RuleInfo<'_>, &'static str, bool)> =
        wired.iter().map(|(meta, path, kind, admitted)| (RuleInfo { meta, path }, *kind, *admitted)).collect();
    let infos: Vec<RuleInfo<'_>> = set.rules.iter().map(|r| RuleInfo { meta: &r.meta, path: &r.path }).collect();
    let loaded_in = started.elapsed().as_secs_f64();
    let time_ids = vigil_runtime::fields::ids(&set.fields, &time_names);
    let detection = |buffer: &mut Vec<u8>, found: &MatchedEvent<'_>| {
        format::detection(buffer, layout, infos[found.rule as usize], found)
    };
    let workers =
        args.threads.map(usize::from).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let scanning = Instant::now();
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let correlation_detection = |buffer: &mut Vec<u8>, d: &Detection| {
        if let Some((info, kind, true)) = wired.get(d.correlation) {
            format::correlation(buffer, layout, *info, kind, &shown, d);
        }
    };
    let correlating = (!wired.is_empty()).then_some(scan::Correlating {
        hits: &correlator.hits,
        engine: &mut correlator.engine,
        format: &correlation_detection,
    });
    let narrow = scan::Narrow { silent: &silent, range };
    let totals = scan::scan(files, &set, &time_ids, workers, &detection, &narrow, correlating, reading);
    warn_incomplete(totals.no_time, &correlator.engine.limits);
    let rules = totals.per_rule.iter().map(|(rule, count)| (infos[*rule as usize], *count));
    let correlations =
        totals.per_correlation.iter().filter_map(|(c, count)| wired.get(*c).filter(|w| w.2).map(|w| (w.0, *count)));
    let tally = summary::Tally::new(rules.chain(correlations));
    let origins = Origins {
        rules: infos.iter().map(|info| named(*info)).collect(),
        correlations: wired.iter().map(|(info, _, _)| named(*info)).collect(),
    };
    Some(Outcome {
        origins,
        tally,
        rules_loaded: set.rules.len(),
        correlations_loaded: wired.len(),
        not_loaded,
        left_out,
        loaded_in,
        scanned_in: scanning.elapsed().as_secs_f64(),
        totals,
    })
}

/// Warns of detections left out of correlations: `no_time` without a readable time, and those the engine's
/// `limits` dropped.
fn warn_incomplete(no_time: u64, limits: &vigil_runtime::correlation::Limits) {
    let incomplete = [
        (no_time, "had no readable time and were left out of correlations (--time-field names the field)"),
        (limits.too_late, "came later than --lateness allows and were left out of correlations"),
        (limits.groups_dropped, "started a group beyond --max-groups and were left out of correlations"),
    ];
    for (count, why) in incomplete.into_iter().filter(|(count, _)| *count > 0) {
        let warning = Diagnostic::warning(Code::CorrelationIncomplete, None, format!("{count} detections {why}"));
        report::general(&warning);
    }
}

/// Reports every correlation rule of `compilation` as one `target` does not run (`why`); how many there are.
fn refuse_correlations(compilation: &Compilation, target: Target, why: &str) -> usize {
    for linked in &compilation.correlations {
        let file = &compilation.files[linked.file];
        let pos = file.documents[linked.document].pos;
        let problem = Diagnostic::error(Code::UnsupportedCorrelation, pos, why).for_target(target.name());
        report::problem(file, &problem);
    }
    compilation.correlations.len()
}

/// Reports each problem of a correlation (by position in `compilation`) at its document; how many there are.
fn report_correlation_problems(compilation: &Compilation, problems: &[(usize, Diagnostic)]) -> usize {
    for (c, diagnostic) in problems {
        let linked = &compilation.correlations[*c];
        let file = &compilation.files[linked.file];
        report::problem(file, &diagnostic.clone().located(file.documents[linked.document].pos));
    }
    problems.len()
}

/// The rules of a query engine, converted for `target`: those `admitted` (per rule of `compilation`), and for
/// Spark also those correlations read. Returns them, the rule of `compilation` each given rule is, and how many
/// could not be converted (each reported).
fn prepare_rules(
    compilation: &Compilation,
    target: Target,
    admitted: &[bool],
) -> (sql_engine::Prepared, Vec<usize>, usize) {
    let read =
        if target == Target::Spark { spark_correlate::rules_read(compilation) } else { vec![false; admitted.len()] };
    let given: Vec<usize> = (0..admitted.len()).filter(|&r| admitted[r] || read[r]).collect();
    let rules = compilation.rules().enumerate().filter(|(r, _)| admitted[*r] || read[*r]).map(|(_, rule)| rule);
    let (prepared, rejected) = sql_engine::prepare(rules, target);
    for (rule, diagnostic) in &rejected {
        report::problem(rule.file, diagnostic);
    }
    (prepared, given, rejected.len())
}

/// `vigil convert -t spark -f job`: the job script for every rule and correlation of `compilation` on the
/// built-in log-source table, the numbers of rules and of correlations in it, and of those left out (each reported:
/// rules Spark SQL cannot express, correlations reading them or of a form it cannot run).
pub fn spark_job_script(compilation: &Compilation) -> (String, (usize, usize), usize) {
    let every_rule = vec![true; compilation.rules().count()];
    let (prepared, given, mut not_loaded) = prepare_rules(compilation, Target::Spark, &every_rule);
    let sources = LogSources::Table(vigil_compiler::logsources::LogSourceTable::builtin());
    let events = spark_engine::events_for(&prepared, compilation, &sources, None);
    let every_correlation = vec![true; compilation.correlations.len()];
    let scope = spark_correlate::Scope {
        given: &given,
        rules_admitted: &every_rule,
        correlations_admitted: &every_correlation,
        range: None,
    };
    let (correlations, problems) = spark_correlate::plan(compilation, &prepared, &events, &scope);
    not_loaded += report_correlation_problems(compilation, &problems);
    let job = spark_engine::Job { prepared: &prepared, events: &events, correlations: &correlations };
    let loaded = (prepared.queries.len(), correlations.reported.len());
    (spark_engine::job_script(&job), loaded, not_loaded)
}

/// A query engine running each rule's generated SQL: SQLite, or Spark in one job (correlations included).
#[allow(clippy::too_many_arguments)]
fn query_engine(
    args: &HuntArgs,
    layout: &format::Layout,
    sources: &LogSources,
    compilation: &Compilation,
    (selection, range): (&narrow::RuleSelection, Option<narrow::TimeRange>),
    files: &[PathBuf],
    reading: Reading<'_, '_>,
    started: Instant,
) -> Option<Outcome> {
    let target = if args.engine == HuntEngine::Spark { Target::Spark } else { Target::Sqlite };
    let mut not_loaded = 0;
    if target != Target::Spark {
        let why =
            format!("correlation rules run with the matcher engine and Spark only (not --engine {})", target.name());
        not_loaded += refuse_correlations(compilation, target, &why);
    }
    let admitted: Vec<bool> = compilation.rules().map(|r| selection.admits(&r.rule.rule.meta)).collect();
    let correlations_admitted: Vec<bool> =
        compilation.correlations.iter().map(|c| selection.admits(&c.correlation.meta)).collect();
    let (prepared, given, rejected) = prepare_rules(compilation, target, &admitted);
    // Rules that run only because a correlation reads them are not left out; correlations are (Spark).
    let mut left_out = admitted.len() - given.len();
    if target == Target::Spark {
        left_out += correlations_admitted.iter().filter(|a| !**a).count();
    }
    not_loaded += rejected;
    let time_field = args.time_field.as_deref();
    let events =
        (target == Target::Spark).then(|| spark_engine::events_for(&prepared, compilation, sources, time_field));
    let correlations = match &events {
        Some(events) => {
            let scope = spark_correlate::Scope {
                given: &given,
                rules_admitted: &admitted,
                correlations_admitted: &correlations_admitted,
                range: range.map(|r| r.bounds()),
            };
            let (correlations, problems) = spark_correlate::plan(compilation, &prepared, events, &scope);
            not_loaded += report_correlation_problems(compilation, &problems);
            correlations
        }
        None => spark_correlate::JobCorrelations::default(),
    };
    let loaded_in = started.elapsed().as_secs_f64();
    let scanning = Instant::now();
    let detection = |buffer: &mut Vec<u8>, found: &MatchedEvent<'_>| {
        format::detection(buffer, layout, prepared.info(found.rule as usize), found)
    };
    let hunted = match args.engine {
        HuntEngine::Spark => {
            let settings = spark_engine::SparkSettings {
                master: &args.spark_master,
                conf: &args.spark_conf,
                tables: &args.spark_table,
            };
            let shown: Vec<String> =
                files.iter().map(|f| f.display().to_string()).chain(args.spark_table.iter().cloned()).collect();
            let correlation_detection = |buffer: &mut Vec<u8>, d: &Detection| {
                let r = &correlations.reported[d.correlation];
                let info = RuleInfo { meta: &r.meta, path: &r.path };
                format::correlation(buffer, layout, info, r.kind.as_str(), &shown, d);
            };
            let formats = spark_engine::Formats { rule: &detection, correlation: &correlation_detection };
            let events = events.as_ref().expect("made for Spark above");
            let job = spark_engine::Job { prepared: &prepared, events, correlations: &correlations };
            spark_engine::hunt(&job, files, &settings, &formats, range, reading)
        }
        _ => sql_engine::hunt(&prepared, sources, files, args.db.as_deref(), &detection, range, reading)
            .map_err(|e| (Code::EngineError, format!("SQLite: {e}"))),
    };
    let totals = match hunted {
        Ok(totals) => totals,
        Err((code, e)) => {
            report::general(&Diagnostic::error(code, None, e));
            return None;
        }
    };
    warn_incomplete(totals.no_time, &vigil_runtime::correlation::Limits::default());
    let correlation_infos: Vec<RuleInfo<'_>> =
        correlations.reported.iter().map(|r| RuleInfo { meta: &r.meta, path: &r.path }).collect();
    let rules = totals.per_rule.iter().map(|(rule, count)| (prepared.info(*rule as usize), *count));
    let correlated = totals.per_correlation.iter().map(|(c, count)| (correlation_infos[*c], *count));
    let tally = summary::Tally::new(rules.chain(correlated));
    let origins = Origins {
        rules: (0..prepared.rules.len()).map(|r| named(prepared.info(r))).collect(),
        correlations: correlation_infos.iter().map(|info| named(*info)).collect(),
    };
    Some(Outcome {
        origins,
        tally,
        rules_loaded: prepared.rules.len(),
        correlations_loaded: correlations.reported.len(),
        not_loaded,
        left_out,
        loaded_in,
        scanned_in: scanning.elapsed().as_secs_f64(),
        totals,
    })
}
