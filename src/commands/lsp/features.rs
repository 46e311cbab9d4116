//! What the language server answers: diagnostics, completion, hover, definition, formatting and quick fixes.

use super::document::{uri_path, Text};
use super::vocabulary::{field_doc, fields_for, logsource_values, modifier_doc, modifiers_after};
use crate::commands::test::config;
use lsp_types::{
    CodeAction, CodeActionKind, CompletionItem, CompletionItemKind, Diagnostic, DiagnosticSeverity, Hover,
    HoverContents, Location, MarkupContent, MarkupKind, NumberOrString, Position, PublishDiagnosticsParams, Range,
    TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use vigil_compiler::compile::{compile_source, Settings};
use vigil_compiler::format::format_source;
use vigil_compiler::validate::{fix_one, is_fixable, validate_source, Selection};
use vigil_compiler::Severity;

/// `vigil check`'s diagnostics of an open file: the front end's, and the conventions its vigil.yml asks for.
pub fn diagnostics(uri: &str, text: &str) -> serde_json::Value {
    let path = uri_path(uri).unwrap_or_else(|| uri.to_string());
    let file = compile_source(path.clone(), text.to_string(), &Settings::default());
    let mut found: Vec<vigil_compiler::Diagnostic> =
        file.documents.iter().flat_map(|d| d.diagnostics.iter().cloned()).collect();
    if let Some(selection) = selection_for(Path::new(&path)) {
        found.extend(validate_source(Path::new(&path), text, &selection).into_iter().flat_map(|(_, d)| d));
    }
    let lines = Text::new(text);
    let diagnostics: Vec<Diagnostic> = found
        .iter()
        .map(|d| {
            let range = d.pos.map_or_else(Range::default, |p| lines.token_range(p.line, p.column));
            Diagnostic {
                range,
                severity: Some(match d.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.as_str().into())),
                source: Some("vigil".into()),
                message: d.message.clone(),
                ..Diagnostic::default()
            }
        })
        .collect();
    let uri = Uri::from_str(uri).ok();
    match uri {
        Some(uri) => {
            serde_json::to_value(PublishDiagnosticsParams { uri, diagnostics, version: None }).unwrap_or_default()
        }
        None => serde_json::json!({"uri": "", "diagnostics": []}),
    }
}

/// The conventions of the nearest vigil.yml (`check.validators`, less `check.exclude`), if it asks for any.
fn selection_for(path: &Path) -> Option<Selection> {
    let found = config::find(path)?;
    let check = config::parse(&std::fs::read_to_string(found).ok()?).ok()?.check;
    let sets = Selection::parse_sets(check.validators.as_deref()?).ok()?;
    let excluded = check.exclude.iter().filter_map(|c| Selection::parse_exclusion(c).ok()).flatten().collect();
    Some(Selection { sets, excluded })
}

fn item(label: &str, kind: CompletionItemKind, doc: Option<&str>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        documentation: doc.map(|d| lsp_types::Documentation::String(d.to_string())),
        ..CompletionItem::default()
    }
}

