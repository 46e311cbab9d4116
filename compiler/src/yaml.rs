//! YAML text -> a small spanned tree.
//!
//! serde-style YAML values forget where they came from; Sigma diagnostics need the line and column of every key
//! and value. This module drives `saphyr-parser`'s event stream and builds [`Node`]s that borrow scalars from the
//! input where they can. Scalars are resolved with the YAML 1.2 core schema (see DESIGN.md, "YAML").

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use std::borrow::Cow;
use std::collections::HashMap;

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
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        diagnostics: Vec::new(),
        anchors: HashMap::new(),
        scratch: Vec::new(),
    };
    let mut documents = Vec::new();
    if let Err(error) = builder.documents(&mut documents) {
        builder.diagnostics.push(error);
    }
    (documents, builder.diagnostics)
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    diagnostics: Vec<Diagnostic>,
    anchors: HashMap<usize, Node<'a>>,
    /// Children of the collections being built, so that each collection gets one exact-size allocation.
    scratch: Vec<Node<'a>>,
}

fn pos_of(span: &Span) -> Pos {
    Pos::new(span.start.line() as u32, span.start.col() as u32 + 1)
}

fn scan_error(error: ScanError) -> Diagnostic {
    let marker = error.marker();
    let pos = Pos::new(marker.line() as u32, marker.col() as u32 + 1);
    let info = error.info();
    let code = if info.contains("tab") { Code::YamlTab } else { Code::YamlSyntax };
    Diagnostic::error(code, pos, format!("invalid YAML: {info}"))
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(scan_error(error)),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn documents(&mut self, out: &mut Vec<Document<'a>>) -> Result<(), Diagnostic> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    let (first, first_span) = self.next()?;
                    if matches!(first, Event::DocumentEnd) {
                        continue;
                    }
                    let root = self.node(first, first_span, 0)?;
                    out.push(Document { root });
                }
                other => {
                    return Err(Diagnostic::error(
                        Code::YamlSyntax,
                        pos_of(&span),
                        format!("unexpected YAML event {other:?}"),
                    ))
                }
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node<'a>, Diagnostic> {
        let pos = pos_of(&span);
        if depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                Code::YamlUnsupported,
                pos,
                format!("YAML nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let kind = resolve_scalar(text, style, tag.as_deref());
                (Node { pos, kind }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let base = self.scratch.len();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let item = self.node(event, span, depth + 1)?;
                    self.scratch.push(item);
                }
                let items: Vec<Node<'a>> = self.scratch.drain(base..).collect();
                (Node { pos, kind: Kind::Seq(items) }, anchor)
            }
            Event::MappingStart(anchor, _) => {
                let base = self.scratch.len();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(event, span, depth + 1)?;
                    let (event, span) = self.next()?;
                    let value = self.node(event, span, depth + 1)?;
                    let keys = self.scratch[base..].iter().step_by(2);
                    let duplicate = keys.enumerate().find(|(_, k)| k.kind == key.kind).map(|(i, k)| (i, k.pos));
                    if let Some((index, first)) = duplicate {
                        self.diagnostics.push(Diagnostic::error(
                            Code::DuplicateKey,
                            key.pos,
                            format!(
                                "duplicate key `{}` (first defined at line {}); the later value would silently win",
                                key.scalar_text().unwrap_or_default(),
                                first.line
                            ),
                        ));
                        let at = base + 2 * index;
                        self.scratch[at] = key;
                        self.scratch[at + 1] = value;
                    } else {
                        self.scratch.push(key);
                        self.scratch.push(value);
                    }
                }
                let mut entries = Vec::with_capacity((self.scratch.len() - base) / 2);
                let mut drained = self.scratch.drain(base..);
                while let (Some(key), Some(value)) = (drained.next(), drained.next()) {
                    entries.push((key, value));
                }
                drop(drained);
                (Node { pos, kind: Kind::Map(entries) }, anchor)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => (Node { pos, kind: node.kind.clone() }, 0),
                None => return Err(Diagnostic::error(Code::YamlUnsupported, pos, "alias to an unknown anchor")),
            },
            other => return Err(Diagnostic::error(Code::YamlSyntax, pos, format!("unexpected YAML event {other:?}"))),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

/// YAML 1.2 core schema for plain scalars; quoted and block scalars are always strings.
fn resolve_scalar<'a>(text: Cow<'a, str>, style: ScalarStyle, tag: Option<&saphyr_parser::Tag>) -> Kind<'a> {
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

    fn kind(text: &str) -> Kind<'_> {
        let (docs, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        docs.into_iter().next().unwrap().root.kind
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(kind("7"), Kind::Int(7));
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
}
