//! Elastic's formats: Kibana saved searches (`kibana_ndjson`), query DSL bodies (`dsl_lucene`), EQL search bodies
//! (`eqlapi`), and Elastic Security detection rules for the alerting API (`siem_rule`, camelCase parameters) and
//! for Kibana's rule import (`siem_rule_ndjson`, the detection engine's snake_case schema).

use super::{attack, authors, description, risk_score, rule_id, severity4, unsupported, Subject};
use crate::backend::Target;
use crate::diagnostic::Diagnostic;
use serde_json::{json, Value};

/// Index patterns a detection rule reads when neither `--table` nor a pipeline names one: the Elastic Agent's data
/// streams and the Beats' indices.
const DEFAULT_INDICES: &[&str] = &["logs-*", "winlogbeat-*", "filebeat-*", "auditbeat-*", "endgame-*"];

/// How often a detection rule runs, and how far back it looks beyond that (Elastic's defaults).
const INTERVAL: &str = "5m";
const FROM: &str = "now-6m";
const LOOKBACK: &str = "1m";

pub fn render(target: Target, format: &str, subject: &Subject<'_>, query: &str) -> Result<String, Diagnostic> {
    let object = match (target, format) {
        (Target::Lucene, "kibana_ndjson") => saved_search(subject, query, false)?,
        (Target::Esql, "kibana_ndjson") => saved_search(subject, query, true)?,
        (Target::Lucene, "dsl_lucene") => dsl_lucene(subject, query)?,
        (Target::Eql, "eqlapi") => json!({ "query": query }),
        (_, "siem_rule") => alerting_rule(target, subject, query)?,
        (_, "siem_rule_ndjson") => detection_rule(target, subject, query)?,
        _ => return Err(unsupported(format!("{} has no format `{format}`", target.name()))),
    };
    Ok(object.to_string())
}

/// The index patterns: `--table` or the pipelines' `index` state (comma-separated), else the defaults.
fn indices(subject: &Subject<'_>) -> Vec<String> {
    match &subject.table {
        Some(table) => table.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        None => DEFAULT_INDICES.iter().map(|s| s.to_string()).collect(),
    }
}

fn title(subject: &Subject<'_>) -> String {
    format!("SIGMA - {}", subject.meta.title)
}

/// Sigma's tags, and its status as `sigma.status.<status>` (Elastic rules have no status of their own).
fn tags(subject: &Subject<'_>) -> Vec<String> {
    let mut tags = subject.meta.tags.clone();
    if let Some(status) = subject.meta.status {
        tags.push(format!("sigma.status.{}", status.as_str()));
    }
    tags
}

/// `threat`: the rule's ATT&CK tactics and techniques in Elastic's layout.
fn threat(subject: &Subject<'_>) -> Value {
    let entry = |id: &str| json!({ "id": id, "name": id, "reference": attack::technique_reference(id) });
    attack::threats(&subject.meta.tags)
        .iter()
        .map(|t| {
            let techniques: Vec<Value> = t
                .techniques
                .iter()
                .map(|technique| {
                    let mut value = entry(&technique.id);
                    value["subtechnique"] = technique.subtechniques.iter().map(|s| entry(s)).collect();
                    value
                })
                .collect();
            json!({
                "framework": "MITRE ATT&CK",
                "tactic": { "id": t.tactic.id, "name": t.tactic.name, "reference": t.tactic.reference() },
                "technique": techniques,
            })
        })
        .collect()
}

