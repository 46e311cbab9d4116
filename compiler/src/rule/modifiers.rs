//! DetectionValue modifiers: names, order rules and their effect on values (DESIGN.md, "Modifiers").
//!
//! Modifiers run left to right, each on the values the previous one produced, as in pySigma. `all` and `neq` act on
//! the whole item instead. Order and type problems are reported with `modifier-order` / `modifier-type`.

use super::value::DetectionValue;
use crate::ir::value::{CompareOp, Number, Part, RegexFlags, SigmaString, TimeUnit};
use base64::Engine as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    IgnoreCase,
    MultiLine,
    DotAll,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Cidr,
    Compare(CompareOp),
    TimePart(TimeUnit),
    Expand,
    FieldRef,
}

impl Modifier {
    /// Looks a modifier up by its (case-sensitive) name, aliases included.
    pub fn from_name(name: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "windash" => Windash,
            "re" => Re,
            "i" | "ignorecase" => IgnoreCase,
            "m" | "multiline" => MultiLine,
            "s" | "dotall" => DotAll,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "wide" | "utf16le" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "cidr" => Cidr,
            "gt" => Compare(CompareOp::Gt),
            "gte" => Compare(CompareOp::Gte),
            "lt" => Compare(CompareOp::Lt),
            "lte" => Compare(CompareOp::Lte),
            "minute" => TimePart(TimeUnit::Minute),
            "hour" => TimePart(TimeUnit::Hour),
            "day" => TimePart(TimeUnit::Day),
            "week" => TimePart(TimeUnit::Week),
            "month" => TimePart(TimeUnit::Month),
            "year" => TimePart(TimeUnit::Year),
            "expand" => Expand,
            "fieldref" => FieldRef,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Exists => "exists",
            Cased => "cased",
            Neq => "neq",
            Windash => "windash",
            Re => "re",
            IgnoreCase => "i",
            MultiLine => "m",
            DotAll => "s",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16Le => "wide",
            Utf16Be => "utf16be",
            Utf16 => "utf16",
            Cidr => "cidr",
            Compare(CompareOp::Gt) => "gt",
            Compare(CompareOp::Gte) => "gte",
            Compare(CompareOp::Lt) => "lt",
            Compare(CompareOp::Lte) => "lte",
            TimePart(unit) => unit.name(),
            Expand => "expand",
            FieldRef => "fieldref",
        }
    }

    /// Modifiers that read the YAML value in their own way and so must come first.
    pub fn must_be_first(self) -> bool {
        matches!(self, Modifier::Re | Modifier::Cidr | Modifier::Exists)
    }

    /// Modifiers that act on the whole item (value linking, negation) rather than on each value.
    pub fn is_item_modifier(self) -> bool {
        matches!(self, Modifier::All | Modifier::Neq)
    }
}

/// Why a modifier could not be applied. The caller attaches the position and turns it into a diagnostic.
#[derive(Debug, PartialEq)]
pub enum ModifierError {
    Order(String),
    Type(String),
    InvalidRegex(String),
    InvalidCidr(String),
    InvalidTimePart(String),
}

/// The raw YAML value of a detection item, before any modifier.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue<'a> {
    Str(&'a str),
    Num(Number),
    Bool(bool),
    Null,
}

/// Limit on windash alternatives: 5 per dash position, so 4 positions already give 625.
const MAX_WINDASH_POSITIONS: usize = 4;

/// Turns one raw value into a typed value by running the value modifiers of `chain` over it.
pub fn apply_chain(raw: &RawValue<'_>, chain: &[Modifier]) -> Result<DetectionValue, ModifierError> {
    let first = chain.iter().copied().find(|m| !m.is_item_modifier());
    let mut value = initial_value(raw, first)?;
    // Encodings produce bytes; a following base64 must encode those bytes, not their UTF-8 form.
    let mut bytes = false;
    let mut started = false;
    for &modifier in chain {
        if modifier.is_item_modifier() {
            continue;
        }
        if started && modifier.must_be_first() {
            return Err(ModifierError::Order(format!(
                "`{}` must be the first modifier: it reads the raw YAML value",
                modifier.name()
            )));
        }
        let was_first = !started;
        started = true;
        if was_first && modifier.must_be_first() {
            continue; // already applied by `initial_value`
        }
        value = apply(value, modifier, &mut bytes)?;
    }
    Ok(value)
}

