//! Correlations as SQL, for the four dialects. One query shape for every type:
//!
//! ```text
//! WITH vigil_events AS (one row per input event or chained detection: vigil_rule, vigil_time (ms),
//!                       vigil_g0.. (group values as text), vigil_field (aggregated value as text)),
//!      vigil_windows AS (each row with vigil_value: its group's aggregate over (vigil_time - timespan, vigil_time]),
//!      vigil_checked AS (vigil_holds: the condition on vigil_value),
//!      vigil_transitions AS (vigil_held: vigil_holds of the group's previous row, if still in the window)
//! SELECT * FROM vigil_transitions WHERE vigil_holds = 1 AND vigil_held = 0
//! ```
//!
//! A row is returned where the condition becomes true for its group, as `vigil hunt` reports a detection. The
//! aggregate is a window function where every dialect has one over a `RANGE` frame (event_count, value_sum,
//! value_avg; temporal types: `MAX` of "row of rule i" flags; `temporal_ordered` after one stage per rule that
//! carries the latest start of an in-order chain) and a correlated subquery otherwise (value_count: no
//! `COUNT(DISTINCT)` over a frame; percentiles: nearest rank, counted). When every input is a rule, the events' own columns
//! come first in each row; a chain (a correlation reading correlations) keeps only the `vigil_` columns.

use super::correlation::{self as shared, Rendered};
use super::sql::Sql;
use super::{text, Target};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::correlation::{Condition, Correlation, CorrelationType, InputField};

const SQL_BOOLEANS: shared::Booleans = shared::Booleans { not: "NOT ", and: " AND ", or: " OR " };

/// What a correlation query returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The rows at which the condition becomes true (what `vigil convert` writes).
    Converted,
    /// For Vigil's Spark job, a correlation another one reads: the same rows with only the `vigil_` columns, each
    /// also telling where its event is (`vigil_file`, `vigil_record`: the job's `_file` and `_record`).
    JobChained,
    /// For Vigil's Spark job, a correlation it reports: one row per detection with `vigil_time`, `vigil_g*`,
    /// `vigil_value`, and `vigil_window`, the events of the window (structs of `vigil_time`, `vigil_file`,
    /// `vigil_record`) in time order, as `vigil hunt` lists them.
    JobReported,
}

pub fn correlation_query(
    dialect: Target,
    correlation: &Correlation,
    inputs: &[Rendered<'_>],
    time_field: &str,
) -> Result<String, Diagnostic> {
    shaped_query(dialect, correlation, inputs, time_field, Shape::Converted)
}

/// The query of `correlation` in `shape`.
pub fn shaped_query(
    dialect: Target,
    correlation: &Correlation,
    inputs: &[Rendered<'_>],
    time_field: &str,
    shape: Shape,
) -> Result<String, Diagnostic> {
    let sql = Sql::new(dialect, crate::sql_table::KEYWORD_COLUMN);
    let unsupported = |why: String| Err(Diagnostic::unlocated(Code::UnsupportedCorrelation, why));
    let Some(span) = correlation.timespan else { return unsupported("a correlation without a timespan".into()) };
    let frame = Frame { sql: &sql, span_ms: span.saturating_mul(1000), groups: correlation.group_by.len() };
    let events = events(&sql, inputs, time_field, shape != Shape::Converted);
    let (stages, source) = if correlation.kind == CorrelationType::TemporalOrdered {
        frame.chain_stages(correlation.inputs.len())
    } else {
        (String::new(), "vigil_events".to_string())
    };
    let value = match (correlation.kind, &correlation.condition) {
        (CorrelationType::Temporal | CorrelationType::TemporalOrdered, _) => frame.temporal(correlation)?,
        (_, Some(Condition::Threshold(_))) => frame.aggregate(correlation)?,
        (kind, _) => return unsupported(format!("{} without a condition", kind.as_str())),
    };
    // Temporal types without a count: the value is 1 when the rules (or the extended condition) hold.
    let holds = shared::threshold(correlation, "vigil_value", &text::condition_symbol, " ", " AND ")
        .unwrap_or_else(|| "vigil_value = 1".to_string());
    let fired = "SELECT * FROM vigil_transitions WHERE vigil_holds = 1 AND vigil_held = 0";
    let last = if shape == Shape::JobReported { frame.window_events(fired) } else { fired.to_string() };
    Ok(format!(
        "WITH vigil_events AS ({events}){stages}, \
         vigil_windows AS (SELECT vigil_event.*, {value} AS vigil_value FROM {source} AS vigil_event), \
         vigil_checked AS (SELECT *, CASE WHEN {holds} THEN 1 ELSE 0 END AS vigil_holds FROM vigil_windows), \
         vigil_transitions AS (SELECT *, CASE WHEN LAG(vigil_time) OVER ({partition}ORDER BY vigil_time) > vigil_time - {span_ms} \
         THEN LAG(vigil_holds) OVER ({partition}ORDER BY vigil_time) ELSE 0 END AS vigil_held FROM vigil_checked) \
         {last}",
        partition = frame.partition(),
        span_ms = frame.span_ms,
    ))
}

/// The rows of every input, with the same columns in the same order (a `UNION ALL`); for Vigil's Spark job
/// (`job`), where each row's event is instead of the event's own columns.
fn events(sql: &Sql, inputs: &[Rendered<'_>], time_field: &str, job: bool) -> String {
    let keep_events = !job && inputs.iter().all(|i| !i.is_chained());
    let text_type = sql.text_type();
    let read = |field: &InputField| match field {
        InputField::Field(column) => format!("CAST(vigil_input.{} AS {text_type})", sql.ident(column)),
        InputField::ChainedGroup(k) => format!("vigil_input.vigil_g{k}"),
        InputField::Missing => format!("CAST(NULL AS {text_type})"),
    };
    let rows: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut columns = Vec::new();
            if keep_events {
                columns.push("vigil_input.*".to_string());
            }
            columns.push(format!("{i} AS vigil_rule"));
            columns.push(if input.is_chained() {
                "vigil_input.vigil_time AS vigil_time".to_string()
            } else {
                format!("{} AS vigil_time", sql.millis(&format!("vigil_input.{}", sql.ident(time_field))))
            });
            for (k, group) in input.input.group_fields.iter().enumerate() {
                columns.push(format!("{} AS vigil_g{k}", read(group)));
            }
            let value = match &input.input.value {
                Some(field) => read(field),
                None => format!("CAST(NULL AS {text_type})"),
            };
            columns.push(format!("{value} AS vigil_field"));
            if job {
                let (file, record) =
                    if input.is_chained() { ("vigil_file", "vigil_record") } else { ("_file", "_record") };
                columns.push(format!("vigil_input.{file} AS vigil_file, vigil_input.{record} AS vigil_record"));
            }
            format!("SELECT {} FROM ({}) AS vigil_input", columns.join(", "), input.query)
        })
        .collect();
    rows.join(" UNION ALL ")
}

/// The sliding window of the row `vigil_event`: the same group, times in `(t - timespan, t]`.
struct Frame<'a> {
    sql: &'a Sql,
    span_ms: u64,
    groups: usize,
}

