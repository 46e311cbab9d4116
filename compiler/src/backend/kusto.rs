//! KQL (Microsoft Sentinel, Defender XDR, Azure Data Explorer). Its string operators are case-insensitive
//! (`=~`, `startswith`, `endswith`, `contains`, `in~`) with `_cs` / `==` forms for `cased`; other wildcard shapes
//! and regexes use `matches regex` (RE2). With a table (`--table`, or the pipelines' `query_table` state) the
//! query is `Table | where ...`, otherwise the bare condition as sigma-cli prints it.

use super::text::{self, shape, Piece, Shape};
use super::walk::{render, Language};
use super::Context;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::value::TimeUnit;
use crate::ir::{StrOp, Test};

struct Kusto;

pub fn query(cx: &Context<'_>) -> Result<String, Diagnostic> {
    let condition = render(&Kusto, &cx.rule.expr)?;
    Ok(match cx.table() {
        Some(table) => format!("{table}\n| where {condition}"),
        None => condition,
    })
}

/// A KQL string literal.
pub fn string(text: &str) -> String {
    text::double_quoted(text)
}

/// Column names that are not plain identifiers are written `['name']`.
pub(super) fn field(name: &str) -> String {
    let simple = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        name.to_string()
    } else {
        format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

impl Language for Kusto {
    fn and(&self) -> &'static str {
        " and "
    }

    fn or(&self) -> &'static str {
        " or "
    }

    /// Kusto's analyser gives up on deeper expressions (about 450 chained `or`s: "Query syntax depth exceeds
    /// maximum safe limit", KS245); 100 per group keeps a thousand-value rule well under it.
    fn max_operands(&self) -> usize {
        100
    }

    fn not(&self, operand: String, _compound: bool) -> String {
        self.negate(operand)
    }

    fn negate(&self, operand: String) -> String {
        format!("not({operand})")
    }

    fn constant(&self, value: bool) -> String {
        value.to_string()
    }

    fn in_list(&self, name: &str, values: &[&str]) -> Option<String> {
        let list: Vec<String> = values.iter().map(|v| string(v)).collect();
        Some(format!("{} in~ ({})", field(name), list.join(", ")))
    }

    fn predicate(&self, name: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(name) = name else {
            // Keywords: a search of every column, as KQL's `*` does.
            return match test {
                Test::Str { op, value, cased } => {
                    let pieces = text::unanchored(pattern(*op, value)?);
                    let op = if *cased { "contains_cs" } else { "contains" };
                    match shape(&pieces) {
                        Shape::Contains(s) => Ok(format!("* {op} {}", string(s))),
                        _ => Err(Diagnostic::unlocated(
                            Code::UnsupportedKeyword,
                            "KQL searches every column for a substring only: inner wildcards in keywords cannot be expressed",
                        )),
                    }
                }
                Test::Num(n) => Ok(format!("* contains {}", string(&text::number(n)))),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedKeyword,
                    format!("KQL cannot search every column for {}", super::describe(other)),
                )),
            };
        };
        let f = field(name);
        Ok(match test {
            Test::Str { op, value, cased } => {
                let pieces = pattern(*op, value)?;
                let cs = if *cased { "_cs" } else { "" };
                match shape(&pieces) {
                    Shape::Exact(s) => format!("{f} {} {}", if *cased { "==" } else { "=~" }, string(s)),
                    Shape::Prefix(s) => format!("{f} startswith{cs} {}", string(s)),
                    Shape::Suffix(s) => format!("{f} endswith{cs} {}", string(s)),
                    Shape::Contains(s) => format!("{f} contains{cs} {}", string(s)),
                    Shape::Other => {
                        let flags = if *cased { "" } else { "(?i)" };
                        format!("{f} matches regex {}", string(&format!("{flags}{}", text::anchored_regex(&pieces))))
                    }
                }
            }
            Test::Num(n) => format!("{f} == {}", text::number(n)),
            Test::Bool(b) => format!("{f} == {b}"),
            Test::Null => format!("isnull({f})"),
            Test::Exists => format!("isnotnull({f})"),
            Test::Regex { pattern, flags } => {
                format!("{f} matches regex {}", string(&format!("{}{pattern}", text::inline_flags(*flags, ""))))
            }
            Test::Cidr(net) => match net {
                ipnet::IpNet::V4(_) => format!("ipv4_is_in_range({f}, {})", string(&net.to_string())),
                ipnet::IpNet::V6(_) => format!("ipv6_is_in_range({f}, {})", string(&net.to_string())),
            },
            Test::Compare { op, value } => {
                let symbol = text::compare_symbol(*op);
                format!("{f} {symbol} {}", text::number(value))
            }
            Test::TimePart { unit, value } => {
                let part = match unit {
                    TimeUnit::Minute => "minute",
                    TimeUnit::Hour => "hour",
                    TimeUnit::Day => "day",
                    TimeUnit::Week => "week_of_year",
                    TimeUnit::Month => "month",
                    TimeUnit::Year => "year",
                };
                format!("datetime_part(\"{part}\", todatetime({f})) == {}", text::number(value))
            }
            Test::FieldRef { field: other, op, cased } => {
                let other = field(other);
                let cs = if *cased { "_cs" } else { "" };
                match op {
                    StrOp::Exact | StrOp::Glob => format!("{f} {} {other}", if *cased { "==" } else { "=~" }),
                    StrOp::Prefix => format!("{f} startswith{cs} {other}"),
                    StrOp::Suffix => format!("{f} endswith{cs} {other}"),
                    StrOp::Contains => format!("{f} contains{cs} {other}"),
                }
            }
            Test::QueryExpression { expression, id } => expression.replace("{field}", &f).replace("{id}", id),
        })
    }
}

/// A string test's pattern, refusing control characters the language cannot write.
fn pattern(op: StrOp, value: &crate::ir::value::SigmaString) -> Result<Vec<Piece>, Diagnostic> {
    let pieces = text::pattern(op, value)?;
    text::plain_text(&pieces, "KQL")?;
    Ok(pieces)
}
