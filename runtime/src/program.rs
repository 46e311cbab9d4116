//! IR -> matcher program, and its evaluation on one event.
//!
//! Each leaf is planned once: exact, prefix, suffix and substring tests on folded (lower-case) text, globs and
//! regexes as compiled `regex`es, and an OR of string tests on one field becomes one multi-literal matcher (hash
//! set for exact values, Aho-Corasick for substrings). Semantics are in compiler/DESIGN.md, "Matching".

use crate::event::{Event, FieldId, FieldTable, Folded, NumberText, Value};
use crate::substrings::{Build, Lazy};
use aho_corasick::AhoCorasick;
use rustc_hash::{FxHashMap, FxHashSet as HashSet};
use vigil_compiler::ir::value::{CompareOp, Number, Part, RegexFlags, SigmaString, TimeUnit};
use vigil_compiler::ir::{Expr, Predicate, StrOp, Test};

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
    Keyword(Box<Keyword>),
}

/// A keyword test, with a fast path for exact values only (the usual keyword list): the event's texts are read
/// from its JSON and those of no keyword's length are not folded.
#[derive(Debug)]
pub struct Keyword {
    matcher: StrMatch,
    /// For exact values only: `lengths[n]` when some value has n bytes.
    exact_lengths: Option<Vec<bool>>,
}

impl Keyword {
    fn new(matcher: StrMatch) -> Keyword {
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
    Str(Box<StrMatch>),
    Num(f64),
    Bool(bool),
    Null,
    Exists,
    Regex(regex::Regex),
    Cidr(ipnet::IpNet),
    Compare(CompareOp, f64),
    TimePart(TimeUnit, i64),
    FieldRef {
        other: FieldId,
        op: StrOp,
        cased: bool,
    },
    /// Every one of `count` literals occurs in the text (`contains|all`).
    AllOf {
        literals: Box<Lazy>,
        cased: bool,
    },
}

impl Node {
    /// A rough cost order for the operands of an AND: the cheapest first, so a failing cheap test spares the
    /// expensive ones. Sorting is stable, so equal costs keep the rule's order.
    fn cost(&self) -> u8 {
        match self {
            Node::Const(_) => 0,
            Node::Field {
                test: Leaf::Num(_) | Leaf::Bool(_) | Leaf::Null | Leaf::Exists | Leaf::Compare(..), ..
            } => 1,
            Node::Field { test: Leaf::Str(m), .. } if m.is_cheap() => 2,
            Node::Field { test: Leaf::Regex(_) | Leaf::AllOf { .. }, .. } => 5,
            Node::Keyword(_) => 6,
            Node::Not(_) | Node::And(_) | Node::Or(_) => 4,
            _ => 3,
        }
    }
}

/// Literals grouped by length, so that testing a text costs one hash lookup per distinct length.
#[derive(Debug, Default)]
struct ByLength(Vec<(usize, HashSet<String>)>);

impl ByLength {
    fn insert(&mut self, literal: String) {
        let len = literal.len();
        match self.0.iter_mut().find(|(l, _)| *l == len) {
            Some((_, set)) => drop(set.insert(literal)),
            None => self.0.push((len, std::iter::once(literal).collect())),
        }
    }

    fn any_prefix_of(&self, text: &str) -> bool {
        self.0.iter().any(|(len, set)| text.get(..*len).is_some_and(|p| set.contains(p)))
    }

    fn any_suffix_of(&self, text: &str) -> bool {
        self.0
            .iter()
            .any(|(len, set)| text.len() >= *len && text.get(text.len() - len..).is_some_and(|s| set.contains(s)))
    }
}

/// Substring tests: keywords keep their own automaton; field tests point into the automaton shared by every
/// rule that reads the field, which runs once per event and field.
#[derive(Debug)]
enum Contains {
    None,
    Own(Lazy),
    Shared { key: ScanKey, ids: Vec<u32> },
}

/// Whether field substring tests share one automaton per field. Measured on the SigmaHQ Windows rules over the
/// Mordor events (`bench/matcher.sh`): sharing made matching slower (720 ms against 546 ms), because an
/// overlapping scan reports every occurrence of thousands of literals while a rule's own automaton stops at its
/// first hit, and the (Channel, EventID) index already leaves few rules per event. Kept switchable to measure
/// again as the rule sets and inputs grow.
const SHARE_SUBSTRING_SCANS: bool = false;

/// A field and its case mode: the unit of shared substring scanning.
pub type ScanKey = (FieldId, bool);

/// String tests, on folded text unless `cased`.
#[derive(Debug)]
pub struct StrMatch {
    cased: bool,
    exact: HashSet<String>,
    prefixes: ByLength,
    suffixes: ByLength,
    contains: Contains,
    globs: Vec<regex::Regex>,
}

impl StrMatch {
    /// Exact values, prefixes and suffixes only: no scan through the text.
    fn is_cheap(&self) -> bool {
        matches!(self.contains, Contains::None) && self.globs.is_empty()
    }

