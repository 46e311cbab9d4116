//! `vigil hunt --engine spark`: every rule in one Spark job that reads the events once (spark_job.py), run with
//! `spark-submit` (`$SPARK_HOME`) or Python's pyspark, locally (`local[*]`) or on a cluster (`--spark-master`).
//!
//! Vigil writes the job's plan: the inputs (JSON lines Spark reads itself, by path; anything else — EVTX, JSON
//! arrays, standard input, gzip under another name — converted by Vigil's readers on the way into records with
//! the fields as the matcher decodes them), the SQL of the events view (runtime/src/spark.rs) and each rule's
//! condition as `vigil convert -t spark` writes it with the log sources it may run on. The job writes the
//! detections as JSON lines; Vigil reports them as the other engines do.

use super::scan::{CorrelationFormat, Format, Reading, Totals};
use super::spark_correlate::{self, JobCorrelations};
use super::sql_engine::Prepared;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vigil_compiler::{Code, Diagnostic};
use vigil_runtime::read;
use vigil_runtime::spark::SparkEvents;
use vigil_runtime::sqlite::Row;
use vigil_runtime::LogSources;

/// The job Vigil runs (and `vigil convert -t spark -f job` will write).
const JOB: &str = include_str!("spark_job.py");

/// Where and how Spark runs.
pub struct SparkSettings<'a> {
    /// `local[*]` unless the user names a master.
    pub master: &'a str,
    /// The user's `--spark-conf KEY=VALUE` settings, after Vigil's own (so they can override them).
    pub conf: &'a [String],
    /// Existing tables to read, after the inputs (`--spark-table`).
    pub tables: &'a [String],
}

/// What one job runs: the rules (their conditions for Spark), the events view they read, the correlations.
pub struct Job<'a> {
    pub prepared: &'a Prepared,
    pub events: &'a SparkEvents,
    pub correlations: &'a JobCorrelations,
}

/// The events view of a job over `prepared`, with the fields `correlations` read.
pub fn events_for(
    prepared: &Prepared,
    compilation: &vigil_compiler::compile::Compilation,
    sources: &LogSources,
    time_field: Option<&str>,
) -> SparkEvents {
    let irs: Vec<&vigil_compiler::ir::Rule> = prepared.irs.iter().collect();
    let lowered: Vec<vigil_compiler::ir::correlation::Correlation> =
        compilation.correlations.iter().map(|c| c.correlation.clone()).collect();
    let also_read = vigil_runtime::correlate::fields_read(&lowered);
    SparkEvents::new(&irs, &also_read, sources, time_field)
}

/// An error with its code, for the caller to report.
pub type Failure = (Code, String);

/// How to start the job: `spark-submit` of `$SPARK_HOME`, else Python with pyspark (which brings its own).
fn launcher() -> Result<Command, Failure> {
    if let Some(home) = std::env::var_os("SPARK_HOME") {
        let submit = Path::new(&home).join("bin").join("spark-submit");
        if !submit.is_file() {
            return Err((
                Code::SparkUnavailable,
                format!("SPARK_HOME is {}, which has no bin/spark-submit", Path::new(&home).display()),
            ));
        }
        return Ok(Command::new(submit));
    }
    let python = std::env::var_os("VIGIL_PYTHON").unwrap_or_else(|| "python3".into());
    let has_pyspark = Command::new(&python)
        .args(["-c", "import pyspark"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyspark {
        return Err((
            Code::SparkUnavailable,
            format!(
                "no Spark: set SPARK_HOME to a Spark installation, or install pyspark for {} (`python3 -m pip install pyspark`)",
                Path::new(&python).display()
            ),
        ));
    }
    let has_java = match std::env::var_os("JAVA_HOME") {
        Some(home) => Path::new(&home).join("bin").join("java").is_file(),
        None => Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success()),
    };
    if !has_java {
        return Err((
            Code::SparkUnavailable,
            "no Java: Spark needs Java 17 or later (`java` on PATH or JAVA_HOME)".into(),
        ));
    }
    Ok(Command::new(python))
}

/// Whether Spark can read `path` as JSON lines itself: plain text or gzip named `.gz`, whose first record is a
/// JSON object on a line of its own.
fn spark_reads(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut reader = BufReader::new(file);
    let Ok(head) = reader.fill_buf() else { return false };
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let named_gz = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("gz"));
    if gzip != named_gz || head.starts_with(b"ElfFile") {
        return false;
    }
    let text: Box<dyn Read> = if gzip { Box::new(flate2::read::MultiGzDecoder::new(reader)) } else { Box::new(reader) };
    let mut lines = BufReader::new(text.take(1 << 20)).lines();
    for line in lines.by_ref() {
        let Ok(line) = line else { return false };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        return line.starts_with('{') && serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object());
    }
    true
}

