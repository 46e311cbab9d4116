//! The built-in pipelines: YAML files under `rules/pipelines/`, in the format users write, compiled in.

/// (name, one-line description, YAML text)
const BUILTINS: &[(&str, &str, &str)] = &[
    (
        "sysmon",
        "Sigma categories (process_creation, image_load, ...) -> Sysmon EventIDs and service sysmon",
        include_str!("../../../rules/pipelines/sysmon.yml"),
    ),
    (
        "windows",
        "Windows services -> event log Channel values; PowerShell categories -> their EventIDs",
        include_str!("../../../rules/pipelines/windows.yml"),
    ),
    (
        "windows-audit",
        "process_creation and registry categories -> Security 4688/4657 with their field names",
        include_str!("../../../rules/pipelines/windows-audit.yml"),
    ),
    (
        "ecs-windows",
        "Sysmon/Windows field names -> Elastic Common Schema as Winlogbeat 7+ writes them",
        include_str!("../../../rules/pipelines/ecs-windows.yml"),
    ),
    (
        "evtx",
        "Windows field names -> EVTX records as JSON (Event.System.*, Event.EventData.*)",
        include_str!("../../../rules/pipelines/evtx.yml"),
    ),
    (
        "helk",
        "Windows field names -> HELK Spark table columns (channel, event_id, computer_name)",
        include_str!("../../../rules/pipelines/helk.yml"),
    ),
    (
        "microsoft_xdr",
        "Sigma log sources and fields -> Microsoft Defender XDR Advanced Hunting tables and columns (kusto)",
        include_str!("../../../rules/pipelines/microsoft_xdr.yml"),
    ),
    (
        "sentinel_asim",
        "Sigma log sources and fields -> Microsoft Sentinel ASIM parsers (imProcessCreate, ...) and fields (kusto)",
        include_str!("../../../rules/pipelines/sentinel_asim.yml"),
    ),
    (
        "azure_monitor",
        "Sigma log sources and fields -> Azure Monitor SecurityEvent table and columns (kusto; Sentinel, Log Analytics)",
        include_str!("../../../rules/pipelines/azure_monitor.yml"),
    ),
    (
        "splunk_windows",
        "Windows services -> Splunk source=\"WinEventLog:<channel>\" conditions, EventID -> EventCode (splunk)",
        include_str!("../../../rules/pipelines/splunk_windows.yml"),
    ),
    (
        "splunk_cim",
        "Sigma log sources and fields -> Splunk CIM data models (Endpoint, Web, Network_Resolution), for -f data_model",
        include_str!("../../../rules/pipelines/splunk_cim.yml"),
    ),
];

/// The YAML of a built-in pipeline.
pub fn find(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _, _)| *n == name).map(|(_, _, text)| *text)
}

pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _, _)| *n).collect()
}

/// (name, description) of every built-in pipeline.
pub fn list() -> Vec<(&'static str, &'static str)> {
    BUILTINS.iter().map(|(n, d, _)| (*n, *d)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_loads() {
        for (name, _, text) in super::BUILTINS {
            if let Err(problems) = super::super::parse(text, name) {
                panic!("{name}: {problems:#?}");
            }
        }
    }
}
