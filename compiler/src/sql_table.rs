//! The event table the SQL targets query by default, and that `vigil hunt --engine sqlite` fills: the contract
//! between the SQL backend (`backend/sql.rs`) and the runtime's store (`vigil-runtime`'s `sqlite.rs`).

/// The table queries read unless a pipeline or `--table` names another.
pub const TABLE: &str = "logs";

/// The column keywords are searched in unless `--keyword-field` says otherwise.
pub const KEYWORD_COLUMN: &str = "_raw";

/// The separator between (and around) the values in the keyword column: the ASCII unit separator, which log
/// values do not hold. Written `char(31)` / `chr(31)` in queries.
pub const KEYWORD_SEPARATOR: char = '\u{1f}';

/// The column of event times for correlations (Splunk's name; `--time-field` overrides).
pub const TIME_COLUMN: &str = "_time";

/// A string literal of Spark SQL, which reads backslash escapes inside literals: for the Spark target's queries
/// and the runtime's Spark views alike.
pub fn spark_string(text: &str) -> String {
    crate::backend::text::backslash_quoted(text, '\'', true)
}
