//! The events table of `vigil hunt --engine spark`, as Spark SQL: what a Spark job computes from each event's
//! JSON text so that the Spark target's rule conditions (`vigil convert -t spark`) read the same fields, log
//! sources and keywords as the matcher.
//!
//! The job (src/commands/hunt/spark_job.py) makes a view `vigil_raw` of every record: `_file` (the input's
//! number), `_record` (its line, as the matcher numbers it), `_event` (its JSON text) and `_vigil_fields` (the JSON
//! object its fields are read from: the event itself for JSON lines Spark reads; for inputs Vigil converts on the
//! way, such as EVTX, the fields as the matcher decoded them). [`SparkEvents::events_sql`] turns that into the view
//! `vigil_columns`: one column per field some rule reads, named as the rule names it (Spark runs with
//! `spark.sql.caseSensitive`, so `Status` and `status` stay apart), `_raw` (every value between unit separators,
//! for keywords), `_source` (the log source as [`Classifier::classify`] tells it) and the three columns above.
//!
//! A field's value is read as the matcher reads a flat record (crate::decode): the member of that name, else a
//! member whose name without spaces is that name (`Threat Name` for `ThreatName`), else for a dotted name the
//! member of nested objects along its path. Values are text (Spark's `from_json` into a map of strings: numbers as
//! written, booleans `true`/`false`, objects and arrays as JSON text); the Spark target compares them as the
//! matcher does with the session settings the job sets (`spark.sql.ansi.enabled=false`, so text compared with a
//! number is read as one, and what is no number matches no number).

use crate::fields::{FieldId, FieldTable, Value};
use crate::logsource::{Classifier, SourceKey, UNKNOWN};
use crate::ruleset::LogSources;
use crate::Event;
use std::cell::RefCell;
use std::collections::BTreeSet;
use vigil_compiler::ir;
use vigil_compiler::ir::meta::LogSource;
use vigil_compiler::sql_table::{spark_string, KEYWORD_COLUMN, KEYWORD_SEPARATOR};

/// The column of `vigil_columns` holding each event's time (a timestamp, null when it has none it can read).
pub const TIME_COLUMN: &str = "_vigil_time";

/// The time forms the matcher reads (`crate::time::parse`), upper-cased: RFC 3339 (`T` or a space, `Z` or an
/// offset), and without an offset `YYYY-MM-DD hh:mm:ss[.fff]` or `YYYY-MM-DDThh:mm:ss.fff`.
const TIME_FORMS: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})\
                          | [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?|T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]+)$";

/// The member of a converted input's fields object that holds its keyword text (a name no event field has).
const RAW_MEMBER: &str = "\u{1f}raw";

/// The fields, log sources and keywords of a rule set, for Spark.
pub struct SparkEvents {
    table: FieldTable,
    keywords: bool,
    classifier: Option<Classifier>,
    time_fields: Vec<FieldId>,
}

