//! Value helpers shared by the targets: a string test as a sequence of literal and wildcard pieces, CIDR
//! networks as address prefixes, regex flags as inline flags.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::correlation::CmpOp;
use crate::ir::value::{CompareOp, Number, Part, RegexFlags, SigmaString};
use crate::ir::StrOp;

/// One piece of a string pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// Any run of characters, including none.
    Any,
    /// Exactly one character.
    One,
}

/// The whole-value pattern a string test stands for: the operator's edge wildcards made explicit, adjacent
/// literals merged. Unresolved placeholders cannot be rendered.
pub fn pattern(op: StrOp, value: &SigmaString) -> Result<Vec<Piece>, Diagnostic> {
    let mut pieces = Vec::with_capacity(value.parts.len() + 2);
    if matches!(op, StrOp::Suffix | StrOp::Contains) {
        pieces.push(Piece::Any);
    }
    for part in &value.parts {
        match part {
            Part::Lit(s) => match pieces.last_mut() {
                Some(Piece::Lit(last)) => last.push_str(s),
                _ => pieces.push(Piece::Lit(s.clone())),
            },
            Part::AnyRun => {
                if pieces.last() != Some(&Piece::Any) {
                    pieces.push(Piece::Any)
                }
            }
            Part::AnyChar => pieces.push(Piece::One),
            Part::Placeholder(name) => {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedPlaceholder,
                    format!("placeholder `%{name}%` was not resolved by a pipeline"),
                ))
            }
        }
    }
    if matches!(op, StrOp::Prefix | StrOp::Contains) && pieces.last() != Some(&Piece::Any) {
        pieces.push(Piece::Any);
    }
    Ok(pieces)
}

/// A number as query text (integers without a fraction).
pub fn number(n: &Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => f.to_string(),
    }
}

/// A numeric comparison's operator (`gt` -> `>`, ...).
pub fn compare_symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
    }
}

/// A correlation condition's operator; `=` and `!=` read as equality in SQL and in SPL's `where`.
pub fn condition_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Eq => "=",
        CmpOp::Neq => "!=",
    }
}

/// A double-quoted string with backslash escapes for `\`, `"`, newline, carriage return and tab (KQL, ES|QL, EQL).
pub fn double_quoted(text: &str) -> String {
    backslash_quoted(text, '"', false)
}

/// `text` between `quote`s, with backslash escapes for `\`, the quote, newline, carriage return and tab, and for
/// NUL when `nul` (Spark SQL reads `\0`).
pub fn backslash_quoted(text: &str, quote: char, nul: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' if nul => out.push_str("\\0"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Refuses literals holding a control character other than tab, newline and carriage return (NUL, ...): the
/// query languages of SIEMs have no escape for them that is safe everywhere.
pub fn plain_text(pieces: &[Piece], target: &str) -> Result<(), Diagnostic> {
    for piece in pieces {
        if let Piece::Lit(s) = piece {
            if let Some(c) = s.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedValue,
                    format!("{target} strings cannot hold the control character U+{:04X}", c as u32),
                ));
            }
        }
    }
    Ok(())
}

/// A keyword's pattern as a substring search: leading and trailing `Any` added where missing. Full-text
/// search finds a value inside the text of the whole event (DESIGN.md, "Backends").
pub fn unanchored(mut pieces: Vec<Piece>) -> Vec<Piece> {
    if pieces.first() != Some(&Piece::Any) {
        pieces.insert(0, Piece::Any);
    }
    if pieces.last() != Some(&Piece::Any) {
        pieces.push(Piece::Any);
    }
    pieces
}

/// The literal text of a wildcard-free pattern.
pub fn plain(pieces: &[Piece]) -> Option<&str> {
    match pieces {
        [] => Some(""),
        [Piece::Lit(s)] => Some(s),
        _ => None,
    }
}

/// The shape of a pattern: `Exact("x")`, `Prefix("x")` (`x*`), `Suffix` (`*x`), `Contains` (`*x*`), or `Other`.
pub enum Shape<'p> {
    Exact(&'p str),
    Prefix(&'p str),
    Suffix(&'p str),
    Contains(&'p str),
    Other,
}

pub fn shape(pieces: &[Piece]) -> Shape<'_> {
    match pieces {
        [] => Shape::Exact(""),
        [Piece::Lit(s)] => Shape::Exact(s),
        [Piece::Lit(s), Piece::Any] => Shape::Prefix(s),
        [Piece::Any, Piece::Lit(s)] => Shape::Suffix(s),
        [Piece::Any, Piece::Lit(s), Piece::Any] => Shape::Contains(s),
        [Piece::Any] => Shape::Contains(""),
        _ => Shape::Other,
    }
}

/// Lower-cases the literals (for targets that fold the field with `lower()`).
pub fn lowered(pieces: &[Piece]) -> Vec<Piece> {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => Piece::Lit(s.to_lowercase()),
            other => other.clone(),
        })
        .collect()
}

/// A pattern in a wildcard syntax: `any` and `one` for the wildcards, `escape` applied to literal text.
pub fn wildcard(pieces: &[Piece], any: &str, one: &str, escape: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(s) => out.push_str(&escape(s)),
            Piece::Any => out.push_str(any),
            Piece::One => out.push_str(one),
        }
    }
    out
}

/// A SQL `LIKE` pattern with `\` as the escape character.
pub fn like(pieces: &[Piece]) -> String {
    wildcard(pieces, "%", "_", |s| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if matches!(c, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    })
}

/// Whether a `LIKE` pattern from [`like`] uses the escape character.
pub fn like_needs_escape(pieces: &[Piece]) -> bool {
    pieces.iter().any(|p| matches!(p, Piece::Lit(s) if s.contains(['%', '_', '\\'])))
}

