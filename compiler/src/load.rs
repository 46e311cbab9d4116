//! Files -> documents: multi-document YAML, v1 collections (`action: global/reset/repeat`), and the split into
//! detection rules, correlation rules and filters.

use crate::codes::Code;
use crate::correlation::{parse_correlation, SigmaCorrelation};
use crate::diagnostic::{Diagnostic, Diagnostics, Pos};
use crate::filter::{parse_filter, SigmaFilter};
use crate::rule::{parse_rule, SigmaRule};
use crate::yaml::{self, Kind, Node};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DocumentKind {
    Rule,
    Correlation,
    Filter,
    /// A processing pipeline (pySigma pipeline YAML) that sits among rules; `pipeline::parse` checks it.
    Pipeline,
    /// A log-source table (`rules/logsources.yml`) that sits among rules; `logsources` checks it.
    LogSourceTable,
}

impl DocumentKind {
    /// A document of data that sits among rules (a pipeline, a log-source table): checked, nothing to compile.
    pub fn is_data(self) -> bool {
        matches!(self, DocumentKind::Pipeline | DocumentKind::LogSourceTable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Rule => "rule",
            DocumentKind::Correlation => "correlation",
            DocumentKind::Filter => "filter",
            DocumentKind::Pipeline => "pipeline",
            DocumentKind::LogSourceTable => "logsource-table",
        }
    }
}

/// A parsed document: `None` when it had errors.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Rule(SigmaRule),
    Correlation(SigmaCorrelation),
    Filter(SigmaFilter),
}

