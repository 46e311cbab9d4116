//! IR -> matcher program, and its evaluation on one event.
//!
//! Each leaf is planned once: exact, prefix, suffix and substring tests on folded (lower-case) text, globs and
//! regexes as compiled `regex`es, and an OR of string tests on one field becomes one multi-literal matcher (hash
//! set for exact values, Aho-Corasick for substrings). Semantics are in compiler/DESIGN.md, "Matching".

mod strings;

use crate::event::Event;
use crate::fields::{FieldId, FieldTable, Folded, NumberText, Value};
use crate::regexes::{Budget, LazyRegex, Options, RegexError};
use strings::{Contains, StrBuilder, StrSet};
pub use strings::{OneStr, StrMatch};
use vigil_compiler::ir::value::{CompareOp, Number, RegexFlags, SigmaString, TimeUnit};
use vigil_compiler::ir::{Expr, Predicate, StrOp, Test};
use vigil_compiler::{Code, Diagnostic};

/// A compiled boolean program.
#[derive(Debug)]
pub enum Program {
    Const(bool),
    And(Vec<Program>),
    Or(Vec<Program>),
    Not(Box<Program>),
    Field {
        field: FieldId,
        test: Leaf,
    },
    /// A keyword: any string or number anywhere in the event.
    Keyword(Box<Keyword>),
}

/// A keyword test, with a fast path for exact values only (the usual keyword list): the event's texts are read
/// from its JSON and those of no keyword's length are not folded.
#[derive(Debug)]
pub struct Keyword {
    matcher: StrSet,
    /// For exact values only: `lengths[n]` when some value has n bytes.
    exact_lengths: Option<Vec<bool>>,
}

impl Keyword {
    fn new(matcher: StrSet) -> Keyword {
        let exact_only = matches!(matcher.contains, Contains::None)
            && matcher.globs.is_empty()
            && matcher.prefixes.0.is_empty()
            && matcher.suffixes.0.is_empty();
        let exact_lengths = exact_only.then(|| {
            let mut lengths = vec![false; matcher.exact.iter().map(String::len).max().map_or(0, |n| n + 1)];
            matcher.exact.iter().for_each(|e| lengths[e.len()] = true);
            lengths
        });
        Keyword { matcher, exact_lengths }
    }

    fn matches(&self, event: &Event<'_>) -> bool {
        match (&self.exact_lengths, event.json_tree()) {
            (Some(lengths), Some(json)) => self.any_exact(json, lengths),
            _ => event.all_values().iter().any(|v| self.matcher.matches_value(v)),
        }
    }

    fn any_exact(&self, json: &serde_json::Value, lengths: &[bool]) -> bool {
        use serde_json::Value as J;
        let sized = |n: usize| lengths.get(n).copied().unwrap_or(false);
        match json {
            J::String(s) => {
                // Folding keeps an ASCII text's length and at most divides another's by 3.
                if s.len() >= 3 * lengths.len() || (!sized(s.len()) && (self.matcher.cased || s.is_ascii())) {
                    return false;
                }
                if self.matcher.cased {
                    self.matcher.exact.contains(s.as_str())
                } else {
                    self.matcher.exact.contains(Folded::default().get(s))
                }
            }
            J::Number(n) => {
                let text = NumberText::new(n.clone());
                sized(text.text_len()) && self.matcher.exact.contains(text.get())
            }
            J::Array(items) => items.iter().any(|v| self.any_exact(v, lengths)),
            J::Object(map) => map.values().any(|v| self.any_exact(v, lengths)),
            J::Bool(_) | J::Null => false,
        }
    }
}

#[derive(Debug)]
pub enum Leaf {
    Str(StrMatch),
    Num(f64),
    Bool(bool),
    Null,
    Exists,
    Regex(LazyRegex),
    Cidr(ipnet::IpNet),
    Compare(CompareOp, f64),
    TimePart(TimeUnit, i64),
    FieldRef { other: FieldId, op: StrOp, cased: bool },
}

impl Program {
    /// A rough cost order for the operands of an AND: the cheapest first, so a failing cheap test spares the
    /// expensive ones. Sorting is stable, so equal costs keep the rule's order.
    fn cost(&self) -> u8 {
        match self {
            Program::Const(_) => 0,
            Program::Field {
                test: Leaf::Num(_) | Leaf::Bool(_) | Leaf::Null | Leaf::Exists | Leaf::Compare(..),
                ..
            } => 1,
            Program::Field { test: Leaf::Str(m), .. } if m.is_cheap() => 2,
            Program::Field { test: Leaf::Regex(_), .. } => 5,
            Program::Keyword(_) => 6,
            Program::Not(_) | Program::And(_) | Program::Or(_) => 4,
            _ => 3,
        }
    }
}

/// Why a rule cannot be compiled: a diagnostic without a position (the caller knows the rule's).
fn failed(code: Code, message: String) -> Diagnostic {
    Diagnostic::unlocated(code, message)
}