pub fn completion(text: &str, position: Position) -> Vec<CompletionItem> {
    let lines = Text::new(text);
    let line_number = position.line as usize;
    let line = lines.line(line_number);
    let prefix = &line[..lines.byte_at(position)];
    let trimmed = prefix.trim_start();
    let indent = prefix.len() - trimmed.len();
    if indent == 0 && !trimmed.contains(':') {
        return vigil_compiler::format::KEY_ORDER.iter().map(|k| item(k, CompletionItemKind::PROPERTY, None)).collect();
    }
    match lines.section_of(line_number) {
        Some("logsource") => {
            let Some((key, _)) = trimmed.split_once(':') else { return Vec::new() };
            logsource_values(key.trim()).iter().map(|v| item(v, CompletionItemKind::VALUE, None)).collect()
        }
        Some("detection" | "filter") => {
            let entry = trimmed.trim_start_matches("- ");
            if entry.starts_with("condition:") {
                let mut out: Vec<CompletionItem> = lines
                    .detections(line_number)
                    .iter()
                    .map(|(name, _, _)| item(name, CompletionItemKind::REFERENCE, Some("a detection of this rule")))
                    .collect();
                for word in ["and", "or", "not", "1 of", "all of", "them"] {
                    out.push(item(word, CompletionItemKind::KEYWORD, None));
                }
                return out;
            }
            if in_condition_list(&lines, line_number) {
                return lines
                    .detections(line_number)
                    .iter()
                    .map(|(name, _, _)| item(name, CompletionItemKind::REFERENCE, None))
                    .collect();
            }
            if entry.contains(':') {
                return Vec::new();
            }
            if let Some((_field, chain)) = entry.split_once('|') {
                // The modifiers written so far; the last piece is the one being typed.
                let mut written: Vec<&str> = chain.split('|').collect();
                written.pop();
                return modifiers_after(&written)
                    .into_iter()
                    .map(|(name, doc)| item(name, CompletionItemKind::FUNCTION, Some(doc)))
                    .collect();
            }
            let category = lines.logsource_value(line_number, "category");
            let is_detection_name = lines.detections(line_number).iter().any(|(_, _, width)| *width == indent);
            if is_detection_name {
                return Vec::new();
            }
            fields_for(category)
                .into_iter()
                .map(|(name, doc)| item(name, CompletionItemKind::FIELD, Some(doc)))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Whether `line` is an entry of a `condition:` list.
fn in_condition_list(lines: &Text<'_>, line: usize) -> bool {
    let current = lines.line(line);
    if !current.trim_start().starts_with('-') {
        return false;
    }
    let indent = current.len() - current.trim_start().len();
    (0..line)
        .rev()
        .map(|i| lines.line(i))
        .find(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#') && (l.len() - t.len() < indent || !t.starts_with('-'))
        })
        .is_some_and(|l| l.trim_start().starts_with("condition:"))
}

/// The word under the cursor and where it starts (a byte offset on the line).
fn word_at(line: &str, byte: usize) -> Option<(&str, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*');
    let start = line[..byte].char_indices().rev().take_while(|(_, c)| is_word(*c)).last().map_or(byte, |(i, _)| i);
    let end = line[byte..].char_indices().find(|(_, c)| !is_word(*c)).map_or(line.len(), |(i, _)| byte + i);
    (start < end).then(|| (&line[start..end], start))
}

fn markdown(value: String) -> Hover {
    Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }), range: None }
}

pub fn hover(text: &str, position: Position) -> Option<Hover> {
    let lines = Text::new(text);
    let line_number = position.line as usize;
    let line = lines.line(line_number);
    let byte = lines.byte_at(position);
    let (word, start) = word_at(line, byte)?;
    let key_part = line.split(": ").next().unwrap_or(line);
    if start > 0 && line[..start].ends_with('|') && start < key_part.len() {
        return modifier_doc(word).map(|doc| markdown(format!("**`|{word}`** modifier\n\n{doc}")));
    }
    if line.trim_start().trim_start_matches("- ").starts_with("condition:") || in_condition_list(&lines, line_number) {
        let (name, at, _) = lines.detections(line_number).into_iter().find(|(n, _, _)| *n == word)?;
        let ir = identifier_ir(text, at, name)
            .map(|ir| format!("\n\nIR:\n\n```\n{ir}\n```"))
            .unwrap_or_else(|| "\n\n(no IR: the rule has errors)".into());
        return Some(markdown(format!("**{name}** (line {})\n\n```yaml\n{}\n```{ir}", at + 1, block(&lines, at))));
    }
    if start < key_part.len() {
        let field = word.split('|').next().unwrap_or(word);
        return field_doc(field).map(|doc| markdown(format!("**{field}**\n\n{doc}")));
    }
    None
}

