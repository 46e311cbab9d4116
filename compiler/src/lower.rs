//! Rule documents -> IR: identifiers resolved, `x of` expanded, values turned into predicates.
//!
//! Lowering cannot fail: `rule::parse_rule` already checked every name the conditions use.
//!
//! A detection left empty by a pipeline (`drop_detection_item`) lowers to nothing and disappears from whatever
//! contains it, as in pySigma: `selection and not filter` with `filter` dropped is `selection`. A rule left with
//! no condition at all matches nothing.

use crate::condition::{Condition, Quantifier};
use crate::ir::{self, Expr, StrOp, Test};
use crate::rule::detection::{Detection, DetectionItem, NamedDetection};
use crate::rule::value::DetectionValue;
use crate::rule::{ParsedCondition, SigmaRule};

/// Lowers a rule to the IR. Several conditions are OR-ed.
pub fn lower(rule: SigmaRule) -> ir::Rule {
    let identifiers = identifiers(&rule.detections, &rule.conditions);
    let identifiers_follow_match = matches!(&rule.conditions[..], [only] if follows_match(&only.tree));
    let expr = lower_conditions(rule.detections, &rule.conditions);
    ir::Rule {
        condition_source: rule.conditions.into_iter().map(|c| c.source).collect(),
        meta: rule.meta,
        logsource: rule.logsource,
        expr,
        identifiers,
        identifiers_follow_match,
    }
}

/// See [`ir::Rule::identifiers_follow_match`].
fn follows_match(condition: &Condition) -> bool {
    // An OR's operand is one identifier or any of several (`all of` is a conjunction: not atomic).
    let atomic = |c: &Condition| match c {
        Condition::Ident(_) => true,
        Condition::Selector { quantifier, .. } => *quantifier != Quantifier::All,
        Condition::Not(inner) => matches!(**inner, Condition::Ident(_) | Condition::Selector { .. }),
        _ => false,
    };
    match condition {
        Condition::Ident(_) | Condition::Selector { .. } => true,
        Condition::Not(inner) => !has_not(inner),
        Condition::And(items) => items.iter().all(follows_match),
        Condition::Or(items) => items.iter().all(atomic),
    }
}

fn has_not(condition: &Condition) -> bool {
    match condition {
        Condition::Not(_) => true,
        Condition::And(items) | Condition::Or(items) => items.iter().any(has_not),
        _ => false,
    }
}

/// Each detection lowered on its own (those a pipeline emptied left out), and whether a condition names it outside
/// any `not`.
fn identifiers(detections: &[NamedDetection], conditions: &[ParsedCondition]) -> Vec<ir::Identifier> {
    fn mark(condition: &Condition, detections: &[NamedDetection], negated: bool, positive: &mut [bool]) {
        match condition {
            Condition::Ident(name) => {
                if let Some(i) = detections.iter().position(|d| &d.name == name) {
                    positive[i] |= !negated;
                }
            }
            Condition::Selector { target, .. } => {
                for (i, d) in detections.iter().enumerate() {
                    positive[i] |= !negated && target.selects(&d.name);
                }
            }
            Condition::Not(inner) => mark(inner, detections, !negated, positive),
            Condition::And(items) | Condition::Or(items) => {
                items.iter().for_each(|i| mark(i, detections, negated, positive))
            }
        }
    }
    let mut positive = vec![false; detections.len()];
    conditions.iter().for_each(|c| mark(&c.tree, detections, false, &mut positive));
    detections
        .iter()
        .zip(positive)
        .filter_map(|(d, positive)| {
            let expr = lower_detection(d.detection.clone())?;
            Some(ir::Identifier { name: d.name.clone(), expr, positive })
        })
        .collect()
}

/// Lowers named detections and their conditions to one expression (also used for filters).
pub fn lower_conditions(detections: Vec<NamedDetection>, conditions: &[ParsedCondition]) -> Expr {
    let mut resolver = Resolver::new(detections, conditions);
    let lowered: Vec<Expr> = conditions.iter().filter_map(|c| resolver.condition(&c.tree)).collect();
    if lowered.is_empty() {
        return Expr::Const(false);
    }
    Expr::or(lowered)
}

