//! Correlations in the Spark job (`vigil hunt --engine spark`, `vigil convert -t spark -f job`): each correlation
//! as the window-function SQL the SQL targets use (compiler/src/backend/sql_correlation.rs, in the job's shape),
//! over the events of the rules it reads, run in the same job after the rules; its detections come back with the
//! events of their windows and are reported as the matcher reports them (compiler/DESIGN.md, "Spark").

use super::sql_engine::Prepared;
use vigil_compiler::compile::Compilation;
use vigil_compiler::ir::correlation::{CorrelationType, InputSource};
use vigil_compiler::ir::meta::Meta;
use vigil_compiler::{backend, Code, Diagnostic};
use vigil_runtime::correlation::Detection;
use vigil_runtime::spark::{spark_ident, SparkEvents, TIME_COLUMN};

/// A correlation the job reports: what its detections say about it.
pub struct Reported {
    pub meta: Meta,
    pub path: String,
    pub kind: CorrelationType,
    pub group_by: Vec<String>,
}

/// The correlations of a Spark job, and what they change for the rules they read.
#[derive(Default)]
pub struct JobCorrelations {
    /// The correlations the job reports, by number.
    pub reported: Vec<Reported>,
    /// Each reported correlation's query, by number.
    pub queries: Vec<String>,
    /// Per prepared rule: some correlation reads it (its detections without a time are counted).
    pub reads: Vec<bool>,
    /// Per prepared rule: its own detections are reported (it was selected, and is not read only by correlations
    /// with `generate: false`).
    pub reports: Vec<bool>,
}

/// Per rule of `compilation` (in `Compilation::rules` order): whether some correlation reads it, so that it runs
/// even when the selection leaves it out.
pub fn rules_read(compilation: &Compilation) -> Vec<bool> {
    let mut read = vec![false; compilation.rules().count()];
    for input in compilation.correlations.iter().flat_map(|c| &c.correlation.inputs) {
        if let InputSource::Rule(r) = input.source {
            if let Some(slot) = read.get_mut(r) {
                *slot = true;
            }
        }
    }
    read
}

/// What the job needs besides the rules.
pub struct Scope<'a> {
    /// The rule of `compilation` each rule given to `sql_engine::prepare` is, by position.
    pub given: &'a [usize],
    /// Per rule of `compilation`: the selection admits it (its own detections are reported).
    pub rules_admitted: &'a [bool],
    /// Per correlation of `compilation`: the selection admits it (its detections are reported).
    pub correlations_admitted: &'a [bool],
    /// `--from` / `--to`, in milliseconds: events outside feed no correlation.
    pub range: Option<(i64, i64)>,
}

