//! Rule documents -> IR: identifiers resolved, `x of` expanded, values turned into predicates.
//!
//! Lowering cannot fail: `rule::parse_rule` already checked every name the conditions use.

use crate::condition::{Condition, Quantifier};
use crate::ir::{self, Expr, StrOp, Test};
use crate::rule::detection::{Detection, DetectionItem, NamedDetection};
use crate::rule::value::Value;
use crate::rule::{ParsedCondition, SigmaRule};

/// Lowers a rule to the IR. Several conditions are OR-ed.
pub fn lower(rule: SigmaRule) -> ir::Rule {
    let expr = lower_conditions(&rule.detections, &rule.conditions);
    ir::Rule {
        condition_source: rule.conditions.into_iter().map(|c| c.source).collect(),
        meta: rule.meta,
        logsource: rule.logsource,
        expr,
    }
}

/// Lowers named detections and their conditions to one expression (also used for filters).
pub fn lower_conditions(detections: &[NamedDetection], conditions: &[ParsedCondition]) -> Expr {
    // Each detection is lowered once and cloned where the condition names it again.
    let lowered: Vec<Expr> = detections
        .iter()
        .map(|d| lower_detection(&d.detection))
        .collect();
    let resolve = |name: &str| {
        detections
            .iter()
            .position(|d| d.name == name)
            .map(|i| lowered[i].clone())
    };
    Expr::or(
        conditions
            .iter()
            .map(|c| lower_condition(&c.tree, detections, &resolve))
            .collect(),
    )
}

fn lower_condition(
    condition: &Condition,
    detections: &[NamedDetection],
    resolve: &dyn Fn(&str) -> Option<Expr>,
) -> Expr {
    match condition {
        // A name that does not resolve was reported by `parse_rule`; it cannot reach here from checked rules.
        Condition::Ident(name) => resolve(name).unwrap_or(Expr::Const(false)),
        Condition::Selector { quantifier, target } => {
            let selected: Vec<Expr> = detections
                .iter()
                .filter(|d| target.selects(&d.name))
                .filter_map(|d| resolve(&d.name))
                .collect();
            match quantifier {
                Quantifier::Any => Expr::or(selected),
                Quantifier::All => Expr::and(selected),
            }
        }
        Condition::Not(inner) => Expr::not(lower_condition(inner, detections, resolve)),
        Condition::And(items) => Expr::and(
            items
                .iter()
                .map(|i| lower_condition(i, detections, resolve))
                .collect(),
        ),
        Condition::Or(items) => Expr::or(
            items
                .iter()
                .map(|i| lower_condition(i, detections, resolve))
                .collect(),
        ),
    }
}

pub fn lower_detection(detection: &Detection) -> Expr {
    match detection {
        Detection::AllOf(items) => Expr::and(items.iter().map(lower_item).collect()),
        Detection::AnyOf(alternatives) => {
            Expr::or(alternatives.iter().map(lower_detection).collect())
        }
    }
}

pub fn lower_item(item: &DetectionItem) -> Expr {
    let values: Vec<Expr> = item
        .values
        .iter()
        .map(|v| lower_value(&item.field, v))
        .collect();
    let combined = if item.all {
        Expr::and(values)
    } else {
        Expr::or(values)
    };
    if item.negated {
        Expr::not(combined)
    } else {
        combined
    }
}

fn lower_value(field: &Option<String>, value: &Value) -> Expr {
    let test = match value {
        Value::Str { value, cased } => Test::from_string(value, *cased),
        Value::Num(n) => Test::Num(*n),
        Value::Bool(b) => Test::Bool(*b),
        Value::Null => Test::Null,
        Value::Regex { pattern, flags } => Test::Regex {
            pattern: pattern.clone(),
            flags: *flags,
        },
        Value::Cidr(net) => Test::Cidr(*net),
        Value::Compare { op, value } => Test::Compare {
            op: *op,
            value: *value,
        },
        Value::TimePart { unit, value } => Test::TimePart {
            unit: *unit,
            value: *value,
        },
        Value::FieldRef {
            field: other,
            any_before,
            any_after,
            cased,
        } => {
            let op = match (any_before, any_after) {
                (false, false) => StrOp::Exact,
                (false, true) => StrOp::Prefix,
                (true, false) => StrOp::Suffix,
                (true, true) => StrOp::Contains,
            };
            Test::FieldRef {
                field: other.clone(),
                op,
                cased: *cased,
            }
        }
        Value::Exists(true) => Test::Exists,
        Value::Exists(false) => return Expr::not(Expr::pred(field.clone(), Test::Exists)),
        // Alternatives stay OR-ed, even under `all`.
        Value::Expansion(items) => {
            return Expr::or(items.iter().map(|v| lower_value(field, v)).collect())
        }
    };
    Expr::pred(field.clone(), test)
}
