//! The fast YAML path: one block-style document as Sigma files write it, parsed line by line.
//!
//! It covers block mappings and sequences (including `- key: value` items), plain scalars (also folded over
//! several lines), single- and double-quoted scalars on one line, `|` / `>` block scalars, one-line flow
//! sequences, `{}` and comments. Anything else (several documents, anchors, tags, flow mappings, tabs, CR, keys
//! that repeat, quoted scalars over several lines, ...) returns `None`, and the general parser takes the file:
//! this path never decides what a doubtful text means, and never reports errors.

use super::{resolve_scalar, Kind, Node, MAX_DEPTH};
use crate::diagnostic::Pos;
use saphyr_parser::ScalarStyle;
use std::borrow::Cow;

/// Parses `text` if it lies in the subset; `None` otherwise.
pub(super) fn parse(text: &str) -> Option<Node<'_>> {
    if text.contains(['\t', '\r', '\u{feff}']) {
        return None;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    for line in &lines {
        // Document markers and directives: several documents or YAML features the subset leaves out.
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            return None;
        }
    }
    let parser = Fast { lines };
    let first = parser.next_significant(0)?;
    let indent = parser.indent(first);
    let (root, next) = parser.block(first, indent, 0)?;
    if parser.next_significant(next).is_some() {
        return None;
    }
    Some(root)
}

struct Fast<'a> {
    lines: Vec<&'a str>,
}

/// Characters that cannot start a plain scalar or key in the subset.
fn starts_with_indicator(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>')
            | Some(b'\'' | b'"' | b'%' | b'@' | b'`')
    )
}

/// A `-` that starts a sequence item: followed by a space or the end of the line.
fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// After a scalar: nothing, or a comment after whitespace.
fn only_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start();
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

impl<'a> Fast<'a> {
    fn indent(&self, line: usize) -> usize {
        let text = self.lines[line];
        text.len() - text.trim_start_matches(' ').len()
    }

    fn is_significant(&self, line: usize) -> bool {
        let trimmed = self.lines[line].trim_start_matches(' ');
        !trimmed.is_empty() && !trimmed.starts_with('#')
    }

    fn next_significant(&self, from: usize) -> Option<usize> {
        (from..self.lines.len()).find(|&i| self.is_significant(i))
    }

    /// The position of byte column `col` of `line`, as the general parser reports it (1-based, in characters).
    fn pos(&self, line: usize, col: usize) -> Pos {
        let text = self.lines[line];
        let chars = if text.is_ascii() { col } else { text[..col].chars().count() };
        Pos::new(line as u32 + 1, chars as u32 + 1)
    }

    /// A block node (mapping or sequence) starting at `line`, byte column `col`.
    fn block(&self, line: usize, col: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let content = &self.lines[line][col..];
        if is_item(content) {
            self.sequence(line, col, depth)
        } else if self.key(line, col).is_some() {
            self.mapping(line, col, depth)
        } else {
            None
        }
    }

