//! Command-line definitions. Each command validates its own arguments before doing any work.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Vigil compiles Sigma detection rules and checks them.
#[derive(Parser, Debug)]
#[command(name = "vigil", version, about, propagate_version = true, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check Sigma files: report every problem in every document, with its code and location.
    ///
    /// Directories are searched recursively for .yml and .yaml files. Diagnostics go to stdout, the summary
    /// line to stderr, so `--format json` output pipes straight into jq.
    ///
    /// With `--validators sigmahq` (or `pysigma`, `all`) it also reports what breaks SigmaHQ's or pySigma's
    /// conventions (title ending in a dot, field name with a space, missing author, ...) as coded warnings.
    ///
    /// Exit status: 0 no errors (warnings allowed), 1 some document has an error (a file that cannot be read is
    /// a document with an error; with --strict, a warning too), 2 usage error or the output could not be written,
    /// 141 the output was closed.
    Check(CheckArgs),
    /// Format Sigma files in SigmaHQ's layout, keeping every comment.
    ///
    /// The layout: keys in SigmaHQ's order (title, id, related, status, description, references, author, date,
    /// modified, tags, logsource, detection, fields, falsepositives, level, then the others), 4 spaces per level,
    /// no blank lines between top-level keys.
    ///
    /// Every comment, every blank line inside a key, and every value as written (quoting, block scalars) is kept:
    /// lines are moved and re-indented, never rewritten, and the result must parse to the same YAML, so no rule
    /// changes meaning; a document that cannot be laid out so is left as written, with a `format-skipped` warning.
    ///
    /// Exit status: 0 done (or, with --check/--diff, nothing to change), 1 with --check/--diff when a file would
    /// change, or when a file cannot be read or written, 2 usage error.
    Fmt(FmtArgs),
    /// Run a Language Server (LSP 3.17) over stdin and stdout, for editors.
    ///
    /// Diagnostics are `vigil check`'s (with the conventions `check.validators` of the nearest vigil.yml names),
    /// on open and on every change; completion offers the modifiers valid after the chain so far, log-source
    /// values, the fields of the rule's category and the detections in a condition; hover explains modifiers,
    /// fields and detections; go to definition jumps from a condition to the detection; formatting is `vigil fmt`;
    /// quick fixes mend what is safe to mend. README.md shows the settings for VS Code, Neovim and Helix.
    Lsp(LspArgs),
    /// Print the normalised IR of each rule (identifiers resolved, modifiers as operators).
    Ir(IrArgs),
    /// List what Vigil has built in.
    List(ListArgs),
    /// Run Sigma rules over logs: JSON lines, JSON arrays, concatenated JSON, gzip of these, and EVTX.
    ///
    /// Rules are routed to their log source by default (the `sysmon` and `windows` pipelines add the Channel
    /// and EventID a rule needs), so SigmaHQ rules run on Sysmon/Windows logs as they are; `--no-routing` turns
    /// that off. Correlation rules among the rules (Sigma v2) run over their rules' detections with sliding windows
    /// over event time; their detections show the group, the window and the events. Detections go to stdout (or
    /// -o) as they are found (`-` reads standard input live: `tail -f log | vigil hunt -r rules -`), a summary to
    /// stderr, and a progress bar when stderr is a terminal. Ctrl-C stops reading, writes what was found and the
    /// summary.
    ///
    /// Exit status: 0 success (with or without detections), 1 nothing could be evaluated (no rule loaded or no
    /// event read), 2 usage error or the output could not be written, 3 it ran but something was skipped (a rule
    /// file or an input that could not be read, an input that could not be read to its end: each reported), 130
    /// interrupted (Ctrl-C), 141 the output was closed (`| head`).
    Hunt(Box<HuntArgs>),
    /// The ATT&CK techniques rules cover: a count per technique, and with --navigator a Navigator layer.
    ///
    /// Techniques are read from the rules' tags (`attack.t1047`, `attack.t1059.001`); each is scored by the number
    /// of rules naming it. Exit status: 0 success, 1 no rule loaded, 2 usage or output error.
    Coverage(CoverageArgs),
    /// Explain why each rule did or did not match one event.
    ///
    /// EVENT is a file holding one event, `FILE:RECORD` exactly as a detection's source prints it (`file:record`),
    /// or `-` (standard input, one event). For each rule: whether it matched; whether it runs on the event's log
    /// source and whether the index and literal prefilter let it through (a rule they rule out cannot match);
    /// each detection identifier true or false; each detection item with its tests, the event's value and the
    /// result. Every test is decided by the matcher's own code. Text lists the rules that were evaluated (all of
    /// them with --all); `--format json` writes one object per rule.
    ///
    /// Exit status: 0 the event was explained, 1 no rule loaded, 2 usage error or the event could not be read.
    Explain(ExplainArgs),
    /// Convert Sigma rules into queries: SQL (sqlite, postgres, duckdb, spark), kusto, splunk, lucene, esql, eql.
    ///
    /// Plain output prints one query per rule, as sigma-cli does; `--jsonl` prints one JSON object per rule
    /// document with its queries or its error. A rule that cannot be converted never stops the others: it is
    /// reported with a stable code (`unsupported-regex`, `pipeline-error`, ...). A summary goes to stderr.
    ///
    /// Exit status: 0 every rule converted, 1 some rule failed, 2 usage or I/O error, 141 the output was closed.
    Convert(ConvertArgs),
    /// Test rules: conversion snapshots, event fixtures, and SigmaHQ's regression data.
    ///
    /// Snapshots: a `vigil.yml` beside the rules (or above them) names the targets; each rule file's queries are
    /// compared with `__snapshots__/<rule>__<target>.snap` (insta's format). A changed or missing snapshot fails with
    /// a unified diff; `--update` writes them, `--review` asks for each (accept, reject, skip); snapshots no rule
    /// makes fail until `--prune` removes them. Fixtures: `<rule>.tests.yml` beside a rule lists true positives and
    /// true negatives (inline events or files) and an optional `match_count`. SigmaHQ rules with a
    /// `regression_tests_path` run on their `.evtx` and `.json` files; absent files are listed as missing.
    ///
    /// Exit status: 0 when every check passed (missing regression files do not fail), 1 otherwise, 2 for usage or
    /// I/O errors.
    Test(TestArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A line per rule, failures with their diffs, and a summary.
    Text,
    /// JUnit XML, for CI test reports.
    Junit,
    /// One JSON document: a summary and every check.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Write every new or changed snapshot.
    #[arg(long)]
    pub update: bool,
    /// Show each new or changed snapshot and ask: accept (a), reject (r) or skip (s).
    #[arg(long)]
    pub review: bool,
    /// Remove snapshots that no rule or target makes any more.
    #[arg(long)]
    pub prune: bool,
    /// Fail regression cases whose number of matching events differs from `match_count` (by default the
    /// difference is reported and the case passes when the rule fires).
    #[arg(long)]
    pub strict_counts: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List every check, passed ones too.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// A Sigma filter file (or directory of them) to apply to the rules before their snapshots and fixtures;
    /// repeatable. Filter documents among the rules apply too.
    #[arg(long = "filter", value_name = "PATH")]
    pub filters: Vec<PathBuf>,
    /// Rule files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// Target query language (see `vigil list targets`).
    #[arg(short = 't', long = "target", value_name = "TARGET")]
    pub target: String,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Output format (see `vigil list formats -t TARGET`): `default` (the queries), or a file a SIEM imports:
    /// Kibana saved searches and Elastic Security rules (`kibana_ndjson`, `siem_rule`, `siem_rule_ndjson`), query
    /// bodies (`dsl_lucene`, `eqlapi`), Splunk `savedsearches` and `data_model` (with `-p splunk_cim`), Sentinel
    /// analytics rules (`sentinel_rule`) and Defender XDR custom detections (`defender_detection`, both with `-p
    /// microsoft_xdr` or `-p sentinel_asim`). JSON formats write one object per rule and line.
    #[arg(short = 'f', long = "format", value_name = "FORMAT", default_value = "default")]
    pub format: String,
    /// One JSON object per rule document: {"path", "id", "title", "target", "queries", "error"}.
    #[arg(long)]
    pub jsonl: bool,
    /// Write the output to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// Write one file per rule into this folder (created if needed), named by --output-filename-template.
    #[arg(long, value_name = "DIR", conflicts_with = "jsonl")]
    pub output_dir: Option<PathBuf>,
    /// File names under --output-dir. Placeholders: {stem} (the rule file's name without extension), {path} (its
    /// folder relative to the folder given), {index} (the query's number when a rule has several; without it they
    /// share one file), {id}, {title}, {target}, {format}, {ext} (sql, kql, spl, lucene, esql, eql, conf, ndjson, json, yaml).
    #[arg(long, value_name = "TEMPLATE", default_value = "{stem}.{ext}", requires = "output_dir")]
    pub output_filename_template: String,
    /// Replace files that exist under --output-dir (otherwise they are an error and left as they are).
    #[arg(long, requires = "output_dir")]
    pub force: bool,
    /// Table (SQL, Kusto) or index pattern (ES|QL) to query; overrides the pipelines' `table` state. SQL
    /// defaults to `logs`.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Field searched for keywords where the language has no search over every field (SQL: `_raw`, EQL:
    /// `message`).
    #[arg(long, value_name = "FIELD")]
    pub keyword_field: Option<String>,
    /// Column holding event times, for correlation windows (default: `_time` in SQL, `TimeGenerated` in KQL;
    /// Splunk always uses `_time`, which `streamstats time_window` reads).
    #[arg(long, value_name = "FIELD")]
    pub time_field: Option<String>,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum HuntEngine {
    /// The compiled multi-rule matcher.
    Matcher,
    /// An embedded SQLite database and each rule's SQL (`vigil convert -t sqlite`).
    Sqlite,
    /// One Spark job testing every rule's Spark SQL (`vigil convert -t spark`), the events read and parsed once
    /// and each tested only by the rules of its log source, locally or on a cluster (`--spark-master`); then the
    /// correlation rules in the same job (window functions over their rules' events, without `--lateness` or
    /// `--max-groups` limits: Spark sorts all of them).
    Spark,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// Aligned columns for people.
    Table,
    /// One JSON object per detection: rule, source (file, record), timestamp, event.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
    /// Timesketch's JSON lines (`message`, `datetime`, `timestamp`, `timestamp_desc`, then the rule, the computer,
    /// the event id, the channel, the details and the source); detections without a readable event time are left
    /// out (Timesketch needs one) and counted in a warning.
    Timesketch,
    /// Timesketch's CSV, with the columns of `timesketch`.
    TimesketchCsv,
}

/// The order detections are written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum HuntSort {
    /// Input order (files as given, records in order), each batch written as soon as it is matched: live.
    Input,
    /// Event time across all inputs (detections without a readable time last), written at the end; memory stays
    /// bounded (runs of detections are sorted and spilled to temporary files).
    Time,
}

