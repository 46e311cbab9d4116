//! The normalised IR that the matcher and every backend consume.
//!
//! Identifiers are resolved and `x of` expanded; each leaf is a [`Predicate`] that keeps the intent of its
//! modifiers (exact, prefix, suffix, substring, glob, regex, cidr, ...). Boolean nodes are built only through
//! [`Expr::and`], [`Expr::or`] and [`Expr::negate`], which flatten and simplify, so consumers see canonical trees.

pub mod correlation;
mod display;
pub mod meta;
pub mod value;

use crate::ir::value::{CompareOp, Number, Part, RegexFlags, SigmaString, TimeUnit};
use meta::{LogSource, Meta};
use serde::{Deserialize, Serialize};

/// A boolean expression over predicates.
///
/// `Not`, `And` and `Or` hold types whose contents only this module can build, so every tree is canonical: it
/// comes from [`Expr::and`], [`Expr::or`] and [`Expr::negate`]. Consumers match on the variants and read the
/// operands through `Deref` (or take them with `into_vec` / `into_inner`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// Only the result of simplification (an empty `all of`, a dropped item); never written by users.
    Const(bool),
    Pred(Box<Predicate>),
    /// Never a `Not` or a constant.
    Not(Negated),
    /// Two or more operands, none of them an `And` or a constant.
    And(Operands),
    /// Two or more operands, none of them an `Or` or a constant.
    Or(Operands),
}

/// The operands of an `And` or an `Or`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operands(Vec<Expr>);

impl Operands {
    pub fn into_vec(self) -> Vec<Expr> {
        self.0
    }
}

impl<'a> IntoIterator for &'a Operands {
    type Item = &'a Expr;
    type IntoIter = std::slice::Iter<'a, Expr>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::ops::Deref for Operands {
    type Target = [Expr];
    fn deref(&self) -> &[Expr] {
        &self.0
    }
}

/// The operand of a `Not`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Negated(Box<Expr>);

impl Negated {
    pub fn into_inner(self) -> Expr {
        *self.0
    }
}

impl std::ops::Deref for Negated {
    type Target = Expr;
    fn deref(&self) -> &Expr {
        &self.0
    }
}

impl Expr {
    pub fn pred(field: Option<String>, test: Test) -> Expr {
        Expr::Pred(Box::new(Predicate { field, test }))
    }

    /// Conjunction: flattens nested `And`s, drops `true`, and is `false` if any operand is.
    pub fn and(operands: Vec<Expr>) -> Expr {
        Self::junction(operands, true)
    }

    /// Disjunction: flattens nested `Or`s, drops `false`, and is `true` if any operand is.
    pub fn or(operands: Vec<Expr>) -> Expr {
        Self::junction(operands, false)
    }

    fn junction(operands: Vec<Expr>, is_and: bool) -> Expr {
        // `identity` is the neutral constant (true for AND), `absorbing` the one that decides the result.
        let identity = is_and;
        let mut flat = Vec::with_capacity(operands.len());
        for operand in operands {
            match operand {
                Expr::Const(c) if c == identity => {}
                Expr::Const(c) => return Expr::Const(c),
                Expr::And(inner) if is_and => flat.extend(inner.0),
                Expr::Or(inner) if !is_and => flat.extend(inner.0),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Expr::Const(identity),
            1 => flat.pop().unwrap_or(Expr::Const(identity)),
            _ if is_and => Expr::And(Operands(flat)),
            _ => Expr::Or(Operands(flat)),
        }
    }

    /// The disjunction of `branches` with the operands every branch's conjunction shares taken out:
    /// `(a and x) or (b and x)` is `x and (a or b)`. For rules read from several log sources, whose forms differ
    /// only in the log-source conditions and the fields a source names differently: what they share is compiled
    /// and tested once.
    pub fn or_factored(branches: Vec<Expr>) -> Expr {
        let operands = |e: &Expr| -> Vec<Expr> {
            match e {
                Expr::And(items) => items.to_vec(),
                other => vec![other.clone()],
            }
        };
        let lists: Vec<Vec<Expr>> = branches.iter().map(operands).collect();
        let Some((first, others)) = lists.split_first() else { return Expr::Const(false) };
        let common: Vec<Expr> = first.iter().filter(|o| others.iter().all(|l| l.contains(o))).cloned().collect();
        if common.is_empty() {
            return Expr::or(branches);
        }
        let rests: Vec<Expr> =
            lists.into_iter().map(|l| Expr::and(l.into_iter().filter(|o| !common.contains(o)).collect())).collect();
        Expr::and(common.into_iter().chain(std::iter::once(Expr::or(rests))).collect())
    }

    /// Negation: `not not x` is `x`, `not true` is `false`.
    pub fn negate(operand: Expr) -> Expr {
        match operand {
            Expr::Not(inner) => inner.into_inner(),
            Expr::Const(c) => Expr::Const(!c),
            other => Expr::Not(Negated(Box::new(other))),
        }
    }

    /// Calls `f` on every predicate, depth first.
    pub fn visit_predicates<'e>(&'e self, f: &mut impl FnMut(&'e Predicate)) {
        match self {
            Expr::Const(_) => {}
            Expr::Pred(p) => f(p),
            Expr::Not(inner) => inner.visit_predicates(f),
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| i.visit_predicates(f)),
        }
    }
}