/// One document of a file with everything found wrong with it.
#[derive(Clone, Debug)]
pub struct LoadedDocument {
    /// 0-based position among the file's documents.
    pub index: usize,
    pub pos: Pos,
    pub kind: DocumentKind,
    pub id: Option<String>,
    pub title: Option<String>,
    pub content: Option<Content>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedDocument {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads every document of a Sigma YAML file. Never fails: problems become diagnostics on the documents (or on
/// a document standing for the whole file, when the YAML itself is broken).
pub fn load_str(text: &str) -> Vec<LoadedDocument> {
    let (documents, yaml_diagnostics) = yaml::parse(text);
    let mut out = Vec::with_capacity(documents.len());
    let mut template: Option<Node<'_>> = None;
    let mut previous: Option<Node<'_>> = None;
    // Duplicate keys and syntax errors are attributed to the document whose line range holds them.
    let starts: Vec<u32> = documents.iter().map(|d| d.root.pos.line).collect();
    let mut pending: Vec<Vec<Diagnostic>> = vec![Vec::new(); documents.len()];
    let mut file_level = Vec::new();
    for diagnostic in yaml_diagnostics {
        let line = diagnostic.pos.map_or(0, |p| p.line);
        match starts.iter().rposition(|&start| start <= line) {
            Some(i) if diagnostic.code != Code::YamlSyntax && diagnostic.code != Code::YamlTab => {
                pending[i].push(diagnostic)
            }
            _ => file_level.push(diagnostic),
        }
    }

    for (index, (document, early)) in documents.into_iter().zip(pending).enumerate() {
        let mut diags = Diagnostics::default();
        early.into_iter().for_each(|d| diags.push(d));
        let mut root = document.root;
        if is_logsource_table(&root) {
            out.push(finish(index, root.pos, DocumentKind::LogSourceTable, &root, None, diags));
            continue;
        }
        if root.as_map().is_none() {
            diags.error(
                Code::DocumentNotMapping,
                root.pos,
                format!("a Sigma document must be a mapping, not {}", root.type_name()),
            );
            out.push(finish(index, root.pos, DocumentKind::Rule, &root, None, diags));
            continue;
        }
        if let Some((key, action)) = root.entry("action") {
            let key_pos = key.pos;
            match action.as_str() {
                Some("global") => {
                    template = Some(without_key(root, "action"));
                    continue;
                }
                Some("reset") => {
                    template = None;
                    continue;
                }
                Some("repeat") => match &previous {
                    Some(prev) => {
                        let mut merged = prev.clone();
                        deep_merge(&mut merged, without_key(root, "action"));
                        root = merged;
                    }
                    None => {
                        diags.error(Code::InvalidAction, key_pos, "`action: repeat` with no rule before it");
                        out.push(finish(index, root.pos, DocumentKind::Rule, &root, None, diags));
                        continue;
                    }
                },
                _ => {
                    diags.error(Code::InvalidAction, action.pos, "`action` must be `global`, `reset` or `repeat`");
                    out.push(finish(index, root.pos, DocumentKind::Rule, &root, None, diags));
                    continue;
                }
            }
        }
        let is_pipeline = root.get("detection").is_none()
            && ["transformations", "postprocessing", "finalizers"].iter().any(|k| root.get(k).is_some());
        let kind = if is_pipeline {
            DocumentKind::Pipeline
        } else if root.get("correlation").is_some() {
            DocumentKind::Correlation
        } else if root.get("filter").is_some() {
            DocumentKind::Filter
        } else {
            DocumentKind::Rule
        };
        let content = match kind {
            DocumentKind::Correlation => parse_correlation(&root, &mut diags).map(Content::Correlation),
            DocumentKind::Filter => parse_filter(&root, &mut diags).map(Content::Filter),
            DocumentKind::Pipeline | DocumentKind::LogSourceTable => None,
            DocumentKind::Rule => {
                if let Some(global) = &template {
                    // pySigma's precedence: on a conflict the global document's value wins.
                    deep_merge(&mut root, global.clone());
                }
                let rule = parse_rule(&root, &mut diags).map(Content::Rule);
                previous = Some(root.clone());
                rule
            }
        };
        out.push(finish(index, root.pos, kind, &root, content, diags));
    }

    if !file_level.is_empty() || out.is_empty() {
        let mut diags = Diagnostics::default();
        file_level.into_iter().for_each(|d| diags.push(d));
        if diags.is_empty() {
            diags.error(Code::EmptyFile, None, "the file holds no Sigma document");
        }
        let index = out.len();
        let empty = Node { pos: Pos::new(1, 1), kind: Kind::Null };
        out.push(finish(index, Pos::new(1, 1), DocumentKind::Rule, &empty, None, diags));
    }
    out
}

fn finish(
    index: usize,
    pos: Pos,
    kind: DocumentKind,
    root: &Node<'_>,
    content: Option<Content>,
    diags: Diagnostics,
) -> LoadedDocument {
    let text = |key: &str| root.get(key).and_then(|n| n.scalar_text()).map(|s| s.into_owned());
    let has_errors = diags.has_errors();
    LoadedDocument {
        index,
        pos,
        kind,
        id: text("id"),
        title: text("title"),
        content: if has_errors { None } else { content },
        diagnostics: diags.into_vec(),
    }
}

/// A list of mappings with `logsource` and `recognise`: a log-source table, not a Sigma document.
fn is_logsource_table(root: &Node<'_>) -> bool {
    match &root.kind {
        Kind::Seq(items) => {
            !items.is_empty() && items.iter().all(|i| i.get("logsource").is_some() && i.get("recognise").is_some())
        }
        _ => false,
    }
}

fn without_key<'a>(mut node: Node<'a>, key: &str) -> Node<'a> {
    if let Kind::Map(entries) = &mut node.kind {
        entries.retain(|(k, _)| k.as_str() != Some(key));
    }
    node
}

/// Merges `overlay` into `base`: mappings key by key, recursively; any other value of `overlay` replaces.
fn deep_merge<'a>(base: &mut Node<'a>, overlay: Node<'a>) {
    match (&mut base.kind, overlay.kind) {
        (Kind::Map(base_entries), Kind::Map(overlay_entries)) => {
            for (key, value) in overlay_entries {
                match base_entries.iter_mut().find(|(k, _)| k.kind == key.kind) {
                    Some((_, existing)) => deep_merge(existing, value),
                    None => base_entries.push((key, value)),
                }
            }
        }
        (_, kind) => base.kind = kind,
    }
}
