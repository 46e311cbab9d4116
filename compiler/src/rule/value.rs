//! Detection values after their modifiers ran: the typed form that pipelines transform and lowering reads. The
//! leaf types (strings, numbers, operators) belong to the IR (`ir::value`); rule syntax reuses them.

use crate::ir::value::{CompareOp, Number, RegexFlags, SigmaString, TimeUnit};

/// A detection value after its modifiers were applied.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
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
    Expansion(Vec<Value>),
    /// A backend expression from `query_expression_placeholders`: `expression` with `{field}` and `{id}`.
    QueryExpression {
        expression: String,
        id: String,
    },
}

impl Value {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str { .. } => "a string",
            Value::Num(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Regex { .. } => "a regular expression",
            Value::Cidr(_) => "a CIDR network",
            Value::Compare { .. } => "a comparison",
            Value::TimePart { .. } => "a time part",
            Value::FieldRef { .. } => "a field reference",
            Value::Exists(_) => "an exists test",
            Value::Expansion(_) => "an expansion",
            Value::QueryExpression { .. } => "a query expression",
        }
    }
}
