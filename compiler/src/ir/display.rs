//! The printable form of the IR, used in snapshots and `vigil` debugging output. One node per line, indented.

use super::{Expr, Predicate, Rule, StrOp, Test};
use crate::ir::value::{Part, SigmaString};
use std::fmt::{self, Write};

/// Quotes a value as Sigma authors write it: single quotes, `''` for a quote, backslashes as they are.
/// Control characters (NULs of `wide`) are shown as `\u{..}`. Globs show their wildcards bare and escape
/// literal ones; other operators hold no wildcards, so their text is shown as is.
fn quoted(value: &SigmaString, glob: bool) -> String {
    let text = if glob {
        value.to_string()
    } else {
        value
            .parts
            .iter()
            .map(|part| match part {
                Part::Lit(s) => s.clone(),
                Part::Placeholder(name) => format!("%{name}%"),
                Part::AnyRun => "*".into(),
                Part::AnyChar => "?".into(),
            })
            .collect()
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field.as_deref().unwrap_or("<keyword>");
        match &self.test {
            Test::Str { op, value, cased } => {
                write!(f, "{field} {} {}", op.name(), quoted(value, *op == StrOp::Glob))?;
                if *cased {
                    f.write_str(" cased")?;
                }
                Ok(())
            }
            Test::Num(n) => write!(f, "{field} == {n}"),
            Test::Bool(b) => write!(f, "{field} == {b}"),
            Test::Null => write!(f, "{field} is null"),
            Test::Exists => write!(f, "{field} exists"),
            Test::Regex { pattern, flags } => {
                write!(f, "{field} re /{pattern}/")?;
                for (on, flag) in [(flags.ignore_case, 'i'), (flags.multi_line, 'm'), (flags.dot_all, 's')] {
                    if on {
                        f.write_char(flag)?;
                    }
                }
                Ok(())
            }
            Test::Cidr(net) => write!(f, "{field} cidr {net}"),
            Test::Compare { op, value } => write!(f, "{field} {} {value}", op.symbol()),
            Test::TimePart { unit, value } => write!(f, "{field}.{} == {value}", unit.name()),
            Test::QueryExpression { expression, id } => write!(f, "{field} query {expression:?} id={id}"),
            Test::FieldRef { field: other, op, cased } => {
                let op = if *op == StrOp::Exact { "==" } else { op.name() };
                write!(f, "{field} {op} field({other})")?;
                if *cased {
                    f.write_str(" cased")?;
                }
                Ok(())
            }
        }
    }
}

fn write_tree(f: &mut fmt::Formatter<'_>, expr: &Expr, indent: usize) -> fmt::Result {
    let pad = "  ".repeat(indent);
    match expr {
        Expr::Const(c) => writeln!(f, "{pad}{c}"),
        Expr::Pred(p) => writeln!(f, "{pad}{p}"),
        Expr::Not(inner) => {
            writeln!(f, "{pad}not")?;
            write_tree(f, inner, indent + 1)
        }
        Expr::And(items) | Expr::Or(items) => {
            writeln!(f, "{pad}{}", if matches!(expr, Expr::And(_)) { "and" } else { "or" })?;
            items.iter().try_for_each(|item| write_tree(f, item, indent + 1))
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_tree(f, self, 0)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "title: {}", self.meta.title)?;
        if let Some(id) = &self.meta.id {
            writeln!(f, "id: {id}")?;
        }
        if let Some(level) = self.meta.level {
            writeln!(f, "level: {}", level.as_str())?;
        }
        if let Some(status) = self.meta.status {
            writeln!(f, "status: {}", status.as_str())?;
        }
        writeln!(f, "logsource: {}", self.logsource)?;
        for condition in &self.condition_source {
            writeln!(f, "condition: {condition}")?;
        }
        writeln!(f, "expr:")?;
        write_tree(f, &self.expr, 1)
    }
}