/// The records Vigil converts for Spark, from every input it converts, in one file (`{"i": input, "r": record,
/// "e": event, "f": fields}` per line): many small files would make as many partitions, and each query would
/// schedule a task for each.
struct Converted {
    path: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl Converted {
    fn writer(&mut self) -> std::io::Result<&mut std::io::BufWriter<std::fs::File>> {
        if self.out.is_none() {
            self.out = Some(std::io::BufWriter::new(std::fs::File::create(&self.path)?));
        }
        Ok(self.out.as_mut().expect("opened above"))
    }
}

/// One input: Spark reads it (its plan entry returned), or Vigil converts it into `converted`.
fn plan_input(
    path: &Path,
    index: usize,
    converted: &mut Converted,
    events: &SparkEvents,
    reading: &Reading<'_, '_>,
    totals: &mut Totals,
) -> Result<Option<serde_json::Value>, String> {
    let parquet = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("parquet"));
    if path.as_os_str() != "-" && (parquet || spark_reads(path)) {
        let absolute = std::path::absolute(path).map_err(|e| e.to_string())?;
        let kind = if parquet { "parquet" } else { "lines" };
        return Ok(Some(serde_json::json!({"kind": kind, "path": absolute, "file": index})));
    }
    let shown = converted.path.display().to_string();
    let out = converted.writer().map_err(|e| format!("{shown}: {e}"))?;
    let mut failure = None;
    let mut sink = |record: u64, raw: read::Raw| {
        let lost = raw.unreadable().max(1);
        match raw.parse(record) {
            Ok(event) => {
                let fields = events.flat_fields(&event).to_string();
                let line = serde_json::json!({"i": index, "r": record, "e": event.to_string(), "f": fields});
                if failure.is_none() {
                    failure = writeln!(out, "{line}").err();
                }
            }
            Err(_) => totals.unreadable += lost,
        }
    };
    let outcome = if path.as_os_str() == "-" {
        read::read_reader_watched(std::io::stdin().lock(), reading.watch, &mut sink)
    } else {
        read::read_path_watched(path, reading.watch, &mut sink)
    };
    if let Some(e) = failure {
        return Err(format!("{shown}: {e}"));
    }
    if let Err(e) = outcome {
        if !reading.watch.stopped() {
            let problem = Diagnostic::error(Code::InputUnreadable, None, e.to_string());
            crate::report::problem_in(&path.display().to_string(), "", &problem);
            totals.io_failed = true;
        }
    }
    Ok(None)
}

/// The part of a job's plan the rules make: each rule's number, the log sources it may run on and its condition;
/// each rule's id, title and level (`names`, for a job Vigil does not read the output of); each correlation's
/// query and what it is; the SQL of the views; the session settings (Vigil's, then `extra`: `KEY=VALUE`).
fn rules_plan(job: &Job<'_>, extra: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let Job { prepared, events, correlations } = job;
    let rules: Vec<serde_json::Value> = prepared
        .queries
        .iter()
        .enumerate()
        .map(|(number, condition)| {
            serde_json::json!([number, events.admitted(&prepared.logsources[number]), condition])
        })
        .collect();
    let names: Vec<serde_json::Value> = prepared
        .rules
        .iter()
        .map(|(meta, path)| serde_json::json!({"id": meta.id, "title": meta.title, "level": meta.level.map(|l| l.as_str()), "path": path}))
        .collect();
    let mut conf = serde_json::Map::new();
    for (key, value) in [
        ("spark.ui.enabled", "false"),
        ("spark.sql.ansi.enabled", "false"),
        ("spark.sql.caseSensitive", "true"),
        ("spark.sql.mapKeyDedupPolicy", "LAST_WIN"),
        ("spark.sql.session.timeZone", "UTC"),
        // Events kept in memory are stored in batches of this many: Windows events of several kilobytes (and
        // their parsed maps) in Spark's default batches of 10,000 exhaust a 1 GB driver in local mode.
        ("spark.sql.inMemoryColumnarStorage.batchSize", "1000"),
        // Whole-stage code generation compiles each group of rules into one Java method: over the SigmaHQ
        // corpus that costs more than it saves (compiler/DESIGN.md, "Spark").
        ("spark.sql.codegen.wholeStage", "false"),
    ] {
        conf.insert(key.into(), value.into());
    }
    for setting in extra {
        let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
        conf.insert(key.trim().into(), value.into());
    }
    let mut plan = serde_json::Map::new();
    plan.insert("conf".into(), conf.into());
    plan.insert("base_sql".into(), events.base_sql().into());
    plan.insert("events_sql".into(), events.events_sql().into());
    plan.insert("rules".into(), rules.into());
    plan.insert("names".into(), names.into());
    // Rules whose own detections are not reported (read only by correlations with `generate: false`).
    let quiet: Vec<usize> =
        (0..prepared.queries.len()).filter(|n| !correlations.reports.get(*n).unwrap_or(&true)).collect();
    plan.insert("quiet".into(), quiet.into());
    let (queries, names) = spark_correlate::plan_entries(correlations);
    plan.insert("correlations".into(), queries);
    plan.insert("correlation_names".into(), names);
    plan
}

