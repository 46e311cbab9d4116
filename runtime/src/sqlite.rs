//! Events in an embedded SQLite database, queried with each rule's generated SQL (`vigil hunt --engine sqlite`).
//!
//! One table `logs`: a column per field some rule reads (filled by the matcher's own decoding, so both engines
//! see the same values), `_raw` with every value of the event (for keywords, between unit separators), `_time` with
//! the event's time as written (for correlation windows), `_source` its log source (as the matcher tells it, so that
//! a rule's query runs only on events of a log source it can be about), and `_file`, `_record`, `_event` to report
//! detections. Columns have no declared type: a JSON number is stored as a number
//! and a string as text, as they came. Lists are stored as their elements' text, one per line.
//!
//! Three functions are registered so that the standard SQL the sqlite target writes has Sigma's semantics here:
//! `regexp` (the `regex` crate, for `REGEXP`), and Unicode-aware `like` and `lower` (SQLite's own fold ASCII only).

use crate::event::Event;
use crate::fields::{FieldId, FieldTable, Value};
use crate::logsource::{Classifier, SourceKey, UNKNOWN};
use crate::ruleset::LogSources;
use regex::Regex;
use rusqlite::functions::FunctionFlags;
pub use rusqlite::types::Value as SqlValue;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use vigil_compiler::ir::meta::LogSource;
use vigil_compiler::ir::{self, Test};

use vigil_compiler::sql_table::KEYWORD_SEPARATOR;
pub use vigil_compiler::sql_table::TABLE;

/// A row a rule's query returned: where its event came from, the event's JSON text and its time as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub file: u32,
    pub record: u64,
    pub event: String,
    pub time: Option<String>,
}

/// The events of a hunt, loaded into SQLite.
pub struct SqliteStore {
    conn: Connection,
    table: FieldTable,
    /// The fields of each column, in column order after the four fixed columns. SQL column names are
    /// case-insensitive: fields differing only in case (`Status`, `status`) share a column, which holds the first
    /// of them present in the event.
    columns: Vec<Vec<FieldId>>,
    keywords: bool,
    /// The fields holding the event's time, for `_time`.
    time_fields: Vec<FieldId>,
    /// Tells each event's log source, for `_source`.
    classifier: Option<Classifier>,
    insert: String,
    /// The column names after the four fixed ones.
    names: Vec<String>,
}

fn sql_error(e: rusqlite::Error) -> String {
    e.to_string()
}

