//! Events as the matcher sees them: a record and the values of the fields some rule reads, flattened to Sigma
//! field names by the decoders (`decode.rs`, where the flattening is written down).

use crate::decode;
use crate::fields::{FieldId, FieldTable, Value};
use crate::record::{JsonText, Record};
use std::cell::OnceCell;

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
}

impl<'e> Event<'e> {
    /// Flattens `json`, keeping only the fields in `table` (and every value when `keywords` is set).
    pub fn new(json: &'e serde_json::Value, table: &FieldTable, keywords: bool) -> Event<'e> {
        Event {
            source: Source::Json(json),
            fields: decode::from_tree(json, table),
            all_values: OnceCell::new(),
            keywords,
        }
    }

    /// [`Event::new`] for any record: the fields of JSON text are read from the text, unless a rule reads dotted
    /// paths into EVTX records (those need the record's JSON tree); `None` for text that is not JSON.
    pub fn of(record: &'e Record, table: &FieldTable, keywords: bool) -> Option<Event<'e>> {
        match record {
            Record::Json(json) => Some(Event::new(json, table, keywords)),
            Record::Text(text) if !decode::reads_evtx_paths(table) => {
                let fields = decode::from_text(&text.text, table)?;
                Some(Event { source: Source::Text(text), fields, all_values: OnceCell::new(), keywords })
            }
            Record::Text(text) => {
                let json = text.parsed.get_or_init(|| serde_json::from_str(&text.text).ok()).as_ref()?;
                let fields = decode::from_tree(json, table);
                Some(Event { source: Source::Text(text), fields, all_values: OnceCell::new(), keywords })
            }
        }
    }

    /// The record's JSON text, when it was read as text.
    pub fn text(&self) -> Option<&'e str> {
        match self.source {
            Source::Json(_) => None,
            Source::Text(text) => Some(&text.text),
        }
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
    use crate::fields::Folded;
    use serde_json::json;
    use std::borrow::Cow;

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
    fn roots_that_look_like_evtx_but_are_not_read_flat() {
        let mut table = FieldTable::default();
        for name in ["Event", "Other"] {
            table.intern(name);
        }
        let json = json!({"Event": {"#text": "x"}, "Other": 5});
        let event = Event::new(&json, &table, false);
        assert_eq!(text_of(&event, &table, "Event").as_deref(), Some("x"));
        assert_eq!(text_of(&event, &table, "Other").as_deref(), Some("5"));
        let scalar = json!(["a", 1]);
        assert_eq!(Event::new(&scalar, &table, false).fields().count(), 0);
    }

    #[test]
    fn folding_is_unicode_aware_and_lazy() {
        let value = Value::Str(Cow::Borrowed("ÄBC"), Folded::default());
        assert_eq!(value.folded(), Some("äbc"));
    }
}
