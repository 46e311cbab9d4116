//! `detection:` entries -> typed detections: maps are ANDs of items, lists of maps are ORs, lists of scalars are
//! keywords. Every value runs through its modifier chain here, so later stages see typed values only.

use super::modifiers::{apply_chain, Modifier, ModifierError, RawValue};
use super::value::DetectionValue;
use crate::codes::Code;
use crate::diagnostic::{Diagnostics, Pos};
use crate::ir::value::Number;
use crate::yaml::{Kind, Node};

/// One `field|modifiers: values` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionItem {
    /// `None` for keywords (values matched against the whole event).
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<DetectionValue>,
    /// `all`: every value must match (otherwise any one).
    pub all: bool,
    /// `neq`: the item is negated.
    pub negated: bool,
    pub pos: Pos,
    /// Ids of the pipeline processing items that changed this item (for `processing_item_applied`).
    pub applied: Vec<String>,
}

impl DetectionItem {
    /// An item made by a pipeline (no modifiers, any value matches).
    pub fn new(field: Option<String>, values: Vec<DetectionValue>, pos: Pos) -> Self {
        DetectionItem { field, modifiers: Vec::new(), values, all: false, negated: false, pos, applied: Vec::new() }
    }
}

/// A detection: an item, an AND of detections (a map), or an OR of detections (a list of maps, or what a
/// one-to-many field mapping makes of an item).
#[derive(Clone, Debug, PartialEq)]
pub enum Detection {
    Item(DetectionItem),
    AllOf(Vec<Detection>),
    AnyOf(Vec<Detection>),
}

impl Detection {
    /// Every item, depth first.
    pub fn items(&self) -> Vec<&DetectionItem> {
        let mut out = Vec::new();
        self.visit_items(&mut |item| out.push(item));
        out
    }

    pub fn visit_items<'s>(&'s self, f: &mut impl FnMut(&'s DetectionItem)) {
        match self {
            Detection::Item(item) => f(item),
            Detection::AllOf(children) | Detection::AnyOf(children) => children.iter().for_each(|d| d.visit_items(f)),
        }
    }
}

/// A named detection of a rule (`selection:`, `filter_main:`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedDetection {
    pub name: String,
    pub pos: Pos,
    pub detection: Detection,
}

/// Parses one detection's value. Returns `None` when it is unusable; the problems are in `diags`.
pub fn parse_detection(node: &Node<'_>, diags: &mut Diagnostics) -> Option<Detection> {
    match &node.kind {
        Kind::Map(entries) => {
            if entries.is_empty() {
                diags.error(Code::InvalidDetection, node.pos, "empty detection: it needs at least one field");
                return None;
            }
            let mut items = Vec::with_capacity(entries.len());
            let mut ok = true;
            for (key, value) in entries {
                let Some(key_text) = key.scalar_text() else {
                    diags.error(Code::InvalidDetection, key.pos, "a detection key must be a field name");
                    ok = false;
                    continue;
                };
                match parse_item(&key_text, key.pos, value, diags) {
                    Some(item) => items.push(item),
                    None => ok = false,
                }
            }
            ok.then_some(Detection::AllOf(items.into_iter().map(Detection::Item).collect()))
        }
        Kind::Seq(elements) => {
            if elements.is_empty() {
                diags.error(Code::InvalidDetection, node.pos, "empty detection list");
                return None;
            }
            if elements.iter().all(|e| matches!(e.kind, Kind::Map(_))) {
                let mut alternatives = Vec::with_capacity(elements.len());
                let mut ok = true;
                for element in elements {
                    match parse_detection(element, diags) {
                        Some(d) => alternatives.push(d),
                        None => ok = false,
                    }
                }
                return ok.then_some(Detection::AnyOf(alternatives));
            }
            if elements.iter().any(|e| matches!(e.kind, Kind::Map(_) | Kind::Seq(_))) {
                let bad = elements.iter().find(|e| !matches!(e.kind, Kind::Map(_))).unwrap_or(node);
                diags.error(
                    Code::InvalidDetection,
                    bad.pos,
                    "a detection list must hold either only maps (alternatives) or only values (keywords)",
                );
                return None;
            }
            parse_item("", node.pos, node, diags).map(Detection::Item)
        }
        Kind::Str(_) | Kind::Int(_) | Kind::Float(_) => parse_item("", node.pos, node, diags).map(Detection::Item),
        Kind::Null => {
            diags.error(Code::NullKeyword, node.pos, "empty detection: `null` is not a keyword; give a field");
            None
        }
        Kind::Bool(_) => {
            diags.error(Code::InvalidDetection, node.pos, "a boolean cannot be a keyword; give a field");
            None
        }
    }
}