#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    #[command(flatten)]
    pub source: RuleSourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
    /// Write detections to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The order of the detections: `input` (live: written as found) or `time` (a timeline of all inputs).
    #[arg(long, value_enum, default_value_t = HuntSort::Input)]
    pub sort: HuntSort,
    /// Also write a self-contained HTML report to this file (no network needed to view it): the summary, the
    /// detections per hour and level as a chart, the top rules and computers, and the detections with search and
    /// level filters.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Also write the summary as JSON to this file: detections per level, per rule, per computer and per ATT&CK
    /// tactic, the detections' time span, events, events/s, rules loaded, not loaded and left out.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Also write an ATT&CK Navigator layer (format 4.5, enterprise-attack) of the detections' techniques, each
    /// scored by its number of detections.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Event fields to add to each detection: to the table's details and as CSV columns (comma-separated or
    /// repeated; nested fields as dotted paths).
    #[arg(long, value_name = "FIELD", value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Evaluation engine: the compiled matcher; SQLite running each rule's generated SQL (the same detections, as
    /// a cross-check of the SQL; slower); or Spark, every rule's Spark SQL in one job over the events (for data
    /// that outgrows one machine; see `--spark-master`).
    #[arg(long, value_enum, default_value_t = HuntEngine::Matcher)]
    pub engine: HuntEngine,
    /// With `--engine sqlite`: keep the events in this SQLite database file (table `logs`) for further SQL. A
    /// database an earlier hunt wrote is replaced; any other existing file is refused.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// With `--db`: replace the file even if it is not a database a Vigil hunt wrote.
    #[arg(long, requires = "db")]
    pub db_overwrite: bool,
    /// With `--engine spark`: the Spark master to run on (`local[*]`, `local[2]`, `spark://host:7077`, `yarn`, ...).
    /// Spark is `$SPARK_HOME/bin/spark-submit` when SPARK_HOME is set, else Python's pyspark (Java 17+ needed).
    /// JSON lines (plain or `.gz`) and Parquet files are read by Spark itself, by path (on a cluster, give paths
    /// every worker can read); other inputs (EVTX, JSON arrays, standard input) are converted to JSON lines by
    /// Vigil on the way and sent to the cluster by the job.
    #[arg(long, value_name = "URL", default_value = "local[*]")]
    pub spark_master: String,
    /// With `--engine spark`: a Spark setting, `KEY=VALUE` (repeated), after Vigil's own (which it may override),
    /// e.g. `spark.driver.memory=4g`.
    #[arg(long, value_name = "KEY=VALUE", value_parser = spark_setting)]
    pub spark_conf: Vec<String>,
    /// With `--engine spark`: also hunt an existing table of the Spark session (a row per event, its columns the
    /// event's fields; repeated). With a table, INPUT may be left out.
    #[arg(long, value_name = "NAME")]
    pub spark_table: Vec<String>,
    /// The field holding each event's time, for correlation windows and output, named as rules name fields
    /// (`UtcTime` reads an EVTX record's EventData too). Default: the EVTX `TimeCreated` SystemTime, `@timestamp`,
    /// `UtcTime`, `TimeCreated`, `EventTime`, `timestamp` or `time`, the first present.
    #[arg(long, value_name = "FIELD")]
    pub time_field: Option<String>,
    /// How far out of time order (seconds) detections may arrive and still be correlated in order.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub lateness: f64,
    /// The most groups each correlation keeps at once; beyond it new groups are dropped and reported.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_groups: usize,
    /// Worker threads (default: one per core). Output order does not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Log files or directories (searched recursively); `-` reads standard input.
    #[arg(required_unless_present = "spark_table", value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub narrow: NarrowArgs,
}

