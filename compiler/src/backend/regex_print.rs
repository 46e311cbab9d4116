//! Sigma regexes (RE2-like syntax, unanchored) re-written in Lucene's regular-expression syntax, which Lucene
//! query strings, ES|QL `RLIKE` and EQL `regex` use: always anchored, no `\d`/`\w`/`\s`, no inline flags, no
//! look-around. The pattern is parsed with `regex-syntax` and printed back from its high-level form, so classes,
//! case-insensitivity and escapes come out right; what Lucene cannot express (word boundaries, line anchors
//! inside the text) is unsupported.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::value::RegexFlags;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// The Lucene form of `pattern`: a whole-value match, so `.*` is added at each unanchored end.
pub fn lucene(pattern: &str, flags: RegexFlags) -> Result<String, Diagnostic> {
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(flags.ignore_case)
            .multi_line(flags.multi_line)
            .dot_matches_new_line(flags.dot_all)
            .unicode(unicode)
            .utf8(unicode)
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())
    };
    // ASCII classes keep `\w` and friends short; Unicode mode is the fallback for patterns that need it.
    let hir = parse(false)
        .or_else(|_| parse(true))
        .map_err(|e| Diagnostic::unlocated(Code::UnsupportedRegex, format!("regular expression `{pattern}`: {e}")))?;
    let mut items: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(items) => items.iter().collect(),
        _ => vec![&hir],
    };
    let starts = matches!(items.first().map(|h| h.kind()), Some(HirKind::Look(Look::Start)));
    if starts {
        items.remove(0);
    }
    let ends = matches!(items.last().map(|h| h.kind()), Some(HirKind::Look(Look::End)));
    if ends {
        items.pop();
    }
    let mut out = String::new();
    if !starts {
        out.push_str(".*");
    }
    for item in items {
        print(item, &mut out, pattern)?;
    }
    if !ends {
        out.push_str(".*");
    }
    Ok(out)
}

fn unsupported(pattern: &str, what: &str) -> Diagnostic {
    Diagnostic::unlocated(
        Code::UnsupportedRegex,
        format!("regular expression `{pattern}`: Lucene regexes have no {what}"),
    )
}

fn print(hir: &Hir, out: &mut String, pattern: &str) -> Result<(), Diagnostic> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(literal) => {
            let text = String::from_utf8(literal.0.to_vec()).map_err(|_| unsupported(pattern, "byte literals"))?;
            for c in text.chars() {
                if is_whitespace_control(c) {
                    out.push_str("\\s");
                } else if c.is_control() {
                    return Err(unsupported(pattern, "way to write a control character on one line"));
                } else {
                    literal_char(c, out);
                }
            }
        }
        HirKind::Class(class) => print_class(class, out, pattern)?,
        HirKind::Look(_) => return Err(unsupported(pattern, "anchors or word boundaries inside the pattern")),
        HirKind::Repetition(rep) => {
            atom(&rep.sub, out, pattern)?;
            match (rep.min, rep.max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (m, None) => out.push_str(&format!("{{{m},}}")),
                (m, Some(n)) if m == n => out.push_str(&format!("{{{m}}}")),
                (m, Some(n)) => out.push_str(&format!("{{{m},{n}}}")),
            }
        }
        HirKind::Capture(capture) => {
            out.push('(');
            print(&capture.sub, out, pattern)?;
            out.push(')');
        }
        HirKind::Concat(items) => {
            for item in items {
                print(item, out, pattern)?;
            }
        }
        HirKind::Alternation(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                print(item, out, pattern)?;
            }
            out.push(')');
        }
    }
    Ok(())
}

/// A repeated operand: grouped unless it is one character or class.
fn atom(hir: &Hir, out: &mut String, pattern: &str) -> Result<(), Diagnostic> {
    let single = match hir.kind() {
        HirKind::Literal(l) => std::str::from_utf8(&l.0).is_ok_and(|s| s.chars().count() == 1),
        HirKind::Class(_) | HirKind::Capture(_) | HirKind::Alternation(_) => true,
        _ => false,
    };
    if single {
        print(hir, out, pattern)
    } else {
        out.push('(');
        print(hir, out, pattern)?;
        out.push(')');
        Ok(())
    }
}

pub fn literal_char(c: char, out: &mut String) {
    if matches!(
        c,
        '.' | '?'
            | '+'
            | '*'
            | '|'
            | '{'
            | '}'
            | '['
            | ']'
            | '('
            | ')'
            | '"'
            | '\\'
            | '#'
            | '@'
            | '&'
            | '<'
            | '>'
            | '~'
            | '/'
    ) {
        out.push('\\');
    }
    out.push(c);
}