/// The IR of detection `name` of the rule whose document holds line `at` (0-based), when the rule compiles.
fn identifier_ir(text: &str, at: usize, name: &str) -> Option<String> {
    let file = compile_source(String::new(), text.to_string(), &Settings::default());
    let document = file.documents.iter().rev().find(|d| (d.pos.line as usize) <= at + 1)?;
    let identifier = document.rule()?.rule.identifiers.iter().find(|i| i.name == name)?;
    Some(identifier.expr.to_string())
}

/// The lines of a detection: its key line and the deeper lines under it.
fn block(lines: &Text<'_>, at: usize) -> String {
    let head = lines.line(at);
    let indent = head.len() - head.trim_start().len();
    let mut out = vec![head.trim_start().to_string()];
    for i in at + 1..lines.line_count() {
        let l = lines.line(i);
        let t = l.trim_start();
        if !t.is_empty() && l.len() - t.len() <= indent {
            break;
        }
        out.push(l.get(indent..).unwrap_or(t).to_string());
        if out.len() > 40 {
            out.push("...".into());
            break;
        }
    }
    out.join("\n").trim_end().to_string()
}

pub fn definition(uri: &str, text: &str, position: Position) -> Option<Location> {
    let lines = Text::new(text);
    let line_number = position.line as usize;
    let line = lines.line(line_number);
    if !(line.trim_start().trim_start_matches("- ").starts_with("condition:") || in_condition_list(&lines, line_number))
    {
        return None;
    }
    let (word, _) = word_at(line, lines.byte_at(position))?;
    let (name, at, column) = lines.detections(line_number).into_iter().find(|(n, _, _)| *n == word)?;
    let range = Range::new(
        Position::new(at as u32, lines.utf16_column(at, column)),
        Position::new(at as u32, lines.utf16_column(at, column + name.chars().count())),
    );
    Some(Location { uri: Uri::from_str(uri).ok()?, range })
}

/// The whole text replaced by `vigil fmt`'s layout (nothing when it is already laid out).
pub fn formatting(text: &str) -> Vec<TextEdit> {
    let formatted = format_source(text);
    if formatted.text == text {
        return Vec::new();
    }
    vec![whole_text(&Text::new(text), formatted.text)]
}

/// Quick fixes for the diagnostics sent along that have a safe one (`vigil check --fix`'s, one at a time).
pub fn code_actions(uri: &str, text: &str, params: &serde_json::Value) -> Vec<CodeAction> {
    let lines = Text::new(text);
    let Ok(uri) = Uri::from_str(uri) else { return Vec::new() };
    let diagnostics: Vec<Diagnostic> =
        serde_json::from_value(params["context"]["diagnostics"].clone()).unwrap_or_default();
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let Some(NumberOrString::String(name)) = &diagnostic.code else { continue };
        let Some(code) = vigil_compiler::ALL_CODES.iter().copied().find(|c| c.as_str() == name) else { continue };
        if !is_fixable(code) {
            continue;
        }
        let start = diagnostic.range.start;
        let line = lines.line(start.line as usize);
        let column = line[..lines.byte_at(start)].chars().count() as u32 + 1;
        let Some(fixed) = fix_one(text, code, vigil_compiler::Pos::new(start.line + 1, column)) else { continue };
        let title = match code {
            vigil_compiler::Code::SigmahqTitleEnd => "Remove the dot at the end of the title",
            vigil_compiler::Code::SigmahqFalsepositivesCapital => "Capitalise the false positive",
            vigil_compiler::Code::TagFormat => "Write the tag in lowercase",
            _ => "Use the modifier instead of the wildcards",
        };
        let edit = whole_text(&lines, fixed);
        out.push(CodeAction {
            title: title.into(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..CodeAction::default()
        });
    }
    out
}

/// An edit replacing the whole text.
fn whole_text(lines: &Text<'_>, new_text: String) -> TextEdit {
    let last = lines.line_count().saturating_sub(1);
    let end = Position::new(last as u32, lines.utf16_column(last, lines.line(last).chars().count()));
    TextEdit { range: Range::new(Position::new(0, 0), end), new_text }
}