/// A regex that did not compile: too large for the matcher's budget, or invalid.
fn regex_failure(what: &str, error: RegexError) -> Diagnostic {
    use crate::regexes::{REGEX_LIMIT, RULE_LIMIT, SET_LIMIT};
    match error {
        RegexError::TooBig => failed(
            Code::RegexTooLarge,
            format!("{what} compiles to more than the {} MB a regular expression may take", REGEX_LIMIT >> 20),
        ),
        RegexError::OverBudget { rule: true } => failed(
            Code::TooLarge,
            format!("{what}: the rule's regular expressions compile to more than {} MB together", RULE_LIMIT >> 20),
        ),
        RegexError::OverBudget { rule: false } => failed(
            Code::TooLarge,
            format!("{what}: the rule set's regular expressions compile to more than {} MB together", SET_LIMIT >> 20),
        ),
        RegexError::Invalid(why) => failed(Code::InvalidRegex, format!("{what}: {why}")),
    }
}

fn regex(pattern: &str, flags: RegexFlags, budget: &mut Budget) -> Result<LazyRegex, Diagnostic> {
    LazyRegex::new(pattern.to_string(), options(flags), budget)
        .map_err(|e| regex_failure(&format!("regular expression `{pattern}`"), e))
}

fn options(flags: RegexFlags) -> Options {
    Options { case_insensitive: flags.ignore_case, multi_line: flags.multi_line, dot_matches_new_line: flags.dot_all }
}

/// The regexes compiling `expr` builds (`|re` values and globs, with their flags), to measure them ahead
/// ([`crate::regexes::Measured`]).
pub fn regexes(expr: &Expr, out: &mut Vec<(String, Options)>) {
    expr.visit_predicates(&mut |p| match &p.test {
        Test::Regex { pattern, flags } => out.push((pattern.clone(), options(*flags))),
        Test::Str { op: StrOp::Glob, value, cased } => {
            if let Ok(pattern) = strings::glob_pattern(value, *cased) {
                out.push((pattern, Options::default()));
            }
        }
        _ => {}
    });
}

/// Compiles an IR expression, interning the fields it reads.
pub fn compile(expr: &Expr, fields: &mut FieldTable) -> Result<Program, Diagnostic> {
    compile_within(expr, fields, &mut Budget::default())
}

/// [`compile`], the rule's regexes charged to `budget` (a rule set's: [`Budget::next_rule`] first).
pub fn compile_within(expr: &Expr, fields: &mut FieldTable, budget: &mut Budget) -> Result<Program, Diagnostic> {
    Ok(match expr {
        Expr::Const(b) => Program::Const(*b),
        Expr::Not(inner) => Program::Not(Box::new(compile_within(inner, fields, budget)?)),
        Expr::And(items) => compile_and(items, fields, budget)?,
        Expr::Or(items) => compile_or(items, fields, budget)?,
        Expr::Pred(p) => compile_predicate(p, fields, budget)?,
    })
}

/// An AND, its cheapest tests first (numbers and exact values before scans), so a failing cheap test spares the
/// expensive ones.
fn compile_and(items: &[Expr], fields: &mut FieldTable, budget: &mut Budget) -> Result<Program, Diagnostic> {
    let mut nodes =
        items.iter().map(|item| compile_within(item, fields, budget)).collect::<Result<Vec<Program>, Diagnostic>>()?;
    nodes.sort_by_key(Program::cost);
    Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Program::Const(true)) } else { Program::And(nodes) })
}

/// An OR: string tests on the same field (and case mode) merge into one matcher.
fn compile_or(items: &[Expr], fields: &mut FieldTable, budget: &mut Budget) -> Result<Program, Diagnostic> {
    let mut groups: Vec<(Option<String>, bool, StrBuilder)> = Vec::new();
    let mut others = Vec::new();
    for item in items {
        if let Expr::Pred(p) = item {
            if let Test::Str { op, value, cased } = &p.test {
                let group = match groups.iter_mut().position(|(f, c, _)| *f == p.field && *c == *cased) {
                    Some(i) => &mut groups[i].2,
                    None => {
                        groups.push((p.field.clone(), *cased, StrBuilder::default()));
                        &mut groups.last_mut().expect("a group was just pushed").2
                    }
                };
                group.add(*op, value, *cased, budget)?;
                continue;
            }
        }
        others.push(compile_within(item, fields, budget)?);
    }
    let mut nodes: Vec<Program> = Vec::with_capacity(groups.len() + others.len());
    for (field, cased, builder) in groups {
        nodes.push(match field {
            Some(name) => {
                let field = fields.intern(&name);
                Program::Field { field, test: builder.build_leaf(cased) }
            }
            None => Program::Keyword(Box::new(Keyword::new(builder.build(cased)))),
        });
    }
    nodes.extend(others);
    Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Program::Const(false)) } else { Program::Or(nodes) })
}

fn number(n: &Number) -> f64 {
    n.as_f64()
}

