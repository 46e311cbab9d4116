//! What every target's correlation rendering shares: the inputs a correlation reads (the queries of its rules
//! or, for chains, of other correlations) and which field each of them gives for a group-by or value field.

use super::Unsupported;
use crate::codes::Code;
use crate::condition::Condition;
use crate::correlation::SigmaCorrelation;

/// One entry of a correlation's `rules`, already converted for the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// The query selecting its events (a rule) or its detections (a correlation).
    pub query: String,
    /// For a correlation read by another (a chain): its group-by fields, the only fields its detections carry.
    pub chained_group_by: Option<Vec<String>>,
}

impl Input {
    pub fn rule(query: impl Into<String>) -> Input {
        Input { query: query.into(), chained_group_by: None }
    }

    pub fn correlation(query: impl Into<String>, group_by: Vec<String>) -> Input {
        Input { query: query.into(), chained_group_by: Some(group_by) }
    }
}

/// Where input `i` of `correlation` holds `field` (a group-by field or the aggregated field): a rule's own
/// column, through `aliases` for that rule; a chained correlation's group-by value of that name, by its
/// position among the chained correlation's group-by fields. `None`: the input has no such value (a chained
/// correlation does not group by it), which reads as missing.
pub enum Source {
    Column(String),
    ChainedGroup(usize),
    Missing,
}

pub fn source(correlation: &SigmaCorrelation, i: usize, input: &Input, field: &str) -> Source {
    match &input.chained_group_by {
        None => {
            let name = correlation.rules.get(i).map(String::as_str).unwrap_or_default();
            let column = correlation.aliases.get(field).and_then(|m| m.get(name)).map_or(field, String::as_str);
            Source::Column(column.to_string())
        }
        Some(group_by) => match group_by.iter().position(|g| g == field) {
            Some(k) => Source::ChainedGroup(k),
            None => Source::Missing,
        },
    }
}

/// The field the correlation aggregates (`field:` of the condition), if its type reads one.
pub fn value_field(correlation: &SigmaCorrelation) -> Option<&str> {
    use crate::correlation::CorrelationCondition;
    if !correlation.kind.needs_field() {
        return None;
    }
    match &correlation.condition {
        Some(CorrelationCondition::Threshold { field, .. }) => field.first().map(String::as_str),
        _ => None,
    }
}

/// The percentile a `value_percentile` (its condition's `percentile`, 50 by default) or `value_median` reads.
pub fn percentile(correlation: &SigmaCorrelation) -> f64 {
    use crate::correlation::{CorrelationCondition, CorrelationType};
    match (&correlation.condition, correlation.kind) {
        (_, CorrelationType::ValueMedian) => 50.0,
        (Some(CorrelationCondition::Threshold { percentile: Some(p), .. }), _) => *p,
        _ => 50.0,
    }
}

/// The threshold condition on `value` (`vigil_value >= 10 AND vigil_value <= 20`) in a language's spelling: its
/// comparison symbols, what stands around them (`gap`) and its AND. `None` without a threshold condition.
pub fn threshold(
    correlation: &SigmaCorrelation,
    value: &str,
    symbol: &dyn Fn(crate::correlation::CmpOp) -> &'static str,
    gap: &str,
    and: &str,
) -> Option<String> {
    match &correlation.condition {
        Some(crate::correlation::CorrelationCondition::Threshold { ops, .. }) => {
            Some(ops.iter().map(|(op, n)| format!("{value}{gap}{}{gap}{n}", symbol(*op))).collect::<Vec<_>>().join(and))
        }
        _ => None,
    }
}

/// How a language spells NOT (before a parenthesised operand), AND and OR.
pub struct Booleans {
    pub not: &'static str,
    pub and: &'static str,
    pub or: &'static str,
}

/// An extended temporal condition (`a and not b`) in a language's spelling, each rule name as `present(i)` of its
/// position in `rules`.
pub fn extended_condition(
    condition: &Condition,
    rules: &[String],
    booleans: &Booleans,
    present: &dyn Fn(usize) -> String,
) -> Result<String, Unsupported> {
    let all = |items: &[Condition], joiner: &str| -> Result<String, Unsupported> {
        let parts: Result<Vec<String>, Unsupported> =
            items.iter().map(|c| extended_condition(c, rules, booleans, present).map(|s| format!("({s})"))).collect();
        Ok(parts?.join(joiner))
    };
    Ok(match condition {
        Condition::Ident(name) => match rules.iter().position(|r| r == name) {
            Some(i) => present(i),
            None => {
                return Err(Unsupported::new(
                    Code::UnsupportedCorrelation,
                    format!("`{name}` is not one of the correlation's rules"),
                ))
            }
        },
        Condition::Not(inner) => format!("{}({})", booleans.not, extended_condition(inner, rules, booleans, present)?),
        Condition::And(items) => all(items, booleans.and)?,
        Condition::Or(items) => all(items, booleans.or)?,
        Condition::Selector { .. } => {
            return Err(Unsupported::new(Code::UnsupportedCorrelation, "selectors in a correlation condition"))
        }
    })
}