/// A Kibana saved search: Lucene against the data view whose id is the index pattern, or an ES|QL text query.
fn saved_search(subject: &Subject<'_>, query: &str, esql: bool) -> Result<Value, Diagnostic> {
    let id = rule_id(subject.meta)?;
    let index = indices(subject).join(",");
    let (source, references, text_based) = if esql {
        (json!({ "query": { "esql": query }, "filter": [] }), json!([]), true)
    } else {
        let source = json!({
            "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
            "query": { "query": query, "language": "lucene" },
            "filter": [],
        });
        let reference = json!([{
            "id": index, "name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern",
        }]);
        (source, reference, false)
    };
    Ok(json!({
        "id": id,
        "type": "search",
        "attributes": {
            "title": title(subject),
            "description": description(subject.meta),
            "columns": [],
            "sort": [["@timestamp", "desc"]],
            "isTextBasedQuery": text_based,
            "kibanaSavedObjectMeta": { "searchSourceJSON": source.to_string() },
        },
        "references": references,
    }))
}

/// A search request body: the query as a `query_string`, named by the rule's id so that each hit says which rule
/// it matched (`matched_queries`).
fn dsl_lucene(subject: &Subject<'_>, query: &str) -> Result<Value, Diagnostic> {
    let id = rule_id(subject.meta)?;
    Ok(json!({
        "query": { "bool": { "must": [
            { "query_string": { "query": query, "analyze_wildcard": true, "_name": id } }
        ] } }
    }))
}

/// The detection rule's type, its query language, and its rule type for the alerting API.
fn rule_type(target: Target) -> (&'static str, &'static str, &'static str) {
    match target {
        Target::Esql => ("esql", "esql", "siem.esqlRule"),
        Target::Eql => ("eql", "eql", "siem.eqlRule"),
        _ => ("query", "lucene", "siem.queryRule"),
    }
}

/// An Elastic Security detection rule in the detection engine's schema (Kibana's rule import, NDJSON).
fn detection_rule(target: Target, subject: &Subject<'_>, query: &str) -> Result<Value, Diagnostic> {
    let id = rule_id(subject.meta)?;
    let (kind, language, _) = rule_type(target);
    let meta = subject.meta;
    let mut rule = json!({
        "rule_id": id,
        "name": title(subject),
        "description": description(meta),
        "type": kind,
        "language": language,
        "query": query,
        "severity": severity4(meta.level, "low", "critical"),
        "risk_score": risk_score(meta.level),
        "enabled": true,
        "interval": INTERVAL,
        "from": FROM,
        "to": "now",
        "meta": { "from": LOOKBACK },
        "max_signals": 100,
        "version": 1,
        "author": authors(meta),
        "license": meta.license.as_deref().unwrap_or("DRL"),
        "references": meta.references,
        "false_positives": meta.falsepositives,
        "tags": tags(subject),
        "threat": threat(subject),
        "actions": [],
        "exceptions_list": [],
    });
    if target != Target::Esql {
        // An ES|QL query names its indices in its `FROM`; the others read `index`.
        rule["index"] = json!(indices(subject));
    }
    Ok(rule)
}

/// The same rule for Kibana's alerting API (`POST /api/alerting/rule`): the detection rule's settings as camelCase
/// `params` of a `siem.*Rule`, its name, schedule, tags and actions at the top.
fn alerting_rule(target: Target, subject: &Subject<'_>, query: &str) -> Result<Value, Diagnostic> {
    let Value::Object(mut rule) = detection_rule(target, subject, query)? else {
        return Err(unsupported("the detection rule is not a JSON object"));
    };
    let mut top = |key: &str| rule.shift_remove(key).unwrap_or(Value::Null);
    let (name, tags, actions) = (top("name"), top("tags"), top("actions"));
    for key in ["enabled", "interval"] {
        rule.shift_remove(key);
    }
    let mut params: serde_json::Map<String, Value> =
        rule.into_iter().map(|(key, value)| (camel_case(&key), value)).collect();
    params.insert("immutable".into(), Value::Bool(false));
    Ok(json!({
        "name": name,
        "rule_type_id": rule_type(target).2,
        "consumer": "siem",
        "enabled": true,
        "schedule": { "interval": INTERVAL },
        "tags": tags,
        "actions": actions,
        "params": params,
    }))
}

/// `risk_score` -> `riskScore`.
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}