/// Which rules a hunt runs and which detections it reports. The summary says what was left out.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Narrowing the report")]
pub struct NarrowArgs {
    /// Run only rules of this level or above: informational, low, medium, high, critical (a rule without a
    /// level is left out).
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<String>,
    /// Report only detections whose event time is at or after TIME: RFC 3339 (`2020-09-04T07:30:16Z`) or a date
    /// (its first moment, UTC). Events without a readable time are left out.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Report only detections whose event time is at or before TIME: RFC 3339 or a date (its last moment, UTC).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Run only rules with one of these tags (globs, any case: `attack.execution`, `attack.t1047*`);
    /// comma-separated or repeated.
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Leave out rules with one of these tags (globs, any case); comma-separated or repeated.
    #[arg(long = "exclude-tags", value_name = "TAG", value_delimiter = ',')]
    pub exclude_tags: Vec<String>,
    /// The rule statuses that run: stable, test, experimental, deprecated, unsupported; comma-separated or
    /// repeated. Default: all but deprecated and unsupported. A rule without a status always runs.
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Run only this rule: its id or name, or a title glob (any case: `*mimikatz*`); repeatable.
    #[arg(long = "rule", value_name = "ID|TITLE-GLOB")]
    pub rule: Vec<String>,
    /// Leave out this rule: its id or name, or a title glob (any case); repeatable.
    #[arg(long = "exclude-rule", value_name = "ID|TITLE-GLOB")]
    pub exclude_rule: Vec<String>,
}

