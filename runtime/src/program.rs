//! IR -> matcher program, and its evaluation on one event.
//!
//! Each leaf is planned once: exact, prefix, suffix and substring tests on folded (lower-case) text, globs and
//! regexes as compiled `regex`es, and an OR of string tests on one field becomes one multi-literal matcher (hash
//! set for exact values, Aho-Corasick for substrings). Semantics are in compiler/DESIGN.md, "Matching".

use crate::event::{Event, FieldId, FieldTable, Value};
use aho_corasick::AhoCorasick;
use std::collections::HashSet;
use vigil_compiler::ir::{Expr, Predicate, StrOp, Test};
use vigil_compiler::rule::value::{CompareOp, Number, Part, RegexFlags, SigmaString, TimeUnit};

/// A compiled boolean program.
#[derive(Debug)]
pub enum Node {
    Const(bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Field {
        field: FieldId,
        test: Leaf,
    },
    /// A keyword: any string or number anywhere in the event.
    Keyword(StrMatch),
}

#[derive(Debug)]
pub enum Leaf {
    Str(StrMatch),
    Num(f64),
    Bool(bool),
    Null,
    Exists,
    Regex(regex::Regex),
    Cidr(ipnet::IpNet),
    Compare(CompareOp, f64),
    TimePart(TimeUnit, i64),
    FieldRef { other: FieldId, op: StrOp, cased: bool },
}

/// String tests, on folded text unless `cased`.
#[derive(Debug)]
pub struct StrMatch {
    cased: bool,
    exact: HashSet<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    contains: Option<AhoCorasick>,
    globs: Vec<regex::Regex>,
}

impl StrMatch {
    fn is_match(&self, text: &str) -> bool {
        self.exact.contains(text)
            || self.prefixes.iter().any(|p| text.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| text.ends_with(s.as_str()))
            || self.contains.as_ref().is_some_and(|ac| ac.is_match(text))
            || self.globs.iter().any(|g| g.is_match(text))
    }

    fn matches_value(&self, value: &Value<'_>) -> bool {
        match value {
            Value::List(items) => items.iter().any(|v| self.matches_value(v)),
            Value::Bool(b) => self.is_match(if *b { "true" } else { "false" }),
            _ => {
                let text = if self.cased { value.text() } else { value.folded() };
                text.is_some_and(|t| self.is_match(t))
            }
        }
    }
}

/// Why a rule cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError(pub String);

fn literal(value: &SigmaString) -> Result<String, CompileError> {
    let mut out = String::new();
    for part in &value.parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Placeholder(name) => {
                return Err(CompileError(format!(
                    "unresolved placeholder `%{name}%`: resolve it with a pipeline (value_placeholders, wildcard_placeholders)"
                )))
            }
            Part::AnyRun | Part::AnyChar => out.push(if matches!(part, Part::AnyRun) { '*' } else { '?' }),
        }
    }
    Ok(out)
}

fn glob_regex(value: &SigmaString, cased: bool) -> Result<regex::Regex, CompileError> {
    let mut pattern = String::from("(?s)^");
    for part in &value.parts {
        match part {
            Part::Lit(s) => {
                let s = if cased { s.clone() } else { s.to_lowercase() };
                pattern.push_str(&regex::escape(&s));
            }
            Part::AnyRun => pattern.push_str(".*"),
            Part::AnyChar => pattern.push('.'),
            Part::Placeholder(name) => {
                return Err(CompileError(format!("unresolved placeholder `%{name}%`: resolve it with a pipeline")))
            }
        }
    }
    pattern.push('$');
    regex::Regex::new(&pattern).map_err(|e| CompileError(format!("glob `{value}`: {e}")))
}

/// Collects string tests into one matcher.
#[derive(Default)]
struct StrBuilder {
    exact: HashSet<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    contains: Vec<String>,
    globs: Vec<regex::Regex>,
}

