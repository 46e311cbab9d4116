//! Correlation rules, lowered: what each one reads (resolved to rules and other correlations of the same
//! compilation), which field every input gives for each group-by and aggregated field, the window, and the
//! condition over the inputs. Built once by the front end (`compile::link`); SQL, KQL and SPL renderers and the
//! runtime's correlation engine read only this.

use super::meta::Meta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
    ValueMedian,
}

impl CorrelationType {
    pub fn parse(text: &str) -> Option<Self> {
        use CorrelationType::*;
        Some(match text {
            "event_count" => EventCount,
            "value_count" => ValueCount,
            "temporal" => Temporal,
            "temporal_ordered" => TemporalOrdered,
            "value_sum" => ValueSum,
            "value_avg" => ValueAvg,
            "value_percentile" => ValuePercentile,
            "value_median" => ValueMedian,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use CorrelationType::*;
        match self {
            EventCount => "event_count",
            ValueCount => "value_count",
            Temporal => "temporal",
            TemporalOrdered => "temporal_ordered",
            ValueSum => "value_sum",
            ValueAvg => "value_avg",
            ValuePercentile => "value_percentile",
            ValueMedian => "value_median",
        }
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, CorrelationType::Temporal | CorrelationType::TemporalOrdered)
    }

    /// Types that aggregate a field's values.
    pub fn needs_field(self) -> bool {
        use CorrelationType::*;
        matches!(self, ValueCount | ValueSum | ValueAvg | ValuePercentile | ValueMedian)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "gt" => CmpOp::Gt,
            "gte" => CmpOp::Gte,
            "lt" => CmpOp::Lt,
            "lte" => CmpOp::Lte,
            "eq" => CmpOp::Eq,
            "neq" => CmpOp::Neq,
            _ => return None,
        })
    }
}

/// A lowered correlation rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    pub meta: Meta,
    pub kind: CorrelationType,
    /// What it reads, in the order of its `rules`.
    pub inputs: Vec<Input>,
    pub group_by: Vec<String>,
    /// Window length in seconds; `None` only for `value_median`, which may omit it.
    pub timespan: Option<u64>,
    pub condition: Option<Condition>,
    /// The field the value types (`value_count`, `value_sum`, ...) aggregate, as the correlation names it.
    pub value_field: Option<String>,
    /// The percentile `value_percentile` (50 unless given) and `value_median` (50) compute.
    pub percentile: f64,
    /// Group-by or value field names that are aliases (`aliases:`): each input names its own field for them.
    pub aliases: BTreeSet<String>,
    /// Whether the base rules' own detections are reported too.
    pub generate: bool,
}

/// One entry of a correlation's `rules`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// As the correlation wrote it (a rule's id or name).
    pub name: String,
    pub source: InputSource,
    /// Where this input holds each group-by field, in `group_by` order.
    pub group_fields: Vec<InputField>,
    /// Where it holds the aggregated field, if the correlation has one.
    pub value: Option<InputField>,
}

/// What an input is, by its position in the compilation: a rule, or (a chain) a correlation listed before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InputSource {
    Rule(usize),
    Correlation(usize),
}

/// Where an input holds a field: an event field of a rule (through `aliases` for that rule), or a chained
/// correlation's group-by value (by its position among that correlation's group-by fields); `Missing` when a
/// chained correlation does not group by it, which reads as a missing value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputField {
    Field(String),
    ChainedGroup(usize),
    Missing,
}

/// The condition of a correlation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    /// One comparison, or two for a range, all of which must hold: on the aggregate, or for temporal types on
    /// the number of inputs seen in the window.
    Threshold(Vec<(CmpOp, f64)>),
    /// Temporal types: a boolean expression over "input i has a hit in the window" (`a and not b`).
    Inputs(InputExpr),
}

/// A boolean expression over the inputs, by position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputExpr {
    Seen(usize),
    Not(Box<InputExpr>),
    And(Vec<InputExpr>),
    Or(Vec<InputExpr>),
}

impl InputExpr {
    /// Evaluates the expression, `seen(i)` telling whether input `i` has a hit in the window.
    pub fn eval(&self, seen: &dyn Fn(usize) -> bool) -> bool {
        match self {
            InputExpr::Seen(i) => seen(*i),
            InputExpr::Not(inner) => !inner.eval(seen),
            InputExpr::And(items) => items.iter().all(|i| i.eval(seen)),
            InputExpr::Or(items) => items.iter().any(|i| i.eval(seen)),
        }
    }
}

impl Correlation {
    /// The event fields a detection of rule input `input` must carry: its group-by and value fields.
    pub fn fields_of_input(&self, input: usize) -> Vec<&str> {
        let Some(input) = self.inputs.get(input) else { return Vec::new() };
        input
            .group_fields
            .iter()
            .chain(&input.value)
            .filter_map(|f| match f {
                InputField::Field(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }
}