/// The rules a command runs and how events' log sources are told: shared by `hunt` and `explain`.
#[derive(clap::Args, Debug)]
pub struct RuleSourceArgs {
    /// Sigma rule files or directories; repeatable.
    #[arg(short = 'r', long = "rules", value_name = "RULES", required = true)]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Do not add the log-source routing pipelines (`sysmon`, `windows-audit` and `windows`).
    #[arg(long)]
    pub no_routing: bool,
    /// The log source of every event, whatever the events hold: `product=...,service=...,category=...` (any of
    /// the three). By default each event's log source is told from its fields (`rules/logsources.yml`), and a rule
    /// runs only on events of a log source it can be about.
    #[arg(long, value_name = "LOGSOURCE")]
    pub logsource: Option<String>,
    /// A log-source table (the format of `rules/logsources.yml`) whose entries are tried before the built-in ones;
    /// repeatable.
    #[arg(long = "logsource-table", value_name = "FILE")]
    pub logsource_tables: Vec<PathBuf>,
    /// Compile the rules afresh and leave the compiled rule-set cache alone. By default the rules compiled with
    /// their pipelines and filters are kept (in $VIGIL_CACHE_DIR, else $XDG_CACHE_HOME/vigil/rules, else
    /// ~/.cache/vigil/rules; the 8 most recently used sets) under a digest of this program, the settings and every
    /// rule and filter file's path and text, so a later run over the same rules skips compiling them: a changed
    /// file, pipeline, option or program is another entry, never a stale one.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(clap::Args, Debug)]
pub struct CoverageArgs {
    /// Write an ATT&CK Navigator layer (format 4.5, enterprise-attack) to this file.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Sigma rule files or directories.
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub source: RuleSourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// In text, also list the rules that were not evaluated (another log source, ruled out by the prefilter).
    #[arg(long)]
    pub all: bool,
    /// The event: a file with one event, FILE:RECORD (a detection's `source`), or `-`.
    #[arg(value_name = "EVENT")]
    pub event: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// For people: each evaluated rule, its identifiers and items.
    Text,
    /// One JSON object per rule.
    Json,
}

/// Processing pipelines to apply to every rule, in priority order (pySigma's pipeline YAML).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PipelineArgs {
    /// A built-in pipeline (see `vigil list pipelines`) or a pipeline YAML file; repeatable. Pipelines run by
    /// priority, and in the order given when priorities are equal.
    #[arg(short = 'p', long = "pipeline", value_name = "NAME|FILE")]
    pub pipelines: Vec<String>,
    /// Let pipelines read placeholder values from files they name (`file_placeholders`).
    #[arg(long)]
    pub allow_external_sources: bool,
    /// A Sigma filter file (or a directory of them), applied to the rules it names (sigma-cli's `--filter`);
    /// repeatable. Filter documents among the rules apply too. A filter's condition is AND-ed with the rule's:
    /// write exclusions as `condition: not selection`.
    #[arg(long = "filter", value_name = "PATH")]
    pub filters: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(value_enum)]
    pub what: ListWhat,
    /// The target whose formats to list (`vigil list formats -t splunk`).
    #[arg(short = 't', long = "target", value_name = "TARGET")]
    pub target: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// The built-in processing pipelines.
    Pipelines,
    /// The query languages `vigil convert` renders.
    Targets,
    /// The output formats of a target (`-t TARGET`).
    Formats,
    /// The convention checks of `vigil check --validators`, with their set and pySigma's name.
    Validators,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Diagnostics for people: file:line:column, the source line and a caret.
    Text,
    /// One JSON object per document per line, for jq and CI.
    Json,
    /// JUnit XML (a test case per document), for CI test reporters, as `sigma check --junitxml`.
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Convention checks to run besides the language's own: `sigmahq` (SigmaHQ's conventions, as
    /// pySigma-validators-sigmahq), `pysigma` (pySigma's core validators), `all`, `none`; comma-separated.
    /// Default: the `check.validators` of the nearest vigil.yml, else none. `vigil list validators` lists them.
    #[arg(long, value_name = "SETS")]
    pub validators: Option<String>,
    /// A convention code (or pySigma validator name) not to report; repeatable. vigil.yml's `check.exclude` adds
    /// to it, and its `check.exclusions` maps rule ids or file names to codes they are excused from.
    #[arg(long, value_name = "CODE")]
    pub exclude: Vec<String>,
    /// Warnings fail too: exit status 1 and JUnit failures when any document has a warning.
    #[arg(long)]
    pub strict: bool,
    /// Mend, in the files, the conventions that have a safe fix (a title's final dot, a false positive's first
    /// letter, an uppercase tag, `*x` written for `|endswith`), then report what is left. A fix never changes what
    /// a rule matches: each fixed rule is compiled again and compared.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Show the fixes `--fix` would make as a unified diff, change nothing, and exit 1 if there are any.
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Write nothing; list the files that would change and exit 1 if any would.
    #[arg(long, conflicts_with = "diff")]
    pub check: bool,
    /// Write nothing; print a unified diff of each change and exit 1 if any.
    #[arg(long)]
    pub diff: bool,
    /// Sigma files or directories (searched recursively for .yml and .yaml files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct LspArgs {
    /// Accepted for editors that pass it (VS Code's language clients do); stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

#[derive(clap::Args, Debug)]
pub struct IrArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// A `--spark-conf` setting: `KEY=VALUE` with a key.
fn spark_setting(text: &str) -> Result<String, String> {
    match text.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() => Ok(text.to_string()),
        _ => Err("expected KEY=VALUE, such as spark.driver.memory=4g".to_string()),
    }
}