fn initial_value(raw: &RawValue<'_>, first: Option<Modifier>) -> Result<DetectionValue, ModifierError> {
    match (first, raw) {
        (Some(Modifier::Re), RawValue::Str(s)) => {
            regex_syntax::Parser::new().parse(s).map_err(|e| {
                ModifierError::InvalidRegex(format!("invalid regular expression: {}", first_line(&e.to_string())))
            })?;
            Ok(DetectionValue::Regex { pattern: s.to_string(), flags: RegexFlags::default() })
        }
        (Some(Modifier::Re), other) => Err(type_error(Modifier::Re, raw_type(other))),
        (Some(Modifier::Cidr), RawValue::Str(s)) => parse_cidr(s).map(DetectionValue::Cidr),
        (Some(Modifier::Cidr), other) => Err(type_error(Modifier::Cidr, raw_type(other))),
        (Some(Modifier::Exists), RawValue::Bool(b)) => Ok(DetectionValue::Exists(*b)),
        (Some(Modifier::Exists), other) => {
            Err(ModifierError::Type(format!("`exists` needs `true` or `false`, not {}", raw_type(other))))
        }
        (_, RawValue::Str(s)) => Ok(DetectionValue::Str { value: SigmaString::parse(s), cased: false }),
        (_, RawValue::Num(n)) => Ok(DetectionValue::Num(*n)),
        (_, RawValue::Bool(b)) => Ok(DetectionValue::Bool(*b)),
        (_, RawValue::Null) => Ok(DetectionValue::Null),
    }
}

fn first_line(text: &str) -> String {
    // regex-syntax errors draw the pattern over several lines; the message is the last line.
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(text).trim().to_string()
}