impl Frame<'_> {
    fn partition(&self) -> String {
        if self.groups == 0 {
            return String::new();
        }
        let columns: Vec<String> = (0..self.groups).map(|k| format!("vigil_g{k}")).collect();
        format!("PARTITION BY {} ", columns.join(", "))
    }

    /// One row per detection of `fired` (rows of `vigil_transitions`), with the events of its window in time
    /// order: the rows of `vigil_events` of its group in `(t - timespan, t]` (a join: the detections are few,
    /// where a list per row would copy every window).
    fn window_events(&self, fired: &str) -> String {
        let groups: Vec<String> = (0..self.groups).map(|k| format!("vigil_d.vigil_g{k}")).collect();
        let keys: Vec<String> = ["vigil_d.vigil_time".to_string(), "vigil_d.vigil_value".to_string()]
            .into_iter()
            .chain(groups)
            .chain(["vigil_d.vigil_file".to_string(), "vigil_d.vigil_record".to_string()])
            .collect();
        format!(
            "SELECT {keys}, array_sort(collect_list(struct(vigil_w.vigil_time AS vigil_time, vigil_w.vigil_file AS vigil_file, \
             vigil_w.vigil_record AS vigil_record))) AS vigil_window \
             FROM ({fired}) AS vigil_d JOIN vigil_events AS vigil_w ON {on} GROUP BY {keys}",
            keys = keys.join(", "),
            on = self.in_window("vigil_w", "vigil_d"),
        )
    }

    /// A window function over the frame.
    fn over(&self) -> String {
        format!(
            "OVER ({}ORDER BY vigil_time RANGE BETWEEN {} PRECEDING AND CURRENT ROW)",
            self.partition(),
            self.span_ms.saturating_sub(1)
        )
    }

    /// The tests putting row `alias` of `vigil_events` in the window of `vigil_event`.
    fn within(&self, alias: &str) -> String {
        self.in_window(alias, "vigil_event")
    }

    /// The tests putting row `alias` in the window of row `of`: the same group, a time in `(t - timespan, t]`.
    fn in_window(&self, alias: &str, of: &str) -> String {
        let mut tests: Vec<String> = (0..self.groups)
            .map(|k| self.sql.same(&format!("{alias}.vigil_g{k}"), &format!("{of}.vigil_g{k}")))
            .collect();
        tests.push(format!(
            "{alias}.vigil_time > {of}.vigil_time - {} AND {alias}.vigil_time <= {of}.vigil_time",
            self.span_ms
        ));
        tests.join(" AND ")
    }

    fn number(&self, column: &str) -> String {
        format!("CAST({column} AS {})", self.sql.double_type())
    }

    fn aggregate(&self, correlation: &Correlation) -> Result<String, Diagnostic> {
        let field = |alias: &str| self.number(&format!("{alias}.vigil_field"));
        Ok(match correlation.kind {
            CorrelationType::EventCount => format!("COUNT(*) {}", self.over()),
            CorrelationType::ValueSum => format!("COALESCE(SUM({}) {}, 0)", field("vigil_event"), self.over()),
            CorrelationType::ValueAvg => format!("AVG({}) {}", field("vigil_event"), self.over()),
            CorrelationType::ValueCount => format!(
                "(SELECT COUNT(DISTINCT vigil_w.vigil_field) FROM vigil_events AS vigil_w WHERE {})",
                self.within("vigil_w")
            ),
            CorrelationType::ValuePercentile | CorrelationType::ValueMedian => {
                let p = correlation.percentile;
                let present = |alias: &str| format!("{} AND {alias}.vigil_field IS NOT NULL", self.within(alias));
                if !self.sql.reads_two_levels_out() {
                    // Spark: its `percentile_disc` is the nearest rank (ceil(p * n)-th value).
                    return Ok(format!(
                        "(SELECT percentile_disc({}) WITHIN GROUP (ORDER BY {}) FROM vigil_events AS vigil_a WHERE {})",
                        p / 100.0,
                        field("vigil_a"),
                        present("vigil_a")
                    ));
                }
                // Nearest rank: the least value v of the window with #(values <= v) * 100 >= p * #(values).
                format!(
                    "(SELECT MIN({a}) FROM vigil_events AS vigil_a WHERE {in_a} AND \
                     (SELECT COUNT(*) FROM vigil_events AS vigil_b WHERE {in_b} AND {b} <= {a}) * 100 >= {p} * \
                     (SELECT COUNT(*) FROM vigil_events AS vigil_c WHERE {in_c}))",
                    a = field("vigil_a"),
                    b = field("vigil_b"),
                    in_a = present("vigil_a"),
                    in_b = present("vigil_b"),
                    in_c = present("vigil_c"),
                )
            }
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => return self.temporal(correlation),
        })
    }

    /// For `temporal_ordered`: one stage per rule after the first, each giving the rows of rule k the latest start
    /// (time of a rule-0 row) of a chain of rules 0..k in time order ending at the row (`vigil_s{k}`; the start of
    /// rule 0's own rows is their time). Returns the stages (`, name AS (...)` each) and the last one's name.
    fn chain_stages(&self, rules: usize) -> (String, String) {
        let mut stages = String::new();
        let mut source = "vigil_events".to_string();
        for k in 1..rules {
            let previous = if k == 1 { "vigil_time".to_string() } else { format!("vigil_s{}", k - 1) };
            stages.push_str(&format!(
                ", vigil_chain{k} AS (SELECT *, CASE WHEN vigil_rule = {k} THEN MAX(CASE WHEN vigil_rule = {} THEN {previous} END) \
                 OVER ({}ORDER BY vigil_time RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) END AS vigil_s{k} FROM {source})",
                k - 1,
                self.partition()
            ));
            source = format!("vigil_chain{k}");
        }
        (stages, source)
    }

    /// Whether rule `i` has a row in the window: a window function, cheaper than a subquery.
    fn seen(&self, i: usize) -> String {
        format!("MAX(CASE WHEN vigil_event.vigil_rule = {i} THEN 1 ELSE 0 END) {} = 1", self.over())
    }

    /// Temporal types: 1 when the rules are in the window (in order, for `temporal_ordered`; as the extended
    /// condition says, if any); with a threshold condition, the number of rules present.
    fn temporal(&self, correlation: &Correlation) -> Result<String, Diagnostic> {
        let n = correlation.inputs.len();
        let flag = |test: String| format!("CASE WHEN {test} THEN 1 ELSE 0 END");
        Ok(match (&correlation.condition, correlation.kind) {
            (Some(Condition::Inputs(c)), CorrelationType::Temporal) => {
                flag(shared::extended_condition(c, &SQL_BOOLEANS, &|i| self.seen(i)))
            }
            (Some(Condition::Threshold(_)), CorrelationType::Temporal) => {
                let present: Vec<String> = (0..n).map(|i| flag(self.seen(i))).collect();
                format!("({})", present.join(" + "))
            }
            (None, CorrelationType::Temporal) => flag((0..n).map(|i| self.seen(i)).collect::<Vec<_>>().join(" AND ")),
            (None, CorrelationType::TemporalOrdered) => {
                // A chain of every rule in order ends in the window and starts in it.
                let last = n.saturating_sub(1);
                let start =
                    if last == 0 { "vigil_event.vigil_time".to_string() } else { format!("vigil_event.vigil_s{last}") };
                flag(format!(
                    "MAX(CASE WHEN vigil_event.vigil_rule = {last} THEN {start} END) {} > vigil_event.vigil_time - {}",
                    self.over(),
                    self.span_ms
                ))
            }
            _ => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedCorrelation,
                    "temporal_ordered with a condition is not converted to SQL",
                ))
            }
        })
    }
}