/// Joins the parts that remain; nothing remains when every part was dropped.
fn join(parts: Vec<Option<Expr>>, and: bool) -> Option<Expr> {
    let parts: Vec<Expr> = parts.into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    Some(if and { Expr::and(parts) } else { Expr::or(parts) })
}

/// Hands out each detection's expression: lowered once, cloned for all but its last reference.
struct Resolver {
    names: Vec<String>,
    /// Each detection's expression; `None` once taken by its last reference, or if a pipeline emptied it.
    slots: Vec<Option<Expr>>,
    remaining: Vec<usize>,
}

impl Resolver {
    fn new(detections: Vec<NamedDetection>, conditions: &[ParsedCondition]) -> Self {
        let mut remaining = vec![0; detections.len()];
        for condition in conditions {
            count_references(&condition.tree, &detections, &mut remaining);
        }
        let (names, slots) = detections.into_iter().map(|d| (d.name, lower_detection(d.detection))).unzip();
        Resolver { names, slots, remaining }
    }

    /// The detection's expression (`None` if a pipeline emptied it).
    fn take(&mut self, index: usize) -> Option<Expr> {
        self.remaining[index] = self.remaining[index].saturating_sub(1);
        if self.remaining[index] == 0 {
            self.slots[index].take()
        } else {
            self.slots[index].clone()
        }
    }

    fn condition(&mut self, condition: &Condition) -> Option<Expr> {
        match condition {
            // A name that does not resolve was reported by `parse_rule`; checked rules never get here.
            Condition::Ident(name) => self.names.iter().position(|n| n == name).and_then(|index| self.take(index)),
            Condition::Selector { quantifier, target } => {
                let selected: Vec<usize> = (0..self.names.len()).filter(|&i| target.selects(&self.names[i])).collect();
                let operands = selected.into_iter().map(|i| self.take(i)).collect();
                join(operands, *quantifier == Quantifier::All)
            }
            Condition::Not(inner) => self.condition(inner).map(Expr::negate),
            Condition::And(items) => join(items.iter().map(|i| self.condition(i)).collect(), true),
            Condition::Or(items) => join(items.iter().map(|i| self.condition(i)).collect(), false),
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

/// Lowers a detection; `None` when a pipeline left it empty.
pub fn lower_detection(detection: Detection) -> Option<Expr> {
    match detection {
        Detection::Item(item) => Some(lower_item(item)),
        Detection::AllOf(children) => join(children.into_iter().map(lower_detection).collect(), true),
        Detection::AnyOf(children) => join(children.into_iter().map(lower_detection).collect(), false),
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

fn lower_value(field: &Option<String>, value: DetectionValue) -> Expr {
    let test = match value {
        DetectionValue::Str { value, cased } => Test::from_string(value, cased),
        DetectionValue::Num(n) => Test::Num(n),
        DetectionValue::Bool(b) => Test::Bool(b),
        DetectionValue::Null => Test::Null,
        DetectionValue::Regex { pattern, flags } => Test::Regex { pattern, flags },
        DetectionValue::Cidr(net) => Test::Cidr(net),
        DetectionValue::Compare { op, value } => Test::Compare { op, value },
        DetectionValue::TimePart { unit, value } => Test::TimePart { unit, value },
        DetectionValue::FieldRef { field: other, any_before, any_after, cased } => {
            let op = match (any_before, any_after) {
                (false, false) => StrOp::Exact,
                (false, true) => StrOp::Prefix,
                (true, false) => StrOp::Suffix,
                (true, true) => StrOp::Contains,
            };
            Test::FieldRef { field: other, op, cased }
        }
        DetectionValue::QueryExpression { expression, id } => Test::QueryExpression { expression, id },
        DetectionValue::Exists(true) => Test::Exists,
        DetectionValue::Exists(false) => return Expr::negate(Expr::pred(field.clone(), Test::Exists)),
        // Alternatives stay OR-ed, even under `all`.
        DetectionValue::Expansion(items) => {
            return Expr::or(items.into_iter().map(|v| lower_value(field, v)).collect())
        }
    };
    Expr::pred(field.clone(), test)
}