    fn is_match(&self, text: &str) -> bool {
        self.exact.contains(text)
            || self.prefixes.any_prefix_of(text)
            || self.suffixes.any_suffix_of(text)
            || matches!(&self.contains, Contains::Own(s) if s.get().is_match(text))
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

    /// The test on a field value, with the shared substring scan of that field.
    fn matches_field(&self, value: &Value<'_>, event: &Event<'_>, shared: &Shared) -> bool {
        if self.matches_value(value) {
            return true;
        }
        match &self.contains {
            Contains::Shared { key, ids } => event.scan(*key, value, shared).is_some_and(|bits| {
                ids.iter().any(|&id| bits.get((id / 64) as usize).is_some_and(|word| word & (1 << (id % 64)) != 0))
            }),
            _ => false,
        }
    }
}

/// The literals of every rule's substring tests, per field and case mode, and their automata.
#[derive(Debug, Default)]
pub struct Shared {
    literals: FxHashMap<ScanKey, (Vec<String>, FxHashMap<String, u32>)>,
    automata: FxHashMap<ScanKey, AhoCorasick>,
}

impl Shared {
    fn register(&mut self, key: ScanKey, literal: String) -> u32 {
        let (list, ids) = self.literals.entry(key).or_default();
        if let Some(&id) = ids.get(&literal) {
            return id;
        }
        let id = list.len() as u32;
        ids.insert(literal.clone(), id);
        list.push(literal);
        id
    }

    /// Builds one automaton per field once every rule is compiled.
    pub fn finish(&mut self) -> Result<(), CompileError> {
        for (key, (literals, _)) in &self.literals {
            let ac = AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(literals)
                .or_else(|_| AhoCorasick::new(literals))
                .map_err(|e| CompileError(format!("substring matcher: {e}")))?;
            self.automata.insert(*key, ac);
        }
        Ok(())
    }

    /// Every literal of `key` found in `text`, as a bit set.
    pub(crate) fn scan(&self, key: ScanKey, text: &str, bits: &mut Vec<u64>) {
        let Some(ac) = self.automata.get(&key) else { return };
        bits.resize(ac.patterns_len().div_ceil(64), 0);
        for found in ac.find_overlapping_iter(text) {
            let id = found.pattern().as_u32();
            bits[(id / 64) as usize] |= 1 << (id % 64);
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
    prefixes: ByLength,
    suffixes: ByLength,
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
            StrOp::Prefix => self.prefixes.insert(text),
            StrOp::Suffix => self.suffixes.insert(text),
            _ => self.contains.push(text),
        }
        Ok(())
    }

