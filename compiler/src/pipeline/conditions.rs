//! The three condition families of processing items (rule, detection item, field name) and how they combine:
//! all of them (`and`, the default), any of them (`or`), or an expression over their ids (`*_cond_expr`), each
//! optionally negated (`*_cond_not`).

use super::RunState;
use crate::condition::Condition;
use crate::correlation::SigmaCorrelation;
use crate::ir::meta::{Level, LogSource, Meta, Status};
use crate::ir::value::SigmaString;
use crate::rule::detection::DetectionItem;
use crate::rule::value::DetectionValue;
use crate::rule::SigmaRule;
use regex::Regex;
use std::cmp::Ordering;

/// How the conditions of one family combine.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Combine {
    #[default]
    All,
    Any,
    /// A boolean expression over condition ids (`a and not b`).
    Expr(Condition),
}

/// The conditions of one family, with their ids (given, or their 1-based position).
#[derive(Clone, Debug)]
pub struct Conditions<C> {
    pub items: Vec<(String, C)>,
    pub combine: Combine,
    pub negate: bool,
}

impl<C> Default for Conditions<C> {
    fn default() -> Self {
        Conditions { items: Vec::new(), combine: Combine::All, negate: false }
    }
}

impl<C: PartialEq> PartialEq for Conditions<C> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items && self.combine == other.combine && self.negate == other.negate
    }
}

impl<C> Conditions<C> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Combines the results of `test` on each condition, then applies the negation. With no conditions the
    /// combination is true (pySigma's `all([])`).
    pub fn evaluate(&self, mut test: impl FnMut(&C) -> bool) -> bool {
        let result = match &self.combine {
            Combine::All => self.items.iter().all(|(_, c)| test(c)),
            Combine::Any => self.items.iter().any(|(_, c)| test(c)),
            Combine::Expr(tree) => self.evaluate_expr(tree, &mut test),
        };
        result != self.negate
    }

    fn evaluate_expr(&self, tree: &Condition, test: &mut impl FnMut(&C) -> bool) -> bool {
        match tree {
            // Ids were checked when the pipeline was loaded.
            Condition::Ident(id) => self.items.iter().find(|(i, _)| i == id).is_some_and(|(_, c)| test(c)),
            Condition::Selector { .. } => false,
            Condition::Not(inner) => !self.evaluate_expr(inner, test),
            Condition::And(items) => items.iter().all(|i| self.evaluate_expr(i, test)),
            Condition::Or(items) => items.iter().any(|i| self.evaluate_expr(i, test)),
        }
    }
}

/// A scalar from the pipeline YAML, compared with rule values.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueMatch {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl ValueMatch {
    /// pySigma's `value == self.value`: a string compares with the Sigma form of a string value, numbers
    /// numerically, booleans with booleans; other combinations differ.
    pub fn matches(&self, value: &DetectionValue) -> bool {
        match (self, value) {
            (ValueMatch::Str(s), DetectionValue::Str { value, .. }) => &value.to_string() == s,
            (ValueMatch::Num(n), DetectionValue::Num(v)) => v.as_f64() == *n,
            (ValueMatch::Bool(b), DetectionValue::Bool(v)) => b == v,
            _ => false,
        }
    }

    /// Whether the rule value is this value, read as a Sigma value of the same type.
    fn same_as(&self, value: &DetectionValue) -> bool {
        match (self, value) {
            (ValueMatch::Str(s), DetectionValue::Str { value, .. }) => &SigmaString::parse(s) == value,
            _ => self.matches(value),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gte,
    Gt,
    Lte,
    Lt,
    In,
    NotIn,
}

impl Op {
    pub fn parse(text: &str) -> Option<Op> {
        Some(match text {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gte" => Op::Gte,
            "gt" => Op::Gt,
            "lte" => Op::Lte,
            "lt" => Op::Lt,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            _ => return None,
        })
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Gte => ordering != Ordering::Less,
            Op::Gt => ordering == Ordering::Greater,
            Op::Lte => ordering != Ordering::Greater,
            Op::Lt => ordering == Ordering::Less,
            Op::In | Op::NotIn => false,
        }
    }
}

/// `processing_state`: compares a `set_state` value.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTest {
    pub key: String,
    pub val: serde_json::Value,
    pub op: Op,
}

impl StateTest {
    fn holds(&self, run: &RunState) -> bool {
        let Some(actual) = run.state.get(&self.key) else { return false };
        compare_json(actual, &self.val).is_some_and(|o| self.op.holds(o))
    }
}

fn compare_json(a: &serde_json::Value, b: &serde_json::Value) -> Option<Ordering> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (J::String(x), J::String(y)) => Some(x.cmp(y)),
        (J::Bool(x), J::Bool(y)) => Some(x.cmp(y)),
        _ => (a == b).then_some(Ordering::Equal),
    }
}