    /// Parses the key at `line`/`col`: the key node and the byte column just after its `:`.
    fn key(&self, line: usize, col: usize) -> Option<(Node<'a>, usize)> {
        let text = self.lines[line];
        let content = &text[col..];
        let pos = self.pos(line, col);
        let (kind, after) = if content.starts_with('\'') || content.starts_with('"') {
            let (kind, len) = quoted(content)?;
            let rest = &content[len..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            (kind, col + len + spaces)
        } else {
            if starts_with_indicator(content) {
                return None;
            }
            let bytes = content.as_bytes();
            let colon =
                (0..bytes.len()).find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))?;
            let key = content[..colon].trim_end_matches(' ');
            if key.is_empty() || key.contains(" #") {
                return None;
            }
            (resolve_scalar(Cow::Borrowed(key), ScalarStyle::Plain, None), col + colon)
        };
        let rest = &text[after..];
        if !(rest == ":" || rest.starts_with(": ")) {
            return None;
        }
        Some((Node { pos, kind }, after + 1))
    }

    fn mapping(&self, line: usize, col: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        let pos = self.pos(line, col);
        let mut entries: Vec<(Node<'a>, Node<'a>)> = Vec::new();
        let mut current = line;
        loop {
            let (key, after) = self.key(current, col)?;
            // Repeated keys are reported by the general parser.
            if entries.iter().any(|(k, _)| k.kind == key.kind) {
                return None;
            }
            let (value, next) = self.value(current, after, col, true, depth)?;
            entries.push((key, value));
            match self.next_significant(next) {
                Some(j) if self.indent(j) == col && !is_item(&self.lines[j][col..]) => current = j,
                Some(j) if self.indent(j) >= col => return None,
                _ => return Some((Node { pos, kind: Kind::Map(entries) }, next)),
            }
        }
    }

    fn sequence(&self, line: usize, col: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        let pos = self.pos(line, col);
        let mut items = Vec::new();
        let mut current = line;
        loop {
            let (item, next) = self.value(current, col + 1, col, false, depth)?;
            items.push(item);
            match self.next_significant(next) {
                Some(j) if self.indent(j) == col && is_item(&self.lines[j][col..]) => current = j,
                Some(j) if self.indent(j) > col => return None,
                _ => return Some((Node { pos, kind: Kind::Seq(items) }, next)),
            }
        }
    }

    /// The value after a key's `:` or an item's `-`, starting at byte column `from` of `line`. `parent` is the
    /// column of the key or dash: continuation lines must be indented deeper. Returns the node and the line
    /// after it.
    fn value(&self, line: usize, from: usize, parent: usize, in_map: bool, depth: usize) -> Option<(Node<'a>, usize)> {
        let text = self.lines[line];
        let rest = &text[from..];
        if !rest.is_empty() && !rest.starts_with(' ') {
            return None;
        }
        let start = from + (rest.len() - rest.trim_start_matches(' ').len());
        let content = &text[start..];
        if content.is_empty() || content.starts_with('#') {
            return self.value_below(line, parent, in_map, depth);
        }
        if !in_map && (is_item(content) || self.key(line, start).is_some()) {
            // `- - x` or `- key: value`: a block node that starts on the item's own line.
            return self.block(line, start, depth + 1);
        }
        let pos = self.pos(line, start);
        let first = content.as_bytes()[0];
        match first {
            b'\'' | b'"' => {
                let (kind, len) = quoted(content)?;
                only_comment(&content[len..]).then_some((Node { pos, kind }, line + 1))
            }
            b'|' | b'>' => self.block_scalar(line, content, parent),
            b'[' => flow_sequence(content, |offset| self.pos(line, start + offset)).map(|node| (node, line + 1)),
            b'{' => {
                let inner = content[1..].trim_start_matches(' ');
                let after = inner.strip_prefix('}')?;
                only_comment(after).then_some((Node { pos, kind: Kind::Map(Vec::new()) }, line + 1))
            }
            _ if starts_with_indicator(content) => None,
            _ => self.plain(line, start, parent),
        }
    }

    /// A value on the lines below its key or dash: a nested block, a sequence at the key's own column (`key:`
    /// then `- item`), or nothing (null).
    fn value_below(&self, line: usize, parent: usize, in_map: bool, depth: usize) -> Option<(Node<'a>, usize)> {
        match self.next_significant(line + 1) {
            Some(j) if self.indent(j) > parent => {
                let col = self.indent(j);
                self.block(j, col, depth + 1)
            }
            Some(j) if in_map && self.indent(j) == parent && is_item(&self.lines[j][parent..]) => {
                // An indentless sequence: the general parser places it at its first item, when that item starts
                // on the dash's line; otherwise at a scanner position this path does not model.
                let (mut node, next) = self.sequence(j, parent, depth + 1)?;
                if let Kind::Seq(items) = &node.kind {
                    let first = items.first()?.pos;
                    if first.line != j as u32 + 1 {
                        return None;
                    }
                    node.pos = first;
                }
                Some((node, next))
            }
            // An empty value (null): left to the general parser, which places it where the next token starts.
            _ => None,
        }
    }

    /// A plain scalar, possibly continued on more deeply indented lines (folded with spaces).
    fn plain(&self, line: usize, start: usize, parent: usize) -> Option<(Node<'a>, usize)> {
        let text = &self.lines[line][start..];
        // A comment ends a plain scalar: a continuation line after one is a YAML error (the general parser says so).
        let commented = text.contains(" #");
        let first = match text.find(" #") {
            Some(at) => &text[..at],
            None => text,
        }
        .trim_end_matches(' ');
        if first.contains(": ") || first.ends_with(':') {
            return None;
        }
        let pos = self.pos(line, start);
        let mut next = line + 1;
        let mut folded: Option<String> = None;
        let mut blank_run = 0;
        let mut k = line + 1;
        while k < self.lines.len() {
            let raw = self.lines[k];
            let trimmed = raw.trim_matches(' ');
            if trimmed.is_empty() {
                blank_run += 1;
                k += 1;
                continue;
            }
            if self.indent(k) <= parent {
                break;
            }
            if trimmed.starts_with('#')
                || trimmed.contains(": ")
                || trimmed.ends_with(':')
                || trimmed.contains(" #")
                || is_item(trimmed)
            {
                return None;
            }
            if commented {
                return None;
            }
            let joined = folded.get_or_insert_with(|| first.to_string());
            if blank_run == 0 {
                joined.push(' ');
            } else {
                joined.extend(std::iter::repeat_n('\n', blank_run));
            }
            joined.push_str(trimmed);
            blank_run = 0;
            k += 1;
            next = k;
        }
        let text = match folded {
            Some(joined) => Cow::Owned(joined),
            None => Cow::Borrowed(first),
        };
        Some((Node { pos, kind: resolve_scalar(text, ScalarStyle::Plain, None) }, next))
    }

    /// `|` (literal) and `>` (folded) block scalars with clip, strip (`-`) or keep (`+`) chomping.
    fn block_scalar(&self, line: usize, header: &str, parent: usize) -> Option<(Node<'a>, usize)> {
        let literal = header.starts_with('|');
        let mut rest = &header[1..];
        let chomp = match rest.as_bytes().first() {
            Some(b'-') | Some(b'+') => {
                let c = rest.as_bytes()[0];
                rest = &rest[1..];
                c
            }
            _ => b' ',
        };
        if !only_comment(rest) {
            return None; // indentation indicators and other headers
        }
        let mut k = line + 1;
        // Leading blank lines would need the general parser's indentation rules.
        let first = (k..self.lines.len()).find(|&i| !self.lines[i].trim_matches(' ').is_empty());
        // Empty block scalars and leading blank lines are left to the general parser.
        let body_indent = match first {
            Some(i) if i == k && self.indent(i) > parent => self.indent(i),
            _ => return None,
        };
        // The general parser places a block scalar at its first content line.
        let pos = self.pos(k, body_indent);
        let mut body: Vec<&str> = Vec::new();
        let mut trailing_blank = 0;
        let mut end = k;
        while k < self.lines.len() {
            let raw = self.lines[k];
            if raw.trim_matches(' ').is_empty() {
                if raw.len() > body_indent {
                    return None; // spaces beyond the indentation are content
                }
                trailing_blank += 1;
                k += 1;
                continue;
            }
            if self.indent(k) < body_indent {
                break;
            }
            body.extend(std::iter::repeat_n("", trailing_blank));
            trailing_blank = 0;
            body.push(&raw[body_indent..]);
            k += 1;
            end = k;
        }
        let mut text = if literal {
            body.join("\n")
        } else {
            if body.iter().any(|l| l.starts_with(' ')) {
                return None; // more-indented lines keep their breaks in folded scalars
            }
            fold(&body)
        };
        match chomp {
            b'-' => {}
            b'+' => {
                text.push('\n');
                text.extend(std::iter::repeat_n('\n', trailing_blank));
            }
            _ => text.push('\n'),
        }
        Some((Node { pos, kind: Kind::Str(Cow::Owned(text)) }, end))
    }
}

