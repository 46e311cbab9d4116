//! `vigil fmt`: Sigma files in SigmaHQ's layout, every comment kept.
//!
//! ```text
//! text --split at `---`--> documents --top-level key blocks (positions from the YAML parser), in canonical order,
//!   lines re-indented to 4 spaces per level--> text --parsed again: the same YAML tree, or the file is left alone
//! ```
//!
//! The formatter moves and re-indents whole lines and drops blank lines between top-level keys; it never rewrites
//! a line's content, so comments, quoting and scalar styles stay as written (a change of quoting can change a
//! value's type: `'7'` is a string, `7` a number). Every result is parsed again and must give the same YAML tree
//! as the original (positions aside), so the rule's IR cannot change; a document it cannot lay out safely is left
//! as it was, with the reason (DESIGN.md, "Formatting").

use crate::yaml::{self, Kind, Node};

/// SigmaHQ's order of top-level keys; other keys follow in their own order.
pub const KEY_ORDER: &[&str] = &[
    "title",
    "id",
    "related",
    "name",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "correlation",
    "filter",
    "detection",
    "fields",
    "falsepositives",
    "level",
    "scope",
];

const INDENT: usize = 4;

/// What formatting a file gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formatted {
    pub text: String,
    /// Documents left as written, with why (1-based document number, reason).
    pub skipped: Vec<(usize, String)>,
}

/// Formats a Sigma file's text. Documents that are not block mappings, or whose layout the formatter cannot
/// change without changing the YAML, are kept as written and listed in `skipped`.
pub fn format_source(text: &str) -> Formatted {
    let mut out = String::with_capacity(text.len());
    let mut skipped = Vec::new();
    let mut number = 0;
    for (separator, body) in split_documents(text) {
        if let Some(separator) = separator {
            out.push_str(separator);
            out.push('\n');
        }
        if body.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            out.push_str(body);
            continue;
        }
        number += 1;
        match format_document(body) {
            Ok(formatted) => out.push_str(&formatted),
            Err(reason) => {
                skipped.push((number, reason));
                out.push_str(body);
            }
        }
    }
    Formatted { text: out, skipped }
}

/// The file cut at its `---` lines: (the separator line, the document's lines with their newlines).
fn split_documents(text: &str) -> Vec<(Option<&str>, &str)> {
    let mut parts = Vec::new();
    let mut separator = None;
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_separator = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        if is_separator {
            parts.push((separator, &text[start..offset]));
            separator = Some(bare);
            start = offset + line.len();
        }
        offset += line.len();
    }
    parts.push((separator, &text[start..]));
    // The first part is empty when the file starts with `---`; keep it so the separator is written back.
    parts
}

/// One line of a document with what the layout needs to know of it.
struct Line<'t> {
    text: &'t str,
    indent: usize,
}

impl<'t> Line<'t> {
    fn new(text: &'t str) -> Self {
        Line { text, indent: text.len() - text.trim_start_matches(' ').len() }
    }

    fn content(&self) -> &'t str {
        &self.text[self.indent..]
    }

    fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    fn is_comment(&self) -> bool {
        self.content().starts_with('#')
    }
}

fn format_document(body: &str) -> Result<String, String> {
    let (documents, problems) = yaml::parse(body);
    if !problems.is_empty() {
        return Err("the YAML has problems: run `vigil check`".into());
    }
    let [document] = documents.as_slice() else { return Err("not one YAML document".into()) };
    // Pipelines and log-source tables sharing a folder with rules are not Sigma documents: left as they are.
    let is_sigma =
        ["title", "logsource", "detection", "correlation", "filter"].iter().any(|k| document.root.get(k).is_some());
    if !is_sigma {
        return Ok(body.to_string());
    }
    let Some(entries) = document.root.as_map() else { return Err("not a mapping".into()) };
    if body.lines().any(|l| l.trim_start_matches(' ').starts_with('\t')) {
        return Err("tabs in the indentation".into());
    }
    let lines: Vec<Line<'_>> = body.lines().map(Line::new).collect();
    let key_lines: Vec<usize> = entries.iter().map(|(k, _)| k.pos.line as usize - 1).collect();
    // A block mapping: every key at the start of its own line, all at one column (the left margin, usually).
    let margin = entries.first().map_or(0, |(k, _)| k.pos.column as usize - 1);
    let at_margin = |line: usize| lines.get(line).is_some_and(|l| l.indent == margin);
    if entries.iter().any(|(k, _)| k.pos.column as usize - 1 != margin)
        || key_lines.windows(2).any(|w| w[0] >= w[1])
        || !key_lines.iter().all(|&l| at_margin(l))
    {
        return Err("not a block mapping".into());
    }

    // Each top-level key owns the lines up to the next key; comments right above a key go with it.
    let mut starts: Vec<usize> = key_lines.clone();
    for (i, start) in starts.iter_mut().enumerate().skip(1) {
        while *start > key_lines[i - 1] + 1 && lines[*start - 1].is_comment() && lines[*start - 1].indent <= margin {
            *start -= 1;
        }
    }
    // Comments above the first key are the document's header: they stay first.
    let first_start = starts[0];
    let mut blocks: Vec<(usize, &[Line<'_>])> = Vec::with_capacity(entries.len());
    for (i, (key, _)) in entries.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(lines.len());
        let name = key.as_str().unwrap_or_default();
        let rank = KEY_ORDER.iter().position(|k| *k == name).unwrap_or(KEY_ORDER.len());
        blocks.push((rank, &lines[starts[i]..end]));
    }
    blocks.sort_by_key(|(rank, _)| *rank);

    let mut out = String::with_capacity(body.len() + 64);
    for line in &lines[..first_start] {
        out.push_str(line.text.trim_end());
        out.push('\n');
    }
    for (_, block) in &blocks {
        let mut block = *block;
        while block.last().is_some_and(Line::is_blank) {
            block = &block[..block.len() - 1];
        }
        out.push_str(&reindent(block));
    }
    // Blank lines after the last key (before a `---`) are dropped; a trailing comment block was kept above.
    let original = &document.root;
    let (again, problems) = yaml::parse(&out);
    match again.as_slice() {
        [reparsed] if problems.is_empty() && same_tree(original, &reparsed.root) => Ok(out),
        _ => Err("the layout could not be changed without changing the YAML".into()),
    }
}

/// A structural token of a line: a `- ` sequence entry or a `key:` at a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Item,
    Key,
}

