//! Correlations as KQL. KQL has no sliding window frame, so the window is a self-join: the inputs' rows (a
//! `union` of each rule's query, tagged `vigil_rule`) are joined on the group key with every row of the same
//! group, the rows in `(t - timespan, t]` of each distinct (group, time) are aggregated, and the aggregate is
//! joined back to the rows. As in SQL and `vigil hunt`, a row is returned where the condition becomes true for
//! its group (`prev()` over the rows sorted by group and time; a previous row outside the window reads as false).
//!
//! The query is one tabular expression (no `let`), so that a chained correlation can read it in parentheses.
//! Group values are compared as text (`tostring`: a missing value reads as the empty string). `count_distinct`
//! is exact; `percentile()` is nearest-rank but estimated by Kusto on large windows.

use super::correlation::{self as shared, Rendered};
use super::kusto::field;
use super::text;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::correlation::{CmpOp, Condition, Correlation, CorrelationType, InputField};

/// The time column of KQL tables (Microsoft Sentinel's name; `--time-field` names another).
pub const DEFAULT_TIME_COLUMN: &str = "TimeGenerated";

pub fn correlation_query(
    correlation: &Correlation,
    inputs: &[Rendered<'_>],
    time_field: Option<&str>,
) -> Result<String, Diagnostic> {
    let unsupported = |why: String| Err(Diagnostic::unlocated(Code::UnsupportedCorrelation, why));
    let Some(span) = correlation.timespan else { return unsupported("a correlation without a timespan".into()) };
    if let Some(bare) = inputs.iter().find(|i| !i.query.contains("\n| ")) {
        return unsupported(format!(
            "a KQL correlation reads tables, and `{}` is a bare condition: give the table with --table or a pipeline's query_table",
            bare.query
        ));
    }
    let time = time_field.unwrap_or(DEFAULT_TIME_COLUMN);
    let events = events(correlation, inputs, time);
    let (aggregate, holds) = aggregate(correlation)?;
    Ok(format!(
        "{events}\n\
         | join kind=inner (\n    \
             {events}\n    \
             | summarize by vigil_key, vigil_anchor = vigil_time\n    \
             | join kind=inner ({events}\n        \
                 | project vigil_key, vigil_time_w = vigil_time, vigil_rule_w = vigil_rule, vigil_field_w = vigil_field) on vigil_key\n    \
             | where vigil_time_w > vigil_anchor - {span}s and vigil_time_w <= vigil_anchor\n    \
             | summarize {aggregate} by vigil_key, vigil_anchor\n\
         ) on vigil_key, $left.vigil_time == $right.vigil_anchor\n\
         | extend vigil_holds = iff({holds}, 1, 0)\n\
         | sort by vigil_key asc, vigil_time asc\n\
         | extend vigil_held = iff(prev(vigil_key, 1, \"\") == vigil_key and prev(vigil_time) > vigil_time - {span}s, prev(vigil_holds, 1, 0), 0)\n\
         | where vigil_holds == 1 and vigil_held == 0"
    ))
}

/// The union of the inputs, each row with vigil_rule, vigil_time, vigil_g0.. (text), vigil_field (text) and
/// vigil_key (the group values as a JSON array). Rules keep their columns; chained correlations only these.
fn events(correlation: &Correlation, inputs: &[Rendered<'_>], time: &str) -> String {
    let read = |place: &InputField| match place {
        InputField::Field(column) => format!("tostring({})", field(column)),
        InputField::ChainedGroup(k) => format!("vigil_g{k}"),
        InputField::Missing => "\"\"".to_string(),
    };
    let legs: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut columns = vec![format!("vigil_rule = {i}")];
            columns.push(if input.is_chained() {
                "vigil_time".to_string()
            } else {
                format!("vigil_time = todatetime({})", field(time))
            });
            for (k, group) in input.input.group_fields.iter().enumerate() {
                columns.push(format!("vigil_g{k} = {}", read(group)));
            }
            let value = input.input.value.as_ref().map_or_else(|| "\"\"".to_string(), read);
            columns.push(format!("vigil_field = {value}"));
            let verb = if input.is_chained() { "project" } else { "extend" };
            format!("({}\n    | {verb} {})", input.query, columns.join(", "))
        })
        .collect();
    let key = if correlation.group_by.is_empty() {
        "\"\"".to_string()
    } else {
        let groups: Vec<String> = (0..correlation.group_by.len()).map(|k| format!("vigil_g{k}")).collect();
        format!("tostring(pack_array({}))", groups.join(", "))
    };
    format!("(union {}\n| extend vigil_key = {key})", legs.join(",\n    "))
}

/// The aggregate over a window's rows (`vigil_*_w`) and the test of the condition on it.
fn aggregate(correlation: &Correlation) -> Result<(String, String), Diagnostic> {
    let threshold = |value: &str| -> String {
        shared::threshold(correlation, value, &kusto_symbol, " ", " and ").unwrap_or_else(|| "false".into())
    };
    let number = "todouble(vigil_field_w)";
    let value = |aggregate: String| Ok((format!("vigil_value = {aggregate}"), threshold("vigil_value")));
    match correlation.kind {
        CorrelationType::EventCount => value("count()".into()),
        CorrelationType::ValueCount => value("count_distinctif(vigil_field_w, isnotempty(vigil_field_w))".into()),
        CorrelationType::ValueSum => value(format!("sum({number})")),
        CorrelationType::ValueAvg => value(format!("avg({number})")),
        CorrelationType::ValuePercentile | CorrelationType::ValueMedian => {
            value(format!("percentile({number}, {})", correlation.percentile))
        }
        CorrelationType::Temporal => {
            let rules = "vigil_rules = make_set(vigil_rule_w)".to_string();
            let has = |i: usize| format!("set_has_element(vigil_rules, {i})");
            let holds = match &correlation.condition {
                None => (0..correlation.inputs.len()).map(has).collect::<Vec<_>>().join(" and "),
                Some(Condition::Threshold(_)) => threshold("array_length(vigil_rules)"),
                Some(Condition::Inputs(c)) => {
                    let booleans = shared::Booleans { not: "not", and: " and ", or: " or " };
                    shared::extended_condition(c, &booleans, &has)
                }
            };
            Ok((rules, holds))
        }
        CorrelationType::TemporalOrdered => {
            if correlation.condition.is_some() {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedCorrelation,
                    "temporal_ordered with a condition is not converted to KQL",
                ));
            }
            // The window's rule numbers in time order, as ",0,2,1,": the rules in order are a subsequence.
            let subsequence: Vec<String> = (0..correlation.inputs.len()).map(|i| format!("{i},")).collect();
            let pattern = format!(",{}", subsequence.join("(\\d+,)*"));
            Ok((
                "vigil_times = make_list(vigil_time_w), vigil_order = make_list(vigil_rule_w)".to_string(),
                format!(
                    "strcat(\",\", strcat_array(array_sort_asc(vigil_times, vigil_order)[1], \",\"), \",\") matches regex {}",
                    super::kusto::string(&pattern)
                ),
            ))
        }
    }
}

fn kusto_symbol(op: CmpOp) -> &'static str {
    match text::condition_symbol(op) {
        "=" => "==",
        other => other,
    }
}
