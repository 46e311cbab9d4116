//! A record as read from an input, before decoding: parsed JSON, or JSON text whose tree is built only on demand.

use std::cell::OnceCell;

/// A record to match: parsed JSON, or JSON text (a JSON line, an EVTX record as the `evtx` crate renders it),
/// whose fields are read straight from the text (`decode.rs`): its JSON tree is built only for output.
#[derive(Debug)]
pub enum Record {
    Json(serde_json::Value),
    Text(JsonText),
}

/// A record's JSON text, and its JSON tree once something asked for it.
#[derive(Debug)]
pub struct JsonText {
    pub(crate) text: String,
    kind: TextKind,
    /// `None` for text that is not JSON.
    pub(crate) parsed: OnceCell<Option<serde_json::Value>>,
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
            // Parsed to a tree (on this error path only): skipping a value, as `IgnoredAny` does, has no depth
            // limit, and the decoder's does.
            Record::Text(text) => {
                serde_json::from_str::<serde_json::Value>(&text.text).err().map(|e| invalid(text.kind, position, &e))
            }
        }
    }
}

/// The message for a record that is not JSON.
fn invalid(kind: TextKind, position: u64, error: &serde_json::Error) -> String {
    let error = json_error(error);
    match kind {
        TextKind::Line => format!("line {position}: {error}"),
        TextKind::Evtx => format!("EVTX record {position} rendered as invalid JSON: {error}"),
    }
}

/// The message of a JSON error (serde's recursion limit said in the user's words).
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    if e.to_string().starts_with("recursion limit exceeded") {
        format!("nested more than 128 levels deep (line {} column {})", e.line(), e.column())
    } else {
        e.to_string()
    }
}

impl JsonText {
    pub(crate) fn json(&self) -> &serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.parsed.get_or_init(|| serde_json::from_str(&self.text).ok()).as_ref().unwrap_or(&NULL)
    }
}
