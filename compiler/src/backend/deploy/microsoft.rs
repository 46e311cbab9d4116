//! Microsoft's formats: Sentinel scheduled analytics rules in the Azure-Sentinel repository's YAML layout
//! (`sentinel_rule`), and Defender XDR custom detection rules as the Graph security API's `detectionRule`
//! (`defender_detection`).

use super::{attack, description, rule_id, severity4, unsupported, Subject};
use crate::diagnostic::Diagnostic;
use serde_json::{json, Value};

/// Sentinel refuses queries longer than this.
const MAX_QUERY: usize = 10_000;
/// Sentinel's limits on entity mappings: entities per rule, and Sentinel refuses more.
const MAX_ENTITIES: usize = 5;

/// A table the query reads, or why the format cannot be written without one.
fn table<'s>(subject: &'s Subject<'_>, format: &str) -> Result<&'s str, Diagnostic> {
    subject.table.as_deref().ok_or_else(|| {
        unsupported(format!(
            "a {format} needs the query's table: convert with `-p microsoft_xdr` (Defender XDR tables), \
             `-p sentinel_asim` (ASIM parsers) or `--table NAME`"
        ))
    })
}

/// Whether a table is one of Defender XDR's Advanced Hunting tables (what the Microsoft Defender XDR connector
/// brings into Sentinel).
fn is_defender_table(table: &str) -> bool {
    ["Device", "Email", "Identity", "Alert", "UrlClick", "CloudApp", "Behavior"].iter().any(|p| table.starts_with(p))
}

/// The data connectors a Sentinel rule over `table` needs (empty for ASIM parsers, which read many sources).
fn data_connectors(table: &str) -> Value {
    let connector = if is_defender_table(table) {
        Some("MicrosoftThreatProtection")
    } else {
        match table {
            "SecurityEvent" => Some("SecurityEvents"),
            "WindowsEvent" => Some("WindowsForwardedEvents"),
            _ => None,
        }
    };
    match connector {
        Some(id) => json!([{ "connectorId": id, "dataTypes": [table] }]),
        None => json!([]),
    }
}

/// Columns that identify an entity, by name, across Defender XDR, ASIM and Windows/Sysmon fields:
/// (column, entity type, identifier).
const ENTITY_COLUMNS: &[(&str, &str, &str)] = &[
    ("DeviceName", "Host", "HostName"),
    ("DvcHostname", "Host", "HostName"),
    ("Computer", "Host", "HostName"),
    ("AccountName", "Account", "Name"),
    ("InitiatingProcessAccountName", "Account", "Name"),
    ("ActorUsername", "Account", "Name"),
    ("TargetUsername", "Account", "Name"),
    ("TargetUserName", "Account", "Name"),
    ("SubjectUserName", "Account", "Name"),
    ("ProcessCommandLine", "Process", "CommandLine"),
    ("InitiatingProcessCommandLine", "Process", "CommandLine"),
    ("TargetProcessCommandLine", "Process", "CommandLine"),
    ("ActingProcessCommandLine", "Process", "CommandLine"),
    ("CommandLine", "Process", "CommandLine"),
    ("FileName", "File", "Name"),
    ("TargetFileName", "File", "Name"),
    ("RemoteIP", "IP", "Address"),
    ("LocalIP", "IP", "Address"),
    ("SrcIpAddr", "IP", "Address"),
    ("DstIpAddr", "IP", "Address"),
    ("IpAddress", "IP", "Address"),
    ("RemoteUrl", "URL", "Url"),
    ("Url", "URL", "Url"),
    ("DnsQuery", "DNS", "DomainName"),
    ("QueryName", "DNS", "DomainName"),
    ("RegistryKey", "RegistryKey", "Key"),
    ("TargetObject", "RegistryKey", "Key"),
];

/// The host column every row of a table has, by the table's family.
fn host_column(table: &str) -> Option<&'static str> {
    if table.starts_with("Device") {
        Some("DeviceName")
    } else if table.starts_with("_Im_") || table.starts_with("_ASim_") || table.starts_with("im") {
        Some("DvcHostname")
    } else if matches!(table, "SecurityEvent" | "WindowsEvent" | "Event") {
        Some("Computer")
    } else {
        None
    }
}

/// Entity mappings from the columns the query certainly has: its table's host column and the columns it tests.
/// One entity per column, at most `MAX_ENTITIES`, the host first.
fn entity_mappings(subject: &Subject<'_>, table: &str) -> Vec<Value> {
    let mut columns: Vec<&str> = host_column(table).into_iter().collect();
    for field in &subject.fields {
        if !columns.contains(&field.as_str()) {
            columns.push(field);
        }
    }
    let mut mappings = Vec::new();
    for column in columns {
        if let Some((_, entity, identifier)) = ENTITY_COLUMNS.iter().find(|(c, _, _)| *c == column) {
            mappings.push(json!({
                "entityType": entity,
                "fieldMappings": [{ "identifier": identifier, "columnName": column }],
            }));
        }
        if mappings.len() == MAX_ENTITIES {
            break;
        }
    }
    mappings
}

