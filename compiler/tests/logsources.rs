//! The built-in log-source table (`rules/logsources.yml`) says of Windows events what the routing pipelines
//! (`rules/pipelines/windows.yml`, `sysmon.yml`, `windows-audit.yml`) say of rules, read backwards: the channel a
//! pipeline adds for a service is the channel the table reads that service from, and the event id a pipeline adds
//! for a category is one the table gives that category to. A change to one without the other fails here.

use serde_yaml::Value as Yaml;
use std::collections::BTreeMap;
use std::path::Path;
use vigil_compiler::logsources::{Categories, LogSourceTable};

fn pipeline(name: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/pipelines").join(name);
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("readable")).expect("YAML")
}

/// Per `add_condition` of a pipeline that applies to one log source: (its category, its service, the condition).
fn added_conditions(pipeline: &Yaml) -> Vec<(Option<String>, Option<String>, &Yaml)> {
    let text = |v: &Yaml| v.as_str().map(str::to_string);
    pipeline["transformations"]
        .as_sequence()
        .expect("transformations")
        .iter()
        .filter(|t| t["type"].as_str() == Some("add_condition"))
        .filter_map(|t| {
            let conditions = t["rule_conditions"].as_sequence()?;
            let logsource = conditions.iter().find(|c| c["type"].as_str() == Some("logsource"))?;
            Some((text(&logsource["category"]), text(&logsource["service"]), &t["conditions"]))
        })
        .collect()
}

/// Channel -> service.
type Services = BTreeMap<String, String>;
/// Service -> event id -> categories.
type CategoriesById = BTreeMap<String, BTreeMap<i64, Vec<String>>>;

/// The table's Windows entry: its services and its categories.
fn windows_table() -> (Services, CategoriesById) {
    let table = LogSourceTable::builtin();
    let entry =
        table.entries.iter().find(|e| e.logsource.product.as_deref() == Some("windows")).expect("a Windows entry");
    let services = entry.service.as_ref().expect("services").values.clone().into_iter().collect();
    let mut categories = BTreeMap::new();
    for (service, values) in &entry.category.as_ref().expect("categories").values {
        let ids = values
            .iter()
            .map(|(id, list)| (id.as_text().parse::<i64>().expect("an event id"), Categories::list(list)))
            .collect();
        categories.insert(service.clone(), ids);
    }
    (services, categories)
}

fn event_ids(condition: &Yaml) -> Vec<i64> {
    match &condition["EventID"] {
        Yaml::Number(n) => n.as_i64().into_iter().collect(),
        Yaml::Sequence(items) => items.iter().filter_map(Yaml::as_i64).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_windows_pipelines_channels_are_the_tables_services() {
    let (services, _) = windows_table();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (_, service, condition) in added_conditions(&pipeline("windows.yml")) {
        let Some(service) = service else { continue };
        let channels = match &condition["Channel"] {
            Yaml::String(channel) => vec![channel.as_str()],
            Yaml::Sequence(channels) => channels.iter().filter_map(Yaml::as_str).collect(),
            _ => Vec::new(),
        };
        for channel in channels {
            checked += 1;
            if services.get(channel) != Some(&service) {
                let table = services.get(channel);
                wrong.push(format!("channel {channel}: the pipeline says {service}, the table {table:?}"));
            }
        }
    }
    assert!(checked >= 40, "only {checked} channels checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_routing_pipelines_event_ids_give_their_categories() {
    let (_, categories) = windows_table();
    let mut checked = 0;
    let mut wrong = Vec::new();
    // The pipeline whose event ids are those of a service's log, per category.
    for (file, default_service) in [("sysmon.yml", "sysmon"), ("windows-audit.yml", "security"), ("windows.yml", "")] {
        for (category, service, condition) in added_conditions(&pipeline(file)) {
            let Some(category) = category else { continue };
            let service = match (file, category.as_str()) {
                ("windows.yml", "ps_module" | "ps_script") => "powershell".to_string(),
                ("windows.yml", c) if c.starts_with("ps_classic") => "powershell-classic".to_string(),
                _ => service.unwrap_or_else(|| default_service.to_string()),
            };
            for id in event_ids(condition) {
                checked += 1;
                let given = categories.get(&service).and_then(|ids| ids.get(&id));
                if !given.is_some_and(|list| list.contains(&category)) {
                    wrong.push(format!("{file}: {category} is {service} event {id}, which the table gives {given:?}"));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} event ids checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
