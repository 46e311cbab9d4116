//! The tree walk every target shares: AND, OR and NOT with grouping, lists of values on one field, constants.
//! Targets supply the spelling and their leaves through [`Language`].

use super::text::{pattern, Piece};
use crate::diagnostic::Diagnostic;
use crate::ir::value::SigmaString;
use crate::ir::{Expr, Predicate, StrOp, Test};

/// What a target spells and how it renders single tests.
pub trait Language {
    /// `AND` between operands, with its spaces.
    fn and(&self) -> &'static str;
    /// `OR` between operands, with its spaces.
    fn or(&self) -> &'static str;
    /// The negation of an operand; `compound` when it is an AND or OR (not grouped yet: [`Language::group`]).
    fn not(&self, operand: String, compound: bool) -> String {
        let operand = if compound { self.group(operand) } else { operand };
        self.negate(operand)
    }
    /// The negation of an operand that needs no grouping (a single test or a group).
    fn negate(&self, operand: String) -> String;
    /// A constant (only an empty `all of` or a dropped item leaves one).
    fn constant(&self, value: bool) -> String;
    /// One test on one field, or on any value when `field` is `None` (keywords).
    fn predicate(&self, field: Option<&str>, test: &Test) -> Result<String, Diagnostic>;
    /// Two or more uncased, wildcard-free string tests for equality on one field, as one list test. `None`: the
    /// target spells them one by one.
    fn in_list(&self, _field: &str, _values: &[&str]) -> Option<String> {
        None
    }
    /// Two or more uncased string tests of any shape on one field (`Image: ['*\\a.exe', 'b*']`), as one list
    /// test, for targets whose lists take wildcards. `None`: [`Language::in_list`] or one by one.
    fn pattern_list(&self, _field: &str, _patterns: &[Vec<Piece>]) -> Result<Option<String>, Diagnostic> {
        Ok(None)
    }
    fn group(&self, inner: String) -> String {
        format!("({inner})")
    }
    /// The most operands one AND or OR may have: longer ones are split into groups of this size, so that
    /// engines that parse `a OR b OR ...` into a deep tree (SQLite stops at depth 1,000) get a shallow one.
    fn max_operands(&self) -> usize {
        usize::MAX
    }
}

/// Renders an expression. Every compound operand of a compound expression is grouped, whatever the target's
/// precedence rules: the output reads the same in every language (Splunk's OR binds tighter than its AND).
pub fn render(lang: &dyn Language, expr: &Expr) -> Result<String, Diagnostic> {
    match expr {
        Expr::Const(b) => Ok(lang.constant(*b)),
        Expr::Pred(p) => lang.predicate(p.field.as_deref(), &p.test),
        Expr::Not(inner) => Ok(lang.not(render(lang, inner)?, matches!(**inner, Expr::And(_) | Expr::Or(_)))),
        Expr::And(items) => junction(lang, items, true),
        Expr::Or(items) => junction(lang, items, false),
    }
}

/// The operands of an AND (`is_and`) or an OR, joined. More operands than the target takes in one junction are
/// split into groups of at most that many, and the groups grouped again until one junction holds them all.
fn junction(lang: &dyn Language, items: &[Expr], is_and: bool) -> Result<String, Diagnostic> {
    let max = lang.max_operands().max(2);
    let joiner = if is_and { lang.and() } else { lang.or() };
    if items.len() <= max {
        return if is_and { and_operands(lang, items) } else { or_operands(lang, items) };
    }
    let mut parts = items
        .chunks(max)
        .map(|chunk| match chunk {
            [one] => operand(lang, one),
            many => junction(lang, many, is_and).map(|text| lang.group(text)),
        })
        .collect::<Result<Vec<String>, Diagnostic>>()?;
    while parts.len() > max {
        parts = parts
            .chunks(max)
            .map(|chunk| match chunk {
                [one] => one.clone(),
                many => lang.group(many.join(joiner)),
            })
            .collect();
    }
    Ok(parts.join(joiner))
}

fn and_operands(lang: &dyn Language, items: &[Expr]) -> Result<String, Diagnostic> {
    let parts: Result<Vec<_>, _> = items.iter().map(|i| operand(lang, i)).collect();
    Ok(parts?.join(lang.and()))
}

fn or_operands(lang: &dyn Language, items: &[Expr]) -> Result<String, Diagnostic> {
    let mut parts = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        // A run of string tests on one field becomes one list test where the target has one: a list with
        // wildcards, else lists of the exact values in it. Each run is looked at once (lists of
        // thousands of hashes must not cost a square).
        let Some((field, _)) = pattern_member(&items[i]) else {
            parts.push(operand(lang, &items[i])?);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while items.get(j).and_then(pattern_member).is_some_and(|(f, _)| f == field) {
            j += 1;
        }
        let run = &items[i..j];
        i = j;
        if run.len() > 1 {
            let patterns: Result<Vec<Vec<Piece>>, Diagnostic> =
                run.iter().filter_map(pattern_member).map(|(_, p)| p).collect();
            if let Some(list) = lang.pattern_list(field, &patterns?)? {
                parts.push(list);
                continue;
            }
        }
        let mut k = 0;
        while k < run.len() {
            let mut values = Vec::new();
            while let Some((_, v)) = run.get(k + values.len()).and_then(list_member) {
                values.push(v);
            }
            if values.len() > 1 {
                if let Some(list) = lang.in_list(field, &values) {
                    parts.push(list);
                    k += values.len();
                    continue;
                }
            }
            parts.push(operand(lang, &run[k])?);
            k += 1;
        }
    }
    Ok(parts.join(lang.or()))
}

fn operand(lang: &dyn Language, expr: &Expr) -> Result<String, Diagnostic> {
    let text = render(lang, expr)?;
    Ok(match expr {
        Expr::And(_) | Expr::Or(_) => lang.group(text),
        _ => text,
    })
}

/// `field == "text"`, uncased and without wildcards.
fn list_member(expr: &Expr) -> Option<(&str, &str)> {
    match expr {
        Expr::Pred(p) => match p.as_ref() {
            Predicate { field: Some(field), test: Test::Str { op: StrOp::Exact, value, cased: false } } => {
                Some((field.as_str(), plain(value)?))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `field` tested against a string pattern, uncased.
fn pattern_member(expr: &Expr) -> Option<(&str, Result<Vec<Piece>, Diagnostic>)> {
    match expr {
        Expr::Pred(p) => match p.as_ref() {
            Predicate { field: Some(field), test: Test::Str { op, value, cased: false } } => {
                Some((field.as_str(), pattern(*op, value)))
            }
            _ => None,
        },
        _ => None,
    }
}

fn plain(value: &SigmaString) -> Option<&str> {
    value.as_plain()
}