/// Every field `rules` read (and the fields field references compare with), interned, and whether a rule
/// searches keywords.
pub(crate) fn fields_of(rules: &[&ir::Rule]) -> (FieldTable, bool) {
    let mut table = FieldTable::default();
    let mut keywords = false;
    for rule in rules {
        rule.expr.visit_predicates(&mut |p| {
            match &p.field {
                Some(name) => drop(table.intern(name)),
                None => keywords = true,
            }
            if let Test::FieldRef { field, .. } = &p.test {
                table.intern(field);
            }
        });
    }
    (table, keywords)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether the file at `path` is a database a Vigil hunt wrote (SQLite, with its `logs` table of events), which a
/// new hunt may replace; anything else is refused (`--db` must never destroy a user's file).
pub fn is_vigil_database(path: &Path) -> bool {
    let mut header = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0");
    if !is_sqlite {
        return false;
    }
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    let columns: Result<Vec<String>, _> = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{TABLE}')"))
        .and_then(|mut s| s.query_map([], |row| row.get::<_, String>(0))?.collect());
    columns.is_ok_and(|c| ["_file", "_record", "_event"].iter().all(|n| c.iter().any(|x| x == n)))
}

impl SqliteStore {
    /// A store for the events `rules` will be run on: in memory, or in the database file `path` (its `logs`
    /// table is replaced).
    pub fn create(path: Option<&Path>, rules: &[&ir::Rule]) -> Result<SqliteStore, String> {
        SqliteStore::create_with(path, rules, &LogSources::Anywhere)
    }

    /// [`SqliteStore::create`], telling each event's log source as the matcher does (column `_source`), so that a
    /// rule's query runs only on events of a log source it can be about ([`SqliteStore::run_among`]).
    pub fn create_with(path: Option<&Path>, rules: &[&ir::Rule], sources: &LogSources) -> Result<SqliteStore, String> {
        let conn = match path {
            Some(p) => Connection::open(p),
            None => Connection::open_in_memory(),
        }
        .map_err(sql_error)?;
        register_functions(&conn).map_err(sql_error)?;
        let (mut table, keywords) = fields_of(rules);
        // Columns are the fields rules read; the time and log-source fields are read for the fixed columns only.
        let rule_fields = table.len() as FieldId;
        let time_names = crate::time::time_fields(None);
        let time_fields: Vec<FieldId> = time_names.iter().map(|name| table.intern(name)).collect();
        let classifier = match sources {
            LogSources::Anywhere => None,
            LogSources::Table(t) => Some(Classifier::new(t, &mut table)),
            LogSources::Forced(logsource) => Some(Classifier::forced(logsource)),
        };
        let mut by_name: Vec<(String, Vec<FieldId>)> = Vec::new();
        for id in 0..rule_fields {
            let folded = table.name(id).to_lowercase();
            match by_name.iter_mut().find(|(name, _)| name.to_lowercase() == folded) {
                Some((_, ids)) => ids.push(id),
                None => by_name.push((table.name(id).to_string(), vec![id])),
            }
        }
        let mut create = format!(
            "DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (_file INTEGER, _record INTEGER, _event TEXT, _raw TEXT, _time TEXT, _source INTEGER"
        );
        for (name, _) in &by_name {
            create.push_str(", ");
            create.push_str(&quote(name));
        }
        let names: Vec<String> = by_name.iter().map(|(name, _)| name.clone()).collect();
        let columns: Vec<Vec<FieldId>> = by_name.into_iter().map(|(_, ids)| ids).collect();
        create.push_str(");");
        conn.execute_batch(&create).map_err(|e| format!("cannot create the events table: {e}"))?;
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;").map_err(sql_error)?;
        let placeholders: Vec<String> = (1..=columns.len() + 6).map(|i| format!("?{i}")).collect();
        let insert = format!("INSERT INTO {TABLE} VALUES ({})", placeholders.join(", "));
        Ok(SqliteStore { conn, table, columns, keywords, time_fields, classifier, insert, names })
    }

    /// Every column name, the six fixed ones (`_file`, `_record`, `_event`, `_raw`, `_time`, `_source`) first.
    pub fn column_names(&self) -> Vec<String> {
        ["_file", "_record", "_event", "_raw", "_time", "_source"]
            .iter()
            .map(|s| s.to_string())
            .chain(self.names.iter().cloned())
            .collect()
    }

    /// Adds one event.
    pub fn add(&mut self, file: u32, record: u64, json: &serde_json::Value) -> Result<(), String> {
        let values = self.row(file, record, json);
        let mut statement = self.conn.prepare_cached(&self.insert).map_err(sql_error)?;
        statement.execute(rusqlite::params_from_iter(values)).map_err(sql_error)?;
        Ok(())
    }

    /// The row an event becomes, in [`SqliteStore::column_names`] order (to load the same rows elsewhere).
    pub fn row(&self, file: u32, record: u64, json: &serde_json::Value) -> Vec<SqlValue> {
        let event = Event::new(json, &self.table, self.keywords);
        let mut values: Vec<SqlValue> = Vec::with_capacity(self.columns.len() + 4);
        values.push(SqlValue::Integer(file as i64));
        values.push(SqlValue::Integer(record as i64));
        values.push(SqlValue::Text(json.to_string()));
        values.push(if self.keywords {
            // Every value between separators (`keyword_pattern` in the SQL backend).
            let sep = KEYWORD_SEPARATOR;
            let mut raw = String::from(sep);
            for text in event.all_values().iter().filter_map(Value::text) {
                raw.push_str(text);
                raw.push(sep);
            }
            SqlValue::Text(raw)
        } else {
            SqlValue::Null
        });
        let time = crate::time::event_time(&event, &self.time_fields);
        values.push(time.map_or(SqlValue::Null, |t| SqlValue::Text(t.to_string())));
        values.push(SqlValue::Integer(self.source(&event) as i64));
        for ids in &self.columns {
            values.push(ids.iter().find_map(|&id| event.get(id)).map_or(SqlValue::Null, sql_value));
        }
        values
    }

    /// Ends loading: the events are committed (and kept, for a database file).
    pub fn commit(&mut self) -> Result<(), String> {
        self.conn.execute_batch("COMMIT;").map_err(sql_error)?;
        // Nearly every Windows rule tests `EventID = N` (routing adds it): an index lets each rule's query read its
        // events instead of the whole table.
        if let Some(column) = self.names.iter().find(|n| n.eq_ignore_ascii_case("EventID")) {
            let index = format!("CREATE INDEX IF NOT EXISTS vigil_event_id ON {TABLE} ({});", quote(column));
            self.conn.execute_batch(&index).map_err(sql_error)?;
        }
        Ok(())
    }

    /// The log source of an event (`logsource::UNKNOWN` without a classifier).
    fn source(&self, event: &Event<'_>) -> SourceKey {
        self.classifier.as_ref().map_or(UNKNOWN, |c| c.classify(event))
    }

    /// The log sources on whose events a rule of log source `rule` (as written) may run; `None`: all of them.
    pub fn admitted(&self, rule: &LogSource) -> Option<Vec<SourceKey>> {
        let classifier = self.classifier.as_ref()?;
        let keys: Vec<SourceKey> = (0..classifier.sources.len() as SourceKey)
            .filter(|&k| k == UNKNOWN || classifier.sources[k as usize].admits(rule))
            .collect();
        (keys.len() < classifier.sources.len()).then_some(keys)
    }

    /// Runs one rule's query (`SELECT * FROM logs WHERE ...`, as the sqlite target writes it): every row it
    /// returns, in input order.
    pub fn run(&self, query: &str) -> Result<Vec<Row>, String> {
        self.run_among(query, None)
    }

    /// [`SqliteStore::run`] over the events of the log sources `sources` only (all with `None`).
    pub fn run_among(&self, query: &str, sources: Option<&[SourceKey]>) -> Result<Vec<Row>, String> {
        let among = match sources {
            None => String::new(),
            Some(keys) => {
                let keys: Vec<String> = keys.iter().map(u32::to_string).collect();
                format!(" WHERE _source IN ({})", keys.join(", "))
            }
        };
        let wrapped = format!("SELECT _file, _record, _event, _time FROM ({query}){among} ORDER BY _file, _record");
        let mut statement = self.conn.prepare(&wrapped).map_err(sql_error)?;
        let rows = statement
            .query_map([], |row| {
                Ok(Row {
                    file: row.get::<_, i64>(0)? as u32,
                    record: row.get::<_, i64>(1)? as u64,
                    event: row.get(2)?,
                    time: row.get(3)?,
                })
            })
            .map_err(sql_error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql_error)
    }

    /// The number of rows any query returns (a correlation's, whose rows are not events).
    pub fn count(&self, query: &str) -> Result<u64, String> {
        let wrapped = format!("SELECT COUNT(*) FROM ({query})");
        self.conn.query_row(&wrapped, [], |row| row.get::<_, i64>(0)).map(|n| n as u64).map_err(sql_error)
    }
}

impl SqliteStore {
    /// [`SqliteStore::row`] as JSON values, booleans kept (for loading other engines, which type columns).
    pub fn row_json(&self, file: u32, record: u64, json: &serde_json::Value) -> Vec<serde_json::Value> {
        let event = Event::new(json, &self.table, self.keywords);
        let raw = match self.row(file, record, json).swap_remove(3) {
            SqlValue::Text(t) => serde_json::Value::String(t),
            _ => serde_json::Value::Null,
        };
        let time = crate::time::event_time(&event, &self.time_fields).map_or(serde_json::Value::Null, Into::into);
        let source = self.source(&event);
        let mut values = vec![file.into(), record.into(), json.to_string().into(), raw, time, source.into()];
        for ids in &self.columns {
            values.push(ids.iter().find_map(|&id| event.get(id)).map_or(serde_json::Value::Null, json_value));
        }
        values
    }
}

fn json_value(value: &Value<'_>) -> serde_json::Value {
    match value {
        Value::Bool(b) => serde_json::Value::Bool(*b),
        other => match sql_value(other) {
            SqlValue::Integer(i) => i.into(),
            SqlValue::Real(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
            SqlValue::Text(t) => t.into(),
            _ => serde_json::Value::Null,
        },
    }
}

fn sql_value(value: &Value<'_>) -> SqlValue {
    match value {
        // A string that is a number written the canonical way (`"3389"`) is stored as that number, so that a rule's
        // `field: 3389` (`= 3389`) matches it as the matcher does; its text is the same for string tests.
        Value::Str(s, _) => match s.parse::<i64>() {
            Ok(i) if i.to_string() == **s => SqlValue::Integer(i),
            _ => SqlValue::Text(s.to_string()),
        },
        Value::Num(n, text) => match text.get().parse::<i64>() {
            Ok(i) => SqlValue::Integer(i),
            Err(_) => SqlValue::Real(*n),
        },
        // As the matcher reads a boolean as text (and the sqlite target's boolean test reads it).
        Value::Bool(b) => SqlValue::Text(b.to_string()),
        Value::Null => SqlValue::Null,
        Value::List(items) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::text).collect();
            SqlValue::Text(texts.join("\n"))
        }
    }
}

