//! A compilation in a compact binary form (postcard), for a rule-set cache: what the matcher needs of it, so that a
//! hunt over the same rules, pipelines and filters can skip reading YAML, running pipelines and lowering.
//!
//! Stored: every file's path and documents (position, kind, id, title, diagnostics), each rule lowered with the
//! state its pipelines left, its position, filters and written log source, and the linked correlations. Not
//! stored, so a restored compilation is for matching only: the rule syntax of correlation and filter documents
//! (already linked and applied) and the pipelines' query postprocessing (`vigil convert`'s); a compilation with
//! postprocessing is not stored at all. Files' texts are not stored either: the caller has just read them (its
//! key is their content) and hands them back.
//!
//! Deciding when a stored compilation is still valid is the caller's: the key must cover everything compiling
//! reads (the program, the settings, every file's path and text).

use super::{Compilation, Compiled, Document, LinkedCorrelation, LoweredRule, SourceFile};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos, Severity};
use crate::ir;
use crate::load::DocumentKind;
use crate::pipeline::State;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The encoding's head; the files follow, each encoded on its own (`lengths` bytes each) so that they decode on
/// every core.
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    lengths: Vec<u32>,
    correlations: Vec<StoredCorrelation<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StoredFile<'a> {
    path: Cow<'a, str>,
    documents: Vec<StoredDocument<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StoredDocument<'a> {
    index: usize,
    pos: Pos,
    kind: DocumentKind,
    id: Option<Cow<'a, str>>,
    title: Option<Cow<'a, str>>,
    rule: Option<StoredRule<'a>>,
    diagnostics: Vec<StoredDiagnostic<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StoredRule<'a> {
    rule: Cow<'a, ir::Rule>,
    /// JSON text (empty for no state): postcard cannot hold a self-describing JSON value.
    state: String,
    pos: Pos,
    filters: Cow<'a, [usize]>,
    logsource: Cow<'a, ir::meta::LogSource>,
}

/// A diagnostic of the front end (never about a conversion target: those come from backends).
#[derive(Serialize, Deserialize)]
struct StoredDiagnostic<'a> {
    code: Code,
    severity: Severity,
    message: Cow<'a, str>,
    pos: Option<Pos>,
}

#[derive(Serialize, Deserialize)]
struct StoredCorrelation<'a> {
    file: usize,
    document: usize,
    correlation: Cow<'a, ir::correlation::Correlation>,
    state: String,
}