    /// `field` is `None` for keywords, which keep their own automaton.
    fn build(self, cased: bool, field: Option<FieldId>, shared: &mut Shared) -> Result<StrMatch, CompileError> {
        // `contains ''` matches any text: an empty pattern is a match everywhere.
        let contains = match field {
            _ if self.contains.is_empty() => Contains::None,
            None => Contains::Own(Lazy::new(self.contains, Build::Small)),
            _ if !SHARE_SUBSTRING_SCANS => Contains::Own(Lazy::new(self.contains, Build::Small)),
            Some(field) => {
                let key = (field, cased);
                let ids = self.contains.into_iter().map(|l| shared.register(key, l)).collect();
                Contains::Shared { key, ids }
            }
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
pub fn compile(expr: &Expr, fields: &mut FieldTable, shared: &mut Shared) -> Result<Node, CompileError> {
    Ok(match expr {
        Expr::Const(b) => Node::Const(*b),
        Expr::Not(inner) => Node::Not(Box::new(compile(inner, fields, shared)?)),
        Expr::And(items) => compile_and(items, fields, shared)?,
        Expr::Or(items) => compile_or(items, fields, shared)?,
        Expr::Pred(p) => compile_predicate(p, fields, shared)?,
    })
}

/// Whether `contains|all` literals merge into one automaton pass. Measured with `bench/matcher.sh`, merging made
/// matching slower (937 ms against 801 ms): a single literal is searched with SIMD and usually fails at once,
/// while the merged pass scans the whole (often very long PowerShell) text. Off; kept to measure again.
const MERGE_CONTAINS_ALL: bool = false;

/// An AND, its cheapest tests first; with `MERGE_CONTAINS_ALL`, the substring tests of one literal on the same
/// field (`contains|all`) become one automaton pass that stops when it has seen every literal.
fn compile_and(items: &[Expr], fields: &mut FieldTable, shared: &mut Shared) -> Result<Node, CompileError> {
    let mut groups: Vec<(String, bool, Vec<String>)> = Vec::new();
    let mut others = Vec::new();
    for item in items {
        if let (true, Expr::Pred(p)) = (MERGE_CONTAINS_ALL, item) {
            if let (Some(field), Test::Str { op: StrOp::Contains, value, cased }) = (&p.field, &p.test) {
                if let Some(text) = value.as_plain().filter(|t| !t.is_empty()) {
                    let text = if *cased { text.to_string() } else { text.to_lowercase() };
                    match groups.iter_mut().find(|(f, c, _)| f == field && c == cased) {
                        Some((_, _, literals)) => literals.push(text),
                        None => groups.push((field.clone(), *cased, vec![text])),
                    }
                    continue;
                }
            }
        }
        others.push(compile(item, fields, shared)?);
    }
    let mut nodes = Vec::with_capacity(groups.len() + others.len());
    for (field, cased, literals) in groups {
        let field = fields.intern(&field);
        if literals.len() == 1 {
            let builder = StrBuilder { contains: literals, ..StrBuilder::default() };
            nodes.push(Node::Field { field, test: Leaf::Str(Box::new(builder.build(cased, Some(field), shared)?)) });
        } else {
            nodes.push(Node::Field {
                field,
                test: Leaf::AllOf { literals: Box::new(Lazy::new(literals, Build::Small)), cased },
            });
        }
    }
    // Cheap tests (exact values, numbers) first, long scans last.
    nodes.extend(others);
    nodes.sort_by_key(Node::cost);
    Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Node::Const(true)) } else { Node::And(nodes) })
}

/// An OR: string tests on the same field (and case mode) merge into one matcher.
fn compile_or(items: &[Expr], fields: &mut FieldTable, shared: &mut Shared) -> Result<Node, CompileError> {
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
        others.push(compile(item, fields, shared)?);
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(groups.len() + others.len());
    for (field, cased, builder) in groups {
        nodes.push(match field {
            Some(name) => {
                let field = fields.intern(&name);
                Node::Field { field, test: Leaf::Str(Box::new(builder.build(cased, Some(field), shared)?)) }
            }
            None => Node::Keyword(Box::new(Keyword::new(builder.build(cased, None, shared)?))),
        });
    }
    nodes.extend(others);
    Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Node::Const(false)) } else { Node::Or(nodes) })
}

fn number(n: &Number) -> f64 {
    n.as_f64()
}

fn compile_predicate(p: &Predicate, fields: &mut FieldTable, shared: &mut Shared) -> Result<Node, CompileError> {
    let Some(name) = &p.field else {
        return match &p.test {
            Test::Str { op, value, cased } => {
                let mut builder = StrBuilder::default();
                builder.add(*op, value, *cased)?;
                Ok(Node::Keyword(Box::new(Keyword::new(builder.build(*cased, None, shared)?))))
            }
            Test::Num(n) => {
                let mut builder = StrBuilder::default();
                builder.add(StrOp::Exact, &SigmaString::literal(n.to_string()), false)?;
                Ok(Node::Keyword(Box::new(Keyword::new(builder.build(false, None, shared)?))))
            }
            Test::Regex { pattern, flags } => {
                let mut builder = StrBuilder::default();
                builder.globs.push(regex(pattern, *flags)?);
                Ok(Node::Keyword(Box::new(Keyword::new(builder.build(true, None, shared)?))))
            }
            other => Err(CompileError(format!("{other:?} cannot be a keyword"))),
        };
    };
    let field = fields.intern(name);
    let test = match &p.test {
        Test::Str { op, value, cased } => {
            let mut builder = StrBuilder::default();
            builder.add(*op, value, *cased)?;
            Leaf::Str(Box::new(builder.build(*cased, Some(field), shared)?))
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

impl Node {
    /// Evaluates the program on an event.
    pub fn eval(&self, event: &Event<'_>, shared: &Shared) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(items) => items.iter().all(|n| n.eval(event, shared)),
            Node::Or(items) => items.iter().any(|n| n.eval(event, shared)),
            Node::Not(inner) => !inner.eval(event, shared),
            Node::Keyword(keyword) => keyword.matches(event),
            Node::Field { field, test } => {
                let value = event.get(*field);
                match test {
                    Leaf::Null => matches!(value, None | Some(Value::Null)),
                    Leaf::Exists => value.is_some(),
                    Leaf::Str(m) => value.is_some_and(|v| m.matches_field(v, event, shared)),
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
            Leaf::AllOf { literals, cased } => any(value, &|v| {
                (if *cased { v.text() } else { v.folded() }).is_some_and(|text| literals.get().all_found(text))
            }),
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
