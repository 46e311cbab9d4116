//! Backends: the IR rendered as query text for SIEMs and SQL engines.
//!
//! One tree walk (`walk.rs`) serves every target; a target supplies its spelling and its single tests through
//! the [`walk::Language`] trait. Behaviour that differs between engines (case folding, regex dialect, CIDR,
//! null handling) is a capability of the target's module, never an `if target == X` in shared code. A construct a
//! target cannot express is an [`Diagnostic`] result with a stable code; a rule is never rendered as a query
//! that means something else. Semantics and each target's choices: compiler/DESIGN.md, "Backends".

pub mod correlation;
pub mod deploy;
mod elastic;
mod kusto;
mod kusto_correlation;
mod regex_print;
mod splunk;
mod sql;
mod sql_correlation;
pub mod text;

mod walk;

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir;
use crate::pipeline::State;

/// A query language Vigil renders, named as sigma-cli names its backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Sqlite,
    Postgres,
    Duckdb,
    Spark,
    Kusto,
    Splunk,
    Lucene,
    Esql,
    Eql,
}

impl Target {
    pub const ALL: [Target; 9] = [
        Target::Sqlite,
        Target::Postgres,
        Target::Duckdb,
        Target::Spark,
        Target::Kusto,
        Target::Splunk,
        Target::Lucene,
        Target::Esql,
        Target::Eql,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Sqlite => "sqlite",
            Target::Postgres => "postgres",
            Target::Duckdb => "duckdb",
            Target::Spark => "spark",
            Target::Kusto => "kusto",
            Target::Splunk => "splunk",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Eql => "eql",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Target::Sqlite => "SQLite SQL (LIKE, REGEXP needs the regexp extension)",
            Target::Postgres => "PostgreSQL SQL (lower() and LIKE, POSIX regex ~)",
            Target::Duckdb => "DuckDB SQL (regexp_matches, RE2)",
            Target::Spark => "Spark SQL / Databricks (lower() and LIKE, RLIKE)",
            Target::Kusto => "Kusto Query Language: Microsoft Sentinel, Defender XDR, Azure Data Explorer",
            Target::Splunk => "Splunk SPL search",
            Target::Lucene => "Elasticsearch / OpenSearch Lucene query string",
            Target::Esql => "Elasticsearch ES|QL",
            Target::Eql => "Elasticsearch Event Query Language",
        }
    }

    /// A target by its name (and the other names users know it by).
    pub fn parse(name: &str) -> Option<Target> {
        let name = name.to_ascii_lowercase();
        Some(match name.as_str() {
            "sqlite" => Target::Sqlite,
            "postgres" | "postgresql" => Target::Postgres,
            "duckdb" => Target::Duckdb,
            "spark" | "sparksql" | "databricks" => Target::Spark,
            "kusto" | "kql" | "sentinel" | "microsoft365defender" => Target::Kusto,
            "splunk" | "spl" => Target::Splunk,
            "lucene" | "elasticsearch" | "opensearch" => Target::Lucene,
            "esql" | "es-ql" => Target::Esql,
            "eql" => Target::Eql,
            _ => return None,
        })
    }

    /// Output formats: (name, description). The first is the default.
    pub fn formats(self) -> Vec<(&'static str, &'static str)> {
        let mut formats = vec![("default", "plain queries, one per rule")];
        match self {
            Target::Splunk => formats.push(("savedsearches", "a savedsearches.conf stanza per rule")),
            Target::Spark => formats.push((
                "job",
                "one PySpark script testing every rule in a single Spark job, the inputs as its arguments",
            )),
            _ => {}
        }
        formats.extend(deploy::FORMATS.iter().filter(|(t, _, _)| *t == self).map(|(_, name, about)| (*name, *about)));
        formats
    }

    pub fn is_sql(self) -> bool {
        matches!(self, Target::Sqlite | Target::Postgres | Target::Duckdb | Target::Spark)
    }
}

/// Settings a user gives on the command line; pipeline state (`table`, `query_table`, `index`) fills the rest.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// The table (SQL, Kusto) or index pattern (ES|QL) to query.
    pub table: Option<String>,
    /// The field keywords are searched in, on targets without a search over every field (SQL, EQL).
    pub keyword_field: Option<String>,
    /// The field holding event times, for correlations (SQL: `_time`).
    pub time_field: Option<String>,
}

