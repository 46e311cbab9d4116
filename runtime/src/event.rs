//! Events as the matcher sees them: the fields some rule reads, flattened to Sigma field names.
//!
//! Flat events (Mordor/NXLog: `Image`, `EventID`) keep their top-level names. EVTX-shaped events (`Event.System.*`,
//! `Event.EventData.*`, as the `evtx` crate renders records) are flattened the way Zircolite does it, so that the
//! same SigmaHQ rule reads both without a mapping: `Event.System.EventID` is `EventID` (also when it carries
//! `#attributes`), `Event.System.Provider.#attributes.Name` is `Provider_Name`, `Event.EventData.Image` is `Image`,
//! `Event.UserData.<Kind>.X` is `X`. Nested objects of other events are reachable by their dotted paths
//! (`protoPayload.serviceName`), and every event also answers to its dotted paths (`Event.System.Channel`).

use crate::bits::RuleBits;
use crate::program::{ScanKey, Shared};
use crate::text_fields::Sink;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};

/// Index of a field name some rule reads.
pub type FieldId = u32;

/// The field names the compiled rules read, interned.
#[derive(Debug, Default, Clone)]
pub struct FieldTable {
    ids: FxHashMap<String, FieldId>,
    names: Vec<String>,
    /// Whether any rule reads a dotted path, so that nested objects are worth walking by path.
    dotted: bool,
    /// What the names read before an underscore (`Provider` of `Provider_Name`): an EVTX element's attributes are
    /// looked up as `Element_Attribute` only when some name starts so.
    underscored: rustc_hash::FxHashSet<String>,
}

impl FieldTable {
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        self.dotted |= name.contains('.');
        for (at, _) in name.match_indices('_') {
            self.underscored.insert(name[..at].to_string());
        }
        id
    }

    /// Whether some name starts with `prefix` and an underscore.
    pub(crate) fn has_underscored(&self, prefix: &str) -> bool {
        self.underscored.contains(prefix)
    }

    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
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
    pub(crate) fn from_json(json: &'e serde_json::Value) -> Value<'e> {
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

/// A record to match: parsed JSON, or JSON text (a JSON line, an EVTX record as the `evtx` crate renders it),
/// whose fields are read straight from the text ([`crate::text_fields`]): its JSON tree is built only for output.
#[derive(Debug)]
pub enum Record {
    Json(serde_json::Value),
    Text(JsonText),
}

/// A record's JSON text, and its JSON tree once something asked for it.
#[derive(Debug)]
pub struct JsonText {
    text: String,
    kind: TextKind,
    /// `None` for text that is not JSON.
    parsed: OnceCell<Option<serde_json::Value>>,
}

/// Where a record's text comes from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Line,
    Evtx,
}

impl Record {
    /// A JSON line, not parsed yet.
    pub fn line(text: String) -> Record {
        Record::Text(JsonText { text, kind: TextKind::Line, parsed: OnceCell::new() })
    }

    /// An EVTX record from its rendered JSON text.
    pub fn evtx(text: String) -> Record {
        Record::Text(JsonText { text, kind: TextKind::Evtx, parsed: OnceCell::new() })
    }

    /// The whole record as JSON (text is parsed on first use; text that is not JSON reads as `null`, and
    /// [`RuleSet::decode`](crate::RuleSet::decode) reports it).
    pub fn json(&self) -> &serde_json::Value {
        match self {
            Record::Json(json) => json,
            Record::Text(text) => text.json(),
        }
    }

    /// The record as JSON, or why it is not JSON; `position` names the record in the message.
    pub fn into_json(self, position: u64) -> Result<serde_json::Value, String> {
        match self {
            Record::Json(json) => Ok(json),
            Record::Text(JsonText { text, kind, parsed }) => match parsed.into_inner() {
                Some(Some(json)) => Ok(json),
                _ => serde_json::from_str(text.trim()).map_err(|e| invalid(kind, position, &e)),
            },
        }
    }

    /// Why the record cannot be read, if it is text that is not JSON (parsed here to find out).
    pub fn error(&self, position: u64) -> Option<String> {
        match self {
            Record::Json(_) => None,
            Record::Text(text) => serde_json::from_str::<serde::de::IgnoredAny>(&text.text)
                .err()
                .map(|e| invalid(text.kind, position, &e)),
        }
    }
}

/// The message for a record that is not JSON.
fn invalid(kind: TextKind, position: u64, error: &serde_json::Error) -> String {
    match kind {
        TextKind::Line => format!("line {position}: {error}"),
        TextKind::Evtx => format!("EVTX record {position} rendered as invalid JSON: {error}"),
    }
}

impl JsonText {
    fn json(&self) -> &serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.parsed.get_or_init(|| serde_json::from_str(&self.text).ok()).as_ref().unwrap_or(&NULL)
    }
}

