//! SQL: one generator, four dialects. `SELECT * FROM <table> WHERE <condition>`, one column per field.
//!
//! Case-insensitive tests compare `lower(column)` with a lower-cased literal (SQLite: `LIKE`, which folds ASCII
//! itself); `cased` tests compare as is. A NOT is `NOT COALESCE(x, FALSE)`: SQL's NULL for a missing column would
//! otherwise drop the row, while Sigma says a test on a missing field is false, so its negation holds.

use super::text::{self, like, like_needs_escape, lowered, pattern, Piece};
use super::walk::{render, Language};
use super::{Context, Target};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::value::{RegexFlags, TimeUnit};
use crate::ir::{StrOp, Test};
use crate::sql_table::{KEYWORD_COLUMN, KEYWORD_SEPARATOR, TABLE};

pub(super) struct Sql {
    dialect: Target,
    keyword_column: String,
}

pub fn query(dialect: Target, cx: &Context<'_>) -> Result<String, Diagnostic> {
    let sql =
        Sql { dialect, keyword_column: cx.options.keyword_field.clone().unwrap_or_else(|| KEYWORD_COLUMN.to_string()) };
    let condition = render(&sql, &cx.rule.expr)?;
    let table = cx.table().unwrap_or_else(|| TABLE.to_string());
    Ok(format!("SELECT * FROM {} WHERE {condition}", sql.table_name(&table)))
}

/// The `WHERE` condition of [`query`] alone, for a query that tests many rules over one table in a single pass.
pub fn condition(dialect: Target, cx: &Context<'_>) -> Result<String, Diagnostic> {
    let sql =
        Sql { dialect, keyword_column: cx.options.keyword_field.clone().unwrap_or_else(|| KEYWORD_COLUMN.to_string()) };
    render(&sql, &cx.rule.expr)
}

impl Sql {
    /// A column as a number for comparisons (`gt`, ...): SQLite columns hold numbers or text, and SQLite orders
    /// every text after every number, so text that reads as a number is cast and other text is NULL (no comparison
    /// holds), as the matcher reads numbers. Other dialects compare typed columns.
    fn numeric(&self, column: &str) -> String {
        match self.dialect {
            Target::Sqlite => format!(
                "(CASE WHEN typeof({column}) IN ('integer', 'real') THEN {column} WHEN typeof({column}) = 'text' \
                 AND trim({column}) <> '' AND trim({column}) NOT GLOB '*[^0-9.eE+-]*' THEN CAST(trim({column}) AS REAL) END)"
            ),
            _ => column.to_string(),
        }
    }

    /// A boolean test. SQLite has no boolean type: Vigil's SQLite store keeps JSON booleans as the text `true` /
    /// `false`, as the matcher reads them (a string test `'true'` and a boolean test agree), so the test reads the
    /// text; the other dialects compare typed booleans.
    fn boolean(&self, column: &str, b: bool) -> String {
        match self.dialect {
            Target::Sqlite => format!("lower({column}) = '{b}'"),
            _ => format!("{column} = {}", if b { "TRUE" } else { "FALSE" }),
        }
    }

    pub(super) fn new(dialect: Target, keyword_column: &str) -> Sql {
        Sql { dialect, keyword_column: keyword_column.to_string() }
    }

