//! Text helpers of the value transformations: wildcard strings as plain text and as regexes, placeholders,
//! Python-style templates and snake case.

use crate::codes::Code;
use crate::ir::meta::LogSource;
use crate::ir::value::{Number, Part, RegexFlags, SigmaString};
use crate::rule::value::DetectionValue;
use crate::yaml::{Kind, Node};
use std::borrow::Cow;

/// Why a transformation failed: a code and a message.
pub(crate) type Failure = (Code, String);

/// Which placeholders a placeholder transformation handles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlaceholderFilter {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
}

impl PlaceholderFilter {
    pub(super) fn handles(&self, name: &str) -> bool {
        match (&self.include, &self.exclude) {
            (Some(include), _) => include.iter().any(|n| n == name),
            (None, Some(exclude)) => !exclude.iter().any(|n| n == name),
            (None, None) => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexMethod {
    Plain,
    IgnoreCaseFlag,
    IgnoreCaseBrackets,
}

/// A string's text with wildcards as the characters `*` and `?` (pySigma's `to_plain`).
pub(super) fn plain_text(s: &SigmaString) -> String {
    s.parts
        .iter()
        .map(|p| match p {
            Part::Lit(t) => Cow::Borrowed(t.as_str()),
            Part::AnyRun => Cow::Borrowed("*"),
            Part::AnyChar => Cow::Borrowed("?"),
            Part::Placeholder(n) => Cow::Owned(format!("%{n}%")),
        })
        .collect()
}

/// `extract_fields` values: null words are null, numbers numbers (but `007` stays text).
pub(super) fn extracted_value(text: &str) -> DetectionValue {
    if matches!(text.to_lowercase().as_str(), "null" | "none" | "") {
        return DetectionValue::Null;
    }
    if text != "0" && text.starts_with('0') {
        return DetectionValue::Str { value: SigmaString::literal(text), cased: false };
    }
    match Number::parse(text) {
        Some(n) => DetectionValue::Num(n),
        None => DetectionValue::Str { value: SigmaString::literal(text), cased: false },
    }
}

/// Reads back a replaced value written in Sigma syntax. `Display` and `SigmaString::parse` round-trip exactly,
/// so a backslash before a wildcard stays a backslash (pySigma turns it into an escaped star, pySigma#431).
/// `%name%` become placeholders again when the original had some.
pub(super) fn reparse_replaced(text: &str, placeholders: bool) -> SigmaString {
    let parsed = SigmaString::parse(text);
    if placeholders {
        crate::rule::modifiers::expand_placeholders(&parsed)
    } else {
        parsed
    }
}

/// `regex` transformation: a wildcard string as an anchored regular expression. pySigma leaves it unanchored,
/// which turns an exact match into a substring match; here `abc` becomes `^abc$` (DESIGN.md).
pub(super) fn to_regex(s: &SigmaString, method: RegexMethod) -> Result<DetectionValue, Failure> {
    let mut pattern = String::from("^");
    for part in &s.parts {
        match part {
            Part::Lit(text) if method == RegexMethod::IgnoreCaseBrackets => {
                for c in text.chars() {
                    let (lower, upper): (String, String) = (c.to_lowercase().collect(), c.to_uppercase().collect());
                    if c.is_alphabetic() && lower != upper {
                        pattern.push_str(&format!("[{lower}{upper}]"));
                    } else {
                        pattern.push_str(&regex::escape(&c.to_string()));
                    }
                }
            }
            Part::Lit(text) => pattern.push_str(&regex::escape(text)),
            Part::AnyRun => pattern.push_str(".*"),
            Part::AnyChar => pattern.push('.'),
            Part::Placeholder(name) => {
                return Err((
                    Code::PipelineError,
                    format!("placeholder `%{name}%` cannot become a regular expression: resolve placeholders first"),
                ))
            }
        }
    }
    pattern.push('$');
    let flags = RegexFlags { ignore_case: method == RegexMethod::IgnoreCaseFlag, ..RegexFlags::default() };
    Ok(DetectionValue::Regex { pattern, flags })
}

/// pySigma's snake_case: `_` before every upper-case letter but the first, then lower case.
pub(super) fn snake_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The most values one value's placeholders may expand to (every combination of several placeholders' values):
/// beyond, the rule fails with `too-large` rather than the process with out-of-memory.
pub const MAX_PLACEHOLDER_VALUES: usize = 4096;

/// Replaces handled placeholders by their values; several placeholders give every combination.
pub(super) fn expand_placeholders(
    s: &SigmaString,
    filter: &PlaceholderFilter,
    values: &dyn Fn(&str) -> Result<Vec<SigmaString>, Failure>,
) -> Result<Vec<SigmaString>, Failure> {
    let mut results = vec![SigmaString::default()];
    for part in &s.parts {
        match part {
            Part::Placeholder(name) if filter.handles(name) => {
                let options = values(name)?;
                if results.len().saturating_mul(options.len()) > MAX_PLACEHOLDER_VALUES {
                    return Err((
                        Code::TooLarge,
                        format!("placeholders expand `{s}` to more than {MAX_PLACEHOLDER_VALUES} values"),
                    ));
                }
                let mut next = Vec::with_capacity(results.len() * options.len());
                for prefix in &results {
                    for option in &options {
                        let mut combined = prefix.clone();
                        for p in &option.parts {
                            combined.push(p.clone());
                        }
                        next.push(combined);
                    }
                }
                results = next;
            }
            other => {
                for r in &mut results {
                    r.push(other.clone());
                }
            }
        }
    }
    Ok(results)
}

/// Python `string.Template.safe_substitute` of `$category`, `$product`, `$service` in string values.
pub(super) fn substitute_template(node: &Node<'static>, logsource: &LogSource) -> Node<'static> {
    let lookup = |name: &str| -> Option<String> {
        let value = match name {
            "category" => &logsource.category,
            "product" => &logsource.product,
            "service" => &logsource.service,
            _ => return None,
        };
        // Python substitutes a missing attribute as the text "None".
        Some(value.clone().unwrap_or_else(|| "None".to_string()))
    };
    let kind = match &node.kind {
        Kind::Str(s) => Kind::Str(Cow::Owned(substitute(s, &lookup))),
        Kind::Seq(items) => Kind::Seq(items.iter().map(|i| substitute_template(i, logsource)).collect()),
        Kind::Map(entries) => {
            Kind::Map(entries.iter().map(|(k, v)| (k.clone(), substitute_template(v, logsource))).collect())
        }
        other => other.clone(),
    };
    Node { pos: node.pos, kind }
}

pub(super) fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..len], len)
        };
        match lookup(name).filter(|_| consumed > 0) {
            Some(value) => {
                out.push_str(&value);
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Python `re.sub` replacement syntax (`\1`, `\g<name>`, `\\`) in the `regex` crate's syntax (`${1}`, `$$`).
pub(super) fn python_replacement(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut group = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        group.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_replacements() {
        assert_eq!(super::python_replacement(r"\1-\g<name>-$-\\"), "${1}-${name}-$$-\\");
    }

    use super::*;

    #[test]
    fn template_substitution_is_safe() {
        let ls = LogSource { category: Some("process_creation".into()), ..LogSource::default() };
        let node =
            Node { pos: Default::default(), kind: Kind::Str(Cow::Owned("c=$category p=${product} $$x $other".into())) };
        let out = substitute_template(&node, &ls);
        assert_eq!(out.as_str(), Some("c=process_creation p=None $x $other"));
    }

    #[test]
    fn snake_case_and_regex() {
        assert_eq!(snake_case("CommandLine"), "command_line");
        let DetectionValue::Regex { pattern, .. } =
            to_regex(&SigmaString::parse("a*B.c"), RegexMethod::IgnoreCaseBrackets).unwrap()
        else {
            panic!()
        };
        assert_eq!(pattern, r"^[aA].*[bB]\.[cC]$");
    }

    #[test]
    fn replaced_text_keeps_backslashes_and_escaped_wildcards() {
        let original = SigmaString::parse(r"C:\Windows\\*\x\*");
        assert_eq!(original.parts, vec![Part::Lit(r"C:\Windows\".into()), Part::AnyRun, Part::Lit(r"\x*".into())]);
        assert_eq!(reparse_replaced(&original.to_string(), false), original);
    }
}