/// A Spark SQL identifier (backquoted).
pub fn spark_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl SparkEvents {
    /// The table for `rules` and the fields correlations read (`also_read`), telling log sources as `sources`
    /// says and event times from `time_field` (or the usual fields).
    pub fn new(
        rules: &[&ir::Rule],
        also_read: &[String],
        sources: &LogSources,
        time_field: Option<&str>,
    ) -> SparkEvents {
        let (mut table, keywords) = crate::sqlite::fields_of(rules);
        for name in also_read {
            table.intern(name);
        }
        let time_fields = crate::time::time_fields(time_field).iter().map(|n| table.intern(n)).collect();
        let classifier = match sources {
            LogSources::Anywhere => None,
            LogSources::Table(t) => Some(Classifier::new(t, &mut table)),
            LogSources::Forced(logsource) => Some(Classifier::forced(logsource)),
        };
        SparkEvents { table, keywords, classifier, time_fields }
    }

    /// A field's value read from the parsed event (see the module).
    fn field_sql(&self, id: FieldId) -> String {
        let name = self.table.name(id);
        let literal = spark_string(name);
        let mut ways = vec![format!("_vigil_m[{literal}]"), format!("_vigil_d[{literal}]")];
        if let Some(path) = json_path(name) {
            ways.push(format!("get_json_object(coalesce(_vigil_fields, _event), {})", spark_string(&path)));
        }
        format!("coalesce({})", ways.join(", "))
    }

    /// The SQL of the view `vigil_base` over the view `vigil_raw`: each record parsed once (the map of its members
    /// and of its members' names without spaces), whether it is unreadable, its log source `_source`, and the fields the log sources are told by. The job keeps this view in memory.
    pub fn base_sql(&self) -> String {
        let (source, told_by) = self.classification();
        let told_by =
            told_by.into_iter().map(|id| format!("{} AS {}", self.field_sql(id), spark_ident(self.table.name(id))));
        let parsed = "SELECT _file, _record, _event, _vigil_fields, from_json(coalesce(_vigil_fields, _event), 'MAP<STRING, STRING>') AS _vigil_m \
                      FROM vigil_raw";
        let despaced = format!(
            "SELECT *, map_from_entries(transform(filter(map_entries(_vigil_m), e -> instr(e.key, ' ') > 0), \
             e -> struct(replace(e.key, ' ', '') AS key, e.value AS value))) AS _vigil_d FROM ({parsed})"
        );
        let mut columns = vec!["_vigil_m IS NULL AS _vigil_unreadable".to_string()];
        columns.extend(told_by);
        let with_fields = format!("SELECT *, {} FROM ({despaced})", columns.join(", "));
        format!("SELECT *, {source} AS _source FROM ({with_fields})")
    }

    /// The SQL of the view `vigil_columns` over `vigil_base`: one column per field some rule reads, named as the
    /// rules name it (those `vigil_base` has already are kept). A query reads only the columns it names, so a
    /// group of rules computes only its own fields.
    pub fn events_sql(&self) -> String {
        // An input Vigil converted carries its keyword text under the member RAW_MEMBER (every value, nested
        // ones too, as the matcher lists them); Spark reads the members' values of the others.
        let raw = if self.keywords {
            format!(
                "coalesce(_vigil_m[{}], concat(char(31), concat_ws(char(31), map_values(_vigil_m)), char(31)))",
                spark_string(RAW_MEMBER)
            )
        } else {
            "CAST(NULL AS STRING)".to_string()
        };
        let (_, told_by) = self.classification();
        let fields = (0..self.table.len() as FieldId)
            .filter(|id| !told_by.contains(id))
            .map(|id| format!("{} AS {}", self.field_sql(id), spark_ident(self.table.name(id))));
        let columns: Vec<String> =
            [format!("{raw} AS {}", spark_ident(KEYWORD_COLUMN)), self.time_sql()].into_iter().chain(fields).collect();
        format!("SELECT *, {} FROM vigil_base", columns.join(", "))
    }

    /// The column [`TIME_COLUMN`]: the event's time as the matcher reads it for correlations — the first time
    /// field present, read only if it is one of the forms `crate::time::parse` reads (Spark's `to_timestamp`
    /// reads more, such as a bare date).
    fn time_sql(&self) -> String {
        let first: Vec<String> = self.time_fields.iter().map(|id| self.field_sql(*id)).collect();
        let text = format!("upper(trim(coalesce({})))", first.join(", "));
        format!(
            "CASE WHEN {text} RLIKE {} THEN to_timestamp({text}) END AS {}",
            spark_string(TIME_FORMS),
            spark_ident(TIME_COLUMN)
        )
    }

    /// The log source of an event as Spark SQL over field columns, and the fields it reads.
    fn classification(&self) -> (String, BTreeSet<FieldId>) {
        let Some(classifier) = &self.classifier else { return (UNKNOWN.to_string(), BTreeSet::new()) };
        let told_by = RefCell::new(BTreeSet::new());
        let sql = classifier.spark_sql(&|id| {
            told_by.borrow_mut().insert(id);
            spark_ident(self.table.name(id))
        });
        (sql, told_by.into_inner())
    }

    /// The log sources on whose events a rule of log source `rule` (as written) may run; `None`: all of them.
    pub fn admitted(&self, rule: &LogSource) -> Option<Vec<SourceKey>> {
        let classifier = self.classifier.as_ref()?;
        let keys: Vec<SourceKey> = (0..classifier.sources.len() as SourceKey)
            .filter(|&k| k == UNKNOWN || classifier.sources[k as usize].admits(rule))
            .collect();
        (keys.len() < classifier.sources.len()).then_some(keys)
    }

    /// The fields of `event` as the matcher decodes them, as one flat JSON object (what Spark reads the fields of
    /// an input Vigil converts from).
    pub fn flat_fields(&self, event: &serde_json::Value) -> serde_json::Value {
        let decoded = Event::new(event, &self.table, self.keywords);
        let mut object = serde_json::Map::new();
        if self.keywords {
            let mut raw = String::from(KEYWORD_SEPARATOR);
            for text in decoded.all_values().iter().filter_map(Value::text) {
                raw.push_str(text);
                raw.push(KEYWORD_SEPARATOR);
            }
            object.insert(RAW_MEMBER.to_string(), serde_json::Value::String(raw));
        }
        for id in 0..self.table.len() as FieldId {
            if let Some(value) = decoded.get(id).and_then(json_text) {
                object.insert(self.table.name(id).to_string(), value);
            }
        }
        serde_json::Value::Object(object)
    }

    /// The time `event` carries, as written (as the other engines read it).
    pub fn time_of(&self, event: &serde_json::Value) -> Option<String> {
        let decoded = Event::new(event, &self.table, false);
        crate::time::event_time(&decoded, &self.time_fields).map(str::to_string)
    }
}