fn compile_predicate(p: &Predicate, fields: &mut FieldTable, budget: &mut Budget) -> Result<Program, Diagnostic> {
    let Some(name) = &p.field else {
        return match &p.test {
            Test::Str { op, value, cased } => {
                let mut builder = StrBuilder::default();
                builder.add(*op, value, *cased, budget)?;
                Ok(Program::Keyword(Box::new(Keyword::new(builder.build(*cased)))))
            }
            Test::Num(n) => {
                let mut builder = StrBuilder::default();
                builder.add(StrOp::Exact, &SigmaString::literal(n.to_string()), false, budget)?;
                Ok(Program::Keyword(Box::new(Keyword::new(builder.build(false)))))
            }
            Test::Regex { pattern, flags } => {
                let mut builder = StrBuilder::default();
                builder.globs.push(regex(pattern, *flags, budget)?);
                Ok(Program::Keyword(Box::new(Keyword::new(builder.build(true)))))
            }
            other => Err(failed(Code::UnsupportedValue, format!("{other:?} cannot be a keyword"))),
        };
    };
    let field = fields.intern(name);
    let test = match &p.test {
        Test::Str { op, value, cased } => {
            let mut builder = StrBuilder::default();
            builder.add(*op, value, *cased, budget)?;
            builder.build_leaf(*cased)
        }
        Test::Num(n) => Leaf::Num(number(n)),
        Test::Bool(b) => Leaf::Bool(*b),
        Test::Null => Leaf::Null,
        Test::Exists => Leaf::Exists,
        Test::Regex { pattern, flags } => Leaf::Regex(regex(pattern, *flags, budget)?),
        Test::Cidr(net) => Leaf::Cidr(*net),
        Test::Compare { op, value } => Leaf::Compare(*op, number(value)),
        Test::TimePart { unit, value } => Leaf::TimePart(*unit, number(value) as i64),
        Test::FieldRef { field: other, op, cased } => {
            Leaf::FieldRef { other: fields.intern(other), op: *op, cased: *cased }
        }
        Test::QueryExpression { expression, .. } => {
            return Err(failed(
                Code::UnsupportedValue,
                format!("query expression `{expression}` is for backends; the matcher cannot run it"),
            ))
        }
    };
    Ok(Program::Field { field, test })
}

/// A number read from a value: JSON numbers, and strings that read as numbers.
fn numeric(value: &Value<'_>) -> Option<f64> {
    match value {
        Value::Num(n, _) => Some(*n),
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

impl Program {
    /// Evaluates the program on an event.
    pub fn eval(&self, event: &Event<'_>) -> bool {
        match self {
            Program::Const(b) => *b,
            Program::And(items) => items.iter().all(|n| n.eval(event)),
            Program::Or(items) => items.iter().any(|n| n.eval(event)),
            Program::Not(inner) => !inner.eval(event),
            Program::Keyword(keyword) => keyword.matches(event),
            Program::Field { field, test } => {
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

/// What made a program true on an event: the fields of the tests that held outside any `not`, and the event's
/// texts that a keyword test matched.
#[derive(Debug, Default)]
pub struct Held {
    pub fields: Vec<FieldId>,
    pub keywords: Vec<String>,
}

impl Held {
    fn extend(&mut self, other: Held) {
        for field in other.fields {
            if !self.fields.contains(&field) {
                self.fields.push(field);
            }
        }
        for text in other.keywords {
            if !self.keywords.contains(&text) {
                self.keywords.push(text);
            }
        }
    }
}

impl Program {
    /// [`Program::eval`], noting what held: every operand of an AND that held, every alternative of an OR that
    /// held. Each test is decided by `eval` itself, so this says why the matcher matched, never something else.
    pub fn eval_held(&self, event: &Event<'_>, held: &mut Held) -> bool {
        match self {
            Program::Const(b) => *b,
            Program::Not(_) => self.eval(event),
            Program::And(items) => {
                let mut all = Held::default();
                if !items.iter().all(|n| n.eval_held(event, &mut all)) {
                    return false;
                }
                held.extend(all);
                true
            }
            Program::Or(items) => {
                let mut any = false;
                for item in items.iter() {
                    let mut branch = Held::default();
                    if item.eval_held(event, &mut branch) {
                        any = true;
                        held.extend(branch);
                    }
                }
                any
            }
            Program::Keyword(keyword) => {
                if !keyword.matches(event) {
                    return false;
                }
                let texts = event.all_values().iter().filter(|v| keyword.matcher.matches_value(v));
                let keywords = texts.filter_map(|v| v.text().map(str::to_string)).collect();
                held.extend(Held { fields: Vec::new(), keywords });
                true
            }
            Program::Field { field, test } => {
                let holds = self.eval(event);
                if holds && !matches!(test, Leaf::Null) {
                    held.extend(Held { fields: vec![*field], keywords: Vec::new() });
                }
                holds
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
            // A boolean is read as its text, as string tests read it (and as the SQL engines store it).
            Leaf::Regex(re) => any(value, &|v| match v {
                Value::Bool(b) => re.is_match(if *b { "true" } else { "false" }),
                _ => v.text().is_some_and(|t| re.is_match(t)),
            }),
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