impl StrBuilder {
    fn add(&mut self, op: StrOp, value: &SigmaString, cased: bool) -> Result<(), CompileError> {
        if op == StrOp::Glob {
            self.globs.push(glob_regex(value, cased)?);
            return Ok(());
        }
        let text = literal(value)?;
        let text = if cased { text } else { text.to_lowercase() };
        match op {
            StrOp::Exact => drop(self.exact.insert(text)),
            StrOp::Prefix => self.prefixes.push(text),
            StrOp::Suffix => self.suffixes.push(text),
            _ => self.contains.push(text),
        }
        Ok(())
    }

    fn build(self, cased: bool) -> Result<StrMatch, CompileError> {
        // `contains ''` matches any text: an empty pattern is a match everywhere.
        let contains = if self.contains.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&self.contains).map_err(|e| CompileError(format!("substring matcher: {e}")))?)
        };
        Ok(StrMatch {
            cased,
            exact: self.exact,
            prefixes: self.prefixes,
            suffixes: self.suffixes,
            contains,
            globs: self.globs,
        })
    }
}

fn regex(pattern: &str, flags: RegexFlags) -> Result<regex::Regex, CompileError> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .size_limit(50 << 20)
        .build()
        .map_err(|e| CompileError(format!("regular expression `{pattern}`: {e}")))
}

/// Compiles an IR expression, interning the fields it reads.
pub fn compile(expr: &Expr, fields: &mut FieldTable) -> Result<Node, CompileError> {
    Ok(match expr {
        Expr::Const(b) => Node::Const(*b),
        Expr::Not(inner) => Node::Not(Box::new(compile(inner, fields)?)),
        Expr::And(items) => Node::And(items.iter().map(|i| compile(i, fields)).collect::<Result<_, _>>()?),
        Expr::Or(items) => compile_or(items, fields)?,
        Expr::Pred(p) => compile_predicate(p, fields)?,
    })
}

/// An OR: string tests on the same field (and case mode) merge into one matcher.
fn compile_or(items: &[Expr], fields: &mut FieldTable) -> Result<Node, CompileError> {
    let mut groups: Vec<(Option<String>, bool, StrBuilder)> = Vec::new();
    let mut others = Vec::new();
    for item in items {
        if let Expr::Pred(p) = item {
            if let Test::Str { op, value, cased } = &p.test {
                let group = match groups.iter_mut().position(|(f, c, _)| *f == p.field && *c == *cased) {
                    Some(i) => &mut groups[i].2,
                    None => {
                        groups.push((p.field.clone(), *cased, StrBuilder::default()));
                        &mut groups.last_mut().map(|g| &mut g.2).ok_or_else(|| CompileError("empty group".into()))?
                    }
                };
                group.add(*op, value, *cased)?;
                continue;
            }
        }
        others.push(compile(item, fields)?);
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(groups.len() + others.len());
    for (field, cased, builder) in groups {
        let matcher = builder.build(cased)?;
        nodes.push(match field {
            Some(name) => Node::Field { field: fields.intern(&name), test: Leaf::Str(matcher) },
            None => Node::Keyword(matcher),
        });
    }
    nodes.extend(others);
    Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Node::Const(false)) } else { Node::Or(nodes) })
}

fn number(n: &Number) -> f64 {
    n.as_f64()
}

fn compile_predicate(p: &Predicate, fields: &mut FieldTable) -> Result<Node, CompileError> {
    let Some(name) = &p.field else {
        return match &p.test {
            Test::Str { op, value, cased } => {
                let mut builder = StrBuilder::default();
                builder.add(*op, value, *cased)?;
                Ok(Node::Keyword(builder.build(*cased)?))
            }
            Test::Num(n) => {
                let mut builder = StrBuilder::default();
                builder.add(StrOp::Exact, &SigmaString::literal(n.to_string()), false)?;
                Ok(Node::Keyword(builder.build(false)?))
            }
            Test::Regex { pattern, flags } => {
                let mut builder = StrBuilder::default();
                builder.globs.push(regex(pattern, *flags)?);
                Ok(Node::Keyword(builder.build(true)?))
            }
            other => Err(CompileError(format!("{other:?} cannot be a keyword"))),
        };
    };
    let field = fields.intern(name);
    let test = match &p.test {
        Test::Str { op, value, cased } => {
            let mut builder = StrBuilder::default();
            builder.add(*op, value, *cased)?;
            Leaf::Str(builder.build(*cased)?)
        }
        Test::Num(n) => Leaf::Num(number(n)),
        Test::Bool(b) => Leaf::Bool(*b),
        Test::Null => Leaf::Null,
        Test::Exists => Leaf::Exists,
        Test::Regex { pattern, flags } => Leaf::Regex(regex(pattern, *flags)?),
        Test::Cidr(net) => Leaf::Cidr(*net),
        Test::Compare { op, value } => Leaf::Compare(*op, number(value)),
        Test::TimePart { unit, value } => Leaf::TimePart(*unit, number(value) as i64),
        Test::FieldRef { field: other, op, cased } => {
            Leaf::FieldRef { other: fields.intern(other), op: *op, cased: *cased }
        }
        Test::QueryExpression { expression, .. } => {
            return Err(CompileError(format!(
                "query expression `{expression}` is for backends; the matcher cannot run it"
            )))
        }
    };
    Ok(Node::Field { field, test })
}