    /// The type text is cast to (group values compared as text, as `vigil hunt` compares them).
    pub(super) fn text_type(&self) -> &'static str {
        match self.dialect {
            Target::Spark => "STRING",
            _ => "TEXT",
        }
    }

    pub(super) fn double_type(&self) -> &'static str {
        match self.dialect {
            Target::Sqlite => "REAL",
            Target::Spark => "DOUBLE",
            _ => "DOUBLE PRECISION",
        }
    }

    /// Whether a subquery may read a column of a query two levels out (Spark resolves only the next one).
    pub(super) fn reads_two_levels_out(&self) -> bool {
        self.dialect != Target::Spark
    }

    /// Equality in which two NULLs (missing values) are equal.
    pub(super) fn same(&self, x: &str, y: &str) -> String {
        match self.dialect {
            Target::Sqlite => format!("{x} IS {y}"),
            Target::Spark => format!("{x} <=> {y}"),
            _ => format!("{x} IS NOT DISTINCT FROM {y}"),
        }
    }

    /// Milliseconds since the epoch of a timestamp or ISO 8601 text.
    pub(super) fn millis(&self, time: &str) -> String {
        match self.dialect {
            Target::Sqlite => format!("CAST(ROUND((julianday({time}) - 2440587.5) * 86400000.0) AS INTEGER)"),
            Target::Postgres => format!("(EXTRACT(EPOCH FROM CAST({time} AS timestamptz)) * 1000)"),
            Target::Duckdb => format!("epoch_ms(CAST({time} AS TIMESTAMPTZ))"),
            _ => format!("unix_millis(to_timestamp({time}))"),
        }
    }

    /// Identifiers are quoted when they are not plain lower-case-safe names: PostgreSQL and DuckDB fold unquoted
    /// names to lower case, so there any upper-case letter needs quotes too.
    pub(super) fn ident(&self, name: &str) -> String {
        let simple = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let folds = matches!(self.dialect, Target::Postgres | Target::Duckdb);
        if simple && !(folds && name.chars().any(|c| c.is_ascii_uppercase())) {
            return name.to_string();
        }
        match self.dialect {
            Target::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A table name may be qualified (`schema.table`): each part is an identifier.
    fn table_name(&self, name: &str) -> String {
        name.split('.').map(|part| self.ident(part)).collect::<Vec<_>>().join(".")
    }

    /// A string literal. Spark reads backslash escapes inside literals; the others take text as is. The keyword
    /// separator and control characters are written as character codes, concatenated.
    fn string(&self, text: &str) -> String {
        // Characters a literal cannot hold (SQLite's parser stops at NUL), that would break the query's line
        // (control characters) or that are clearer by code (the keyword separator) are concatenated as `char(N)`;
        // Spark writes NUL, tab, newline and carriage return as escapes.
        let spark_escape = |c: char| self.dialect == Target::Spark && matches!(c, '\0' | '\t' | '\n' | '\r');
        let special = |c: char| c == KEYWORD_SEPARATOR || (c.is_control() && !spark_escape(c));
        if text.contains(special) {
            let chr = match self.dialect {
                Target::Postgres | Target::Duckdb => "chr",
                _ => "char",
            };
            let mut parts = Vec::new();
            let mut run = String::new();
            for c in text.chars() {
                if special(c) {
                    if !run.is_empty() {
                        parts.push(self.string(&std::mem::take(&mut run)));
                    }
                    parts.push(format!("{chr}({})", c as u32));
                } else {
                    run.push(c);
                }
            }
            if !run.is_empty() {
                parts.push(self.string(&run));
            }
            return format!("({})", parts.join(" || "));
        }
        match self.dialect {
            Target::Spark => crate::sql_table::spark_string(text),
            _ => format!("'{}'", text.replace('\'', "''")),
        }
    }

    fn escape_clause(&self, pieces: &[Piece]) -> &'static str {
        // Spark's LIKE escapes with `\` by default; the others need the clause when an escape occurs.
        if self.dialect != Target::Spark && like_needs_escape(pieces) {
            " ESCAPE '\\'"
        } else {
            ""
        }
    }

    /// A string test on `column` (an already rendered SQL expression).
    fn string_test(&self, column: &str, pieces: &[Piece], cased: bool) -> String {
        if cased {
            if self.dialect == Target::Sqlite {
                // SQLite's LIKE folds ASCII case whatever the pattern: GLOB is its case-sensitive match. `=` compares
                // text with text only (a number stored as a number is never equal to text), hence the cast.
                return match text::plain(pieces) {
                    Some(p) => format!("CAST({column} AS TEXT) = {}", self.string(p)),
                    None => format!("{column} GLOB {}", self.string(&glob(pieces))),
                };
            }
            return match text::plain(pieces) {
                Some(p) => format!("{column} = {}", self.string(p)),
                None => format!("{column} LIKE {}{}", self.string(&like(pieces)), self.escape_clause(pieces)),
            };
        }
        if self.dialect == Target::Sqlite {
            return format!("{column} LIKE {}{}", self.string(&like(pieces)), self.escape_clause(pieces));
        }
        let pieces = lowered(pieces);
        match text::plain(&pieces) {
            Some(p) => format!("lower({column}) = {}", self.string(p)),
            None => format!("lower({column}) LIKE {}{}", self.string(&like(&pieces)), self.escape_clause(&pieces)),
        }
    }

    /// A column read as text for string tests: PostgreSQL and DuckDB have no `lower()` or `LIKE` on numbers (a rule's
    /// `EventID: '4624'` on an integer column), the others convert implicitly.
    fn as_text(&self, column: &str) -> String {
        match self.dialect {
            Target::Postgres | Target::Duckdb => format!("{column}::text"),
            _ => column.to_string(),
        }
    }

    fn regex(&self, column: &str, pattern: &str, flags: RegexFlags) -> String {
        let column = &self.as_text(column);
        match self.dialect {
            Target::Postgres => {
                // POSIX AREs: `.` matches a newline and `^`/`$` only match at the ends unless told otherwise;
                // the embedded options give Sigma's (RE2-like) defaults and its `m`/`s` flags.
                let mode = match (flags.multi_line, flags.dot_all) {
                    (false, false) => "(?p)",
                    (false, true) => "",
                    (true, false) => "(?n)",
                    (true, true) => "(?w)",
                };
                let op = if flags.ignore_case { "~*" } else { "~" };
                format!("{column} {op} {}", self.string(&format!("{mode}{pattern}")))
            }
            Target::Duckdb => {
                format!(
                    "regexp_matches({column}, {})",
                    self.string(&format!("{}{pattern}", text::inline_flags(flags, "")))
                )
            }
            Target::Spark => {
                format!("{column} RLIKE {}", self.string(&format!("{}{pattern}", text::inline_flags(flags, "u"))))
            }
            _ => format!("{column} REGEXP {}", self.string(&format!("{}{pattern}", text::inline_flags(flags, "")))),
        }
    }

    fn time_part(&self, column: &str, unit: TimeUnit) -> Result<String, Diagnostic> {
        let name = match unit {
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        };
        Ok(match self.dialect {
            Target::Sqlite => {
                let format = match unit {
                    TimeUnit::Minute => "%M",
                    TimeUnit::Hour => "%H",
                    TimeUnit::Day => "%d",
                    TimeUnit::Week => "%W",
                    TimeUnit::Month => "%m",
                    TimeUnit::Year => "%Y",
                };
                if unit == TimeUnit::Week {
                    // `%W` counts weeks from the first Monday, not ISO weeks as Sigma does.
                    return Err(Diagnostic::unlocated(Code::UnsupportedTimePart, "SQLite has no ISO week number"));
                }
                format!("CAST(strftime('{format}', {column}) AS INTEGER)")
            }
            Target::Postgres => format!("EXTRACT({name} FROM CAST({column} AS timestamp))"),
            // TRY_CAST: a value that is no timestamp does not match (DuckDB's CAST would fail the query).
            Target::Duckdb => format!("{name}(TRY_CAST({column} AS TIMESTAMP))"),
            _ => match unit {
                TimeUnit::Week => format!("weekofyear({column})"),
                TimeUnit::Day => format!("dayofmonth({column})"),
                _ => format!("{name}({column})"),
            },
        })
    }

    fn substring_position(&self) -> &'static str {
        match self.dialect {
            Target::Postgres => "strpos",
            _ => "instr",
        }
    }
}