fn raw_type(raw: &RawValue<'_>) -> &'static str {
    match raw {
        RawValue::Str(_) => "a string",
        RawValue::Num(_) => "a number",
        RawValue::Bool(_) => "a boolean",
        RawValue::Null => "null",
    }
}

fn type_error(modifier: Modifier, found: &str) -> ModifierError {
    ModifierError::Type(format!("`{}` cannot apply to {found}", modifier.name()))
}

fn parse_cidr(text: &str) -> Result<ipnet::IpNet, ModifierError> {
    let text = text.trim();
    let net: ipnet::IpNet = match text.parse() {
        Ok(net) => net,
        // A bare address is a /32 (or /128) network, as Python's ip_network reads it.
        Err(_) => match text.parse::<std::net::IpAddr>() {
            Ok(addr) => ipnet::IpNet::from(addr),
            Err(_) => return Err(ModifierError::InvalidCidr(format!("`{text}` is not an IPv4 or IPv6 network"))),
        },
    };
    if net.trunc() != net {
        return Err(ModifierError::InvalidCidr(format!(
            "`{text}` has host bits set; the network is `{}`",
            net.trunc()
        )));
    }
    Ok(net)
}

/// Numbers are accepted where a string modifier needs a string: `EventID|startswith: 46` means "46".
fn as_string(value: DetectionValue, modifier: Modifier) -> Result<(SigmaString, bool), ModifierError> {
    match value {
        DetectionValue::Str { value, cased } => Ok((value, cased)),
        DetectionValue::Num(n) => Ok((SigmaString::literal(n.to_string()), false)),
        other => Err(type_error(modifier, other.type_name())),
    }
}

fn apply(value: DetectionValue, modifier: Modifier, bytes: &mut bool) -> Result<DetectionValue, ModifierError> {
    use Modifier::*;
    if let DetectionValue::Expansion(items) = value {
        let mapped: Result<Vec<DetectionValue>, _> =
            items.into_iter().map(|v| apply(v, modifier, &mut bytes.clone())).collect();
        return Ok(DetectionValue::Expansion(mapped?));
    }
    match modifier {
        Contains | StartsWith | EndsWith => {
            let (before, after) = match modifier {
                Contains => (true, true),
                StartsWith => (false, true),
                _ => (true, false),
            };
            match value {
                DetectionValue::Regex { pattern, flags } => {
                    let mut pattern = pattern;
                    if before && !(pattern.starts_with('^') || pattern.starts_with(".*")) {
                        pattern.insert_str(0, ".*");
                    }
                    if after && !(pattern.ends_with('$') || pattern.ends_with(".*")) {
                        pattern.push_str(".*");
                    }
                    Ok(DetectionValue::Regex { pattern, flags })
                }
                DetectionValue::FieldRef { field, any_before, any_after, cased } => Ok(DetectionValue::FieldRef {
                    field,
                    any_before: any_before || before,
                    any_after: any_after || after,
                    cased,
                }),
                other => {
                    let (mut s, cased) = as_string(other, modifier)?;
                    if before && !s.starts_with_any_run() {
                        s.parts.insert(0, Part::AnyRun);
                    }
                    if after && !s.ends_with_any_run() {
                        s.push(Part::AnyRun);
                    }
                    Ok(DetectionValue::Str { value: s, cased })
                }
            }
        }
        Cased => match value {
            DetectionValue::FieldRef { field, any_before, any_after, .. } => {
                Ok(DetectionValue::FieldRef { field, any_before, any_after, cased: true })
            }
            other => {
                let (s, _) = as_string(other, modifier)?;
                Ok(DetectionValue::Str { value: s, cased: true })
            }
        },
        Windash => {
            let (s, cased) = as_string(value, modifier)?;
            windash(&s, cased)
        }
        Base64 | Base64Offset => {
            let (s, _) = as_string(value, modifier)?;
            let Some(plain) = s.as_plain() else {
                return Err(ModifierError::Order(format!(
                    "`{}` cannot encode wildcards or placeholders: put it before `contains`/`startswith`/`endswith`",
                    modifier.name()
                )));
            };
            let data = if *bytes { latin1_bytes(plain) } else { plain.as_bytes().to_vec() };
            *bytes = false;
            if modifier == Base64 {
                let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
                Ok(DetectionValue::Str { value: SigmaString::literal(encoded), cased: false })
            } else {
                Ok(DetectionValue::Expansion(
                    base64_offsets(&data)
                        .into_iter()
                        .map(|v| DetectionValue::Str { value: SigmaString::literal(v), cased: false })
                        .collect(),
                ))
            }
        }
        Utf16Le | Utf16Be | Utf16 => {
            let (s, cased) = as_string(value, modifier)?;
            *bytes = true;
            let mut encoded = s.map_literals(|lit| utf16_as_latin1(lit, modifier == Utf16Be));
            if modifier == Utf16 {
                // The byte order mark FF FE, as the specification says (pySigma writes U+FEFF instead).
                encoded.parts.insert(0, Part::Lit("\u{ff}\u{fe}".to_string()));
                encoded = merge(encoded);
            }
            Ok(DetectionValue::Str { value: encoded, cased })
        }
        IgnoreCase | MultiLine | DotAll => match value {
            DetectionValue::Regex { pattern, mut flags } => {
                match modifier {
                    IgnoreCase => flags.ignore_case = true,
                    MultiLine => flags.multi_line = true,
                    _ => flags.dot_all = true,
                }
                Ok(DetectionValue::Regex { pattern, flags })
            }
            other => Err(ModifierError::Order(format!(
                "`{}` is a flag of `re` and must follow it (found {})",
                modifier.name(),
                other.type_name()
            ))),
        },
        Compare(op) => match value {
            DetectionValue::Num(n) => Ok(DetectionValue::Compare { op, value: n }),
            DetectionValue::Str { value: s, .. } => match s.as_plain().and_then(Number::parse) {
                Some(n) => Ok(DetectionValue::Compare { op, value: n }),
                None => Err(ModifierError::Type(format!("`{}` needs a number, not the string `{s}`", modifier.name()))),
            },
            other => Err(type_error(modifier, other.type_name())),
        },
        TimePart(unit) => match value {
            DetectionValue::Num(Number::Int(n)) => {
                if let Some((lo, hi)) = unit.range() {
                    if n < lo || n > hi {
                        return Err(ModifierError::InvalidTimePart(format!(
                            "`{}` must be between {lo} and {hi}, not {n}",
                            unit.name()
                        )));
                    }
                }
                Ok(DetectionValue::TimePart { unit, value: Number::Int(n) })
            }
            other => {
                Err(ModifierError::Type(format!("`{}` needs a whole number, not {}", unit.name(), other.type_name())))
            }
        },
        Expand => {
            let (s, cased) = as_string(value, modifier)?;
            Ok(DetectionValue::Str { value: expand_placeholders(&s), cased })
        }
        FieldRef => {
            let (s, cased) = as_string(value, modifier)?;
            match s.as_plain() {
                Some(field) if !field.is_empty() => Ok(DetectionValue::FieldRef {
                    field: field.to_string(),
                    any_before: false,
                    any_after: false,
                    cased,
                }),
                _ => Err(ModifierError::Order(
                    "`fieldref` needs a plain field name: put it before `contains`/`startswith`/`endswith`".into(),
                )),
            }
        }
        Re | Cidr | Exists => Err(ModifierError::Order(format!("`{}` must be the first modifier", modifier.name()))),
        All | Neq => Ok(value),
    }
}

fn merge(s: SigmaString) -> SigmaString {
    let mut out = SigmaString::default();
    for part in s.parts {
        out.push(part);
    }
    out
}

fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

/// UTF-16 code units as bytes, each byte stored as the char of the same value (Latin-1).
fn utf16_as_latin1(s: &str, big_endian: bool) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for unit in s.encode_utf16() {
        let [a, b] = if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() };
        out.push(a as char);
        out.push(b as char);
    }
    out
}