fn raw_value<'n>(node: &'n Node<'_>) -> Option<RawValue<'n>> {
    Some(match &node.kind {
        Kind::Str(s) => RawValue::Str(s),
        Kind::Int(i) => RawValue::Num(Number::Int(*i)),
        Kind::Float(f) => RawValue::Num(Number::Float(*f)),
        Kind::Bool(b) => RawValue::Bool(*b),
        Kind::Null => RawValue::Null,
        Kind::Seq(_) | Kind::Map(_) => return None,
    })
}

fn unknown_modifier_message(name: &str) -> String {
    if name == "not" {
        return "`not` is not a modifier: use `neq`, or `not` in the condition".into();
    }
    if let Some(known) = Modifier::from_name(&name.to_ascii_lowercase()) {
        return format!("unknown modifier `{name}` (modifiers are lower case: `{}`)", known.name());
    }
    format!("unknown modifier `{name}`")
}

/// Parses `key: value` where `key` is `field|mod|mod` (`|mod` alone for keywords).
pub fn parse_item(key: &str, pos: Pos, value: &Node<'_>, diags: &mut Diagnostics) -> Option<DetectionItem> {
    let mut segments = key.split('|');
    let field = segments.next().unwrap_or("");
    let mut modifiers = Vec::new();
    let mut ok = true;
    for name in segments {
        match Modifier::from_name(name) {
            Some(modifier) => {
                if modifiers.contains(&modifier) && modifier != Modifier::Base64 {
                    diags.warning(Code::DuplicateModifier, pos, format!("modifier `{name}` is applied twice"));
                }
                modifiers.push(modifier);
            }
            None => {
                diags.error(Code::UnknownModifier, pos, unknown_modifier_message(name));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let field = (!field.is_empty()).then(|| field.to_string());
    let all = modifiers.contains(&Modifier::All);
    let negated = modifiers.contains(&Modifier::Neq);

    for (i, modifier) in modifiers.iter().enumerate() {
        let needs_field = matches!(modifier, Modifier::Exists | Modifier::FieldRef);
        if needs_field && field.is_none() {
            diags.error(Code::ModifierType, pos, format!("`{}` needs a field name before it", modifier.name()));
            ok = false;
        }
        if *modifier == Modifier::Base64Offset && !modifiers[i + 1..].contains(&Modifier::Contains) {
            diags.warning(
                Code::Base64OffsetWithoutContains,
                pos,
                "`base64offset` without a following `contains` only matches at the very start of the value",
            );
        }
    }
    if all && modifiers.contains(&Modifier::Windash) {
        diags.warning(Code::SuspiciousModifier, pos, "`windash` with `all`: each dash variant would have to match");
    }
    if !ok {
        return None;
    }

    let nodes: Vec<&Node<'_>> = match &value.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    if all && nodes.len() == 1 {
        diags.warning(Code::SuspiciousModifier, pos, "`all` on a single value has no effect");
    }
    let mut values = Vec::with_capacity(nodes.len().max(1));
    if nodes.is_empty() {
        // `field: []` means null, as in pySigma.
        values.push(DetectionValue::Null);
    }
    for node in nodes {
        let Some(raw) = raw_value(node) else {
            diags.error(
                Code::InvalidValue,
                node.pos,
                format!("a value must be a string, number, boolean or null, not {}", node.type_name()),
            );
            ok = false;
            continue;
        };
        if field.is_none() {
            let keyword_problem = match raw {
                RawValue::Null => Some((Code::NullKeyword, "`null` cannot be a keyword: keywords need text")),
                RawValue::Bool(_) => Some((Code::InvalidValue, "a boolean cannot be a keyword")),
                _ => None,
            };
            if let Some((code, message)) = keyword_problem {
                diags.error(code, node.pos, message);
                ok = false;
                continue;
            }
        }
        match apply_chain(&raw, &modifiers) {
            Ok(value) => {
                if field.is_none()
                    && matches!(
                        value,
                        DetectionValue::Cidr(_) | DetectionValue::Exists(_) | DetectionValue::Compare { .. }
                    )
                {
                    diags.error(Code::ModifierType, node.pos, format!("{} cannot be a keyword", value.type_name()));
                    ok = false;
                    continue;
                }
                values.push(value);
            }
            Err(error) => {
                let (code, message) = match error {
                    ModifierError::Order(m) => (Code::ModifierOrder, m),
                    ModifierError::Type(m) => (Code::ModifierType, m),
                    ModifierError::InvalidRegex(m) => (Code::InvalidRegex, m),
                    ModifierError::InvalidCidr(m) => (Code::InvalidCidr, m),
                    ModifierError::InvalidTimePart(m) => (Code::InvalidTimePart, m),
                };
                diags.error(code, node.pos, message);
                ok = false;
            }
        }
    }
    ok.then_some(DetectionItem { field, modifiers, values, all, negated, pos, applied: Vec::new() })
}