/// A test on one field (or, for keywords, on any value of the event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// `None` for keywords.
    pub field: Option<String>,
    pub test: Test,
}

/// How a string value is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StrOp {
    Exact,
    Prefix,
    Suffix,
    Contains,
    /// `*` / `?` inside the value: a general wildcard match.
    Glob,
}

impl StrOp {
    pub fn name(self) -> &'static str {
        match self {
            StrOp::Exact => "==",
            StrOp::Prefix => "startswith",
            StrOp::Suffix => "endswith",
            StrOp::Contains => "contains",
            StrOp::Glob => "glob",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Test {
    /// For `Exact`/`Prefix`/`Suffix`/`Contains`, `value` holds no wildcards (the edge `*`s became the operator);
    /// for `Glob`, it is the whole pattern. It may hold unresolved placeholders.
    Str {
        op: StrOp,
        value: SigmaString,
        cased: bool,
    },
    /// Equal to a number, or to a string that reads as that number.
    Num(Number),
    Bool(bool),
    /// Null or missing.
    Null,
    /// Present (even when null or empty).
    Exists,
    /// Unanchored, case-sensitive unless `flags.ignore_case`.
    Regex {
        pattern: String,
        flags: RegexFlags,
    },
    Cidr(ipnet::IpNet),
    Compare {
        op: CompareOp,
        value: Number,
    },
    /// A part of the field's timestamp equals `value`.
    TimePart {
        unit: TimeUnit,
        value: Number,
    },
    /// Compared with another field of the same event; `op` is never `Glob`.
    FieldRef {
        field: String,
        op: StrOp,
        cased: bool,
    },
    /// A backend expression set by a pipeline (`query_expression_placeholders`), with `{field}` and `{id}`.
    QueryExpression {
        expression: String,
        id: String,
    },
}

impl Test {
    /// Classifies a wildcard string by its shape: `abc` exact, `abc*` prefix, `*abc` suffix, `*abc*` contains,
    /// anything with an inner wildcard a glob. So `Image|endswith: \x.exe` and `Image: '*\x.exe'` are the same.
    pub fn from_string(value: SigmaString, cased: bool) -> Test {
        let mut parts = value.parts;
        let lead = parts.iter().take_while(|p| matches!(p, Part::AnyRun)).count();
        if lead == parts.len() {
            // Only stars (or the empty string).
            let op = if lead == 0 { StrOp::Exact } else { StrOp::Contains };
            return Test::Str { op, value: SigmaString::default(), cased };
        }
        let trail = parts.iter().rev().take_while(|p| matches!(p, Part::AnyRun)).count();
        let core = &parts[lead..parts.len() - trail];
        if core.iter().any(|p| matches!(p, Part::AnyRun | Part::AnyChar)) {
            // `**` means the same as `*`.
            parts.dedup_by(|a, b| matches!((a, b), (Part::AnyRun, Part::AnyRun)));
            return Test::Str { op: StrOp::Glob, value: SigmaString { parts }, cased };
        }
        let op = match (lead > 0, trail > 0) {
            (false, false) => StrOp::Exact,
            (false, true) => StrOp::Prefix,
            (true, false) => StrOp::Suffix,
            (true, true) => StrOp::Contains,
        };
        parts.truncate(parts.len() - trail);
        parts.drain(..lead);
        Test::Str { op, value: SigmaString { parts }, cased }
    }
}

/// A rule ready for the matcher or a backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub meta: Meta,
    pub logsource: LogSource,
    /// The condition strings as written, for people reading the IR.
    pub condition_source: Vec<String>,
    pub expr: Expr,
    /// Each detection identifier lowered on its own, in the rule's order: what a detection reports as matched and
    /// what `vigil explain` evaluates one by one. `expr` stays the only thing that decides a match.
    pub identifiers: Vec<Identifier>,
    /// Whether an identifier that selects holds on a match exactly when the tests it contributed to the match held:
    /// the condition is ANDs and NOTs of identifiers and ORs of single identifiers (`selection and not filter`,
    /// `1 of selection_*`), not an OR of conjunctions (`(a and b) or c`, where `b` can hold in a failed branch).
    pub identifiers_follow_match: bool,
}

/// A detection identifier of a rule (`selection`, `filter_main`, a pipeline's `_cond_0`) and its expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    pub name: String,
    pub expr: Expr,
    /// Some condition names it outside any `not`: it selects events (a filter under `not` does not).
    pub positive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str) -> Expr {
        Expr::pred(Some(name.into()), Test::Exists)
    }

    #[test]
    fn constructors_flatten_and_simplify() {
        assert_eq!(Expr::and(vec![leaf("a")]), leaf("a"));
        assert_eq!(Expr::and(vec![]), Expr::Const(true));
        assert_eq!(Expr::or(vec![]), Expr::Const(false));
        assert_eq!(
            Expr::and(vec![leaf("a"), Expr::and(vec![leaf("b"), leaf("c")])]),
            Expr::And(Operands(vec![leaf("a"), leaf("b"), leaf("c")]))
        );
        assert_eq!(Expr::or(vec![leaf("a"), Expr::Const(true)]), Expr::Const(true));
        assert_eq!(Expr::and(vec![leaf("a"), Expr::Const(true)]), leaf("a"));
        assert_eq!(Expr::negate(Expr::negate(leaf("a"))), leaf("a"));
        assert_eq!(Expr::negate(Expr::Const(false)), Expr::Const(true));
    }

    #[test]
    fn or_factored_takes_out_what_the_branches_share() {
        let (a, b, x, y) = (leaf("a"), leaf("b"), leaf("x"), leaf("y"));
        let sysmon = Expr::and(vec![a.clone(), x.clone(), y.clone()]);
        let security = Expr::and(vec![b.clone(), x.clone(), y.clone()]);
        assert_eq!(
            Expr::or_factored(vec![sysmon, security]),
            Expr::and(vec![x.clone(), y.clone(), Expr::or(vec![a.clone(), b.clone()])])
        );
        // Nothing shared: a plain OR; a branch that is all shared: the shared part alone.
        assert_eq!(Expr::or_factored(vec![a.clone(), b.clone()]), Expr::or(vec![a.clone(), b]));
        assert_eq!(Expr::or_factored(vec![x.clone(), Expr::and(vec![a, x.clone()])]), x);
    }

    fn shape(raw: &str) -> (StrOp, String) {
        match Test::from_string(SigmaString::parse(raw), false) {
            Test::Str { op, value, .. } => (op, value.to_string()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn string_shapes() {
        assert_eq!(shape("abc"), (StrOp::Exact, "abc".into()));
        assert_eq!(shape("abc*"), (StrOp::Prefix, "abc".into()));
        assert_eq!(shape(r"*\x.exe"), (StrOp::Suffix, r"\x.exe".into()));
        assert_eq!(shape("**abc**"), (StrOp::Contains, "abc".into()));
        assert_eq!(shape("a*b"), (StrOp::Glob, "a*b".into()));
        assert_eq!(shape("*a?b"), (StrOp::Glob, "*a?b".into()));
        assert_eq!(shape("a**b"), (StrOp::Glob, "a*b".into()));
        assert_eq!(shape("*"), (StrOp::Contains, "".into()));
        assert_eq!(shape(""), (StrOp::Exact, "".into()));
        assert_eq!(shape(r"a\*"), (StrOp::Exact, r"a\*".into()));
    }
}
