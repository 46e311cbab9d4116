//! Detection values after their modifiers ran: the typed form that pipelines transform and lowering reads. The
//! leaf types (strings, numbers, operators) belong to the IR (`ir::value`); rule syntax reuses them.

use crate::ir::value::{CompareOp, Number, RegexFlags, SigmaString, TimeUnit};

/// A detection value after its modifiers were applied.
#[derive(Clone, Debug, PartialEq)]
pub enum DetectionValue {
    Str {
        value: SigmaString,
        cased: bool,
    },
    Num(Number),
    Bool(bool),
    /// `null`, or an empty list: the field is null or missing.
    Null,
    Regex {
        pattern: String,
        flags: RegexFlags,
    },
    Cidr(ipnet::IpNet),
    Compare {
        op: CompareOp,
        value: Number,
    },
    TimePart {
        unit: TimeUnit,
        value: Number,
    },
    /// The field equals (or starts/ends with, contains) another field of the same event.
    FieldRef {
        field: String,
        any_before: bool,
        any_after: bool,
        cased: bool,
    },
    Exists(bool),
    /// `windash` / `base64offset`: alternatives that are always OR-ed, even under `all`.
    Expansion(Vec<DetectionValue>),
    /// A backend expression from `query_expression_placeholders`: `expression` with `{field}` and `{id}`.
    QueryExpression {
        expression: String,
        id: String,
    },
}

impl DetectionValue {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            DetectionValue::Str { .. } => "a string",
            DetectionValue::Num(_) => "a number",
            DetectionValue::Bool(_) => "a boolean",
            DetectionValue::Null => "null",
            DetectionValue::Regex { .. } => "a regular expression",
            DetectionValue::Cidr(_) => "a CIDR network",
            DetectionValue::Compare { .. } => "a comparison",
            DetectionValue::TimePart { .. } => "a time part",
            DetectionValue::FieldRef { .. } => "a field reference",
            DetectionValue::Exists(_) => "an exists test",
            DetectionValue::Expansion(_) => "an expansion",
            DetectionValue::QueryExpression { .. } => "a query expression",
        }
    }
}