/// A keyword's pattern over the keyword column, which holds every value of the event between separators: a
/// value's start and end are the separators, so `'x'` is an exact value, `'x*'` a prefix, `'*x*'` a substring.
fn keyword_pattern(pieces: Vec<Piece>) -> Vec<Piece> {
    let sep = KEYWORD_SEPARATOR.to_string();
    let mut out = vec![Piece::Any];
    if pieces.first() != Some(&Piece::Any) {
        out.push(Piece::Lit(sep.clone()));
    }
    let ends_open = pieces.last() == Some(&Piece::Any);
    for piece in pieces {
        match (out.last_mut(), piece) {
            (Some(Piece::Lit(last)), Piece::Lit(s)) => last.push_str(&s),
            (Some(Piece::Any), Piece::Any) => {}
            (_, piece) => out.push(piece),
        }
    }
    if !ends_open {
        match out.last_mut() {
            Some(Piece::Lit(last)) => last.push_str(&sep),
            _ => out.push(Piece::Lit(sep)),
        }
        out.push(Piece::Any);
    }
    out
}

/// Runs of at least this many uncased string tests on one field are one list test in Spark (shorter lists, such
/// as the seed's nine DLLs, stay one readable `LIKE` each).
const SPARK_LIST_MIN: usize = 20;

