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
    let expr = lower_conditions(rule.detections, &rule.conditions);
    ir::Rule {
        condition_source: rule.conditions.into_iter().map(|c| c.source).collect(),
        meta: rule.meta,
        logsource: rule.logsource,
        expr,
    }
}

/// Lowers named detections and their conditions to one expression (also used for filters).
pub fn lower_conditions(detections: Vec<NamedDetection>, conditions: &[ParsedCondition]) -> Expr {
    let mut resolver = Resolver::new(detections, conditions);
    Expr::or(conditions.iter().map(|c| resolver.condition(&c.tree)).collect())
}

/// Hands out each detection's expression: lowered once, cloned for all but its last reference.
struct Resolver {
    names: Vec<String>,
    slots: Vec<Option<Expr>>,
    remaining: Vec<usize>,
}

impl Resolver {
    fn new(detections: Vec<NamedDetection>, conditions: &[ParsedCondition]) -> Self {
        let mut remaining = vec![0; detections.len()];
        for condition in conditions {
            count_references(&condition.tree, &detections, &mut remaining);
        }
        let (names, slots) = detections.into_iter().map(|d| (d.name, Some(lower_detection(d.detection)))).unzip();
        Resolver { names, slots, remaining }
    }

    fn take(&mut self, index: usize) -> Expr {
        self.remaining[index] = self.remaining[index].saturating_sub(1);
        let expr = if self.remaining[index] == 0 { self.slots[index].take() } else { self.slots[index].clone() };
        // A name that does not resolve was reported by `parse_rule`; checked rules never get here.
        expr.unwrap_or(Expr::Const(false))
    }

    fn condition(&mut self, condition: &Condition) -> Expr {
        match condition {
            Condition::Ident(name) => match self.names.iter().position(|n| n == name) {
                Some(index) => self.take(index),
                None => Expr::Const(false),
            },
            Condition::Selector { quantifier, target } => {
                let selected: Vec<usize> = (0..self.names.len()).filter(|&i| target.selects(&self.names[i])).collect();
                let operands = selected.into_iter().map(|i| self.take(i)).collect();
                match quantifier {
                    Quantifier::Any => Expr::or(operands),
                    Quantifier::All => Expr::and(operands),
                }
            }
            Condition::Not(inner) => Expr::negate(self.condition(inner)),
            Condition::And(items) => Expr::and(items.iter().map(|i| self.condition(i)).collect()),
            Condition::Or(items) => Expr::or(items.iter().map(|i| self.condition(i)).collect()),
        }
    }
}

fn count_references(condition: &Condition, detections: &[NamedDetection], counts: &mut [usize]) {
    match condition {
        Condition::Ident(name) => {
            if let Some(i) = detections.iter().position(|d| &d.name == name) {
                counts[i] += 1;
            }
        }
        Condition::Selector { target, .. } => {
            for (i, d) in detections.iter().enumerate() {
                if target.selects(&d.name) {
                    counts[i] += 1;
                }
            }
        }
        Condition::Not(inner) => count_references(inner, detections, counts),
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|i| count_references(i, detections, counts))
        }
    }
}

pub fn lower_detection(detection: Detection) -> Expr {
    match detection {
        Detection::AllOf(items) => Expr::and(items.into_iter().map(lower_item).collect()),
        Detection::AnyOf(alternatives) => Expr::or(alternatives.into_iter().map(lower_detection).collect()),
    }
}

pub fn lower_item(item: DetectionItem) -> Expr {
    let field = item.field;
    let values: Vec<Expr> = item.values.into_iter().map(|v| lower_value(&field, v)).collect();
    let combined = if item.all { Expr::and(values) } else { Expr::or(values) };
    if item.negated {
        Expr::negate(combined)
    } else {
        combined
    }
}

fn lower_value(field: &Option<String>, value: Value) -> Expr {
    let test = match value {
        Value::Str { value, cased } => Test::from_string(value, cased),
        Value::Num(n) => Test::Num(n),
        Value::Bool(b) => Test::Bool(b),
        Value::Null => Test::Null,
        Value::Regex { pattern, flags } => Test::Regex { pattern, flags },
        Value::Cidr(net) => Test::Cidr(net),
        Value::Compare { op, value } => Test::Compare { op, value },
        Value::TimePart { unit, value } => Test::TimePart { unit, value },
        Value::FieldRef { field: other, any_before, any_after, cased } => {
            let op = match (any_before, any_after) {
                (false, false) => StrOp::Exact,
                (false, true) => StrOp::Prefix,
                (true, false) => StrOp::Suffix,
                (true, true) => StrOp::Contains,
            };
            Test::FieldRef { field: other, op, cased }
        }
        Value::Exists(true) => Test::Exists,
        Value::Exists(false) => return Expr::negate(Expr::pred(field.clone(), Test::Exists)),
        // Alternatives stay OR-ed, even under `all`.
        Value::Expansion(items) => return Expr::or(items.into_iter().map(|v| lower_value(field, v)).collect()),
    };
    Expr::pred(field.clone(), test)
}