/// What rendering needs besides the expression.
pub struct Context<'a> {
    pub rule: &'a ir::Rule,
    pub state: &'a State,
    pub options: &'a ConvertOptions,
}

impl Context<'_> {
    /// The user's table, else the pipelines' (`table` or `query_table` state).
    pub fn table(&self) -> Option<String> {
        self.options.table.clone().or_else(|| {
            ["table", "query_table", "index"]
                .iter()
                .find_map(|k| self.state.get(*k).and_then(|v| v.as_str()).map(str::to_string))
        })
    }
}

/// Renders one rule as the target's queries (one per rule today: the IR joins a rule's conditions).
pub fn convert(
    rule: &ir::Rule,
    target: Target,
    format: &str,
    state: &State,
    options: &ConvertOptions,
) -> Result<Vec<String>, Diagnostic> {
    if !target.formats().iter().any(|(name, _)| *name == format) {
        return Err(Diagnostic::unlocated(
            Code::UnsupportedFormat,
            format!(
                "{} has no output format `{format}` (see `vigil list formats -t {}`)",
                target.name(),
                target.name()
            ),
        ));
    }
    if (target, format) == (Target::Spark, "job") {
        return Err(Diagnostic::unlocated(
            Code::UnsupportedFormat,
            "the Spark `job` format is one job for a whole rule set, written by `vigil convert -t spark -f job`",
        ));
    }
    let cx = Context { rule, state, options };
    let formatted = match (target, format) {
        (Target::Splunk, "data_model") => splunk::data_model(&cx),
        _ => render_query(target, &cx).and_then(|query| match (target, format) {
            (_, "default") => Ok(query),
            (Target::Splunk, "savedsearches") => Ok(splunk::saved_search(&rule.meta, &query)),
            _ => {
                let mut fields: Vec<String> = Vec::new();
                rule.expr.visit_predicates(&mut |p| {
                    if let Some(f) = &p.field {
                        if !fields.contains(f) {
                            fields.push(f.clone());
                        }
                    }
                });
                let subject = deploy::Subject { meta: &rule.meta, table: cx.table(), fields, window: None };
                deploy::render(target, format, &subject, &query)
            }
        }),
    };
    Ok(vec![formatted.map_err(|d| d.for_target(target.name()))?])
}

/// A correlation's query (from [`convert_correlation`]) in `format`: `table` is the table its rules read, for
/// formats that name it. The data-model format cannot hold a correlation.
pub fn format_correlation(
    correlation: &ir::correlation::Correlation,
    query: String,
    target: Target,
    format: &str,
    table: Option<String>,
) -> Result<String, Diagnostic> {
    let formatted = match (target, format) {
        (_, "default") => Ok(query),
        (Target::Splunk, "savedsearches") => Ok(splunk::saved_search(&correlation.meta, &query)),
        (Target::Splunk, "data_model") => Err(Diagnostic::unlocated(
            Code::UnsupportedFormat,
            "a correlation cannot be a tstats search over one data model",
        )),
        _ => {
            let subject =
                deploy::Subject { meta: &correlation.meta, table, fields: Vec::new(), window: correlation.timespan };
            deploy::render(target, format, &subject, &query)
        }
    };
    formatted.map_err(|d| d.for_target(target.name()))
}

/// A SQL target's condition for one rule (what its query's `WHERE` holds), for a query that tests every rule of a
/// set in one pass over the events (`vigil hunt --engine spark`).
pub fn sql_condition(
    rule: &ir::Rule,
    target: Target,
    state: &State,
    options: &ConvertOptions,
) -> Result<String, Diagnostic> {
    if !target.is_sql() {
        return Err(Diagnostic::unlocated(Code::UnsupportedFormat, format!("{} is not a SQL target", target.name())));
    }
    let cx = Context { rule, state, options };
    sql::condition(target, &cx).map_err(|d| d.for_target(target.name()))
}

