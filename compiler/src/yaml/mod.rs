//! YAML text -> a small spanned tree.
//!
//! serde-style YAML values forget where they came from; Sigma diagnostics need the line and column of every key
//! and value. This module drives `saphyr-parser`'s event stream and builds [`Node`]s that borrow scalars from the
//! input where they can. Scalars are resolved with the YAML 1.2 core schema (see DESIGN.md, "YAML").
//!
//! Two parsers produce the same tree: `fast` handles the block-YAML subset that Sigma files use (about three
//! times faster, measured on the SigmaHQ corpus) and gives up on anything else; `events` handles all of YAML
//! and reports errors. A differential test over the corpus holds them to identical trees.

mod events;
mod fast;

use crate::diagnostic::{Diagnostic, Pos};
use saphyr_parser::ScalarStyle;
use std::borrow::Cow;

/// Deeper nesting than this is rejected rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 128;

/// A YAML node with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub pos: Pos,
    pub kind: Kind<'a>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    /// Key/value pairs in file order. Duplicate keys were reported and the later one dropped.
    Map(Vec<(Node<'a>, Node<'a>)>),
}

impl<'a> Node<'a> {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node<'a>, Node<'a>)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value under `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// The key node (for its position) and value under `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node<'a>, &Node<'a>)> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    /// A short name for the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The scalar as text, as a user would read it (numbers and booleans included).
    pub fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match &self.kind {
            Kind::Str(s) => Some(Cow::Borrowed(s)),
            Kind::Int(i) => Some(Cow::Owned(i.to_string())),
            Kind::Float(f) => Some(Cow::Owned(f.to_string())),
            Kind::Bool(b) => Some(Cow::Owned(b.to_string())),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// A copy that owns its strings, to keep beyond the text it was parsed from.
    pub fn into_owned(self) -> Node<'static> {
        let kind = match self.kind {
            Kind::Null => Kind::Null,
            Kind::Bool(b) => Kind::Bool(b),
            Kind::Int(i) => Kind::Int(i),
            Kind::Float(f) => Kind::Float(f),
            Kind::Str(s) => Kind::Str(Cow::Owned(s.into_owned())),
            Kind::Seq(items) => Kind::Seq(items.into_iter().map(Node::into_owned).collect()),
            Kind::Map(entries) => {
                Kind::Map(entries.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
            }
        };
        Node { pos: self.pos, kind }
    }

    /// Converts to JSON, for custom attributes and machine output.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Null => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Int(i) => J::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Kind::Str(s) => J::String(s.to_string()),
            Kind::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => J::Object(
                entries.iter().map(|(k, v)| (k.scalar_text().unwrap_or_default().into_owned(), v.to_json())).collect(),
            ),
        }
    }
}

/// One YAML document of a file.
#[derive(Debug)]
pub struct Document<'a> {
    pub root: Node<'a>,
}

/// Parses every document in `text`. A syntax error ends the file there (YAML cannot resynchronise), but the
/// documents before it are kept. Problems inside well-formed YAML (duplicate keys) are reported and parsing goes on.
pub fn parse(text: &str) -> (Vec<Document<'_>>, Vec<Diagnostic>) {
    if let Some(root) = fast::parse(text) {
        return (vec![Document { root }], Vec::new());
    }
    events::parse(text)
}

/// The general parser alone (for tests and benchmarks that compare the two).
pub fn parse_with_events(text: &str) -> (Vec<Document<'_>>, Vec<Diagnostic>) {
    events::parse(text)
}

/// The fast parser alone: `None` when the text is outside its subset.
pub fn parse_fast(text: &str) -> Option<Node<'_>> {
    fast::parse(text)
}

/// YAML 1.2 core schema for plain scalars; quoted and block scalars are always strings.
pub(crate) fn resolve_scalar<'a>(text: Cow<'a, str>, style: ScalarStyle, tag: Option<&saphyr_parser::Tag>) -> Kind<'a> {
    if let Some(tag) = tag {
        if (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!") && tag.suffix == "str" {
            return Kind::Str(text);
        }
    }
    if style != ScalarStyle::Plain {
        return Kind::Str(text);
    }
    match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        _ => {}
    }
    if let Some(number) = parse_number(&text) {
        return number;
    }
    Kind::Str(text)
}

