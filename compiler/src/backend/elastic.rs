//! Elasticsearch: Lucene query strings, ES|QL and EQL.
//!
//! Lucene matches as the index mapping says (keyword fields are case-sensitive; the `ecs-windows` pipeline
//! points at `.caseless` sub-fields where ECS has them), as sigma-cli's backend does. ES|QL lowers the field
//! (`to_lower`) for case-insensitive tests; EQL has `like~` and `:`. Regexes are re-written in Lucene's syntax,
//! which all three use (`regex_print.rs`).

use super::regex_print;
use super::text::{self, shape, Piece, Shape};
use super::walk::{render, Language};
use super::Context;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::value::TimeUnit;
use crate::ir::{StrOp, Test};

/// A field name for ES|QL and EQL: dotted names are fine, anything else goes in backticks.
fn backticked(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

// ---------------------------------------------------------------- Lucene

struct Lucene;

pub fn lucene_query(cx: &Context<'_>) -> Result<String, Diagnostic> {
    render(&Lucene, &cx.rule.expr)
}

/// Escapes Lucene's query-string syntax characters and whitespace.
fn lucene_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '+' | '-'
                | '='
                | '&'
                | '|'
                | '>'
                | '<'
                | '!'
                | '('
                | ')'
                | '{'
                | '}'
                | '['
                | ']'
                | '^'
                | '"'
                | '~'
                | '*'
                | '?'
                | ':'
                | '\\'
                | '/'
        ) || c.is_whitespace()
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A field name: `-` stays as it is (it only means NOT at the start of a term); other syntax characters are
/// escaped as in values.
fn lucene_field(name: &str) -> String {
    name.split('-').map(lucene_escape).collect::<Vec<_>>().join("-")
}

fn lucene_value(pieces: &[Piece]) -> String {
    if pieces.is_empty() {
        return "\"\"".to_string();
    }
    text::wildcard(pieces, "*", "?", lucene_escape)
}

impl Language for Lucene {
    fn and(&self) -> &'static str {
        " AND "
    }

    fn or(&self) -> &'static str {
        " OR "
    }

    fn negate(&self, operand: String) -> String {
        format!("NOT {operand}")
    }

    fn constant(&self, value: bool) -> String {
        if value { "*:*" } else { "NOT *:*" }.to_string()
    }

    fn pattern_list(&self, field: &str, patterns: &[Vec<Piece>]) -> Result<Option<String>, Diagnostic> {
        for p in patterns {
            text::plain_text(p, "Elasticsearch")?;
        }
        let list: Vec<String> = patterns.iter().map(|p| lucene_value(p)).collect();
        Ok(Some(format!("{}:({})", lucene_field(field), list.join(" OR "))))
    }

    fn predicate(&self, field: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(field) = field else {
            return match test {
                Test::Str { op, value, .. } => Ok(lucene_value(&text::unanchored(pattern(*op, value)?))),
                Test::Num(n) => Ok(text::number(n)),
                Test::Regex { pattern, flags } => Ok(format!("/{}/", regex_print::lucene(pattern, *flags)?)),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("a Lucene query string cannot search {} as a keyword", super::describe(other)),
                )),
            };
        };
        let f = lucene_field(field);
        Ok(match test {
            Test::Str { op, value, .. } => format!("{f}:{}", lucene_value(&pattern(*op, value)?)),
            Test::Num(n) => format!("{f}:{}", text::number(n)),
            Test::Bool(b) => format!("{f}:{b}"),
            Test::Null => format!("NOT _exists_:{f}"),
            Test::Exists => format!("_exists_:{f}"),
            Test::Regex { pattern, flags } => format!("{f}:/{}/", regex_print::lucene(pattern, *flags)?),
            Test::Cidr(net) => format!("{f}:\"{net}\""),
            Test::Compare { op, value } => format!("{f}:{}{}", text::compare_symbol(*op), text::number(value)),
            Test::FieldRef { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedFieldReference,
                    "a Lucene query string cannot compare two fields",
                ))
            }
            Test::TimePart { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedTimePart,
                    "a Lucene query string has no time-part test",
                ))
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

// ---------------------------------------------------------------- ES|QL

struct Esql;

pub fn esql_query(cx: &Context<'_>) -> Result<String, Diagnostic> {
    let condition = render(&Esql, &cx.rule.expr)?;
    let source = cx.table().unwrap_or_else(|| "*".to_string());
    Ok(format!("from {source} metadata _id, _index, _version | where {condition}"))
}