/// `compilation` encoded; `None` when it cannot be restored whole: an unreadable file (read again next time), a
/// rule with query postprocessing, or a diagnostic about a conversion target.
pub fn encode(compilation: &Compilation) -> Option<Vec<u8>> {
    let mut files = Vec::with_capacity(compilation.files.len());
    for file in &compilation.files {
        if !file.readable {
            return None;
        }
        let mut documents = Vec::with_capacity(file.documents.len());
        for document in &file.documents {
            let rule = match &document.compiled {
                Some(Compiled::Rule(lowered)) if !lowered.postprocessing.is_empty() => return None,
                Some(Compiled::Rule(lowered)) => Some(StoredRule {
                    rule: Cow::Borrowed(&lowered.rule),
                    state: state_text(&lowered.state)?,
                    pos: lowered.pos,
                    filters: Cow::Borrowed(&lowered.filters),
                    logsource: Cow::Borrowed(&lowered.logsource),
                }),
                _ => None,
            };
            let mut diagnostics = Vec::with_capacity(document.diagnostics.len());
            for d in &document.diagnostics {
                if d.target.is_some() {
                    return None;
                }
                diagnostics.push(StoredDiagnostic {
                    code: d.code,
                    severity: d.severity,
                    message: Cow::Borrowed(&d.message),
                    pos: d.pos,
                });
            }
            documents.push(StoredDocument {
                index: document.index,
                pos: document.pos,
                kind: document.kind,
                id: document.id.as_deref().map(Cow::Borrowed),
                title: document.title.as_deref().map(Cow::Borrowed),
                rule,
                diagnostics,
            });
        }
        files.push(postcard::to_stdvec(&StoredFile { path: Cow::Borrowed(&file.path), documents }).ok()?);
    }
    let correlations = compilation
        .correlations
        .iter()
        .map(|c| {
            Some(StoredCorrelation {
                file: c.file,
                document: c.document,
                correlation: Cow::Borrowed(&c.correlation),
                state: state_text(&c.state)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let lengths = files.iter().map(|f| u32::try_from(f.len()).ok()).collect::<Option<_>>()?;
    let mut out = postcard::to_stdvec(&Head { lengths, correlations }).ok()?;
    for file in files {
        out.extend_from_slice(&file);
    }
    Some(out)
}

/// The compilation `bytes` encode, with the files' `texts` in order (taken, and kept as the front end keeps them,
/// only for files with a diagnostic, and only when the compilation is returned); `None` when `bytes` are not an
/// encoded compilation of as many files.
pub fn decode(bytes: &[u8], texts: &mut [String]) -> Option<Compilation> {
    use rayon::prelude::*;
    let (head, mut rest): (Head<'_>, &[u8]) = postcard::take_from_bytes(bytes).ok()?;
    if head.lengths.len() != texts.len() {
        return None;
    }
    let mut chunks = Vec::with_capacity(head.lengths.len());
    for length in &head.lengths {
        let (chunk, after) = rest.split_at_checked(*length as usize)?;
        chunks.push(chunk);
        rest = after;
    }
    if !rest.is_empty() {
        return None;
    }
    let restore_file = |chunk: &[u8]| {
        let file: StoredFile<'_> = postcard::from_bytes(chunk).ok()?;
        let documents = file.documents.into_iter().map(restore_document).collect::<Option<_>>()?;
        Some(SourceFile { path: file.path.into_owned(), text: String::new(), documents, readable: true })
    };
    // On one thread, on this one: memory allocated on a pool thread and freed here stays with that thread.
    let mut files = if rayon::current_num_threads() <= 1 {
        chunks.into_iter().map(restore_file).collect::<Option<Vec<_>>>()?
    } else {
        chunks.into_par_iter().map(restore_file).collect::<Option<Vec<_>>>()?
    };
    let correlations: Vec<LinkedCorrelation> = head
        .correlations
        .into_iter()
        .map(|c| {
            Some(LinkedCorrelation {
                file: c.file,
                document: c.document,
                correlation: c.correlation.into_owned(),
                state: state_of(&c.state)?,
            })
        })
        .collect::<Option<_>>()?;
    // Indices must point inside the compilation: a correlation's file and document, its inputs' rules and the
    // correlations before it.
    let rules = files.iter().flat_map(|f| &f.documents).filter(|d| d.rule().is_some()).count();
    let inside = correlations.iter().enumerate().all(|(at, c)| {
        files.get(c.file).is_some_and(|f| c.document < f.documents.len())
            && c.correlation.inputs.iter().all(|input| match input.source {
                ir::correlation::InputSource::Rule(r) => r < rules,
                ir::correlation::InputSource::Correlation(earlier) => earlier < at,
            })
    });
    if !inside {
        return None;
    }
    for (file, text) in files.iter_mut().zip(texts) {
        if file.documents.iter().any(|d| !d.diagnostics.is_empty()) {
            file.text = std::mem::take(text);
        }
    }
    Some(Compilation { files, correlations })
}

fn restore_document(document: StoredDocument<'_>) -> Option<Document> {
    let compiled = match document.rule {
        None => None,
        Some(r) => Some(Compiled::Rule(LoweredRule {
            rule: r.rule.into_owned(),
            state: state_of(&r.state)?,
            pos: r.pos,
            filters: r.filters.into_owned(),
            logsource: r.logsource.into_owned(),
            postprocessing: Box::default(),
        })),
    };
    let diagnostics = document
        .diagnostics
        .into_iter()
        .map(|d| Diagnostic {
            code: d.code,
            severity: d.severity,
            message: d.message.into_owned(),
            pos: d.pos,
            target: None,
        })
        .collect();
    Some(Document {
        index: document.index,
        pos: document.pos,
        kind: document.kind,
        id: document.id.map(Cow::into_owned),
        title: document.title.map(Cow::into_owned),
        compiled,
        diagnostics,
    })
}

/// A pipeline state as JSON text, empty for none; `None` if it cannot be written (it always can).
fn state_text(state: &State) -> Option<String> {
    if state.is_empty() {
        return Some(String::new());
    }
    serde_json::to_string(state).ok()
}

fn state_of(text: &str) -> Option<State> {
    if text.is_empty() {
        return Some(State::new());
    }
    serde_json::from_str(text).ok()
}