/// `vigil convert -t spark -f job`: the job as one PySpark script with its plan inside, for users who run it
/// themselves (`spark-submit hunt.py INPUT... [--table NAME] [--output PATH]`, see spark_job.py).
pub fn job_script(job: &Job<'_>) -> String {
    let plan = serde_json::Value::Object(rules_plan(job, &[])).to_string();
    // A JSON string is a Python string literal too.
    let literal = serde_json::Value::String(plan).to_string();
    JOB.replacen("\nEMBEDDED_PLAN = None\n", &format!("\nEMBEDDED_PLAN = {literal}\n"), 1)
}

/// How a hunt's detections are written: rules' and correlations'.
pub struct Formats<'a> {
    pub rule: &'a Format<'a>,
    pub correlation: &'a CorrelationFormat<'a>,
}

/// Runs a job over `files` in one Spark job; detections go to the emitter in the matcher's order (input order,
/// then rule order), then the correlations' (in time order).
pub fn hunt(
    job: &Job<'_>,
    files: &[PathBuf],
    settings: &SparkSettings<'_>,
    formats: &Formats<'_>,
    range: Option<super::narrow::TimeRange>,
    reading: Reading<'_, '_>,
) -> Result<Totals, Failure> {
    let mut command = launcher()?;
    let engine = |e: String| (Code::EngineError, e);
    let work = tempfile::Builder::new().prefix("vigil-spark-").tempdir().map_err(|e| engine(e.to_string()))?;
    let (prepared, events) = (job.prepared, job.events);
    let mut totals = Totals::default();
    let mut inputs = Vec::new();
    let mut converted = Converted { path: work.path().join("converted.jsonl"), out: None };
    for (index, path) in files.iter().enumerate() {
        inputs.extend(plan_input(path, index, &mut converted, events, &reading, &mut totals).map_err(engine)?);
        reading.progress.update(index + 1, 0);
    }
    if let Some(mut out) = converted.out.take() {
        out.flush().map_err(|e| engine(format!("{}: {e}", converted.path.display())))?;
        inputs.push(serde_json::json!({"kind": "records", "path": converted.path}));
    }
    for (index, name) in settings.tables.iter().enumerate() {
        inputs.push(serde_json::json!({"kind": "table", "name": name, "file": files.len() + index}));
    }
    let output = work.path().join("detections.jsonl");
    let mut plan = rules_plan(job, settings.conf);
    plan.extend([
        ("master".to_string(), settings.master.into()),
        ("inputs".to_string(), inputs.into()),
        ("output".to_string(), serde_json::json!(output)),
    ]);
    let plan = serde_json::Value::Object(plan);
    let (script, plan_path) = (work.path().join("vigil_spark_job.py"), work.path().join("plan.json"));
    std::fs::write(&script, JOB).map_err(|e| engine(e.to_string()))?;
    std::fs::write(&plan_path, plan.to_string()).map_err(|e| engine(e.to_string()))?;
    // For benchmarks and debugging (bench/spark.sh): a copy of the job and its plan, which the work folder loses.
    if let Some(keep) = std::env::var_os("VIGIL_SPARK_KEEP") {
        let keep = Path::new(&keep);
        let copied = std::fs::create_dir_all(keep)
            .and_then(|()| std::fs::copy(&script, keep.join("vigil_spark_job.py")))
            .and_then(|_| std::fs::copy(&plan_path, keep.join("plan.json")));
        copied.map_err(|e| engine(format!("VIGIL_SPARK_KEEP {}: {e}", keep.display())))?;
    }

    let ran = command.arg(&script).arg(&plan_path).stdout(Stdio::null()).stderr(Stdio::piped()).output();
    let ran = ran.map_err(|e| (Code::SparkUnavailable, format!("cannot start Spark: {e}")))?;
    if !ran.status.success() {
        return Err((Code::SparkJobFailed, format!("the Spark job failed ({}):\n{}", ran.status, tail(&ran.stderr))));
    }
    let shown: Vec<String> =
        files.iter().map(|f| f.display().to_string()).chain(settings.tables.iter().cloned()).collect();
    let text =
        std::fs::read_to_string(&output).map_err(|e| engine(format!("the Spark job wrote no detections: {e}")))?;
    let mut found = Vec::new();
    let mut correlated = Vec::new();
    for line in text.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| engine(format!("the Spark job's output: {e}")))?;
        if value.get("correlation").is_some() {
            correlated.extend(spark_correlate::detection(&value, job.correlations));
            continue;
        }
        if let Some(count) = value.get("events").and_then(|v| v.as_u64()) {
            let unreadable = value.get("unreadable").and_then(|v| v.as_u64()).unwrap_or(0);
            totals.events += count.saturating_sub(unreadable);
            totals.unreadable += unreadable;
            continue;
        }
        let number = |key: &str| value.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let event_text = value.get("event").and_then(|v| v.as_str()).unwrap_or("null").to_string();
        let time = serde_json::from_str(&event_text).ok().and_then(|event| events.time_of(&event));
        let row = Row { file: number("file") as u32, record: number("record"), event: event_text, time };
        found.push((number("rule") as u32, row));
    }
    reading.progress.update(files.len(), totals.events);
    let found = reported_only(found, job.correlations, range, &mut totals);
    let Reading { emitter, .. } = reading;
    super::sql_engine::emit(&prepared.irs, &prepared.rules, found, &shown, formats.rule, range, emitter, &mut totals)
        .map_err(engine)?;
    correlated.sort_by(|a, b| (a.window_end, a.correlation, &a.group).cmp(&(b.window_end, b.correlation, &b.group)));
    for detection in &correlated {
        if totals.output_error.is_some() {
            break;
        }
        if let Err(e) = super::scan::write_correlation(emitter, &mut totals, formats.correlation, detection) {
            totals.output_error = Some(e);
        }
    }
    Ok(totals)
}