/// The text SQLite would give a value (numbers as their decimal text).
fn text_of(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A LIKE pattern as an anchored, Unicode case-insensitive regex.
fn like_regex(pattern: &str, escape: Option<char>) -> Result<Regex, regex::Error> {
    let mut out = String::from("(?is)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            if let Some(next) = chars.next() {
                out.push_str(&regex::escape(&next.to_string()));
            }
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    Regex::new(&out)
}

fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("regexp", 2, flags, |ctx| {
        let re: Arc<Regex> = ctx.get_or_create_aux(0, |v| -> Result<Regex, String> {
            Regex::new(v.as_str().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
        })?;
        Ok(text_of(ctx.get_raw(1)).map(|t| re.is_match(&t)))
    })?;
    for args in [2, 3] {
        conn.create_scalar_function("like", args, flags, move |ctx| {
            let escape = if args == 3 { text_of(ctx.get_raw(2)).and_then(|e| e.chars().next()) } else { None };
            let re: Arc<Regex> = ctx.get_or_create_aux(0, |v| -> Result<Regex, String> {
                like_regex(v.as_str().map_err(|e| e.to_string())?, escape).map_err(|e| e.to_string())
            })?;
            Ok(text_of(ctx.get_raw(1)).map(|t| re.is_match(&t)))
        })?;
    }
    conn.create_scalar_function("lower", 1, flags, |ctx| Ok(text_of(ctx.get_raw(0)).map(|t| t.to_lowercase())))?;
    Ok(())
}
