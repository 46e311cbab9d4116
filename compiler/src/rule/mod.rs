//! Sigma detection rules as written: metadata, log source, named detections and parsed conditions.
//!
//! This is the syntax-level form (faithful to the file, with positions) that pipelines transform; `lower` turns
//! it into the IR.

pub mod detection;
pub mod meta;
pub mod modifiers;
pub mod value;

use crate::codes::Code;
use crate::condition::{self, Condition};
use crate::diagnostic::{Diagnostics, Pos};
use crate::ir::meta::{LogSource, Meta};
use crate::yaml::{Kind, Node};
use detection::{parse_detection, NamedDetection};
use meta::{parse_logsource, parse_meta};
use std::collections::HashMap;

/// A condition string and its parse tree.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedCondition {
    pub source: String,
    pub tree: Condition,
    pub pos: Pos,
}

/// A detection rule, checked: every identifier in its conditions names a detection, every selector selects one.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaRule {
    pub meta: Meta,
    pub logsource: LogSource,
    pub detections: Vec<NamedDetection>,
    /// One or more conditions; several are OR-ed.
    pub conditions: Vec<ParsedCondition>,
    pub pos: Pos,
    /// Ids of the pipeline processing items applied to the rule (for `processing_item_applied`).
    pub applied: Vec<String>,
}

impl SigmaRule {
    pub fn detection(&self, name: &str) -> Option<&NamedDetection> {
        self.detections.iter().find(|d| d.name == name)
    }
}

const RULE_KEYS: &[&str] = &["logsource", "detection"];

/// Parses a rule document. Returns `None` if it has errors; every problem is in `diags`.
pub fn parse_rule(root: &Node<'_>, diags: &mut Diagnostics) -> Option<SigmaRule> {
    let meta = parse_meta(root, RULE_KEYS, diags);
    let logsource = parse_logsource(root, diags);
    let block = match root.entry("detection") {
        Some((key, node)) => parse_detection_block_skipping(node, key.pos, "detection", &[], diags),
        None => {
            diags.error(Code::MissingDetection, root.pos, "missing `detection`");
            None
        }
    };
    let (detections, conditions) = block?;
    if diags.has_errors() {
        return None;
    }
    Some(SigmaRule { meta, logsource: logsource?, detections, conditions, pos: root.pos, applied: Vec::new() })
}

/// Parses a block of named detections plus `condition` (a rule's `detection:` or a filter's `filter:`).
/// Keys in `skip` belong to the enclosing document (a filter's `rules:`).
pub(crate) fn parse_detection_block_skipping(
    block: &Node<'_>,
    block_key: Pos,
    block_name: &str,
    skip: &[&str],
    diags: &mut Diagnostics,
) -> Option<(Vec<NamedDetection>, Vec<ParsedCondition>)> {
    let Some(entries) = block.as_map() else {
        diags.error(Code::WrongType, block.pos, format!("`{block_name}` must be a mapping, not {}", block.type_name()));
        return None;
    };
    let mut detections = Vec::with_capacity(entries.len());
    // Detections that failed to parse still count as defined, so the condition does not add a second error.
    let mut broken: Vec<String> = Vec::new();
    let mut condition_node = None;
    let mut ok = true;
    for (key, value) in entries {
        let Some(name) = key.scalar_text() else {
            diags.error(Code::InvalidDetection, key.pos, "a detection name must be a string");
            ok = false;
            continue;
        };
        match name.as_ref() {
            "condition" => condition_node = Some(value),
            "timeframe" => diags.warning(
                Code::LegacyTimeframe,
                key.pos,
                "`timeframe` inside `detection` is legacy Sigma and is ignored: use a correlation rule",
            ),
            other if skip.contains(&other) => {}
            other => {
                if !other.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
                    diags.warning(
                        Code::UnreferencableDetection,
                        key.pos,
                        format!("detection `{other}` has characters a condition cannot name"),
                    );
                }
                match parse_detection(value, diags) {
                    Some(detection) => {
                        detections.push(NamedDetection { name: other.to_string(), pos: key.pos, detection })
                    }
                    None => {
                        broken.push(other.to_string());
                        ok = false;
                    }
                }
            }
        }
    }
    let Some(condition_node) = condition_node else {
        diags.error(Code::MissingCondition, block_key, format!("`{block_name}` has no `condition`"));
        return None;
    };
    let sources: Vec<&Node<'_>> = match &condition_node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![condition_node],
    };
    if sources.is_empty() {
        diags.error(Code::MissingCondition, condition_node.pos, "`condition` is an empty list");
        return None;
    }
    let mut conditions = Vec::with_capacity(sources.len());
    for node in sources {
        let Some(source) = node.as_str() else {
            diags.error(Code::WrongType, node.pos, format!("`condition` must be a string, not {}", node.type_name()));
            ok = false;
            continue;
        };
        // Offsets inside the condition map to columns only when it sits on one line.
        let one_line = !source.contains('\n');
        let at = |offset: usize| if one_line { node.pos.shifted(offset) } else { node.pos };
        match condition::parse(source) {
            Ok((tree, warnings)) => {
                for w in warnings {
                    diags.warning(w.code, at(w.offset), w.message);
                }
                let words = word_offsets(source);
                let mut unknown = 0;
                if !check_names(&tree, &words, &detections, &broken, &at, diags, &mut unknown) {
                    ok = false;
                }
                if unknown > MAX_UNKNOWN_SHOWN {
                    let more = unknown - MAX_UNKNOWN_SHOWN;
                    diags.error(
                        Code::UndefinedIdentifier,
                        node.pos,
                        format!("{more} more names that are not detections"),
                    );
                }
                conditions.push(ParsedCondition { source: source.to_string(), tree, pos: node.pos });
            }
            Err(e) => {
                diags.error(e.code, at(e.offset), e.message);
                ok = false;
            }
        }
    }
    if ok {
        warn_unused(&detections, &conditions, diags);
    }
    ok.then_some((detections, conditions))
}