fn render_query(target: Target, cx: &Context<'_>) -> Result<String, Diagnostic> {
    Ok(match target {
        Target::Sqlite | Target::Postgres | Target::Duckdb | Target::Spark => sql::query(target, cx)?,
        Target::Kusto => kusto::query(cx)?,
        Target::Splunk => splunk::query(cx)?,
        Target::Lucene => elastic::lucene_query(cx)?,
        Target::Esql => elastic::esql_query(cx)?,
        Target::Eql => elastic::eql_query(cx)?,
    })
}

/// Renders a correlation from the queries of what it reads (already converted for `target`, in `inputs` order):
/// SQL targets get window functions and correlated subqueries over the inputs' rows, Splunk `streamstats` with a
/// sliding `time_window`, KQL a self-join of the inputs on the group; Lucene, ES|QL and EQL have no sliding window
/// and are `unsupported-correlation`.
pub fn convert_correlation(
    correlation: &ir::correlation::Correlation,
    queries: &[String],
    target: Target,
    options: &ConvertOptions,
) -> Result<String, Diagnostic> {
    if queries.len() != correlation.inputs.len() {
        return Err(Diagnostic::unlocated(
            Code::UnsupportedCorrelation,
            format!(
                "the correlation reads {} rules but {} queries were given",
                correlation.inputs.len(),
                queries.len()
            ),
        )
        .for_target(target.name()));
    }
    let inputs = correlation::rendered(correlation, queries);
    let inputs = inputs.as_slice();
    let rendered = match target {
        Target::Sqlite | Target::Postgres | Target::Duckdb | Target::Spark => {
            let time = options.time_field.as_deref().unwrap_or(crate::sql_table::TIME_COLUMN);
            sql_correlation::correlation_query(target, correlation, inputs, time)
        }
        Target::Splunk => splunk::correlation_query(correlation, inputs),
        Target::Kusto => kusto_correlation::correlation_query(correlation, inputs, options.time_field.as_deref()),
        Target::Lucene | Target::Esql | Target::Eql => Err(Diagnostic::unlocated(
            Code::UnsupportedCorrelation,
            format!(
                "{} has no sliding window over a group's events (no window functions or self-joins; fixed \
                 buckets would miss windows that cross a bucket edge)",
                target.name()
            ),
        )),
    };
    rendered.map_err(|d| d.for_target(target.name()))
}

/// A correlation for Vigil's own Spark job (`vigil hunt --engine spark`), from the queries of what it reads (the
/// events of a rule, with the job's `_file` and `_record` columns; or the `chained` query of a correlation):
/// `reported` gives one row per detection with the events of its window, else the rows a chained correlation
/// reads. Times are read from `time_column` (compiler/DESIGN.md, "Spark").
pub fn spark_job_correlation(
    correlation: &ir::correlation::Correlation,
    queries: &[String],
    time_column: &str,
    reported: bool,
) -> Result<String, Diagnostic> {
    let inputs = correlation::rendered(correlation, queries);
    let shape = if reported { sql_correlation::Shape::JobReported } else { sql_correlation::Shape::JobChained };
    sql_correlation::shaped_query(Target::Spark, correlation, &inputs, time_column, shape)
        .map_err(|d| d.for_target(Target::Spark.name()))
}

/// A test's kind, for messages.
pub(crate) fn describe(test: &ir::Test) -> &'static str {
    match test {
        ir::Test::Str { .. } => "a string",
        ir::Test::Num(_) => "a number",
        ir::Test::Bool(_) => "a boolean",
        ir::Test::Null => "null",
        ir::Test::Exists => "an exists test",
        ir::Test::Regex { .. } => "a regular expression",
        ir::Test::Cidr(_) => "a CIDR network",
        ir::Test::Compare { .. } => "a numeric comparison",
        ir::Test::TimePart { .. } => "a time part",
        ir::Test::FieldRef { .. } => "a field reference",
        ir::Test::QueryExpression { .. } => "a query expression",
    }
}

/// Text written once before the queries of a format (`[default]` settings of savedsearches.conf).
pub fn prelude(target: Target, format: &str) -> Option<&'static str> {
    match (target, format) {
        (Target::Splunk, "savedsearches") => Some(splunk::SAVED_SEARCHES_DEFAULTS),
        _ => None,
    }
}