/// A regular expression matching the whole value (`^...$`), in the common syntax of RE2, PCRE and Java.
pub fn anchored_regex(pieces: &[Piece]) -> String {
    format!("^{}$", wildcard(pieces, ".*", ".", regex_syntax::escape))
}

/// Inline flags (`(?i)`, `(?m)`, `(?s)`) for dialects that take them (RE2, PCRE, Java, Rust).
pub fn inline_flags(flags: RegexFlags, extra_case: &str) -> String {
    let mut letters = String::new();
    if flags.ignore_case {
        letters.push('i');
        letters.push_str(extra_case);
    }
    if flags.multi_line {
        letters.push('m');
    }
    if flags.dot_all {
        letters.push('s');
    }
    if letters.is_empty() {
        String::new()
    } else {
        format!("(?{letters})")
    }
}

/// The address prefixes of a network, as the text every address in it starts with, and whether that text is a
/// whole address (a /32 or /128). IPv4 prefixes end at an octet and IPv6 ones at a hexadecimal digit; a
/// network between those boundaries becomes several prefixes. IPv6 prefixes read the canonical (compressed,
/// lower-case) text form, as Windows and most logs write addresses.
pub fn cidr_prefixes(net: &ipnet::IpNet) -> Result<Vec<(String, bool)>, Diagnostic> {
    match net {
        ipnet::IpNet::V4(v4) => {
            let bits = v4.prefix_len();
            if bits == 32 {
                return Ok(vec![(v4.addr().to_string(), true)]);
            }
            if bits == 0 {
                return Err(Diagnostic::unlocated(Code::UnsupportedCidr, "a /0 network matches every address"));
            }
            let octets = v4.network().octets();
            let whole = (bits / 8) as usize;
            let spare = bits % 8;
            let base: Vec<String> = octets[..whole].iter().map(u8::to_string).collect();
            if spare == 0 {
                return Ok(vec![(format!("{}.", base.join(".")), false)]);
            }
            let first = octets[whole];
            let count = 1u16 << (8 - spare);
            Ok((0..count)
                .map(|i| {
                    let mut parts = base.clone();
                    parts.push((first as u16 + i).to_string());
                    let text = parts.join(".");
                    // `10.1` must not match `10.10.0.1`: a partial address ends with its dot.
                    if parts.len() == 4 {
                        (text, true)
                    } else {
                        (format!("{text}."), false)
                    }
                })
                .collect())
        }
        ipnet::IpNet::V6(v6) => {
            let bits = v6.prefix_len();
            if bits == 128 {
                return Ok(vec![(v6.addr().to_string(), true)]);
            }
            let segments = v6.network().segments();
            // The leading segments must be written in full (no `::` before the prefix ends): only networks whose
            // fixed part holds no zero segment can be read as text prefixes.
            let whole = (bits / 16) as usize;
            let spare_bits = bits % 16;
            if bits == 0 || segments[..whole].contains(&0) || (whole == 0 && spare_bits == 0) {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedCidr,
                    format!("IPv6 network {net} cannot be written as text prefixes"),
                ));
            }
            let head: Vec<String> = segments[..whole].iter().map(|s| format!("{s:x}")).collect();
            if spare_bits == 0 {
                return Ok(vec![(format!("{}:", head.join(":")), false)]);
            }
            // A partial segment: its text has no leading zeros, so only networks fixing its top nibbles with a
            // non-zero first digit can be prefixes; expand the free bits of the last fixed nibble.
            let segment = segments[whole];
            let nibbles = spare_bits.div_ceil(4);
            let free = nibbles * 4 - spare_bits;
            if segment >> 12 == 0 {
                return Err(Diagnostic::unlocated(
                    Code::UnsupportedCidr,
                    format!("IPv6 network {net} cannot be written as text prefixes"),
                ));
            }
            let fixed = segment >> (16 - nibbles * 4);
            Ok((0..(1u16 << free))
                .map(|i| {
                    let digits = format!("{:x}", fixed | i);
                    let mut text = head.join(":");
                    if !text.is_empty() {
                        text.push(':');
                    }
                    text.push_str(&digits);
                    (text, false)
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_make_the_edges_explicit() {
        let value = SigmaString::parse("a*b?c");
        assert_eq!(like(&pattern(StrOp::Glob, &value).unwrap()), "a%b_c");
        let value = SigmaString::literal("50%_off\\x");
        assert_eq!(like(&pattern(StrOp::Contains, &value).unwrap()), "%50\\%\\_off\\\\x%");
        assert_eq!(anchored_regex(&pattern(StrOp::Prefix, &SigmaString::literal("a.b")).unwrap()), "^a\\.b.*$");
    }

    #[test]
    fn cidr_prefixes_end_on_boundaries() {
        let prefixes = |n: &str| cidr_prefixes(&n.parse().unwrap()).unwrap();
        assert_eq!(prefixes("10.0.0.0/8"), vec![("10.".to_string(), false)]);
        assert_eq!(prefixes("192.168.1.7/32"), vec![("192.168.1.7".to_string(), true)]);
        let p = prefixes("172.16.0.0/12");
        assert_eq!(p.len(), 16);
        assert_eq!(p[0].0, "172.16.");
        assert_eq!(p[15].0, "172.31.");
        assert_eq!(
            prefixes("fe80::/10").iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["fe8", "fe9", "fea", "feb"]
        );
        assert_eq!(prefixes("fc00::/7").iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["fc", "fd"]);
        assert_eq!(prefixes("2001:db8::/32"), vec![("2001:db8:".to_string(), false)]);
        assert_eq!(prefixes("::1/128"), vec![("::1".to_string(), true)]);
        assert!(cidr_prefixes(&"::/0".parse().unwrap()).is_err());
    }
}