/// The three base64 forms of `data` at byte offsets 0, 1 and 2 of a larger encoded text, with the characters
/// that depend on neighbouring bytes cut off (pySigma's slicing).
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    let mut out = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut padded = vec![b' '; shift];
        padded.extend_from_slice(data);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
        let end_cut = END[(data.len() + shift) % 3];
        let end = encoded.len().saturating_sub(end_cut);
        out.push(encoded.get(START[shift]..end).unwrap_or("").to_string());
    }
    out
}

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `-` or `/` that starts an option (after a non-word character, before a word character) in any of the
/// five dash forms; positions combine as a cartesian product. Each literal part is scanned on its own, so a
/// wildcard counts as a non-word neighbour, as in pySigma.
fn windash(s: &SigmaString, cased: bool) -> Result<DetectionValue, ModifierError> {
    // Positions as (part index, char index within the part).
    let mut positions = Vec::new();
    for (pi, part) in s.parts.iter().enumerate() {
        if let Part::Lit(text) = part {
            let chars: Vec<char> = text.chars().collect();
            for (ci, &c) in chars.iter().enumerate() {
                let before_ok = ci == 0 || !is_word(chars[ci - 1]);
                let after_ok = chars.get(ci + 1).is_some_and(|&n| is_word(n));
                if (c == '-' || c == '/') && before_ok && after_ok {
                    positions.push((pi, ci));
                }
            }
        }
    }
    if positions.len() > MAX_WINDASH_POSITIONS {
        return Err(ModifierError::Type(format!(
            "`windash` on a value with {} option dashes would make {} alternatives; split the value",
            positions.len(),
            5usize.pow(positions.len() as u32)
        )));
    }
    let combinations = 5usize.pow(positions.len() as u32);
    let mut out = Vec::with_capacity(combinations);
    for combination in 0..combinations {
        let mut rest = combination;
        let mut variant = s.clone();
        // Last position varies fastest, so the first alternative is the original value.
        for &(pi, ci) in positions.iter().rev() {
            let dash = DASHES[rest % 5];
            rest /= 5;
            if let Part::Lit(text) = &mut variant.parts[pi] {
                *text = text.chars().enumerate().map(|(i, c)| if i == ci { dash } else { c }).collect();
            }
        }
        out.push(DetectionValue::Str { value: variant, cased });
    }
    Ok(DetectionValue::Expansion(out))
}