/// The correlations of `compilation` for a job over `prepared`, and the correlations that cannot run on Spark
/// (by position, with why: a rule they read has no Spark SQL, or their type has none).
pub fn plan(
    compilation: &Compilation,
    prepared: &Prepared,
    events: &SparkEvents,
    scope: &Scope<'_>,
) -> (JobCorrelations, Vec<(usize, Diagnostic)>) {
    let mut number_of = vec![None; scope.rules_admitted.len()];
    for (number, position) in prepared.positions.iter().enumerate() {
        number_of[scope.given[*position]] = Some(number);
    }
    let rule_query = |number: usize| rule_events(prepared, events, number, scope.range);
    let rules = prepared.queries.len();
    let mut job = JobCorrelations { reads: vec![false; rules], ..JobCorrelations::default() };
    let mut generate: Vec<Option<bool>> = vec![None; rules];
    let mut problems = Vec::new();
    // Each correlation's query as a chained correlation reads it, by position (`None`: it cannot run).
    let mut as_input: Vec<Option<String>> = Vec::new();
    for (c, linked) in compilation.correlations.iter().enumerate() {
        let correlation = &linked.correlation;
        let queries: Result<Vec<String>, String> = correlation
            .inputs
            .iter()
            .map(|input| match input.source {
                InputSource::Rule(r) => number_of.get(r).copied().flatten().map(rule_query).ok_or_else(|| {
                    format!("correlation `{}` reads a rule Spark SQL cannot express", correlation.meta.title)
                }),
                InputSource::Correlation(o) => as_input.get(o).cloned().flatten().ok_or_else(|| {
                    format!("correlation `{}` reads a correlation that cannot run on Spark", correlation.meta.title)
                }),
            })
            .collect();
        let queries = match queries {
            Ok(queries) => queries,
            Err(why) => {
                problems.push((c, Diagnostic::unlocated(Code::UnknownRuleReference, why).for_target("spark")));
                as_input.push(None);
                continue;
            }
        };
        let chained = backend::spark_job_correlation(correlation, &queries, TIME_COLUMN, false);
        let reported = scope
            .correlations_admitted
            .get(c)
            .is_some_and(|a| *a)
            .then(|| backend::spark_job_correlation(correlation, &queries, TIME_COLUMN, true))
            .transpose();
        match (chained, reported) {
            (Ok(chained), Ok(reported)) => {
                as_input.push(Some(chained));
                if let Some(query) = reported {
                    job.queries.push(query);
                    job.reported.push(Reported {
                        meta: correlation.meta.clone(),
                        path: compilation.files[linked.file].path.clone(),
                        kind: correlation.kind,
                        group_by: correlation.group_by.clone(),
                    });
                }
                for input in &correlation.inputs {
                    if let InputSource::Rule(r) = input.source {
                        let number = number_of[r].unwrap_or_default();
                        job.reads[number] = true;
                        *generate[number].get_or_insert(correlation.generate) |= correlation.generate;
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                problems.push((c, e));
                as_input.push(None);
            }
        }
    }
    job.reports = (0..rules)
        .map(|n| scope.rules_admitted[scope.given[prepared.positions[n]]] && generate[n] != Some(false))
        .collect();
    (job, problems)
}

/// The events of rule `number` as a correlation reads them: readable, of a log source the rule may run on, with a
/// time (in `range`), matching the rule.
fn rule_events(prepared: &Prepared, events: &SparkEvents, number: usize, range: Option<(i64, i64)>) -> String {
    let time = spark_ident(TIME_COLUMN);
    let mut tests = vec!["NOT _vigil_unreadable".to_string(), format!("{time} IS NOT NULL")];
    if let Some(sources) = events.admitted(&prepared.logsources[number]) {
        let keys: Vec<String> = sources.iter().map(u32::to_string).collect();
        tests.push(format!("_source IN ({})", keys.join(", ")));
    }
    if let Some((from, to)) = range {
        tests.push(format!("unix_millis({time}) BETWEEN {from} AND {to}"));
    }
    tests.push(format!("coalesce(({}), FALSE)", prepared.queries[number]));
    format!("SELECT * FROM vigil_columns WHERE {}", tests.join(" AND "))
}

/// The plan's entries for the job: `[number, group-by fields, query]` per reported correlation, and what each is
/// (for a job whose output Vigil does not read).
pub fn plan_entries(job: &JobCorrelations) -> (serde_json::Value, serde_json::Value) {
    let queries = job
        .queries
        .iter()
        .zip(&job.reported)
        .enumerate()
        .map(|(number, (query, r))| serde_json::json!([number, r.group_by.len(), query]))
        .collect();
    let names = job
        .reported
        .iter()
        .map(|r| {
            serde_json::json!({
                "rule": {"id": r.meta.id, "title": r.meta.title, "level": r.meta.level.map(|l| l.as_str()), "path": r.path},
                "type": r.kind.as_str(),
                "group_by": r.group_by,
            })
        })
        .collect();
    (serde_json::Value::Array(queries), serde_json::Value::Array(names))
}

/// A correlation detection from the job's output line `{"correlation", "end", "value", "group", "window"}`, or
/// `None` when the line is no correlation detection.
pub fn detection(line: &serde_json::Value, job: &JobCorrelations) -> Option<Detection> {
    let number = usize::try_from(line.get("correlation")?.as_u64()?).ok()?;
    let reported = job.reported.get(number)?;
    let end = line.get("end")?.as_i64()?;
    let values = line.get("group").and_then(|g| g.as_array()).map(Vec::as_slice).unwrap_or_default();
    let group = reported
        .group_by
        .iter()
        .enumerate()
        .map(|(k, name)| (name.clone(), values.get(k).and_then(|v| v.as_str()).map(str::to_string)))
        .collect();
    let window: Vec<(i64, u32, u64)> = line
        .get("window")
        .and_then(|w| w.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let e = e.as_array()?;
            let number = |i: usize| e.get(i).and_then(|v| v.as_i64());
            Some((number(0)?, u32::try_from(number(1)?).ok()?, u64::try_from(number(2)?).ok()?))
        })
        .collect();
    let temporal = matches!(reported.kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered);
    Some(Detection {
        correlation: number,
        group,
        window_start: window.first().map_or(end, |w| w.0),
        window_end: end,
        value: if temporal { None } else { line.get("value").and_then(|v| v.as_f64()) },
        events: window.iter().map(|(_, file, record)| (*file, *record)).collect(),
    })
}
