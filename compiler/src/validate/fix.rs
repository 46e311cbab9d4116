//! Safe fixes of conventions (`vigil check --fix`, `--diff`): small edits of the text as written, never of what a
//! rule matches.
//!
//! | code | fix |
//! |---|---|
//! | `sigmahq-title-end` | the title's final dot removed |
//! | `sigmahq-falsepositives-capital` | the entry's first letter capitalised |
//! | `tag-format` (uppercase only) | the tag lowercased |
//! | `wildcards-instead-of-modifiers` | `|endswith`, `|startswith` or `|contains` added, the stars removed |
//!
//! Every fixed document is compiled again: its log source and detection expression must be the same as before, or
//! no fix of the file is kept.

use super::{validate_source, Selection};
use crate::codes::Code;
use crate::diagnostic::Pos;
use crate::load::{load_str, Content};
use crate::lower::lower;
use crate::yaml::{self, Kind, Node};
use std::path::Path;

/// A replacement of characters `[start, end)` (0-based character columns) on a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edit {
    line: u32,
    start: usize,
    end: usize,
    text: String,
}

/// The text with every safe fix applied, and the codes fixed; `Ok(None)` when there is nothing to fix; `Err` when
/// a fix would have changed a rule (nothing is changed then).
pub fn fix_source(path: &Path, text: &str, selection: &Selection) -> Result<Option<(String, Vec<Code>)>, String> {
    let findings = validate_source(path, text, selection);
    let wanted: Vec<(Code, Pos)> = findings
        .iter()
        .flat_map(|(_, diagnostics)| diagnostics.iter())
        .filter_map(|d| Some((d.code, d.pos?)))
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let (documents, _) = yaml::parse(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut edits: Vec<(Code, Edit)> = Vec::new();
    for (code, pos) in wanted {
        let found = edits_for(&documents, &lines, code, pos);
        edits.extend(found.into_iter().flatten().map(|e| (code, e)));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let fixed = apply(text, edits.iter().map(|(_, e)| e.clone()).collect());
    same_rules(text, &fixed)?;
    let mut codes: Vec<Code> = edits.into_iter().map(|(c, _)| c).collect();
    codes.sort();
    codes.dedup();
    Ok(Some((fixed, codes)))
}

/// The text with the one finding `code` at `pos` fixed (for an editor's quick fix); `None` when it has no safe fix.
pub fn fix_one(text: &str, code: Code, pos: Pos) -> Option<String> {
    let (documents, _) = yaml::parse(text);
    let lines: Vec<&str> = text.lines().collect();
    let fixed = apply(text, edits_for(&documents, &lines, code, pos)?);
    same_rules(text, &fixed).ok()?;
    (fixed != text).then_some(fixed)
}

/// Whether a convention has a safe fix.
pub fn is_fixable(code: Code) -> bool {
    matches!(
        code,
        Code::SigmahqTitleEnd
            | Code::SigmahqFalsepositivesCapital
            | Code::TagFormat
            | Code::WildcardsInsteadOfModifiers
    )
}

/// The edits that fix the finding `code` at `pos`.
fn edits_for(documents: &[yaml::Document<'_>], lines: &[&str], code: Code, pos: Pos) -> Option<Vec<Edit>> {
    if code == Code::WildcardsInsteadOfModifiers {
        return modifier_edits(documents, pos, lines);
    }
    let node = documents.iter().find_map(|d| node_at(&d.root, pos))?;
    let line = lines.get(pos.line as usize - 1)?;
    match code {
        Code::SigmahqTitleEnd => scalar_edit(node, line, |s| s.strip_suffix('.').map(str::to_string)),
        Code::SigmahqFalsepositivesCapital => scalar_edit(node, line, |s| {
            let mut chars = s.chars();
            let first = chars.next()?;
            Some(first.to_uppercase().chain(chars).collect())
        }),
        Code::TagFormat => scalar_edit(node, line, |s| {
            let lower = s.to_lowercase();
            (lower != s && super::tags::is_tag_form(&lower)).then_some(lower)
        }),
        _ => None,
    }
}

/// The scalar node that starts at `pos` (a key's value or a list entry), anywhere in the tree.
fn node_at<'n, 'a>(node: &'n Node<'a>, pos: Pos) -> Option<&'n Node<'a>> {
    if node.pos == pos && matches!(node.kind, Kind::Str(_)) {
        return Some(node);
    }
    match &node.kind {
        Kind::Seq(items) => items.iter().find_map(|i| node_at(i, pos)),
        Kind::Map(entries) => entries.iter().find_map(|(k, v)| {
            if k.pos == pos {
                return Some(k);
            }
            node_at(v, pos)
        }),
        _ => None,
    }
}

/// Where a one-line scalar is written on its line: (first, one past the last character of its content), the quotes
/// left out. `None` for block scalars and scalars that continue on the next line.
fn content_span(line: &str, column: usize) -> Option<(usize, usize)> {
    let chars: Vec<char> = line.chars().collect();
    let first = *chars.get(column)?;
    match first {
        '\'' | '"' => {
            let mut i = column + 1;
            while i < chars.len() {
                if chars[i] == first {
                    if first == '\'' && chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    return Some((column + 1, i));
                }
                if first == '"' && chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            None
        }
        '|' | '>' => None,
        _ => {
            // A plain scalar ends at ` #` or the end of the line.
            let mut end = chars.len();
            for i in column..chars.len() {
                if chars[i] == '#' && i > column && chars[i - 1] == ' ' {
                    end = i;
                    break;
                }
            }
            while end > column && chars[end - 1] == ' ' {
                end -= 1;
            }
            Some((column, end))
        }
    }
}

/// An edit of a one-line scalar's content, when `change` gives a new content and the written content is the
/// value itself (no escapes that would make the two differ).
fn scalar_edit(node: &Node<'_>, line: &str, change: impl Fn(&str) -> Option<String>) -> Option<Vec<Edit>> {
    let value = node.as_str()?;
    let (start, end) = content_span(line, node.pos.column as usize - 1)?;
    let written: String = line.chars().skip(start).take(end - start).collect();
    if written != value {
        return None;
    }
    let text = change(value)?;
    Some(vec![Edit { line: node.pos.line, start, end, text }])
}

/// `Field: '*x'` -> `Field|endswith: 'x'` (and `|startswith`, `|contains`): the key gains the modifier, each value
/// loses its stars. Only for keys without modifiers whose values are one-line scalars.
fn modifier_edits(documents: &[yaml::Document<'_>], pos: Pos, lines: &[&str]) -> Option<Vec<Edit>> {
    let (key, value) = documents.iter().find_map(|d| entry_at(&d.root, pos))?;
    let name = key.as_str()?;
    if name.contains('|') {
        return None;
    }
    let values: Vec<&Node<'_>> = match &value.kind {
        Kind::Seq(items) => items.iter().collect(),
        Kind::Str(_) => vec![value],
        _ => return None,
    };
    let texts: Vec<&str> = values.iter().map(|v| v.as_str()).collect::<Option<_>>()?;
    let both = texts.iter().all(|t| t.len() > 1 && t.starts_with('*') && t.ends_with('*'));
    let leading = texts.iter().all(|t| t.starts_with('*'));
    let (modifier, strip_start, strip_end) = if both {
        ("contains", true, true)
    } else if leading {
        ("endswith", true, false)
    } else {
        ("startswith", false, true)
    };
    let key_line = lines.get(key.pos.line as usize - 1)?;
    let (_, key_end) = content_span(key_line, key.pos.column as usize - 1)?;
    let key_end = if key_line.chars().nth(key.pos.column as usize - 1).is_some_and(|c| c == '\'' || c == '"') {
        key_end + 1
    } else {
        key_line.chars().skip(key.pos.column as usize - 1).position(|c| c == ':')? + key.pos.column as usize - 1
    };
    let mut edits = vec![Edit { line: key.pos.line, start: key_end, end: key_end, text: format!("|{modifier}") }];
    for value in values {
        let line = lines.get(value.pos.line as usize - 1)?;
        let (start, end) = content_span(line, value.pos.column as usize - 1)?;
        let written: String = line.chars().skip(start).take(end - start).collect();
        let mut inner = written.as_str();
        if strip_start {
            inner = inner.strip_prefix('*')?;
        }
        if strip_end {
            inner = inner.strip_suffix('*')?;
        }
        edits.push(Edit { line: value.pos.line, start, end, text: inner.to_string() });
    }
    Some(edits)
}

/// The mapping entry whose key starts at `pos`.
fn entry_at<'n, 'a>(node: &'n Node<'a>, pos: Pos) -> Option<(&'n Node<'a>, &'n Node<'a>)> {
    match &node.kind {
        Kind::Seq(items) => items.iter().find_map(|i| entry_at(i, pos)),
        Kind::Map(entries) => {
            entries.iter().find_map(|(k, v)| if k.pos == pos { Some((k, v)) } else { entry_at(v, pos) })
        }
        _ => None,
    }
}

/// Applies edits (non-overlapping ones; a later edit overlapping an earlier one is dropped), from the end of each
/// line so columns stay right.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.line, e.start, e.end));
    edits.dedup();
    let mut kept: Vec<Edit> = Vec::new();
    for edit in edits {
        if kept.last().is_some_and(|k| k.line == edit.line && edit.start < k.end) {
            continue;
        }
        kept.push(edit);
    }
    let mut out = String::with_capacity(text.len() + 32);
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let here: Vec<&Edit> = kept.iter().filter(|e| e.line as usize == number + 1).collect();
        if here.is_empty() {
            out.push_str(line);
            continue;
        }
        let mut chars: Vec<char> = line.chars().collect();
        for edit in here.iter().rev() {
            chars.splice(edit.start..edit.end, edit.text.chars());
        }
        out.extend(chars);
    }
    out
}

/// Whether every rule of `after` reads the same log source and matches by the same expression as in `before`.
fn same_rules(before: &str, after: &str) -> Result<(), String> {
    let shapes = |text: &str| -> Vec<Option<(crate::ir::meta::LogSource, crate::ir::Expr)>> {
        load_str(text)
            .into_iter()
            .map(|d| match d.content {
                Some(Content::Rule(rule)) => {
                    let ir = lower(rule);
                    Some((ir.logsource, ir.expr))
                }
                _ => None,
            })
            .collect()
    };
    if shapes(before) == shapes(after) {
        Ok(())
    } else {
        Err("a fix would change what a rule matches; nothing was changed".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Set;

    fn fixed(text: &str) -> String {
        let selection = Selection { sets: [Set::Pysigma, Set::Sigmahq].into(), excluded: Default::default() };
        match fix_source(Path::new("proc_creation_win_fix_example.yml"), text, &selection) {
            Ok(Some((text, _))) => text,
            Ok(None) => text.to_string(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn safe_fixes_keep_the_rule() {
        let text = "\
title: Whoami Run.
tags:
    - Attack.Discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image: '*\\whoami.exe'
        CommandLine:
            - '*/all*'
            - '*/priv*'
    condition: selection
falsepositives:
    - admins checking   # comment kept
";
        let expected = "\
title: Whoami Run
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\whoami.exe'
        CommandLine|contains:
            - '/all'
            - '/priv'
    condition: selection
falsepositives:
    - Admins checking   # comment kept
";
        assert_eq!(fixed(text), expected);
        assert_eq!(fixed(expected), expected, "nothing left to fix");
    }
}
