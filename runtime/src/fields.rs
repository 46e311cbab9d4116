//! The bottom of the event layer: the field names rules read (interned), and the values events give them.
//! Decoders (`decode.rs`) fill them in; [`Event`](crate::event::Event) holds them.

use rustc_hash::{FxHashMap, FxHashSet};
use std::borrow::Cow;
use std::cell::OnceCell;

/// Index of a field name some rule reads.
pub type FieldId = u32;

/// The field names the compiled rules read, interned.
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    /// Every name, and every proper prefix of a dotted name (`a` and `a.b` of `a.b.c`: the members of nested
    /// objects worth reading by their dotted paths), so that one lookup of a record's member tells both.
    known: FxHashMap<String, Known>,
    names: Vec<String>,
    /// What the names read before an underscore (`Provider` of `Provider_Name`): an EVTX element's attributes are
    /// looked up as `Element_Attribute` only when some name starts so.
    underscored: FxHashSet<String>,
}

/// What a text is to a [`FieldTable`]: a name, a proper prefix of dotted names, or both.
#[derive(Debug, Default, Clone, Copy)]
struct Known {
    id: Option<FieldId>,
    dotted_prefix: bool,
}

impl FieldTable {
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(id) = self.get(name) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.to_string());
        self.known.entry(name.to_string()).or_default().id = Some(id);
        for (at, _) in name.match_indices('.') {
            self.known.entry(name[..at].to_string()).or_default().dotted_prefix = true;
        }
        for (at, _) in name.match_indices('_') {
            self.underscored.insert(name[..at].to_string());
        }
        id
    }

    /// Whether some name is a dotted path that starts with `prefix` and a dot.
    pub(crate) fn has_dotted_prefix(&self, prefix: &str) -> bool {
        self.known.get(prefix).is_some_and(|known| known.dotted_prefix)
    }

    /// The id of an event's field name: the name itself, or for a name with spaces (`Threat Name`, as Windows
    /// Defender writes it) the same name without them (`ThreatName`, as SigmaHQ rules write it); `exact` tells
    /// which, so that a field of the exact name wins when an event has both.
    pub(crate) fn lookup(&self, name: &str) -> Option<(FieldId, bool)> {
        self.lookup_member(name).0
    }

    /// [`FieldTable::lookup`] of a record member's name, and [`FieldTable::has_dotted_prefix`] of it, in one
    /// lookup (both are asked of every member of every record).
    pub(crate) fn lookup_member(&self, name: &str) -> (Option<(FieldId, bool)>, bool) {
        let known = self.known.get(name).copied().unwrap_or_default();
        let found = match known.id {
            Some(id) => Some((id, true)),
            None if name.contains(' ') => {
                let joined: String = name.chars().filter(|c| *c != ' ').collect();
                self.get(&joined).map(|id| (id, false))
            }
            None => None,
        };
        (found, known.dotted_prefix)
    }

    /// Whether some name starts with `prefix` and an underscore.
    pub(crate) fn has_underscored(&self, prefix: &str) -> bool {
        self.underscored.contains(prefix)
    }

    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.known.get(name).and_then(|known| known.id)
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The ids of those of `names` that `table` holds, in order.
pub fn ids(table: &FieldTable, names: &[&str]) -> Vec<FieldId> {
    names.iter().filter_map(|n| table.get(n)).collect()
}

/// A field value of an event.
#[derive(Debug)]
pub enum Value<'e> {
    /// A string: borrowed from the event, or unescaped from an EVTX record's JSON text.
    Str(Cow<'e, str>, Folded),
    /// A JSON number: its value and its text (written only when a test reads it: most numbers are only
    /// compared as numbers, and an allocation per number would cost more than the rest of decoding).
    Num(f64, NumberText),
    Bool(bool),
    Null,
    /// An array: matches when any element does.
    List(Vec<Value<'e>>),
}

/// The text of a JSON number, as serde_json writes it (already lower case), made on first use.
#[derive(Debug)]
pub struct NumberText {
    number: serde_json::Number,
    text: OnceCell<String>,
}

impl NumberText {
    pub fn new(number: serde_json::Number) -> NumberText {
        NumberText { number, text: OnceCell::new() }
    }

    pub fn get(&self) -> &str {
        self.text.get_or_init(|| self.number.to_string())
    }

    /// The length of the text, without writing it for integers.
    pub fn text_len(&self) -> usize {
        let digits = |n: u64| n.checked_ilog10().map_or(1, |d| d as usize + 1);
        match (self.number.as_u64(), self.number.as_i64()) {
            (Some(u), _) => digits(u),
            (None, Some(i)) => digits(i.unsigned_abs()) + 1,
            _ => self.get().len(),
        }
    }
}

/// The lower-case form of a string, computed at most once per event field.
#[derive(Debug, Default)]
pub struct Folded(OnceCell<Option<String>>);

impl Folded {
    /// `text` in lower case (Unicode-aware); borrowed when it already is.
    pub fn get<'s>(&'s self, text: &'s str) -> &'s str {
        let folded = self.0.get_or_init(|| {
            // ASCII text (nearly all log text) is scanned and folded byte by byte.
            if text.is_ascii() {
                text.bytes().any(|b| b.is_ascii_uppercase()).then(|| text.to_ascii_lowercase())
            } else if text.chars().any(|c| c.is_uppercase()) {
                Some(text.to_lowercase())
            } else {
                None
            }
        });
        folded.as_deref().unwrap_or(text)
    }
}

impl<'e> Value<'e> {
    pub fn from_json(json: &'e serde_json::Value) -> Value<'e> {
        use serde_json::Value as J;
        match json {
            J::String(s) => Value::Str(Cow::Borrowed(s), Folded::default()),
            J::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN), NumberText::new(n.clone())),
            J::Bool(b) => Value::Bool(*b),
            J::Null => Value::Null,
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            // `{"#text": 4688, "#attributes": {...}}` is the value 4688.
            J::Object(map) => match map.get("#text") {
                Some(text) => Value::from_json(text),
                None => Value::Null,
            },
        }
    }

    /// A copy of the value (its lower-case form is computed again if needed).
    pub(crate) fn duplicate(&self) -> Value<'e> {
        match self {
            Value::Str(s, _) => Value::Str(s.clone(), Folded::default()),
            Value::Num(n, text) => Value::Num(*n, NumberText::new(text.number.clone())),
            Value::Bool(b) => Value::Bool(*b),
            Value::Null => Value::Null,
            Value::List(items) => Value::List(items.iter().map(Value::duplicate).collect()),
        }
    }

    /// The value as JSON, as the event holds it (a number stays a number).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Str(s, _) => J::String(s.to_string()),
            Value::Num(_, text) => J::Number(text.number.clone()),
            Value::Bool(b) => J::Bool(*b),
            Value::Null => J::Null,
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
        }
    }

    /// The text of a string or number, as matched by string tests; `None` for other values.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Str(s, _) => Some(s),
            Value::Num(_, text) => Some(text.get()),
            _ => None,
        }
    }

    /// The text in lower case.
    pub fn folded(&self) -> Option<&str> {
        match self {
            Value::Str(s, f) => Some(f.get(s)),
            Value::Num(_, text) => Some(text.get()),
            _ => None,
        }
    }
}