/// An open token: where it was, where it goes.
struct Open {
    column: usize,
    token: Token,
    new_column: usize,
}

/// Re-indents a block's lines: each nesting level 4 spaces deeper than its parent key, sequence entries' content 2
/// spaces after the dash, continuation and block-scalar lines kept relative to their owner.
fn reindent(block: &[Line<'_>]) -> String {
    let mut out = String::new();
    let mut stack: Vec<Open> = Vec::new();
    // The owner of continuation lines: (its original column, its new column, whether a block scalar).
    let mut scalar: Option<(usize, usize, bool)> = None;
    let mut block_base: Option<usize> = None;
    for line in block {
        if line.is_blank() {
            out.push('\n');
            continue;
        }
        // Lines of a multi-line scalar: kept relative to their owner (block scalars keep their inner shape).
        if let Some((owner_column, owner_new, is_block)) = scalar {
            if line.indent > owner_column && (is_block || !line.is_comment()) {
                let base = *block_base.get_or_insert(line.indent);
                let extra = if is_block { line.indent.saturating_sub(base) } else { 0 };
                push_line(&mut out, owner_new + INDENT + extra, line);
                continue;
            }
            scalar = None;
            block_base = None;
        }
        if line.is_comment() {
            push_line(&mut out, column_for(&stack, line.indent, Token::Key), line);
            continue;
        }
        let tokens = tokens(line);
        let (first_column, first_token) = tokens[0];
        while let Some(top) = stack.last() {
            let child = top.column < first_column
                || (top.column == first_column && top.token == Token::Key && first_token == Token::Item);
            if child {
                break;
            }
            stack.pop();
        }
        let mut column = child_column(stack.last());
        push_line(&mut out, column, line);
        for (i, (original, token)) in tokens.iter().enumerate() {
            if i > 0 {
                column += original - tokens[i - 1].0;
            }
            stack.push(Open { column: *original, token: *token, new_column: column });
        }
        // What follows the last token on this line decides whether deeper lines continue a scalar.
        let rest = rest_after_tokens(line, &tokens);
        let last = tokens[tokens.len() - 1];
        if is_block_scalar_header(rest) {
            scalar = Some((last.0, column, true));
        } else if !rest.is_empty() && !rest.starts_with('#') {
            scalar = Some((last.0, column, false));
        }
    }
    out
}

fn push_line(out: &mut String, column: usize, line: &Line<'_>) {
    out.push_str(&" ".repeat(column));
    out.push_str(line.content().trim_end());
    out.push('\n');
}

/// Where a child of `parent` goes: 4 spaces under a key, 2 after a dash.
fn child_column(parent: Option<&Open>) -> usize {
    match parent {
        None => 0,
        Some(open) if open.token == Token::Key => open.new_column + INDENT,
        Some(open) => open.new_column + 2,
    }
}

/// The new column of a line that is not structure (a comment) at `indent`: beside the open token at that column,
/// or as a child of the deepest one left of it.
fn column_for(stack: &[Open], indent: usize, token: Token) -> usize {
    for (i, open) in stack.iter().enumerate().rev() {
        if open.column == indent && !(open.token == Token::Key && token == Token::Item) {
            return open.new_column;
        }
        if open.column < indent {
            return child_column(stack.get(i));
        }
    }
    0
}

/// The structural tokens of a line (at least one): each leading `- `, then a `key:` if the rest is one. A line
/// that is neither starts a plain scalar item or value; it is given as a key so that it nests like one.
fn tokens(line: &Line<'_>) -> Vec<(usize, Token)> {
    let mut out = Vec::new();
    let mut column = line.indent;
    let mut rest = line.content();
    while rest == "-" || rest.starts_with("- ") {
        out.push((column, Token::Item));
        let after = rest[1..].trim_start_matches(' ');
        column += rest.len() - after.len();
        rest = after;
    }
    if !rest.is_empty() && key_length(rest).is_some() {
        out.push((column, Token::Key));
    }
    if out.is_empty() {
        out.push((column, Token::Key));
    }
    out
}

/// The text after the line's last token: a key's value, or an item's scalar.
fn rest_after_tokens<'t>(line: &Line<'t>, tokens: &[(usize, Token)]) -> &'t str {
    let (column, token) = tokens[tokens.len() - 1];
    let from = &line.text[column..];
    match token {
        Token::Item => from[1..].trim(),
        Token::Key => match key_length(from) {
            Some(length) => from[length..].trim(),
            None => from.trim(),
        },
    }
}

