//! The table that tells an event's log source (product, service, categories) from its fields: data, in
//! `rules/logsources.yml` (its format is written at the top of that file), that users extend with their own
//! files. Parsed and checked here; `vigil_runtime::logsource` classifies events with it and decides which rules may
//! run on them (compiler/DESIGN.md, "Log sources").

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use crate::ir::meta::LogSource;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The built-in table.
pub const BUILTIN: &str = include_str!("../../rules/logsources.yml");

/// One or several field names (`field: Channel` or `field: [Channel, winlog.channel]`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Fields {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Fields {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Fields::None => Vec::new(),
            Fields::One(name) => vec![name.as_str()],
            Fields::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

/// A scalar of the table as text (`4688` and `"4688"` alike).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(untagged)]
pub enum Text {
    Int(i64),
    Str(String),
}

impl Text {
    pub fn as_text(&self) -> String {
        match self {
            Text::Int(i) => i.to_string(),
            Text::Str(s) => s.clone(),
        }
    }
}

/// One category or several.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Categories {
    One(String),
    Many(Vec<String>),
}

impl Categories {
    pub fn list(&self) -> Vec<String> {
        match self {
            Categories::One(c) => vec![c.clone()],
            Categories::Many(cs) => cs.clone(),
        }
    }
}

/// When an entry recognises an event.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Recognise {
    /// Fields that must all be present.
    #[serde(default)]
    pub all_of: Vec<String>,
    /// Fields of which one must be present (none listed: no such test).
    #[serde(default)]
    pub any_of: Vec<String>,
    /// Fields whose value must be one of these (case-insensitive).
    #[serde(default)]
    pub equals: BTreeMap<String, Vec<Text>>,
}

/// The service of an event, from a field's value.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceFrom {
    pub field: Fields,
    pub values: BTreeMap<String, String>,
}

/// The categories of an event, from a field's value, per service (`any`: for every service).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoryFrom {
    pub field: Fields,
    pub values: BTreeMap<String, BTreeMap<Text, Categories>>,
}

/// The service name under which category values apply to every service.
pub const ANY_SERVICE: &str = "any";

/// One entry of the table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(deserialize_with = "logsource")]
    pub logsource: LogSource,
    pub recognise: Recognise,
    #[serde(default)]
    pub service: Option<ServiceFrom>,
    #[serde(default)]
    pub category: Option<CategoryFrom>,
    /// Categories the product's events may have though no value above gives them.
    #[serde(default)]
    pub categories: Vec<String>,
}

fn logsource<'de, D: serde::Deserializer<'de>>(d: D) -> Result<LogSource, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Written {
        product: Option<String>,
        service: Option<String>,
        category: Option<String>,
    }
    let w = Written::deserialize(d)?;
    Ok(LogSource { product: w.product, service: w.service, category: w.category, ..LogSource::default() })
}

impl Entry {
    /// Every category the entry's events can have: those its values give and those it lists.
    pub fn all_categories(&self) -> Vec<String> {
        let mut all: Vec<String> = self.categories.clone();
        all.extend(self.logsource.category.iter().cloned());
        if let Some(from) = &self.category {
            for values in from.values.values() {
                all.extend(values.values().flat_map(Categories::list));
            }
        }
        all.sort();
        all.dedup();
        all
    }
}

/// The table: entries tried in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogSourceTable {
    pub entries: Vec<Entry>,
}

impl LogSourceTable {
    /// Parses a table file; problems are located diagnostics (`invalid-logsource-table`).
    pub fn parse(text: &str) -> Result<LogSourceTable, Diagnostic> {
        let entries: Vec<Entry> = serde_yaml::from_str(text).map_err(|e| {
            let pos = e.location().map(|l| Pos::new(l.line() as u32, l.column() as u32));
            Diagnostic::error(Code::InvalidLogsourceTable, pos, format!("not a log-source table: {e}"))
        })?;
        for entry in &entries {
            if entry.logsource.product.is_none() {
                return Err(Diagnostic::error(
                    Code::InvalidLogsourceTable,
                    None,
                    "every entry names a product (`logsource: {product: ...}`)",
                ));
            }
            let r = &entry.recognise;
            if r.all_of.is_empty() && r.any_of.is_empty() && r.equals.is_empty() {
                return Err(Diagnostic::error(
                    Code::InvalidLogsourceTable,
                    None,
                    format!("the entry of {} recognises every event: give `recognise` a field", entry.logsource),
                ));
            }
        }
        Ok(LogSourceTable { entries })
    }

    /// The built-in table.
    pub fn builtin() -> LogSourceTable {
        // The built-in table is parsed in a test (`builtin_table_loads`), so this never drops it.
        LogSourceTable::parse(BUILTIN).unwrap_or_default()
    }

    /// `first`'s entries, tried before this table's.
    pub fn after(mut self, first: LogSourceTable) -> LogSourceTable {
        let mut entries = first.entries;
        entries.append(&mut self.entries);
        LogSourceTable { entries }
    }
}

/// Parses `--logsource product=...,service=...,category=...`.
pub fn parse_forced(text: &str) -> Result<LogSource, String> {
    let mut logsource = LogSource::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!("`{part}` is not key=value (product=..., service=..., category=...)"));
        };
        let value = Some(value.trim().to_string());
        match key.trim() {
            "product" => logsource.product = value,
            "service" => logsource.service = value,
            "category" => logsource.category = value,
            other => return Err(format!("unknown log-source attribute `{other}` (product, service, category)")),
        }
    }
    if logsource.product.is_none() && logsource.service.is_none() && logsource.category.is_none() {
        return Err("give at least one of product=, service=, category=".into());
    }
    Ok(logsource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads() {
        let table = LogSourceTable::parse(BUILTIN).expect("the built-in table parses");
        assert!(table.entries.iter().any(|e| e.logsource.product.as_deref() == Some("windows")));
    }

    #[test]
    fn bad_tables_are_located() {
        let error = LogSourceTable::parse("- logsource: {product: x}\n  recognize: {all_of: [a]}\n").expect_err("typo");
        assert_eq!(error.code, Code::InvalidLogsourceTable);
        assert!(error.pos.is_some());
        assert!(parse_forced("product=windows, service=security").is_ok());
        assert!(parse_forced("vendor=x").is_err());
    }
}