/// Where an event's JSON comes from.
#[derive(Clone, Copy)]
enum Source<'e> {
    Json(&'e serde_json::Value),
    Text(&'e JsonText),
}

/// One event: its JSON (for output), and the values of the fields the rules read.
pub struct Event<'e> {
    source: Source<'e>,
    /// The fields of this event that some rule reads, sorted by id (an event has a few dozen fields; a rule set
    /// may know hundreds, so a dense table per event would cost more than it saves).
    fields: Vec<(FieldId, Value<'e>)>,
    /// Every string and number of the event, for keywords (filled only when some rule has keywords).
    all_values: OnceCell<Vec<Value<'e>>>,
    /// Whether `all_values` may be asked for (some rule has keywords).
    keywords: bool,
    /// The prefilter's keyword witnesses that hold, found while an EVTX record was read.
    pub(crate) keyword_witnesses: Option<RuleBits>,
    /// Shared substring scans already run on this event: which literals each field contains.
    scans: RefCell<Vec<(ScanKey, Vec<u64>)>>,
}

impl<'e> Event<'e> {
    /// Flattens `json`, keeping only the fields in `table` (and every value when `keywords` is set).
    pub fn new(json: &'e serde_json::Value, table: &FieldTable, keywords: bool) -> Event<'e> {
        Event::from_source(Source::Json(json), table, keywords)
    }

    /// [`Event::new`] for any record: the fields of JSON text are read from the text, unless a rule reads dotted
    /// paths (those need the record's JSON tree); `None` for text that is not JSON.
    pub fn of(record: &'e Record, table: &FieldTable, keywords: bool) -> Option<Event<'e>> {
        Event::of_visiting(record, table, keywords, None).map(|(event, _)| event)
    }

    /// [`Event::of`], handing every string and number of JSON text to `visit` while it is read; and whether they
    /// all were (not when the record was read another way).
    pub(crate) fn of_visiting(
        record: &'e Record,
        table: &FieldTable,
        keywords: bool,
        visit: Option<&mut Sink<'_>>,
    ) -> Option<(Event<'e>, bool)> {
        match record {
            Record::Json(json) => Some((Event::new(json, table, keywords), false)),
            Record::Text(text) => {
                let mut event = Event::empty(Source::Text(text), keywords);
                if !table.dotted {
                    if let Some(fields) = crate::text_fields::decode(&text.text, table, visit) {
                        event.fields = fields;
                        return Some((event, true));
                    }
                }
                // Another shape, or not JSON at all.
                text.parsed.get_or_init(|| serde_json::from_str(&text.text).ok()).as_ref()?;
                event.flatten(table);
                Some((event, false))
            }
        }
    }

    fn empty(source: Source<'e>, keywords: bool) -> Event<'e> {
        Event {
            source,
            fields: Vec::new(),
            all_values: OnceCell::new(),
            keywords,
            keyword_witnesses: None,
            scans: RefCell::new(Vec::new()),
        }
    }

    fn from_source(source: Source<'e>, table: &FieldTable, keywords: bool) -> Event<'e> {
        let mut event = Event::empty(source, keywords);
        event.flatten(table);
        event
    }

    /// Reads the fields from the event's JSON tree.
    fn flatten(&mut self, table: &FieldTable) {
        let event = self;
        let json = event.json();
        if let serde_json::Value::Object(root) = json {
            event.fields.reserve(root.len());
            // An EVTX record is `{"Event": {"System": ...}}`: only a one-key object is looked into (the lookup
            // hashes the key, which flat events need not pay for).
            let evtx = (root.len() == 1)
                .then(|| root.get("Event"))
                .flatten()
                .and_then(|e| e.as_object())
                .filter(|e| e.contains_key("System"));
            match evtx {
                Some(record) => event.flatten_evtx(record, table),
                None => {
                    for (key, value) in root {
                        event.set(key, value, table);
                    }
                }
            }
            if table.dotted {
                event.walk_paths(json, &mut String::new(), table);
            }
        }
        // The first value of a name wins (an EVTX System field over an EventData field of the same name).
        event.fields.sort_by_key(|(id, _)| *id);
        event.fields.dedup_by_key(|(id, _)| *id);
    }

    /// The event's JSON tree, when it has one already (an EVTX record's is built only when asked for).
    pub fn json_tree(&self) -> Option<&'e serde_json::Value> {
        match self.source {
            Source::Json(json) => Some(json),
            Source::Text(text) => text.parsed.get().map(|p| p.as_ref().unwrap_or(&serde_json::Value::Null)),
        }
    }

    /// The event's JSON (an EVTX record's is parsed on first use).
    pub fn json(&self) -> &'e serde_json::Value {
        match self.source {
            Source::Json(json) => json,
            Source::Text(text) => text.json(),
        }
    }

    fn set(&mut self, name: &str, value: &'e serde_json::Value, table: &FieldTable) {
        if let Some(id) = table.get(name) {
            self.fields.push((id, Value::from_json(value)));
        }
    }

    fn flatten_evtx(&mut self, record: &'e serde_json::Map<String, serde_json::Value>, table: &FieldTable) {
        // The record's objects hold a handful of keys: they are walked rather than looked up (a lookup hashes
        // with SipHash), and `Key_attribute` names are built in one reused buffer.
        let mut name = String::new();
        // System first: its value of a name wins over EventData's (`Event::new` keeps the first).
        let system_first =
            record.iter().filter(|(k, _)| *k == "System").chain(record.iter().filter(|(k, _)| *k != "System"));
        for (section, content) in system_first {
            let serde_json::Value::Object(data) = content else { continue };
            match section.as_str() {
                "System" => {
                    for (key, value) in data {
                        let serde_json::Value::Object(inner) = value else {
                            self.set(key, value, table);
                            continue;
                        };
                        for (part, v) in inner {
                            match (part.as_str(), v) {
                                ("#attributes", serde_json::Value::Object(attributes)) => {
                                    for (attribute, v) in attributes {
                                        name.clear();
                                        name.push_str(key);
                                        name.push('_');
                                        name.push_str(attribute);
                                        self.set(&name, v, table);
                                        // `TimeCreated.SystemTime` and `Execution.ProcessID` are also known by the
                                        // attribute alone.
                                        self.set(attribute, v, table);
                                    }
                                }
                                ("#text", _) => self.set(key, value, table),
                                _ => {}
                            }
                        }
                    }
                }
                "EventData" => data.iter().for_each(|(key, value)| self.set(key, value, table)),
                "UserData" => {
                    for (key, value) in data {
                        match value {
                            // UserData holds one element named after the event kind; its children are the fields.
                            serde_json::Value::Object(inner) if !inner.keys().any(|k| k == "#text") => {
                                for (k, v) in inner {
                                    if k != "#attributes" {
                                        self.set(k, v, table);
                                    }
                                }
                            }
                            _ => self.set(key, value, table),
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn walk_paths(&mut self, json: &'e serde_json::Value, path: &mut String, table: &FieldTable) {
        let serde_json::Value::Object(map) = json else { return };
        for (key, value) in map {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            if len > 0 {
                self.set(path, value, table);
            }
            if value.is_object() {
                self.walk_paths(value, path, table);
            }
            path.truncate(len);
        }
    }

    /// The literals of `key` that `value` (this event's value of that field) contains, scanned once per event.
    pub(crate) fn scan(
        &self,
        key: ScanKey,
        value: &Value<'_>,
        shared: &Shared,
    ) -> Option<std::cell::Ref<'_, Vec<u64>>> {
        let position = self.scans.borrow().iter().position(|(k, _)| *k == key);
        let position = match position {
            Some(p) => p,
            None => {
                let mut bits = Vec::new();
                scan_value(key, value, shared, &mut bits);
                let mut scans = self.scans.borrow_mut();
                scans.push((key, bits));
                scans.len() - 1
            }
        };
        let scans = self.scans.borrow();
        Some(std::cell::Ref::map(scans, |s| &s[position].1))
    }

    pub fn get(&self, field: FieldId) -> Option<&Value<'e>> {
        self.fields.binary_search_by_key(&field, |(id, _)| *id).ok().map(|i| &self.fields[i].1)
    }

    /// Every string and number of the event, for keywords: collected on first use (the literal prefilter rules
    /// most keyword rules out without them, and reads JSON text's values as it is decoded); empty when no rule has
    /// keywords.
    pub fn all_values(&self) -> &[Value<'e>] {
        self.all_values.get_or_init(|| {
            let mut values = Vec::new();
            if !self.keywords {
                return values;
            }
            // JSON text is parsed here (only keyword rules the prefilter admits ask).
            collect_values(self.json(), &mut values);
            values
        })
    }

    /// The fields of the event that some rule reads, by id.
    pub fn fields(&self) -> impl Iterator<Item = (FieldId, &Value<'e>)> {
        self.fields.iter().map(|(id, value)| (*id, value))
    }
}

/// Scans a value (every element of a list) into one bit set: a literal counts if any element contains it.
fn scan_value(key: ScanKey, value: &Value<'_>, shared: &Shared, bits: &mut Vec<u64>) {
    match value {
        Value::List(items) => items.iter().for_each(|v| scan_value(key, v, shared, bits)),
        Value::Bool(b) => shared.scan(key, if *b { "true" } else { "false" }, bits),
        _ => {
            let text = if key.1 { value.text() } else { value.folded() };
            if let Some(text) = text {
                shared.scan(key, text, bits);
            }
        }
    }
}

fn collect_values<'e>(json: &'e serde_json::Value, out: &mut Vec<Value<'e>>) {
    match json {
        serde_json::Value::String(_) | serde_json::Value::Number(_) => out.push(Value::from_json(json)),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_values(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_values(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text_of(event: &Event<'_>, table: &FieldTable, name: &str) -> Option<String> {
        event.get(table.get(name)?).and_then(|v| v.text().map(str::to_string))
    }

    #[test]
    fn evtx_records_flatten_to_sigma_names() {
        let json = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4688},
            "Channel": "Security",
            "TimeCreated": {"#attributes": {"SystemTime": "2025-01-01T00:00:00Z"}}},
            "EventData": {"Image": "C:\\x.exe"},
            "UserData": {"LogFileCleared": {"SubjectUserName": "bob"}}}});
        let mut table = FieldTable::default();
        for name in
            ["Provider_Name", "EventID", "Channel", "Image", "SubjectUserName", "SystemTime", "Event.System.Channel"]
        {
            table.intern(name);
        }
        let event = Event::new(&json, &table, false);
        assert_eq!(text_of(&event, &table, "Provider_Name").as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(text_of(&event, &table, "EventID").as_deref(), Some("4688"));
        assert_eq!(text_of(&event, &table, "Image").as_deref(), Some("C:\\x.exe"));
        assert_eq!(text_of(&event, &table, "SubjectUserName").as_deref(), Some("bob"));
        assert_eq!(text_of(&event, &table, "SystemTime").as_deref(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(text_of(&event, &table, "Event.System.Channel").as_deref(), Some("Security"));
    }

    #[test]
    fn folding_is_unicode_aware_and_lazy() {
        let value = Value::Str(Cow::Borrowed("ÄBC"), Folded::default());
        assert_eq!(value.folded(), Some("äbc"));
    }
}