/// `%name%` becomes a placeholder; `\%` is a literal percent sign.
pub(crate) fn expand_placeholders(s: &SigmaString) -> SigmaString {
    let mut out = SigmaString::default();
    for part in &s.parts {
        let Part::Lit(text) = part else {
            out.push(part.clone());
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' if chars.get(i + 1) == Some(&'%') => {
                    out.push_char('%');
                    i += 2;
                }
                '%' => {
                    let close = chars[i + 1..].iter().position(|&c| c == '%').map(|p| p + i + 1);
                    match close {
                        Some(end) if end > i + 1 => {
                            out.push(Part::Placeholder(chars[i + 1..end].iter().collect()));
                            i = end + 1;
                        }
                        _ => {
                            out.push_char('%');
                            i += 1;
                        }
                    }
                }
                c => {
                    out.push_char(c);
                    i += 1;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(names: &[&str]) -> Vec<Modifier> {
        names.iter().map(|n| Modifier::from_name(n).unwrap()).collect()
    }

    fn strings(value: &DetectionValue) -> Vec<String> {
        match value {
            DetectionValue::Expansion(items) => items.iter().flat_map(strings).collect(),
            DetectionValue::Str { value, .. } => vec![value.to_string()],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn base64offset_matches_pysigma_example() {
        assert_eq!(base64_offsets(b"cmd.exe"), vec!["Y21kLmV4Z", "NtZC5leG", "jbWQuZXhl"]);
        let v = apply_chain(&RawValue::Str("cmd.exe"), &chain(&["base64offset", "contains"])).unwrap();
        assert_eq!(strings(&v), vec!["*Y21kLmV4Z*", "*NtZC5leG*", "*jbWQuZXhl*"]);
    }

    #[test]
    fn wide_then_base64_encodes_utf16le_bytes() {
        let v = apply_chain(&RawValue::Str("ab"), &chain(&["wide", "base64"])).unwrap();
        assert_eq!(strings(&v), vec!["YQBiAA=="]);
        let v = apply_chain(&RawValue::Str("ab"), &chain(&["utf16be", "base64"])).unwrap();
        assert_eq!(strings(&v), vec!["AGEAYg=="]);
        let v = apply_chain(&RawValue::Str("a"), &chain(&["utf16", "base64"])).unwrap();
        assert_eq!(strings(&v), vec!["//5hAA=="]);
    }

    #[test]
    fn windash_expands_every_option_dash() {
        let v = apply_chain(&RawValue::Str(" -ma "), &chain(&["windash"])).unwrap();
        assert_eq!(strings(&v), vec![" -ma ", " /ma ", " \u{2013}ma ", " \u{2014}ma ", " \u{2015}ma "]);
        let v = apply_chain(&RawValue::Str("-a -b"), &chain(&["contains", "windash"])).unwrap();
        assert_eq!(strings(&v).len(), 25);
        // An inner dash is no option; in `--x` only the second dash is (Python's `\B[-/]\b`).
        let v = apply_chain(&RawValue::Str("a-b"), &chain(&["windash"])).unwrap();
        assert_eq!(strings(&v), vec!["a-b"]);
        let v = apply_chain(&RawValue::Str("a-b --x"), &chain(&["windash"])).unwrap();
        assert_eq!(strings(&v), vec!["a-b --x", "a-b -/x", "a-b -\u{2013}x", "a-b -\u{2014}x", "a-b -\u{2015}x"]);
    }

    #[test]
    fn contains_adds_wildcards_only_where_missing() {
        let v = apply_chain(&RawValue::Str("*abc"), &chain(&["contains"])).unwrap();
        assert_eq!(strings(&v), vec!["*abc*"]);
        let v = apply_chain(&RawValue::Num(Number::Int(46)), &chain(&["startswith"])).unwrap();
        assert_eq!(strings(&v), vec!["46*"]);
    }

    #[test]
    fn order_and_type_errors() {
        assert!(matches!(apply_chain(&RawValue::Str("x"), &chain(&["contains", "re"])), Err(ModifierError::Order(_))));
        assert!(matches!(
            apply_chain(&RawValue::Str("x"), &chain(&["contains", "base64"])),
            Err(ModifierError::Order(_))
        ));
        assert!(matches!(
            apply_chain(&RawValue::Str("x"), &chain(&["contains", "fieldref"])),
            Err(ModifierError::Order(_))
        ));
        assert!(matches!(apply_chain(&RawValue::Str("x"), &chain(&["i"])), Err(ModifierError::Order(_))));
        assert!(matches!(apply_chain(&RawValue::Str("abc"), &chain(&["gt"])), Err(ModifierError::Type(_))));
        assert!(matches!(apply_chain(&RawValue::Num(Number::Int(1)), &chain(&["cidr"])), Err(ModifierError::Type(_))));
        assert!(matches!(
            apply_chain(&RawValue::Str("10.0.0.1/8"), &chain(&["cidr"])),
            Err(ModifierError::InvalidCidr(_))
        ));
        assert!(matches!(apply_chain(&RawValue::Str("a(b"), &chain(&["re"])), Err(ModifierError::InvalidRegex(_))));
        assert!(matches!(
            apply_chain(&RawValue::Num(Number::Int(25)), &chain(&["hour"])),
            Err(ModifierError::InvalidTimePart(_))
        ));
        assert!(matches!(apply_chain(&RawValue::Str("yes"), &chain(&["exists"])), Err(ModifierError::Type(_))));
    }

    #[test]
    fn regex_flags_and_cidr() {
        let v = apply_chain(&RawValue::Str("a.b"), &chain(&["re", "i", "s"])).unwrap();
        assert_eq!(
            v,
            DetectionValue::Regex {
                pattern: "a.b".into(),
                flags: RegexFlags { ignore_case: true, multi_line: false, dot_all: true }
            }
        );
        let v = apply_chain(&RawValue::Str("fe80::/10"), &chain(&["cidr"])).unwrap();
        assert_eq!(v, DetectionValue::Cidr("fe80::/10".parse().unwrap()));
        let v = apply_chain(&RawValue::Str("10.1.2.3"), &chain(&["cidr"])).unwrap();
        assert_eq!(v, DetectionValue::Cidr("10.1.2.3/32".parse().unwrap()));
    }

    #[test]
    fn expand_finds_placeholders_and_keeps_escaped_percent() {
        let v = apply_chain(&RawValue::Str(r"%Admins%\x\%y%"), &chain(&["expand"])).unwrap();
        let DetectionValue::Str { value, .. } = v else { panic!() };
        assert_eq!(value.parts, vec![Part::Placeholder("Admins".into()), Part::Lit(r"\x%y%".into())]);
    }

    #[test]
    fn fieldref_with_partial_match() {
        let v = apply_chain(&RawValue::Str("ParentUser"), &chain(&["fieldref", "endswith"])).unwrap();
        assert_eq!(
            v,
            DetectionValue::FieldRef { field: "ParentUser".into(), any_before: true, any_after: false, cased: false }
        );
    }
}