/// Folds the lines of a `>` scalar: line breaks become spaces; each blank line becomes a newline.
fn fold(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blanks = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            blanks += 1;
            continue;
        }
        if i > 0 {
            if blanks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', blanks));
            }
        }
        blanks = 0;
        out.push_str(line);
    }
    out
}

/// A quoted scalar closed on this line: its value and its length in bytes including the quotes.
fn quoted(text: &str) -> Option<(Kind<'_>, usize)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    if quote == b'\'' {
        let mut out: Option<String> = None;
        let mut i = 0;
        let bytes = body.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    out.get_or_insert_with(|| body[..i].to_string());
                    i += 2;
                    if let Some(o) = &mut out {
                        o.push('\'');
                    }
                    continue;
                }
                let value = match out {
                    Some(s) => Cow::Owned(s),
                    None => Cow::Borrowed(&body[..i]),
                };
                return Some((Kind::Str(value), i + 2));
            }
            let c = body[i..].chars().next()?;
            if let Some(o) = &mut out {
                o.push(c);
            }
            i += c.len_utf8();
        }
        return None;
    }
    // Double-quoted: the common escapes; anything unusual goes to the general parser.
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                return Some((Kind::Str(Cow::Owned(out)), i + 2));
            }
            '\\' => {
                let (_, e) = chars.next()?;
                let decoded = match e {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    ' ' => ' ',
                    'x' | 'u' | 'U' => {
                        let width = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..width {
                            let (_, h) = chars.next()?;
                            code = code * 16 + h.to_digit(16)?;
                        }
                        char::from_u32(code)?
                    }
                    _ => return None,
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
    None
}

/// A one-line flow sequence of scalars: `[a, 'b', 3]`.
fn flow_sequence<'a>(text: &'a str, pos_at: impl Fn(usize) -> Pos) -> Option<Node<'a>> {
    let mut items = Vec::new();
    let mut i = 1;
    let bytes = text.as_bytes();
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        match bytes.get(i) {
            Some(b']') if items.is_empty() => {
                i += 1;
                break;
            }
            None => return None,
            _ => {}
        }
        let item_start = i;
        let kind = if bytes[i] == b'\'' || bytes[i] == b'"' {
            let (kind, len) = quoted(&text[i..])?;
            i += len;
            kind
        } else {
            let end = (i..bytes.len()).find(|&j| matches!(bytes[j], b',' | b']'))?;
            let item = text[i..end].trim_end_matches(' ');
            if item.is_empty() || starts_with_indicator(item) || item.contains([':', '#', '[', '{', '}']) {
                return None;
            }
            i = end;
            resolve_scalar(Cow::Borrowed(item), ScalarStyle::Plain, None)
        };
        items.push(Node { pos: pos_at(item_start), kind });
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                break;
            }
            _ => return None,
        }
    }
    only_comment(&text[i..]).then_some(Node { pos: pos_at(0), kind: Kind::Seq(items) })
}
