//! Every event's log source (product, service, categories), told from its fields by the table of
//! `vigil_compiler::logsources`, and which rules may run on events of each log source (compiler/DESIGN.md,
//! "Log sources"). An event the table does not recognise has an unknown log source, on which every rule may run.

use crate::event::Event;
use crate::fields::{FieldId, FieldTable, Value};
use rustc_hash::FxHashMap;
use vigil_compiler::ir::meta::LogSource;
use vigil_compiler::logsources::{Categories, LogSourceTable, ANY_SERVICE};
use vigil_compiler::sql_table::spark_string;

/// The position of a log source among those a classifier can give; [`UNKNOWN`] for events it does not recognise.
pub type SourceKey = u32;

/// The key of an unrecognised event.
pub const UNKNOWN: SourceKey = 0;

/// A log source events can have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventSource {
    pub product: Option<String>,
    pub service: Option<String>,
    /// Empty: not known.
    pub categories: Vec<String>,
    /// Every category the product's events can have (for rules of a category on events whose category is not known).
    pub universe: Vec<String>,
}

impl EventSource {
    /// Whether a rule of log source `rule` (as written) may match events of this log source. See DESIGN.md, "Log
    /// sources": a different product, a different service, or a category the event does not have (or, when its
    /// category is not known, that its product never has) rule the rule out.
    pub fn admits(&self, rule: &LogSource) -> bool {
        let differs = |rule: &Option<String>, event: &Option<String>| match (rule, event) {
            (Some(r), Some(e)) => !r.eq_ignore_ascii_case(e),
            _ => false,
        };
        if differs(&rule.product, &self.product) || differs(&rule.service, &self.service) {
            return false;
        }
        let Some(category) = &rule.category else { return true };
        if !self.categories.is_empty() {
            return self.categories.iter().any(|c| c.eq_ignore_ascii_case(category));
        }
        // Category not known: a rule of the product may be about any of its categories; a rule of no product
        // (`category: proxy`) only about one the product can have, when the product is known.
        rule.product.is_some()
            || self.product.is_none()
            || self.universe.iter().any(|c| c.eq_ignore_ascii_case(category))
    }
}

/// One entry of the table, with its fields interned.
struct Entry {
    all_of: Vec<FieldId>,
    any_of: Vec<FieldId>,
    equals: Vec<(FieldId, Vec<String>)>,
    service_fields: Vec<FieldId>,
    /// Lower-case field value -> service position.
    services: FxHashMap<String, u16>,
    category_fields: Vec<FieldId>,
    /// Per service position (and `None`, for values of any service): lower-case value -> category set position.
    categories: FxHashMap<(Option<u16>, String), u16>,
}

/// No service, or no category set, in a key.
const NONE: u16 = u16::MAX;

/// Tells events' log sources.
pub struct Classifier {
    entries: Vec<Entry>,
    /// `sources[key]`; `sources[0]` is the unknown log source.
    pub sources: Vec<EventSource>,
    /// (entry, service, category set) -> key.
    keys: FxHashMap<(u16, u16, u16), SourceKey>,
    /// Every event has this log source (`--logsource`).
    forced: Option<SourceKey>,
}

/// The lower-case text of a value, for comparing with the table's values.
fn text_of(value: &Value<'_>) -> Option<String> {
    match value {
        Value::List(items) => items.first().and_then(text_of),
        Value::Bool(b) => Some(b.to_string()),
        other => other.folded().map(str::to_string),
    }
}

