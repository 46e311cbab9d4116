//! What every target's correlation rendering shares: reading the correlation IR's inputs (the queries of its
//! rules or, for chains, of other correlations, converted for the target in `rules` order) and conditions.

use crate::ir::correlation::{CmpOp, Condition, Correlation, Input, InputExpr, InputSource};

/// One input of a correlation as a target renders it: the IR's input and its query.
pub struct Rendered<'a> {
    pub input: &'a Input,
    /// The query selecting its events (a rule) or its detections (a correlation).
    pub query: &'a str,
}

impl Rendered<'_> {
    /// Whether the input is another correlation (a chain): its rows hold only its group-by values.
    pub fn is_chained(&self) -> bool {
        matches!(self.input.source, InputSource::Correlation(_))
    }
}

/// The inputs of `correlation` with their queries.
pub fn rendered<'a>(correlation: &'a Correlation, queries: &'a [String]) -> Vec<Rendered<'a>> {
    correlation.inputs.iter().zip(queries).map(|(input, query)| Rendered { input, query }).collect()
}

/// The threshold condition on `value` (`vigil_value >= 10 AND vigil_value <= 20`) in a language's spelling: its
/// comparison symbols, what stands around them (`gap`) and its AND. `None` without a threshold condition.
pub fn threshold(
    correlation: &Correlation,
    value: &str,
    symbol: &dyn Fn(CmpOp) -> &'static str,
    gap: &str,
    and: &str,
) -> Option<String> {
    match &correlation.condition {
        Some(Condition::Threshold(ops)) => {
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

/// An extended temporal condition (`a and not b`) in a language's spelling, input `i` as `present(i)`.
pub fn extended_condition(condition: &InputExpr, booleans: &Booleans, present: &dyn Fn(usize) -> String) -> String {
    let all = |items: &[InputExpr], joiner: &str| -> String {
        items.iter().map(|c| format!("({})", extended_condition(c, booleans, present))).collect::<Vec<_>>().join(joiner)
    };
    match condition {
        InputExpr::Seen(i) => present(*i),
        InputExpr::Not(inner) => format!("{}({})", booleans.not, extended_condition(inner, booleans, present)),
        InputExpr::And(items) => all(items, booleans.and),
        InputExpr::Or(items) => all(items, booleans.or),
    }
}
