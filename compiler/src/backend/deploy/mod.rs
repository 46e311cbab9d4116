//! Deployable formats: a converted query wrapped with its rule's metadata in the layout a SIEM imports
//! (Kibana saved objects and detection rules, Sentinel analytics rules, Defender XDR custom detections, Splunk
//! data-model searches). Every format maps the same metadata — title, id, description, level, status, ATT&CK tags,
//! references, false positives, author — through the helpers here, so a level means the same severity wherever
//! the target has one. JSON formats are one object per line (NDJSON, what Kibana imports and `jq` reads); the
//! Sentinel format is one YAML document per rule. Choices: compiler/DESIGN.md, "Deployable formats".

pub mod attack;
mod elastic;
mod microsoft;

use super::Target;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::meta::{Level, Meta};

/// The deployable formats of each target: (target, name, description).
pub const FORMATS: &[(Target, &str, &str)] = &[
    (Target::Lucene, "kibana_ndjson", "a Kibana saved search per rule (NDJSON, Saved Objects import)"),
    (Target::Lucene, "dsl_lucene", "an Elasticsearch query DSL body per rule (query_string, named by the rule id)"),
    (Target::Lucene, "siem_rule", "an Elastic Security query rule per rule for Kibana's alerting API (NDJSON)"),
    (Target::Lucene, "siem_rule_ndjson", "an Elastic Security query rule per rule, for Kibana's rule import (NDJSON)"),
    (Target::Esql, "kibana_ndjson", "a Kibana ES|QL saved search per rule (NDJSON, Saved Objects import)"),
    (Target::Esql, "siem_rule", "an Elastic Security ES|QL rule per rule for Kibana's alerting API (NDJSON)"),
    (Target::Esql, "siem_rule_ndjson", "an Elastic Security ES|QL rule per rule, for Kibana's rule import (NDJSON)"),
    (Target::Eql, "eqlapi", "an EQL search API body per rule (POST <index>/_eql/search)"),
    (Target::Eql, "siem_rule", "an Elastic Security EQL rule per rule for Kibana's alerting API (NDJSON)"),
    (Target::Eql, "siem_rule_ndjson", "an Elastic Security EQL rule per rule, for Kibana's rule import (NDJSON)"),
    (Target::Splunk, "data_model", "a tstats search over a CIM data model per rule (needs `-p splunk_cim`)"),
    (
        Target::Kusto,
        "sentinel_rule",
        "a Microsoft Sentinel scheduled analytics rule per rule (YAML, Azure-Sentinel layout)",
    ),
    (
        Target::Kusto,
        "defender_detection",
        "a Defender XDR custom detection rule per rule (Graph API JSON, one per line)",
    ),
];

/// What a format wraps a query with: the rule's metadata, the query's table, the columns it reads.
pub struct Subject<'a> {
    pub meta: &'a Meta,
    /// The table or index the query reads (`--table` or a pipeline's state), if known.
    pub table: Option<String>,
    /// The fields the query tests, as the target names them (after the pipelines), each once.
    pub fields: Vec<String>,
    /// A correlation's window in seconds: scheduled rules must look back over it as well as their interval.
    pub window: Option<u64>,
}

/// Wraps `query` in `format`'s layout for `target`.
pub fn render(target: Target, format: &str, subject: &Subject<'_>, query: &str) -> Result<String, Diagnostic> {
    match (target, format) {
        (Target::Lucene | Target::Esql | Target::Eql, _) => elastic::render(target, format, subject, query),
        (Target::Kusto, "sentinel_rule") => microsoft::sentinel_rule(subject, query),
        (Target::Kusto, "defender_detection") => microsoft::defender_detection(subject, query),
        _ => Err(unsupported(format!("{} has no deployable format `{format}`", target.name()))),
    }
}

fn unsupported(message: impl Into<String>) -> Diagnostic {
    Diagnostic::unlocated(Code::UnsupportedFormat, message)
}

/// The rule's id: deployed rules are updated in place by it, so a rule without one is refused rather than given an
/// id that changes on every conversion.
fn rule_id(meta: &Meta) -> Result<&str, Diagnostic> {
    meta.id.as_deref().filter(|id| !id.trim().is_empty()).ok_or_else(|| {
        unsupported("the rule has no `id:`; deployable formats need a stable id to update the deployed rule by")
    })
}

/// The description, or the title when the rule has none (every target requires one).
fn description(meta: &Meta) -> String {
    match meta.description.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => meta.title.clone(),
    }
}

/// A four-level severity (`low`, `medium`, `high`, and the target's top level): `informational` is `low` where the
/// target has no informational level, `critical` is the top level. No level is `low`.
fn severity4(level: Option<Level>, informational: &'static str, top: &'static str) -> &'static str {
    match level {
        Some(Level::Informational) => informational,
        None | Some(Level::Low) => "low",
        Some(Level::Medium) => "medium",
        Some(Level::High) => "high",
        Some(Level::Critical) => top,
    }
}

/// Elastic's risk score for a level (Elastic's own rules use 21, 47, 73 and 99 for low to critical).
fn risk_score(level: Option<Level>) -> u8 {
    match level {
        Some(Level::Informational) => 0,
        None | Some(Level::Low) => 21,
        Some(Level::Medium) => 47,
        Some(Level::High) => 73,
        Some(Level::Critical) => 99,
    }
}

/// The rule's author as a list: SigmaHQ writes several authors in one string, separated by commas.
fn authors(meta: &Meta) -> Vec<String> {
    meta.author
        .as_deref()
        .map(|a| a.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_each_targets_scale() {
        assert_eq!(severity4(Some(Level::Informational), "low", "critical"), "low");
        assert_eq!(severity4(Some(Level::Informational), "informational", "high"), "informational");
        assert_eq!(severity4(Some(Level::Critical), "informational", "high"), "high");
        assert_eq!(severity4(None, "low", "critical"), "low");
        assert_eq!(risk_score(Some(Level::High)), 73);
        let meta = Meta { author: Some("Ann, Bob ,".into()), ..Meta::default() };
        assert_eq!(authors(&meta), ["Ann", "Bob"]);
    }
}