/// Quantifier of value conditions: every value, or at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

/// What a rule the pipeline sees looks like: a detection rule, or a correlation with the log sources of the
/// rules it references.
pub(crate) enum RuleView<'r> {
    Rule(&'r SigmaRule),
    Correlation(&'r SigmaCorrelation, &'r [LogSource]),
}

impl RuleView<'_> {
    fn meta(&self) -> &Meta {
        match self {
            RuleView::Rule(r) => &r.meta,
            RuleView::Correlation(c, _) => &c.meta,
        }
    }

    fn applied(&self) -> &[String] {
        match self {
            RuleView::Rule(r) => &r.applied,
            RuleView::Correlation(..) => &[],
        }
    }
}

#[derive(Clone, Debug)]
pub enum RuleCondition {
    Logsource(LogSource),
    ContainsDetectionItem { field: String, value: ValueMatch },
    ContainsField(String),
    ProcessingItemApplied(String),
    ProcessingState(StateTest),
    IsSigmaRule,
    IsSigmaCorrelationRule,
    RuleAttribute { attribute: String, value: ValueMatch, op: Op },
    Tag(String),
}

impl PartialEq for RuleCondition {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl RuleCondition {
    pub(crate) fn matches(&self, rule: &RuleView<'_>, run: &RunState) -> bool {
        match self {
            RuleCondition::Logsource(spec) => match rule {
                RuleView::Rule(r) => r.logsource.matches(spec),
                // A correlation matches when any rule it references does.
                RuleView::Correlation(_, sources) => sources.iter().any(|s| s.matches(spec)),
            },
            RuleCondition::ContainsDetectionItem { field, value } => any_item(rule, |item| {
                item.field.as_deref() == Some(field.as_str()) && item.values.iter().any(|v| value.same_as(v))
            }),
            RuleCondition::ContainsField(field) => any_item(rule, |item| item.field.as_deref() == Some(field)),
            RuleCondition::ProcessingItemApplied(id) => rule.applied().iter().any(|a| a == id),
            RuleCondition::ProcessingState(test) => test.holds(run),
            RuleCondition::IsSigmaRule => matches!(rule, RuleView::Rule(_)),
            RuleCondition::IsSigmaCorrelationRule => matches!(rule, RuleView::Correlation(..)),
            RuleCondition::RuleAttribute { attribute, value, op } => {
                attribute_holds(rule.meta(), attribute, value, *op)
            }
            RuleCondition::Tag(tag) => rule.meta().tags.iter().any(|t| t == tag),
        }
    }
}

fn any_item(rule: &RuleView<'_>, mut f: impl FnMut(&DetectionItem) -> bool) -> bool {
    let RuleView::Rule(rule) = rule else { return false };
    let mut found = false;
    for detection in &rule.detections {
        detection.detection.visit_items(&mut |item| found = found || f(item));
    }
    found
}

/// `rule_attribute`: built-in attributes first, then custom ones; lists support `in` / `not_in`.
fn attribute_holds(meta: &Meta, attribute: &str, value: &ValueMatch, op: Op) -> bool {
    let text = |s: &Option<String>| s.clone();
    let list = |items: &[String]| match (op, value) {
        (Op::In, ValueMatch::Str(v)) => items.contains(v),
        (Op::NotIn, ValueMatch::Str(v)) => !items.contains(v),
        (Op::Ne, _) => true,
        _ => false,
    };
    let string = |s: Option<String>| match (s, value) {
        (Some(s), ValueMatch::Str(v)) => match op {
            Op::Eq => &s == v,
            Op::Ne => &s != v,
            _ => false,
        },
        _ => false,
    };
    match attribute {
        "title" => string(Some(meta.title.clone())),
        "id" => string(text(&meta.id)),
        "name" => string(text(&meta.name)),
        "description" => string(text(&meta.description)),
        "author" => string(text(&meta.author)),
        "license" => string(text(&meta.license)),
        "taxonomy" => string(text(&meta.taxonomy)),
        "level" => match (meta.level, value) {
            (Some(level), ValueMatch::Str(v)) => Level::parse(v).is_some_and(|other| op.holds(level.cmp(&other))),
            _ => false,
        },
        "status" => match (meta.status, value) {
            (Some(status), ValueMatch::Str(v)) => Status::parse(v).is_some_and(|other| op.holds(status.cmp(&other))),
            _ => false,
        },
        "date" | "modified" => {
            let date = if attribute == "date" { &meta.date } else { &meta.modified };
            match (date, value) {
                (Some(d), ValueMatch::Str(v)) => op.holds(d.replace('/', "-").cmp(&v.replace('/', "-"))),
                _ => false,
            }
        }
        "tags" => list(&meta.tags),
        "references" => list(&meta.references),
        "falsepositives" => list(&meta.falsepositives),
        "fields" => list(&meta.fields),
        "scope" => list(&meta.scope),
        custom => match meta.custom.get(custom) {
            Some(serde_json::Value::String(s)) => string(Some(s.clone())),
            Some(serde_json::Value::Number(n)) => match (n.as_f64(), value) {
                (Some(n), ValueMatch::Num(v)) => n.partial_cmp(v).is_some_and(|o| op.holds(o)),
                (Some(n), ValueMatch::Str(v)) => {
                    v.parse::<f64>().ok().and_then(|v| n.partial_cmp(&v)).is_some_and(|o| op.holds(o))
                }
                _ => false,
            },
            Some(serde_json::Value::Array(items)) => {
                let items: Vec<String> =
                    items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect();
                list(&items)
            }
            _ => false,
        },
    }
}

#[derive(Clone, Debug)]
pub enum ItemCondition {
    MatchString { pattern: Regex, negate: bool, quantifier: Quantifier },
    MatchValue { value: ValueMatch, quantifier: Quantifier },
    ContainsWildcard { quantifier: Quantifier },
    IsNull { quantifier: Quantifier },
    ProcessingItemApplied(String),
    ProcessingState(StateTest),
}

fn quantify(values: &[DetectionValue], quantifier: Quantifier, test: impl Fn(&DetectionValue) -> bool) -> bool {
    match quantifier {
        Quantifier::Any => values.iter().any(test),
        Quantifier::All => values.iter().all(test),
    }
}

impl ItemCondition {
    pub(crate) fn matches(&self, item: &DetectionItem, run: &RunState) -> bool {
        match self {
            ItemCondition::MatchString { pattern, negate, quantifier } => quantify(&item.values, *quantifier, |v| {
                let matched = matches!(v, DetectionValue::Str { value, .. } if pattern.is_match(&value.to_string()));
                matched != *negate
            }),
            ItemCondition::MatchValue { value, quantifier } => {
                quantify(&item.values, *quantifier, |v| value.matches(v))
            }
            ItemCondition::ContainsWildcard { quantifier } => quantify(
                &item.values,
                *quantifier,
                |v| matches!(v, DetectionValue::Str { value, .. } if value.has_wildcards()),
            ),
            ItemCondition::IsNull { quantifier } => {
                quantify(&item.values, *quantifier, |v| matches!(v, DetectionValue::Null))
            }
            ItemCondition::ProcessingItemApplied(id) => item.applied.iter().any(|a| a == id),
            ItemCondition::ProcessingState(test) => test.holds(run),
        }
    }
}

#[derive(Clone, Debug)]
pub enum FieldCondition {
    /// `include_fields`; with `mode: re` the names are regexes matched at the start of the field name.
    Include {
        fields: Vec<String>,
        patterns: Option<Vec<Regex>>,
    },
    Exclude {
        fields: Vec<String>,
        patterns: Option<Vec<Regex>>,
    },
    ProcessingItemApplied(String),
    ProcessingState(StateTest),
}

fn included(field: Option<&str>, fields: &[String], patterns: &Option<Vec<Regex>>) -> bool {
    let Some(field) = field else { return false };
    match patterns {
        None => fields.iter().any(|f| f == field),
        Some(patterns) => patterns.iter().any(|p| p.is_match(field)),
    }
}

impl FieldCondition {
    /// Whether the condition holds for a field name (`None` for keywords).
    pub(crate) fn matches_field(&self, field: Option<&str>, run: &RunState) -> bool {
        match self {
            FieldCondition::Include { fields, patterns } => included(field, fields, patterns),
            FieldCondition::Exclude { fields, patterns } => !included(field, fields, patterns),
            FieldCondition::ProcessingItemApplied(id) => {
                field.is_some_and(|f| run.field_applied.get(f).is_some_and(|ids| ids.contains(id)))
            }
            FieldCondition::ProcessingState(test) => test.holds(run),
        }
    }

    /// Whether the condition holds for a detection item: its field, or a field it references.
    pub(crate) fn matches_item(&self, item: &DetectionItem, run: &RunState) -> bool {
        if let FieldCondition::ProcessingItemApplied(id) = self {
            return item.applied.iter().any(|a| a == id);
        }
        self.matches_field(item.field.as_deref(), run)
            || item
                .values
                .iter()
                .any(|v| matches!(v, DetectionValue::FieldRef { field, .. } if self.matches_field(Some(field), run)))
    }
}
