//! Why a rule did or did not match one event (`vigil explain`): its log source, whether the index and the
//! literal prefilter let it through, each identifier's value and each detection item with the event's value.
//! Every test is decided by the matcher's own programs, compiled from the rule's IR.

use crate::fields::FieldTable;
use crate::program::{compile_within, Program};
use crate::regexes::Budget;
use crate::ruleset::{DecodedEvent, RuleSet};
use vigil_compiler::ir::{self, Expr};

/// Expected values shown per item before "… and N more".
const VALUES_SHOWN: usize = 12;

/// What one rule made of one event.
#[derive(Debug, serde::Serialize)]
pub struct Explanation {
    pub matched: bool,
    /// Whether the rule runs on the event's log source at all.
    pub logsource_admitted: bool,
    /// Whether the index (Channel, EventID) and the literal prefilter let the rule through to its program (a rule
    /// they rule out cannot match).
    pub candidate: bool,
    pub identifiers: Vec<IdentifierValue>,
    pub items: Vec<Item>,
}

#[derive(Debug, serde::Serialize)]
pub struct IdentifierValue {
    pub name: String,
    pub value: bool,
    /// Named by the condition outside any `not` (a selection rather than a filter).
    pub selects: bool,
}

/// One detection item of an identifier: a field with its tests (the values of a list are alternatives), or a
/// group of tests on several fields.
#[derive(Debug, serde::Serialize)]
pub struct Item {
    pub identifier: String,
    pub field: Option<String>,
    /// The tests as the IR writes them (`ImageLoaded endswith 'wbemcomn.dll'`), at most `VALUES_SHOWN`.
    pub expected: Vec<String>,
    /// How many tests were not listed.
    pub more: usize,
    /// The event's value of the field (`null` when the event lacks it).
    pub value: serde_json::Value,
    pub result: bool,
}

fn predicates(expr: &Expr) -> Vec<String> {
    let mut all = Vec::new();
    expr.visit_predicates(&mut |p| all.push(p.to_string()));
    all
}

/// The one field every test of `expr` reads, if there is one.
fn single_field(expr: &Expr) -> Option<String> {
    let mut fields = Vec::new();
    expr.visit_predicates(&mut |p| fields.push(p.field.clone()));
    let first = fields.first()?.clone()?;
    fields.iter().all(|f| f.as_deref() == Some(first.as_str())).then_some(first)
}

impl RuleSet {
    /// Explains compiled rule `index` (compiled from `rule`) on a decoded event.
    pub fn explain(&self, index: u32, rule: &ir::Rule, decoded: &DecodedEvent<'_>) -> Explanation {
        let event = &decoded.event;
        // The identifiers read only fields the rule reads: interning them again gives the same ids.
        let mut fields: FieldTable = self.fields.clone();
        let mut budget = Budget::default();
        let mut run = |expr: &Expr| -> bool {
            let program: Option<Program> = compile_within(expr, &mut fields, &mut budget).ok();
            program.is_some_and(|p| p.eval(event))
        };
        let mut identifiers = Vec::new();
        let mut items = Vec::new();
        for identifier in &rule.identifiers {
            identifiers.push(IdentifierValue {
                name: identifier.name.clone(),
                value: run(&identifier.expr),
                selects: identifier.positive,
            });
            let operands: Vec<&Expr> = match &identifier.expr {
                Expr::And(parts) => parts.iter().collect(),
                other => vec![other],
            };
            for operand in operands {
                let mut expected = predicates(operand);
                let more = expected.len().saturating_sub(VALUES_SHOWN);
                expected.truncate(VALUES_SHOWN);
                let field = single_field(operand);
                let value = field
                    .as_deref()
                    .and_then(|f| self.fields.get(f))
                    .and_then(|id| event.get(id))
                    .map_or(serde_json::Value::Null, |v| v.to_json());
                items.push(Item {
                    identifier: identifier.name.clone(),
                    field,
                    expected,
                    more,
                    value,
                    result: run(operand),
                });
            }
        }
        Explanation {
            matched: self.rule_matches(index, event),
            logsource_admitted: self.admits(index, decoded),
            candidate: self.candidates(decoded).contains(&index),
            identifiers,
            items,
        }
    }
}