fn class_char(c: char, out: &mut String) {
    if matches!(c, '\\' | ']' | '[' | '-' | '^' | '"' | '/') {
        out.push('\\');
    }
    out.push(c);
}

/// Tab, newline, vertical tab, form feed and carriage return: with the space, what Lucene's `\s` matches (Lucene 9,
/// Elasticsearch 8 and later).
fn is_whitespace_control(c: char) -> bool {
    ('\t'..='\r').contains(&c)
}

fn print_class(class: &Class, out: &mut String, pattern: &str) -> Result<(), Diagnostic> {
    let ranges: Vec<(char, char)> = match class {
        Class::Unicode(c) => c.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        Class::Bytes(c) => c.ranges().iter().map(|r| (r.start() as char, r.end() as char)).collect(),
    };
    let max = match class {
        Class::Unicode(_) => char::MAX,
        Class::Bytes(_) => '\u{ff}',
    };
    // `.` in its two forms: everything, or everything but a newline.
    if ranges == [('\0', max)] || ranges == [('\0', '\u{9}'), ('\u{b}', max)] {
        out.push('.');
        return Ok(());
    }
    // Control characters would break the query's line (and Lucene's syntax has no escape for them): whitespace
    // ones are written `\s` (which also takes the space and the other whitespace), the others left out of the
    // class; compiler/DESIGN.md, "Backends".
    let whitespace = ranges.iter().any(|&(a, b)| a <= '\r' && b >= '\t');
    let mut printable = ranges;
    for (lo, hi) in [('\0', '\u{1f}'), ('\u{7f}', '\u{9f}')] {
        printable = without(&printable, lo, hi);
    }
    if whitespace {
        printable = without(&printable, ' ', ' ');
    }
    let mut class_text = String::new();
    if !printable.is_empty() {
        class_text.push('[');
        for (start, end) in printable {
            class_char(start, &mut class_text);
            if end != start {
                class_text.push('-');
                class_char(end, &mut class_text);
            }
        }
        class_text.push(']');
    }
    match (whitespace, class_text.is_empty()) {
        (false, false) => out.push_str(&class_text),
        (true, true) => out.push_str("\\s"),
        (true, false) => out.push_str(&format!("(\\s|{class_text})")),
        (false, true) => return Err(unsupported(pattern, "way to write a control character on one line")),
    }
    Ok(())
}

/// `ranges` without the characters `lo..=hi`.
fn without(ranges: &[(char, char)], lo: char, hi: char) -> Vec<(char, char)> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    for &(a, b) in ranges {
        if b < lo || a > hi {
            out.push((a, b));
            continue;
        }
        if a < lo {
            out.push((a, char::from_u32(lo as u32 - 1).unwrap_or(a)));
        }
        if b > hi {
            out.push((char::from_u32(hi as u32 + 1).unwrap_or(b), b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(ignore_case: bool) -> RegexFlags {
        RegexFlags { ignore_case, multi_line: false, dot_all: false }
    }

    #[test]
    fn anchors_classes_and_case() {
        assert_eq!(lucene("^ab\\d+$", flags(false)).unwrap(), "ab[0-9]+");
        assert_eq!(lucene("a.c", flags(false)).unwrap(), ".*a.c.*");
        assert_eq!(lucene("ab", flags(true)).unwrap(), ".*[Aa][Bb].*");
        assert_eq!(lucene("(x|y){2,3}\\.exe", flags(false)).unwrap(), ".*([x-y]){2,3}\\.exe.*");
        assert!(lucene("\\bword\\b", flags(false)).is_err());
    }

    #[test]
    fn control_characters_stay_on_one_line() {
        assert_eq!(lucene("a\\sb", flags(false)).unwrap(), ".*a\\sb.*");
        assert_eq!(lucene("a\\tb", flags(false)).unwrap(), ".*a\\sb.*");
        assert_eq!(lucene("[\\sx]", flags(false)).unwrap(), ".*(\\s|[x]).*");
        assert_eq!(lucene("[^\\s-]", flags(false)).unwrap(), ".*[!-,.-\u{7e}\u{a0}-\u{ff}].*");
        assert!(lucene("a\\x01b", flags(false)).is_err());
        for pattern in ["x[\\s\\x00-\\x08]y", "\\S+\\s+--inode", "[^\\n]{3}"] {
            let printed = lucene(pattern, flags(false)).unwrap();
            assert!(!printed.chars().any(char::is_control), "{pattern}: {printed:?}");
        }
    }
}