/// Whether `id` is a GUID (Sentinel's rule ids are).
fn is_guid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A Sentinel scheduled analytics rule: hourly over the last hour, an alert for any row.
pub fn sentinel_rule(subject: &Subject<'_>, query: &str) -> Result<String, Diagnostic> {
    let id = rule_id(subject.meta)?;
    if !is_guid(id) {
        return Err(unsupported(format!("Sentinel rule ids are GUIDs; the rule's id `{id}` is not")));
    }
    let table = table(subject, "Sentinel rule")?;
    if query.chars().count() > MAX_QUERY {
        return Err(unsupported(format!("the query is longer than Sentinel's {MAX_QUERY} characters")));
    }
    let meta = subject.meta;
    let tactics = attack::tactics(&meta.tags);
    let mut rule = json!({
        "id": id,
        "name": meta.title,
        "description": description(meta),
        "severity": capitalised(severity4(meta.level, "informational", "high")),
        "requiredDataConnectors": data_connectors(table),
        "queryFrequency": "1h",
        "queryPeriod": query_period(subject.window)?,
        "triggerOperator": "gt",
        "triggerThreshold": 0,
        "tactics": tactics.iter().map(|t| t.pascal_name()).collect::<Vec<_>>(),
        // Sentinel refuses a technique without a tactic to hold it.
        "relevantTechniques": if tactics.is_empty() { Vec::new() } else { attack::techniques(&meta.tags) },
        "query": query,
    });
    let entities = entity_mappings(subject, table);
    if !entities.is_empty() {
        rule["entityMappings"] = Value::Array(entities);
    }
    rule["version"] = json!("1.0.0");
    rule["kind"] = json!("Scheduled");
    let yaml = serde_yaml::to_string(&rule).map_err(|e| unsupported(format!("cannot write the rule as YAML: {e}")))?;
    // One YAML document per rule: the stream of a whole corpus stays one valid YAML file.
    Ok(format!("---\n{}", yaml.trim_end()))
}

/// How far back a scheduled rule that runs every hour looks: the hour, and a correlation's window before it (so
/// that a window ending in this hour is seen whole), in Sentinel's `<n>m`/`<n>h` spelling; at most 14 days.
fn query_period(window: Option<u64>) -> Result<String, Diagnostic> {
    const LIMIT_MINUTES: u64 = 14 * 24 * 60;
    let minutes = 60 + window.unwrap_or(0).div_ceil(60);
    if minutes > LIMIT_MINUTES {
        return Err(unsupported(format!(
            "the correlation's window needs a query period of {minutes} minutes; Sentinel's longest is 14 days"
        )));
    }
    Ok(if minutes % 60 == 0 { format!("{}h", minutes / 60) } else { format!("{minutes}m") })
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The asset a Defender custom detection's alert is about, by the table's family: (the Graph type, the column's
/// identifier).
fn impacted_asset(table: &str) -> Option<(&'static str, &'static str)> {
    if table.starts_with("Device") {
        Some(("#microsoft.graph.security.impactedDeviceAsset", "deviceId"))
    } else if table.starts_with("Email") || table.starts_with("UrlClick") {
        Some(("#microsoft.graph.security.impactedMailboxAsset", "recipientEmailAddress"))
    } else if table.starts_with("Identity") || table.starts_with("CloudApp") {
        Some(("#microsoft.graph.security.impactedUserAsset", "accountObjectId"))
    } else {
        None
    }
}

/// The alert categories of Defender XDR that are ATT&CK tactics; other rules are `SuspiciousActivity`.
const DEFENDER_TACTIC_CATEGORIES: &[&str] = &[
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "CommandAndControl",
    "Exfiltration",
    "Impact",
];

/// A Defender XDR custom detection rule (`POST /security/rules/detectionRules`), run every hour.
pub fn defender_detection(subject: &Subject<'_>, query: &str) -> Result<String, Diagnostic> {
    rule_id(subject.meta)?;
    let table = table(subject, "Defender custom detection")?;
    let Some((asset_type, identifier)) = impacted_asset(table) else {
        return Err(unsupported(format!(
            "`{table}` is not a Defender XDR table a custom detection can alert on (Device*, Email*, Identity*, \
             CloudAppEvents): convert with `-p microsoft_xdr`"
        )));
    };
    let meta = subject.meta;
    let category = attack::tactics(&meta.tags)
        .iter()
        .map(|t| t.pascal_name())
        .find(|name| DEFENDER_TACTIC_CATEGORIES.contains(&name.as_str()))
        .unwrap_or_else(|| "SuspiciousActivity".to_string());
    let rule = json!({
        "displayName": meta.title,
        "isEnabled": true,
        "queryCondition": { "queryText": query },
        "schedule": { "period": "1H" },
        "detectionAction": {
            "alertTemplate": {
                "title": meta.title,
                "description": description(meta),
                "severity": severity4(meta.level, "informational", "high"),
                "category": category,
                "recommendedActions": null,
                "mitreTechniques": attack::techniques(&meta.tags),
                "impactedAssets": [{ "@odata.type": asset_type, "identifier": identifier }],
            },
            "organizationalScope": null,
            "responseActions": [],
        },
    });
    Ok(rule.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_tables() {
        assert!(is_guid("e7a1ae5e-9a0c-4a5b-8e0d-3c1d1e5e2a11"));
        assert!(!is_guid("e7a1ae5e-9a0c-4a5b-8e0d"));
        assert!(!is_guid("zzzzzzzz-9a0c-4a5b-8e0d-3c1d1e5e2a11"));
        assert_eq!(host_column("DeviceProcessEvents"), Some("DeviceName"));
        assert_eq!(host_column("_Im_ProcessCreate"), Some("DvcHostname"));
        assert_eq!(data_connectors("_Im_Dns"), json!([]));
        assert_eq!(capitalised("informational"), "Informational");
        assert_eq!(query_period(None).ok(), Some("1h".into()));
        assert_eq!(query_period(Some(600)).ok(), Some("70m".into()));
        assert_eq!(query_period(Some(3600)).ok(), Some("2h".into()));
        assert!(query_period(Some(15 * 24 * 3600)).is_err());
    }
}