impl Classifier {
    /// A classifier over `table`, interning the fields it reads into `fields` (so that events decoded for the
    /// rules hold them).
    pub fn new(table: &LogSourceTable, fields: &mut FieldTable) -> Classifier {
        let mut classifier = Classifier {
            entries: Vec::new(),
            sources: vec![EventSource::default()],
            keys: FxHashMap::default(),
            forced: None,
        };
        for (e, entry) in table.entries.iter().enumerate() {
            let intern =
                |names: Vec<&str>, fields: &mut FieldTable| names.into_iter().map(|n| fields.intern(n)).collect();
            let service_names: Vec<String> = match &entry.service {
                Some(from) => {
                    let mut names: Vec<String> = from.values.values().cloned().collect();
                    names.sort();
                    names.dedup();
                    names
                }
                None => Vec::new(),
            };
            let position = |service: &str| service_names.iter().position(|s| s == service).map(|p| p as u16);
            let mut services = FxHashMap::default();
            if let Some(from) = &entry.service {
                for (value, service) in &from.values {
                    services.insert(value.to_lowercase(), position(service).unwrap_or(NONE));
                }
            }
            let mut category_sets: Vec<Vec<String>> = Vec::new();
            let mut categories = FxHashMap::default();
            if let Some(from) = &entry.category {
                for (service, values) in &from.values {
                    let at = if service == ANY_SERVICE { None } else { position(service) };
                    if service != ANY_SERVICE && at.is_none() {
                        continue; // A service no value gives.
                    }
                    for (value, list) in values {
                        let list = Categories::list(list);
                        let set = match category_sets.iter().position(|s| *s == list) {
                            Some(p) => p,
                            None => {
                                category_sets.push(list);
                                category_sets.len() - 1
                            }
                        };
                        categories.insert((at, value.as_text().to_lowercase()), set as u16);
                    }
                }
            }
            let universe = entry.all_categories();
            let product = entry.logsource.product.clone();
            // Every (service, category set) an event of this entry can have, each a key: no category, or one its
            // service's values (or those of any service) give.
            let service_choices: Vec<u16> =
                std::iter::once(NONE).chain((0..service_names.len()).map(|s| s as u16)).collect();
            for &s in &service_choices {
                let mut set_choices: Vec<u16> = categories
                    .iter()
                    .filter(|((at, _), _)| at.is_none() || (*at == Some(s) && s != NONE))
                    .map(|(_, set)| *set)
                    .collect();
                set_choices.sort_unstable();
                set_choices.dedup();
                set_choices.insert(0, NONE);
                for &c in &set_choices {
                    let service = match s {
                        NONE => entry.logsource.service.clone(),
                        s => Some(service_names[s as usize].clone()),
                    };
                    let listed = match c {
                        NONE => entry.logsource.category.iter().cloned().collect(),
                        c => category_sets[c as usize].clone(),
                    };
                    classifier.keys.insert((e as u16, s, c), classifier.sources.len() as SourceKey);
                    classifier.sources.push(EventSource {
                        product: product.clone(),
                        service,
                        categories: listed,
                        universe: universe.clone(),
                    });
                }
            }
            let r = &entry.recognise;
            classifier.entries.push(Entry {
                all_of: intern(r.all_of.iter().map(String::as_str).collect(), fields),
                any_of: intern(r.any_of.iter().map(String::as_str).collect(), fields),
                equals: r
                    .equals
                    .iter()
                    .map(|(f, vs)| (fields.intern(f), vs.iter().map(|v| v.as_text().to_lowercase()).collect()))
                    .collect(),
                service_fields: intern(entry.service.as_ref().map(|s| s.field.names()).unwrap_or_default(), fields),
                services,
                category_fields: intern(entry.category.as_ref().map(|c| c.field.names()).unwrap_or_default(), fields),
                categories,
            });
        }
        classifier
    }

    /// A classifier that gives every event the log source `forced` (`--logsource`), whatever its fields.
    pub fn forced(forced: &LogSource) -> Classifier {
        let source = EventSource {
            product: forced.product.clone(),
            service: forced.service.clone(),
            categories: forced.category.iter().cloned().collect(),
            universe: Vec::new(),
        };
        Classifier {
            entries: Vec::new(),
            sources: vec![EventSource::default(), source],
            keys: FxHashMap::default(),
            forced: Some(1),
        }
    }

    /// The log source of `event`, by its key in [`Classifier::sources`].
    pub fn classify(&self, event: &Event<'_>) -> SourceKey {
        if let Some(key) = self.forced {
            return key;
        }
        let first_text = |ids: &[FieldId]| ids.iter().find_map(|id| event.get(*id)).and_then(text_of);
        for (e, entry) in self.entries.iter().enumerate() {
            let recognised = entry.all_of.iter().all(|id| event.get(*id).is_some())
                && (entry.any_of.is_empty() || entry.any_of.iter().any(|id| event.get(*id).is_some()))
                && entry
                    .equals
                    .iter()
                    .all(|(id, values)| event.get(*id).and_then(text_of).is_some_and(|text| values.contains(&text)));
            if !recognised {
                continue;
            }
            let service = first_text(&entry.service_fields).and_then(|t| entry.services.get(&t).copied());
            let category = first_text(&entry.category_fields).and_then(|value| {
                service
                    .and_then(|s| entry.categories.get(&(Some(s), value.clone())))
                    .or_else(|| entry.categories.get(&(None, value)))
                    .copied()
            });
            let key = (e as u16, service.unwrap_or(NONE), category.unwrap_or(NONE));
            return self.keys.get(&key).copied().unwrap_or(UNKNOWN);
        }
        UNKNOWN
    }
}