/// The detections whose rules report them: not those of rules that run only because a correlation reads them, or
/// whose correlations say `generate: false`. Detections of rules correlations read whose event has no time are
/// counted, as the matcher counts them (outside `range`, they are counted as such).
fn reported_only(
    found: Vec<(u32, Row)>,
    correlations: &JobCorrelations,
    range: Option<super::narrow::TimeRange>,
    totals: &mut Totals,
) -> Vec<(u32, Row)> {
    let mut kept = Vec::with_capacity(found.len());
    for (rule, row) in found {
        let millis = row.time.as_deref().and_then(vigil_runtime::time::millis);
        let outside = range.is_some_and(|r| !r.contains(millis));
        let reports = correlations.reports.get(rule as usize).copied().unwrap_or(true);
        if correlations.reads.get(rule as usize).copied().unwrap_or(false) && !outside && millis.is_none() {
            totals.no_time += 1;
        }
        if reports {
            kept.push((rule, row));
        } else if outside {
            totals.outside_range += 1;
        }
    }
    kept
}

/// The end of Spark's report, its causes only: the lines that start at the margin (Java's `Caused by:`, Python's
/// exception), without the indented stack frames, tracebacks and progress bars around them.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .filter(|l| !l.trim().is_empty() && !l.starts_with(char::is_whitespace) && !l.contains("[Stage "))
        .filter(|l| !matches!(*l, "Traceback (most recent call last):" | "JVM stacktrace:"))
        .filter(|l| !is_log_line(l))
        .collect();
    lines[lines.len().saturating_sub(6)..].join("\n")
}

/// Spark's own start-up messages (`26/12/04 14:57:10 WARN ...`, log4j's notices): no cause.
fn is_log_line(line: &str) -> bool {
    let dated = line.len() > 18 && line.as_bytes()[2] == b'/' && line.as_bytes()[8] == b' ';
    dated
        || ["Using Spark's", "Setting default log level", "To adjust logging level", "WARNING: Using incubator"]
            .iter()
            .any(|p| line.starts_with(p))
}