/// An ES|QL `LIKE` pattern (`*`, `?`; a literal `*`, `?` or `\` escaped with `\`), as a string literal.
fn esql_like(pieces: &[Piece]) -> String {
    text::double_quoted(&text::wildcard(pieces, "*", "?", |s| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if matches!(c, '*' | '?' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }))
}

impl Language for Esql {
    fn and(&self) -> &'static str {
        " and "
    }

    fn or(&self) -> &'static str {
        " or "
    }

    fn not(&self, operand: String, _compound: bool) -> String {
        self.negate(operand)
    }

    fn negate(&self, operand: String) -> String {
        // A test on a missing field is null in ES|QL, and `not null` drops the row: Sigma says the negation holds.
        format!("not coalesce({operand}, false)")
    }

    fn constant(&self, value: bool) -> String {
        value.to_string()
    }

    fn predicate(&self, field: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(field) = field else {
            // Keywords: a Lucene query string over every field (`qstr`), as the Lucene target writes it.
            return match test {
                Test::Str { op, value, .. } => {
                    Ok(format!("qstr({})", text::double_quoted(&lucene_value(&text::unanchored(pattern(*op, value)?)))))
                }
                Test::Num(n) => Ok(format!("qstr({})", text::double_quoted(&text::number(n)))),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("ES|QL cannot search {} as a keyword", super::describe(other)),
                )),
            };
        };
        let f = backticked(field);
        Ok(match test {
            Test::Str { op, value, cased } => {
                let (column, pieces) = if *cased {
                    (f.clone(), pattern(*op, value)?)
                } else {
                    (format!("to_lower({f})"), text::lowered(&pattern(*op, value)?))
                };
                match shape(&pieces) {
                    Shape::Exact(s) => format!("{column} == {}", text::double_quoted(s)),
                    Shape::Prefix(s) => format!("starts_with({column}, {})", text::double_quoted(s)),
                    Shape::Suffix(s) => format!("ends_with({column}, {})", text::double_quoted(s)),
                    _ => format!("{column} like {}", esql_like(&pieces)),
                }
            }
            Test::Num(n) => format!("{f} == {}", text::number(n)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null => format!("{f} is null"),
            Test::Exists => format!("{f} is not null"),
            Test::Regex { pattern, flags } => {
                format!("{f} rlike {}", text::double_quoted(&regex_print::lucene(pattern, *flags)?))
            }
            Test::Cidr(net) => format!("cidr_match(to_ip({f}), {})", text::double_quoted(&net.to_string())),
            Test::Compare { op, value } => format!("{f} {} {}", text::compare_symbol(*op), text::number(value)),
            Test::TimePart { unit, value } => {
                let part = match unit {
                    TimeUnit::Minute => "minute_of_hour",
                    TimeUnit::Hour => "hour_of_day",
                    TimeUnit::Day => "day_of_month",
                    TimeUnit::Month => "month_of_year",
                    TimeUnit::Year => "year",
                    TimeUnit::Week => {
                        return Err(Diagnostic::unlocated(Code::UnsupportedTimePart, "ES|QL has no ISO week number"))
                    }
                };
                format!("date_extract(\"{part}\", {f}) == {}", text::number(value))
            }
            Test::FieldRef { field: other, op, cased } => {
                let other = backticked(other);
                let (a, b) =
                    if *cased { (f.clone(), other) } else { (format!("to_lower({f})"), format!("to_lower({other})")) };
                match op {
                    StrOp::Exact | StrOp::Glob => format!("{a} == {b}"),
                    StrOp::Prefix => format!("starts_with({a}, {b})"),
                    StrOp::Suffix => format!("ends_with({a}, {b})"),
                    StrOp::Contains => format!("locate({a}, {b}) > 0"),
                }
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

// ---------------------------------------------------------------- EQL

/// The field EQL searches keywords in (EQL has no search over every field).
pub const EQL_KEYWORD_FIELD: &str = "message";

struct Eql {
    keyword_field: String,
}

pub fn eql_query(cx: &Context<'_>) -> Result<String, Diagnostic> {
    let keyword_field = cx.options.keyword_field.clone().unwrap_or_else(|| EQL_KEYWORD_FIELD.to_string());
    Ok(format!("any where {}", render(&Eql { keyword_field }, &cx.rule.expr)?))
}

/// An EQL wildcard pattern: `*` and `?`. EQL cannot escape them, so a literal `*` or `?` is unsupported.
fn eql_pattern(pieces: &[Piece]) -> Result<String, Diagnostic> {
    if pieces.iter().any(|p| matches!(p, Piece::Lit(s) if s.contains(['*', '?']))) {
        return Err(Diagnostic::unlocated(
            Code::UnsupportedWildcard,
            "EQL wildcard patterns cannot match a literal `*` or `?`",
        ));
    }
    Ok(text::double_quoted(&text::wildcard(pieces, "*", "?", str::to_string)))
}

impl Eql {
    fn string_test(&self, f: &str, pieces: &[Piece], cased: bool) -> Result<String, Diagnostic> {
        match (cased, text::plain(pieces)) {
            (true, Some(s)) => return Ok(format!("{f} == {}", text::double_quoted(s))),
            // `:` is EQL's case-insensitive equality; it reads `*` and `?` as wildcards, so only without them.
            (false, Some(s)) if !s.contains(['*', '?']) => return Ok(format!("{f}:{}", text::double_quoted(s))),
            _ => {}
        }
        let like = if cased { "like" } else { "like~" };
        match eql_pattern(pieces) {
            Ok(p) => Ok(format!("{f} {like} {p}")),
            // A literal `*` or `?`: the same whole-value match as a (Lucene) regex.
            Err(_) => {
                let regex = text::wildcard(pieces, ".*", ".", |s| {
                    let mut out = String::new();
                    for c in s.chars() {
                        regex_print::literal_char(c, &mut out);
                    }
                    out
                });
                let op = if cased { "regex" } else { "regex~" };
                Ok(format!("{f} {op} {}", text::double_quoted(&regex)))
            }
        }
    }
}

impl Language for Eql {
    fn and(&self) -> &'static str {
        " and "
    }

    fn or(&self) -> &'static str {
        " or "
    }

    fn negate(&self, operand: String) -> String {
        format!("not {operand}")
    }

    fn constant(&self, value: bool) -> String {
        value.to_string()
    }

    fn in_list(&self, field: &str, values: &[&str]) -> Option<String> {
        let list: Option<Vec<String>> = values.iter().map(|v| eql_pattern(&[Piece::Lit(v.to_string())]).ok()).collect();
        Some(format!("{} like~ ({})", backticked(field), list?.join(", ")))
    }

    fn predicate(&self, field: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(field) = field else {
            let f = backticked(&self.keyword_field);
            return match test {
                Test::Str { op, value, cased } => self.string_test(&f, &text::unanchored(pattern(*op, value)?), *cased),
                Test::Num(n) => Ok(format!("{f} like~ {}", text::double_quoted(&format!("*{}*", text::number(n))))),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("EQL cannot search {} as a keyword", super::describe(other)),
                )),
            };
        };
        let f = backticked(field);
        Ok(match test {
            Test::Str { op, value, cased } => self.string_test(&f, &pattern(*op, value)?, *cased)?,
            Test::Num(n) => format!("{f} == {}", text::number(n)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null => format!("{f} == null"),
            Test::Exists => format!("{f} != null"),
            Test::Regex { pattern, flags } => {
                format!("{f} regex {}", text::double_quoted(&regex_print::lucene(pattern, *flags)?))
            }
            Test::Cidr(net) => format!("cidrMatch({f}, {})", text::double_quoted(&net.to_string())),
            Test::Compare { op, value } => format!("{f} {} {}", text::compare_symbol(*op), text::number(value)),
            Test::FieldRef { field: other, op: StrOp::Exact | StrOp::Glob, cased: true } => {
                format!("{f} == {}", backticked(other))
            }
            Test::FieldRef { .. } => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedFieldReference,
                    "EQL compares two fields only for exact, case-sensitive equality",
                ))
            }
            Test::TimePart { .. } => {
                return Err(Diagnostic::unlocated(Code::UnsupportedTimePart, "EQL has no time-part test"))
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

/// A string test's pattern, refusing control characters the language cannot write.
fn pattern(op: StrOp, value: &crate::ir::value::SigmaString) -> Result<Vec<Piece>, Diagnostic> {
    let pieces = text::pattern(op, value)?;
    text::plain_text(&pieces, "Elasticsearch")?;
    Ok(pieces)
}