/// A literal map of Spark SQL from `pairs` (key text, value), or a typed NULL when there are none (an empty
/// `map()` has no key type to look up with).
fn spark_map<K: AsRef<str>>(pairs: impl IntoIterator<Item = (K, u32)>) -> String {
    let items: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{}, {v}", spark_string(k.as_ref()))).collect();
    if items.is_empty() {
        "CAST(NULL AS MAP<STRING, INT>)".to_string()
    } else {
        format!("map({})", items.join(", "))
    }
}

impl Classifier {
    /// [`Classifier::classify`] as a Spark SQL expression giving the same key, for `vigil hunt --engine spark`.
    /// `column(id)` is the expression of a field's value as text (NULL when the event lacks it). Each entry's
    /// service, category set and key are looked up in literal maps, so the expression grows with the table, not
    /// with its product. One difference by construction: a field whose value is JSON `null` is missing here.
    pub fn spark_sql(&self, column: &dyn Fn(FieldId) -> String) -> String {
        if let Some(key) = self.forced {
            return key.to_string();
        }
        let first_text = |ids: &[FieldId]| match ids {
            [] => "CAST(NULL AS STRING)".to_string(),
            [one] => format!("lower({})", column(*one)),
            many => format!("lower(coalesce({}))", many.iter().map(|id| column(*id)).collect::<Vec<_>>().join(", ")),
        };
        let mut out = String::from("CASE");
        for (e, entry) in self.entries.iter().enumerate() {
            let mut recognised: Vec<String> =
                entry.all_of.iter().map(|id| format!("{} IS NOT NULL", column(*id))).collect();
            if !entry.any_of.is_empty() {
                let any: Vec<String> = entry.any_of.iter().map(|id| format!("{} IS NOT NULL", column(*id))).collect();
                recognised.push(format!("({})", any.join(" OR ")));
            }
            for (id, values) in &entry.equals {
                let values: Vec<String> = values.iter().map(|v| spark_string(v)).collect();
                recognised.push(format!("lower({}) IN ({})", column(*id), values.join(", ")));
            }
            let recognised = if recognised.is_empty() { "TRUE".to_string() } else { recognised.join(" AND ") };
            // The service's position (NONE when the value is not a known one), as `classify` finds it.
            let service = format!(
                "coalesce(try_element_at({}, {}), {NONE})",
                spark_map(entry.services.iter().map(|(v, s)| (v.as_str(), u32::from(*s)))),
                first_text(&entry.service_fields)
            );
            let category_text = first_text(&entry.category_fields);
            let of_service = entry
                .categories
                .iter()
                .filter_map(|((at, value), set)| at.map(|s| (format!("{s}:{value}"), u32::from(*set))));
            let of_any = entry
                .categories
                .iter()
                .filter(|((at, _), _)| at.is_none())
                .map(|((_, v), set)| (v.clone(), u32::from(*set)));
            let category = format!(
                "coalesce(try_element_at({}, concat({service}, ':', {category_text})), try_element_at({}, {category_text}), {NONE})",
                spark_map(of_service),
                spark_map(of_any),
            );
            let keys = self
                .keys
                .iter()
                .filter(|((at, _, _), _)| usize::from(*at) == e)
                .map(|((_, s, c), key)| (format!("{s}:{c}"), *key));
            let key =
                format!("coalesce(try_element_at({}, concat({service}, ':', {category})), {UNKNOWN})", spark_map(keys));
            out.push_str(&format!(" WHEN {recognised} THEN {key}"));
        }
        out.push_str(&format!(" ELSE {UNKNOWN} END"));
        out
    }
}