/// The character offset of the first occurrence of each whole word of a condition, for pointing at identifiers
/// (one pass: looking each identifier up from the start would be quadratic in a long condition).
fn word_offsets(source: &str) -> HashMap<&str, usize> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.');
    let mut offsets = HashMap::new();
    let mut start: Option<(usize, usize)> = None;
    for (chars, (byte, c)) in source.char_indices().enumerate() {
        if is_word(c) {
            start.get_or_insert((byte, chars));
        } else if let Some((from, at)) = start.take() {
            offsets.entry(&source[from..byte]).or_insert(at);
        }
    }
    if let Some((from, at)) = start {
        offsets.entry(&source[from..]).or_insert(at);
    }
    offsets
}

/// Names of a condition reported one by one as not detections; the others are counted in one more diagnostic.
const MAX_UNKNOWN_SHOWN: usize = 20;

/// Whether every name of `tree` is a detection (or a broken one, reported already); reports the others, counting
/// them in `unknown`.
fn check_names(
    tree: &Condition,
    words: &HashMap<&str, usize>,
    detections: &[NamedDetection],
    broken: &[String],
    at: &dyn Fn(usize) -> Pos,
    diags: &mut Diagnostics,
    unknown: &mut usize,
) -> bool {
    match tree {
        Condition::Ident(name) => {
            if detections.iter().any(|d| &d.name == name) || broken.contains(name) {
                return true;
            }
            let hint = detections
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(name))
                .map(|d| format!(" (did you mean `{}`? names are case-sensitive)", d.name))
                .unwrap_or_default();
            *unknown += 1;
            if *unknown <= MAX_UNKNOWN_SHOWN {
                diags.error(
                    Code::UndefinedIdentifier,
                    at(words.get(name.as_str()).copied().unwrap_or(0)),
                    format!("`{name}` is not a detection of this rule{hint}"),
                );
            }
            false
        }
        Condition::Selector { target, .. } => {
            if detections.iter().any(|d| target.selects(&d.name)) || broken.iter().any(|b| target.selects(b)) {
                return true;
            }
            let (text, note) = match target {
                condition::SelectorTarget::Them => {
                    ("them".to_string(), " (names starting with `_` are not part of `them`)")
                }
                condition::SelectorTarget::Pattern(p) => (p.clone(), ""),
            };
            diags.error(
                Code::SelectorMatchesNothing,
                at(words.get(text.as_str()).copied().unwrap_or(0)),
                format!("`{text}` selects no detection{note}"),
            );
            false
        }
        Condition::Not(inner) => check_names(inner, words, detections, broken, at, diags, unknown),
        Condition::And(items) | Condition::Or(items) => {
            let mut ok = true;
            for item in items {
                ok &= check_names(item, words, detections, broken, at, diags, unknown);
            }
            ok
        }
    }
}

fn mentions(tree: &Condition, name: &str) -> bool {
    match tree {
        Condition::Ident(ident) => ident == name,
        Condition::Selector { target, .. } => target.selects(name),
        Condition::Not(inner) => mentions(inner, name),
        Condition::And(items) | Condition::Or(items) => items.iter().any(|item| mentions(item, name)),
    }
}

fn warn_unused(detections: &[NamedDetection], conditions: &[ParsedCondition], diags: &mut Diagnostics) {
    for detection in detections {
        if !conditions.iter().any(|c| mentions(&c.tree, &detection.name)) {
            diags.warning(
                Code::UnusedDetection,
                detection.pos,
                format!("detection `{}` is not used by the condition", detection.name),
            );
        }
    }
}