fn parse_number(text: &str) -> Option<Kind<'static>> {
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Kind::Int);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Kind::Int);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    // `00000429` (a keyboard layout id, a hash fragment) is text to a rule author: a leading zero keeps the
    // scalar a string, so its digits are matched as written (DESIGN.md, "YAML").
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Integers too large for i64 stay strings rather than silently losing digits.
        return text.parse::<i64>().ok().map(Kind::Int);
    }
    match digits {
        ".inf" | ".Inf" | ".INF" => {
            return Some(Kind::Float(if text.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }))
        }
        ".nan" | ".NaN" | ".NAN" => return Some(Kind::Float(f64::NAN)),
        _ => {}
    }
    let is_float_syntax = digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.as_bytes()[0] != b'e'
        && digits.as_bytes()[0] != b'E';
    if is_float_syntax {
        return text.parse::<f64>().ok().map(Kind::Float);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;

    fn kind(text: &str) -> Kind<'_> {
        let (docs, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        docs.into_iter().next().unwrap().root.kind
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(kind("7"), Kind::Int(7));
        assert_eq!(kind("0"), Kind::Int(0));
        assert_eq!(kind("00000429"), Kind::Str("00000429".into()));
        assert_eq!(kind("'7'"), Kind::Str("7".into()));
        assert_eq!(kind("-3"), Kind::Int(-3));
        assert_eq!(kind("1.5"), Kind::Float(1.5));
        assert_eq!(kind("~"), Kind::Null);
        assert_eq!(kind("True"), Kind::Bool(true));
        assert_eq!(kind("yes"), Kind::Str("yes".into()));
        assert_eq!(kind("2019/08/10"), Kind::Str("2019/08/10".into()));
        assert_eq!(kind("2019-08-10"), Kind::Str("2019-08-10".into()));
        assert_eq!(kind("1.2.3"), Kind::Str("1.2.3".into()));
        assert_eq!(kind("99999999999999999999"), Kind::Str("99999999999999999999".into()));
        assert_eq!(kind("!!str 7"), Kind::Str("7".into()));
    }

    #[test]
    fn positions_are_one_based() {
        let (docs, _) = parse("a: 1\nbb:\n  - x\n");
        let root = &docs[0].root;
        let (key, value) = root.entry("bb").unwrap();
        assert_eq!(key.pos, Pos::new(2, 1));
        let Kind::Seq(items) = &value.kind else { panic!() };
        assert_eq!(items[0].pos, Pos::new(3, 5));
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_lines() {
        let (_, diags) = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::DuplicateKey);
        assert_eq!(diags[0].pos, Some(Pos::new(3, 1)));
    }

    #[test]
    fn multi_document_and_syntax_error_keeps_earlier_documents() {
        let (docs, diags) = parse("a: 1\n---\nb: [1\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(diags[0].code, Code::YamlSyntax);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        let (_, diags) = parse(&text);
        assert_eq!(diags.len(), 1);
    }

    /// The fast path either declines or gives exactly the general parser's tree; `taken` says which is expected.
    fn both_paths(text: &str, taken: bool) {
        let fast = parse_fast(text);
        assert_eq!(fast.is_some(), taken, "fast path on {text:?}");
        if let Some(fast) = fast {
            let (docs, diags) = parse_with_events(text);
            assert!(diags.is_empty(), "{text:?}: {diags:?}");
            assert_eq!(docs[0].root, fast, "{text:?}");
        }
    }

    #[test]
    fn fast_path_takes_what_sigma_files_use() {
        both_paths("a: 1\nb: 'x'' y'\nc: \"C:\\\\Win\\u00e9\\n\"\n", true);
        both_paths("a: value # comment\nb: a#b\n# full line\nc: ~\nd: ''\n", true);
        both_paths("description: first line\n    continues here\n\n    new paragraph\nnext: x\n", true);
        both_paths(
            "d: |\n    line 1\n      indented\n\n    line 3\ne: >-\n    folded\n    text\nf: |+\n    kept\n\ng: x\n",
            true,
        );
        both_paths("list:\n    - a\n    - 'b'\n    - - nested\n      - more\n    - key: v\n      other: w\n", true);
        both_paths("key:\n- indentless\n- items\nnext: 1\n", true);
        both_paths("flow: [a, 'b c', 3]\nempty: []\nmap: {}\n", true);
        both_paths("'|all':\n    - x\n\"quoted key\": y\nÄnderung: ü\n", true);
    }

    #[test]
    fn fast_path_declines_what_it_does_not_cover() {
        for text in [
            "a: &anchor x\nb: *anchor\n",
            "a: !!str 7\n",
            "a: {b: 1}\n",
            "a: 'unclosed\n  continued'\n",
            "a: \"bad \\q escape\"\n",
            "a: b: c\n",
            "a: - x\n",
            "a: 'x' y\n",
            "a: 1\na: 2\n",
            "a:\n\tb: 1\n",
            "a: 1\r\n",
            "a: 1\n---\nb: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: |2\n    x\n",
            "a: >\n    x\n      more\n",
            "a: |\n\n    late\n",
            "a:\n",
            "just a scalar\n",
            "",
            "a: x\n  # comment inside\n  y\n",
            "a: plain\n    - dash\n",
            "a:\n  - b:\n    -   # comment\n        - x\n",
        ] {
            both_paths(text, false);
        }
    }
}
