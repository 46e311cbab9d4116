//! The IR's leaf values: Sigma strings with their wildcard parts, numbers, comparison operators, time units and
//! regex flags. Rule syntax (`rule::value`) builds its detection values from these.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One piece of a Sigma string value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Part {
    Lit(String),
    /// `*`: any run of characters, including none.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
    /// `%name%` under `expand`, to be resolved by a pipeline.
    Placeholder(String),
}

/// A Sigma string: literal text, wildcards and placeholders. Adjacent literals are always merged and never empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SigmaString {
    pub parts: Vec<Part>,
}

impl SigmaString {
    /// Parses a plain value: `*` and `?` are wildcards; a backslash escapes only `*`, `?` and `\`, so Windows
    /// paths such as `C:\Windows\` stay literal (DESIGN.md, "Escapes").
    pub fn parse(raw: &str) -> Self {
        let mut out = SigmaString::default();
        // Most values are plain text, or plain text between stars: split on the specials without copying by char.
        let mut rest = raw;
        while let Some(at) = rest.find(['*', '?']) {
            if rest[..at].contains('\\') {
                break;
            }
            out.push(Part::Lit(rest[..at].to_string()));
            out.push(if rest.as_bytes()[at] == b'*' { Part::AnyRun } else { Part::AnyChar });
            rest = &rest[at + 1..];
        }
        if !rest.contains('\\') {
            out.push(Part::Lit(rest.to_string()));
            return out;
        }
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        out.push_char(next);
                    }
                    _ => out.push_char('\\'),
                },
                '*' => out.push(Part::AnyRun),
                '?' => out.push(Part::AnyChar),
                c => out.push_char(c),
            }
        }
        out
    }

    /// A string with no wildcards.
    pub fn literal(text: impl Into<String>) -> Self {
        let mut out = SigmaString::default();
        out.push(Part::Lit(text.into()));
        out
    }

    pub fn push(&mut self, part: Part) {
        match (self.parts.last_mut(), part) {
            (_, Part::Lit(s)) if s.is_empty() => {}
            (Some(Part::Lit(last)), Part::Lit(s)) => last.push_str(&s),
            (_, part) => self.parts.push(part),
        }
    }

    pub fn push_char(&mut self, c: char) {
        match self.parts.last_mut() {
            Some(Part::Lit(last)) => last.push(c),
            _ => self.parts.push(Part::Lit(c.to_string())),
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::AnyRun | Part::AnyChar))
    }

    pub fn has_placeholders(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Placeholder(_)))
    }

    pub fn starts_with_any_run(&self) -> bool {
        matches!(self.parts.first(), Some(Part::AnyRun))
    }

    pub fn ends_with_any_run(&self) -> bool {
        matches!(self.parts.last(), Some(Part::AnyRun))
    }

    /// The whole string when it is one literal (or empty).
    pub fn as_plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// Applies `f` to every literal part (used by encodings and pipelines).
    pub fn map_literals(&self, mut f: impl FnMut(&str) -> String) -> SigmaString {
        let mut out = SigmaString::default();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push(Part::Lit(f(s))),
                other => out.push(other.clone()),
            }
        }
        out
    }
}

impl fmt::Display for SigmaString {
    /// Prints in Sigma syntax: wildcards bare; literal `*` and `?` escaped, and a literal `\` escaped only where
    /// the next character would otherwise make it an escape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // (character, is it literal text?)
        let mut chars: Vec<(char, bool)> = Vec::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => chars.extend(s.chars().map(|c| (c, true))),
                Part::AnyRun => chars.push(('*', false)),
                Part::AnyChar => chars.push(('?', false)),
                Part::Placeholder(name) => {
                    chars.push(('%', false));
                    chars.extend(name.chars().map(|c| (c, false)));
                    chars.push(('%', false));
                }
            }
        }
        for (i, &(c, literal)) in chars.iter().enumerate() {
            let escape = literal
                && match c {
                    '*' | '?' => true,
                    '\\' => matches!(chars.get(i + 1), Some(('*' | '?' | '\\', _))),
                    _ => false,
                };
            if escape {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A YAML number. Integers stay integers, so `EventID: 7` never becomes `7.0`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Parses a decimal number written as text (`"5"`, `"-2.5"`).
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Number::Float)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x:?}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CompareOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Gt => ">",
            CompareOp::Gte => ">=",
            CompareOp::Lt => "<",
            CompareOp::Lte => "<=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeUnit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimeUnit {
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }

    /// The values a timestamp part can take; `None` for years.
    pub fn range(self) -> Option<(i64, i64)> {
        match self {
            TimeUnit::Minute => Some((0, 59)),
            TimeUnit::Hour => Some((0, 23)),
            TimeUnit::Day => Some((1, 31)),
            TimeUnit::Week => Some((1, 53)),
            TimeUnit::Month => Some((1, 12)),
            TimeUnit::Year => None,
        }
    }
}

/// Regex flags from the `i`, `m` and `s` sub-modifiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegexFlags {
    pub ignore_case: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str) -> Vec<Part> {
        SigmaString::parse(raw).parts
    }

    fn lit(s: &str) -> Part {
        Part::Lit(s.to_string())
    }

    #[test]
    fn backslash_escapes_only_wildcards_and_itself() {
        // `\*` is an escaped star even after a path separator (pySigma's code; some notes say otherwise).
        assert_eq!(parts(r"C:\Windows\*"), vec![lit(r"C:\Windows*")]);
        assert_eq!(parts(r"C:\Windows\\*"), vec![lit(r"C:\Windows\"), Part::AnyRun]);
        assert_eq!(parts(r"C:\Windows\System32"), vec![lit(r"C:\Windows\System32")]);
        assert_eq!(parts(r"\\*"), vec![lit(r"\"), Part::AnyRun]);
        assert_eq!(parts(r"\\\*"), vec![lit(r"\*")]);
        assert_eq!(parts(r"\\\\"), vec![lit(r"\\")]);
        assert_eq!(parts(r"a\?b"), vec![lit("a?b")]);
        assert_eq!(parts(r"trailing\"), vec![lit(r"trailing\")]);
        assert_eq!(parts(r"\n"), vec![lit(r"\n")]);
    }

    #[test]
    fn wildcards_become_parts() {
        assert_eq!(parts("*a?b*"), vec![Part::AnyRun, lit("a"), Part::AnyChar, lit("b"), Part::AnyRun]);
        assert_eq!(parts(""), vec![]);
    }

    #[test]
    fn display_round_trips() {
        for raw in [r"C:\Windows\*", r"C:\Windows\\*", r"\\\*", r"a\*b", "*x?y*", ""] {
            let s = SigmaString::parse(raw);
            assert_eq!(SigmaString::parse(&s.to_string()), s, "{raw}");
        }
    }
}