/// A whole-value pattern as a regular expression that a search (Java's `find`, Spark's `RLIKE`) finds exactly
/// when the pattern matches the whole value: an open end is left open, a closed one anchored (`\A`, `\z`: Java's
/// `$` would also match before a final line break).
fn found_regex(pieces: &[Piece]) -> String {
    let (mut start, mut end) = (0, pieces.len());
    let open_start = pieces.first() == Some(&Piece::Any);
    let open_end = end > start && pieces.last() == Some(&Piece::Any);
    if open_start {
        start += 1;
    }
    if open_end && end > start {
        end -= 1;
    }
    let middle = text::wildcard(&pieces[start..end], ".*", ".", regex_syntax::escape);
    format!("{}{middle}{}", if open_start { "" } else { "\\A" }, if open_end { "" } else { "\\z" })
}

/// A SQLite GLOB pattern: `*`, `?`, and `[`-bracketed literals for the three special characters.
fn glob(pieces: &[Piece]) -> String {
    text::wildcard(pieces, "*", "?", |s| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '*' | '?' | '[' => {
                    out.push('[');
                    out.push(c);
                    out.push(']');
                }
                c => out.push(c),
            }
        }
        out
    })
}

impl Language for Sql {
    fn and(&self) -> &'static str {
        " AND "
    }

    fn or(&self) -> &'static str {
        " OR "
    }

    fn not(&self, operand: String, _compound: bool) -> String {
        // COALESCE's parentheses group the operand already.
        self.negate(operand)
    }

    fn negate(&self, operand: String) -> String {
        format!("NOT COALESCE({operand}, FALSE)")
    }

    fn constant(&self, value: bool) -> String {
        if value { "TRUE" } else { "FALSE" }.to_string()
    }

    fn max_operands(&self) -> usize {
        100
    }

    /// Spark: a long list of uncased values on one field (`Hashes|contains: [4,000 hashes]`,
    /// `ContextInfo|contains: [200 script names]`) is one test on `lower(field)` read once: `IN` for exact values,
    /// else one `RLIKE` whose alternatives are the patterns (`x` for `*x*`, `\Ax` for `x*`, `x\z` for `*x`). As
    /// many `lower(field) LIKE ...` would lower the field once per value, and thousands of operands make a plan
    /// Spark takes long to optimise and to compile (DESIGN.md, "Spark").
    fn pattern_list(&self, field: &str, patterns: &[Vec<Piece>]) -> Result<Option<String>, Diagnostic> {
        if self.dialect != Target::Spark || patterns.len() < SPARK_LIST_MIN {
            return Ok(None);
        }
        let column = format!("lower({})", self.ident(field));
        let patterns: Vec<Vec<Piece>> = patterns.iter().map(|p| lowered(p)).collect();
        if let Some(values) = patterns.iter().map(|p| text::plain(p)).collect::<Option<Vec<&str>>>() {
            let values: Vec<String> = values.iter().map(|v| self.string(v)).collect();
            return Ok(Some(format!("{column} IN ({})", values.join(", "))));
        }
        let alternatives: Vec<String> = patterns.iter().map(|p| found_regex(p)).collect();
        Ok(Some(format!("{column} RLIKE {}", self.string(&format!("(?s)(?:{})", alternatives.join("|"))))))
    }

    fn predicate(&self, field: Option<&str>, test: &Test) -> Result<String, Diagnostic> {
        let Some(field) = field else {
            // Keywords: a substring search in the full-text column (DESIGN.md, "Backends").
            let column = self.ident(&self.keyword_column);
            return match test {
                Test::Str { op, value, cased } => {
                    let pieces = keyword_pattern(pattern(*op, value)?);
                    Ok(self.string_test(&column, &pieces, *cased))
                }
                Test::Num(n) => {
                    let pieces = keyword_pattern(vec![Piece::Lit(text::number(n))]);
                    Ok(self.string_test(&column, &pieces, false))
                }
                Test::Regex { pattern, flags } => Ok(self.regex(&column, pattern, *flags)),
                other => Err(Diagnostic::unlocated(
                    Code::UnsupportedValue,
                    format!("{} cannot be a keyword", super::describe(other)),
                )),
            };
        };
        let column = self.ident(field);
        match test {
            Test::Str { op, value, cased } => {
                Ok(self.string_test(&self.as_text(&column), &pattern(*op, value)?, *cased))
            }
            Test::Num(n) => Ok(format!("{column} = {}", text::number(n))),
            Test::Bool(b) => Ok(self.boolean(&column, *b)),
            Test::Null => Ok(format!("{column} IS NULL")),
            Test::Exists => Ok(format!("{column} IS NOT NULL")),
            Test::Regex { pattern, flags } => Ok(self.regex(&column, pattern, *flags)),
            Test::Cidr(net) => {
                let prefixes = text::cidr_prefixes(net)?;
                let tests: Vec<String> = prefixes
                    .iter()
                    .map(|(prefix, whole)| {
                        let pieces = if *whole {
                            vec![Piece::Lit(prefix.clone())]
                        } else {
                            vec![Piece::Lit(prefix.clone()), Piece::Any]
                        };
                        format!("{column} LIKE {}{}", self.string(&like(&pieces)), self.escape_clause(&pieces))
                    })
                    .collect();
                Ok(if tests.len() == 1 { tests.concat() } else { format!("({})", tests.join(" OR ")) })
            }
            Test::Compare { op, value } => {
                let symbol = text::compare_symbol(*op);
                // Numeric text compares as its number, other text does not compare, as Sigma does.
                let column = match self.dialect {
                    Target::Duckdb => format!("TRY_CAST({column} AS DOUBLE)"),
                    _ => self.numeric(&column),
                };
                Ok(format!("{column} {symbol} {}", text::number(value)))
            }
            Test::TimePart { unit, value } => {
                Ok(format!("{} = {}", self.time_part(&column, *unit)?, text::number(value)))
            }
            Test::FieldRef { field: other, op, cased } => {
                let other = self.ident(other);
                let (a, b) = if *cased {
                    (column.clone(), other.clone())
                } else {
                    (format!("lower({column})"), format!("lower({other})"))
                };
                Ok(match op {
                    StrOp::Exact | StrOp::Glob => format!("{a} = {b}"),
                    StrOp::Prefix => format!("substr({a}, 1, length({b})) = {b}"),
                    StrOp::Suffix => {
                        format!("(length({a}) >= length({b}) AND substr({a}, length({a}) - length({b}) + 1) = {b})")
                    }
                    StrOp::Contains => format!("{}({a}, {b}) > 0", self.substring_position()),
                })
            }
            Test::QueryExpression { expression, id } => Ok(expression.replace("{field}", &column).replace("{id}", id)),
        }
    }
}
