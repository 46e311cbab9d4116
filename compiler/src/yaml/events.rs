//! The general YAML path: `saphyr-parser` events -> spanned nodes, with every error located.

use super::{resolve_scalar, Document, Kind, Node, MAX_DEPTH};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use saphyr_parser::{Event, Parser, ScanError, Span};
use std::collections::HashMap;

/// The most nodes a file's aliases may expand to, all documents together (pySigma's PyYAML has no such limit; a
/// "billion laughs" file of a few hundred bytes would otherwise grow to gigabytes). The whole SigmaHQ corpus has no
/// alias at all.
pub(crate) const MAX_ALIAS_NODES: usize = 100_000;

pub(super) fn parse(text: &str) -> (Vec<Document<'_>>, Vec<Diagnostic>) {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        diagnostics: Vec::new(),
        anchors: HashMap::new(),
        scratch: Vec::new(),
        aliased: 0,
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
    /// Anchored nodes, with how many nodes each holds.
    anchors: HashMap<usize, (Node<'a>, usize)>,
    /// Nodes copied by aliases so far.
    aliased: usize,
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
                Some((node, size)) => {
                    self.aliased += size;
                    if self.aliased > MAX_ALIAS_NODES {
                        return Err(Diagnostic::error(
                            Code::TooLarge,
                            pos,
                            format!("YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        ));
                    }
                    (Node { pos, kind: node.kind.clone() }, 0)
                }
                None => return Err(Diagnostic::error(Code::YamlUnsupported, pos, "alias to an unknown anchor")),
            },
            other => return Err(Diagnostic::error(Code::YamlSyntax, pos, format!("unexpected YAML event {other:?}"))),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), node_count(&node)));
        }
        Ok(node)
    }
}

/// How many nodes `node` holds, itself included.
fn node_count(node: &Node<'_>) -> usize {
    1 + match &node.kind {
        Kind::Seq(items) => items.iter().map(node_count).sum(),
        Kind::Map(entries) => entries.iter().map(|(k, v)| node_count(k) + node_count(v)).sum(),
        _ => 0,
    }
}