/// A number read from a value: JSON numbers, and strings that read as numbers.
fn numeric(value: &Value<'_>) -> Option<f64> {
    match value {
        Value::Num(n, _, _) => Some(*n),
        Value::Str(s, _) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn any(value: &Value<'_>, test: &impl Fn(&Value<'_>) -> bool) -> bool {
    match value {
        Value::List(items) => items.iter().any(|v| any(v, test)),
        other => test(other),
    }
}

impl Node {
    /// Evaluates the program on an event.
    pub fn eval(&self, event: &Event<'_>) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(items) => items.iter().all(|n| n.eval(event)),
            Node::Or(items) => items.iter().any(|n| n.eval(event)),
            Node::Not(inner) => !inner.eval(event),
            Node::Keyword(matcher) => event.all_values.iter().any(|v| matcher.matches_value(v)),
            Node::Field { field, test } => {
                let value = event.get(*field);
                match test {
                    Leaf::Null => matches!(value, None | Some(Value::Null)),
                    Leaf::Exists => value.is_some(),
                    _ => value.is_some_and(|v| test.matches(v, event)),
                }
            }
        }
    }
}

impl Leaf {
    fn matches(&self, value: &Value<'_>, event: &Event<'_>) -> bool {
        match self {
            Leaf::Str(m) => m.matches_value(value),
            Leaf::Num(n) => any(value, &|v| numeric(v) == Some(*n)),
            Leaf::Bool(b) => any(value, &|v| match v {
                Value::Bool(x) => x == b,
                Value::Str(s, _) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                _ => false,
            }),
            Leaf::Null | Leaf::Exists => false,
            Leaf::Regex(re) => any(value, &|v| v.text().is_some_and(|t| re.is_match(t))),
            Leaf::Cidr(net) => any(value, &|v| {
                v.text().and_then(|t| t.trim().parse::<std::net::IpAddr>().ok()).is_some_and(|ip| net.contains(&ip))
            }),
            Leaf::Compare(op, n) => any(value, &|v| {
                numeric(v).is_some_and(|x| match op {
                    CompareOp::Gt => x > *n,
                    CompareOp::Gte => x >= *n,
                    CompareOp::Lt => x < *n,
                    CompareOp::Lte => x <= *n,
                })
            }),
            Leaf::TimePart(unit, n) => any(value, &|v| v.text().and_then(|t| crate::time::part(t, *unit)) == Some(*n)),
            Leaf::FieldRef { other, op, cased } => {
                let Some(other) = event.get(*other) else { return false };
                let fold =
                    |v: &Value<'_>| if *cased { v.text().map(str::to_string) } else { v.folded().map(str::to_string) };
                let Some(reference) = fold(other) else { return false };
                any(value, &|v| {
                    fold(v).is_some_and(|t| match op {
                        StrOp::Exact | StrOp::Glob => t == reference,
                        StrOp::Prefix => t.starts_with(&reference),
                        StrOp::Suffix => t.ends_with(&reference),
                        StrOp::Contains => t.contains(&reference),
                    })
                })
            }
        }
    }
}