/// A decoded value as the JSON Spark reads a field from: text as text, numbers and booleans as JSON values (Spark
/// reads them as their text), a list as its first element's (the classifier's reading), null as missing.
fn json_text(value: &Value<'_>) -> Option<serde_json::Value> {
    match value {
        Value::Str(s, _) => Some(serde_json::Value::String(s.to_string())),
        Value::Num(_, text) => Some(serde_json::Value::String(text.get().to_string())),
        Value::Bool(b) => Some(serde_json::Value::Bool(*b)),
        Value::Null => None,
        Value::List(items) => items.first().and_then(json_text),
    }
}

/// The JSON path of a dotted field name into nested objects (`$['a']['b']`), or `None` for a name without a dot
/// or with characters Spark's JSON paths cannot quote.
fn json_path(name: &str) -> Option<String> {
    if !name.contains('.') || name.contains(['\'', '[', ']']) {
        return None;
    }
    Some(std::iter::once("$".to_string()).chain(name.split('.').map(|part| format!("['{part}']"))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_forms_are_the_ones_the_matcher_reads() {
        // Valid calendar times in forms read and not read; Spark's `to_timestamp` gives null for an impossible
        // date (2020-02-30) as the matcher does, so those need no pattern.
        let samples = [
            "2020-09-08T14:53:02Z",
            "2020-09-08t14:53:02z",
            "2020-09-08 14:53:02Z",
            "2020-09-08T14:53:02.123Z",
            "2020-09-08T14:53:02.1234567891Z",
            "2020-09-08T14:53:02+02:00",
            "2020-09-08T14:53:02-05:30",
            "2020-09-08 14:53:02",
            "2020-09-08 14:53:02.123",
            " 2020-09-08 14:53:02 ",
            "2020-09-08T14:53:02.123",
            "2020-09-08T14:53:02",
            "2020-09-08T14:53:02+0200",
            "2020-09-08T14:53:02.Z",
            "2020-09-08",
            "2020-9-08 14:53:02",
            "14:53:02",
            "1599576782",
            "Tue, 8 Sep 2020 14:53:02 GMT",
        ];
        let forms = regex::Regex::new(TIME_FORMS).expect("a valid pattern");
        for sample in samples {
            let spark = forms.is_match(&sample.trim().to_uppercase());
            assert_eq!(spark, crate::time::parse(sample).is_some(), "{sample:?}");
        }
    }

    #[test]
    fn dotted_names_become_quoted_json_paths() {
        assert_eq!(json_path("a.b c.d").as_deref(), Some("$['a']['b c']['d']"));
        assert_eq!(json_path("Image"), None);
        assert_eq!(json_path("a.it's"), None);
    }
}