/// The length of a mapping key and its `:` at the start of `text`, if it starts with one.
fn key_length(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let end = match bytes.first()? {
        b'\'' | b'"' => {
            let quote = bytes[0];
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == quote {
                    if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                if quote == b'"' && bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i + 1
        }
        b'#' | b'[' | b'{' | b'|' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => return None,
        _ => {
            // A plain key ends at the first `: ` (or a `:` ending the line).
            let mut i = 0;
            loop {
                let at = text[i..].find(':')? + i;
                if text[at + 1..].is_empty() || text[at + 1..].starts_with([' ', '\t']) {
                    break at;
                }
                i = at + 1;
            }
        }
    };
    let after = text.get(end..)?;
    let after = after.trim_start_matches(' ');
    let colon = text.len() - after.len();
    (after.starts_with(':') && (after.len() == 1 || after[1..].starts_with([' ', '\t']))).then_some(colon + 1)
}

/// `|`, `>`, with chomping and indentation indicators, and maybe a comment.
fn is_block_scalar_header(rest: &str) -> bool {
    let head = rest.split(" #").next().unwrap_or_default().trim();
    let mut chars = head.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '+' | '-' | '1'..='9'))
}

/// Whether two texts hold the same YAML documents, positions aside (for tests of the formatter's promise).
pub fn same_yaml(a: &str, b: &str) -> bool {
    let ((x, px), (y, py)) = (yaml::parse(a), yaml::parse(b));
    px.len() == py.len() && x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| same_tree(&p.root, &q.root))
}

/// Whether two YAML trees are the same, positions aside.
fn same_tree(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Seq(x), Kind::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_tree(p, q)),
        (Kind::Map(x), Kind::Map(y)) => {
            // Top-level keys move; nested ones keep their order, so compare as sets of entries.
            x.len() == y.len() && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| same_tree(k, k2) && same_tree(v, v2)))
        }
        (Kind::Float(x), Kind::Float(y)) => x.to_bits() == y.to_bits(),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        let formatted = format_source(text);
        assert!(formatted.skipped.is_empty(), "{:?}", formatted.skipped);
        formatted.text
    }

    #[test]
    fn keys_in_sigmahq_order_four_spaces_comments_kept() {
        let text = "\
# header comment
level: high
detection:
  selection:
    # the process
    Image|endswith: '\\cmd.exe'

    CommandLine|contains:
    - whoami   # trailing
    - hostname
  condition: selection
logsource:
  category: process_creation
  product: windows
title: Example
description: |
  Two lines
    keep their shape
";
        let expected = "\
# header comment
title: Example
description: |
    Two lines
      keep their shape
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        # the process
        Image|endswith: '\\cmd.exe'

        CommandLine|contains:
            - whoami   # trailing
            - hostname
    condition: selection
level: high
";
        assert_eq!(fmt(text), expected);
        assert_eq!(fmt(expected), expected, "idempotent");
    }

    #[test]
    fn sequences_of_mappings_and_continuations() {
        let text = "\
title: T
detection:
  sel:
  - Image: a
    CommandLine: b
  - Image: c
  condition: sel
description: a long description
  that continues here, with a comma
";
        let expected = "\
title: T
description: a long description
    that continues here, with a comma
detection:
    sel:
        - Image: a
          CommandLine: b
        - Image: c
    condition: sel
";
        assert_eq!(fmt(text), expected);
    }

    #[test]
    fn documents_are_formatted_one_by_one() {
        let text = "title: A\nlogsource: {product: windows}\n---\nlevel: low\ntitle: B\n";
        assert_eq!(fmt(text), "title: A\nlogsource: {product: windows}\n---\ntitle: B\nlevel: low\n");
    }

    #[test]
    fn what_cannot_be_laid_out_is_left_alone() {
        let text = "{title: A, level: low}\n";
        let formatted = format_source(text);
        assert_eq!(formatted.text, text);
        assert_eq!(formatted.skipped.len(), 1);
    }

    #[test]
    fn keys_are_told_from_values() {
        assert_eq!(key_length("Image|endswith: x"), Some(15));
        assert_eq!(key_length("'a: b': x"), Some(7));
        assert_eq!(key_length("C:\\Windows"), None);
        assert_eq!(key_length("http://x"), None);
        assert_eq!(key_length("selection:"), Some(10));
    }
}
