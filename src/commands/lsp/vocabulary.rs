//! What the language server offers and explains: modifiers (which may follow which), log-source values, and a
//! table of Sysmon and Windows fields by log-source category.

use vigil_compiler::logsources::{LogSourceTable, BUILTIN};

/// Every modifier with what it does: (name, kind, documentation). The kind decides what may follow.
pub const MODIFIERS: &[(&str, Kind, &str)] = &[
    ("contains", Kind::Shape, "The field contains the value anywhere (`*value*`)."),
    ("startswith", Kind::Shape, "The field starts with the value (`value*`)."),
    ("endswith", Kind::Shape, "The field ends with the value (`*value`)."),
    ("all", Kind::Item, "Every value of the list must match (instead of any one)."),
    ("exists", Kind::Final, "`true`: the field is present; `false`: it is absent."),
    ("cased", Kind::Item, "Compare case-sensitively (Sigma compares without case by default)."),
    ("neq", Kind::Item, "The item matches when the field is none of the values."),
    ("windash", Kind::Transform, "Also match `-` written as `/`, en dash, em dash or horizontal bar."),
    ("re", Kind::Regex, "The value is a regular expression (PCRE subset, matched anywhere)."),
    ("i", Kind::RegexFlag, "Regex flag: ignore case."),
    ("m", Kind::RegexFlag, "Regex flag: `^` and `$` match at line breaks."),
    ("s", Kind::RegexFlag, "Regex flag: `.` matches line breaks too."),
    ("base64", Kind::Transform, "Match the base64 encoding of the value."),
    ("base64offset", Kind::Transform, "Match the value base64-encoded at any of the three offsets (use `contains`)."),
    ("wide", Kind::Transform, "Encode the value as UTF-16LE first (with `base64`/`base64offset`)."),
    ("utf16le", Kind::Transform, "Encode the value as UTF-16LE first (with `base64`/`base64offset`)."),
    ("utf16be", Kind::Transform, "Encode the value as UTF-16BE first."),
    ("utf16", Kind::Transform, "Encode the value as UTF-16 with a byte-order mark first."),
    ("cidr", Kind::Final, "The value is an IPv4 or IPv6 network; the field's address is in it."),
    ("gt", Kind::Final, "The field's number is greater than the value."),
    ("gte", Kind::Final, "The field's number is greater than or equal to the value."),
    ("lt", Kind::Final, "The field's number is less than the value."),
    ("lte", Kind::Final, "The field's number is less than or equal to the value."),
    ("minute", Kind::Final, "The minute of the field's timestamp equals the value."),
    ("hour", Kind::Final, "The hour of the field's timestamp equals the value."),
    ("day", Kind::Final, "The day of the month of the field's timestamp equals the value."),
    ("week", Kind::Final, "The week of the year of the field's timestamp equals the value."),
    ("month", Kind::Final, "The month of the field's timestamp equals the value."),
    ("year", Kind::Final, "The year of the field's timestamp equals the value."),
    ("expand", Kind::Transform, "Resolve `%placeholders%` in the value through the pipelines."),
    ("fieldref", Kind::Final, "The value names another field; compare the two fields of the event."),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// contains / startswith / endswith: one of them per item.
    Shape,
    /// all, cased, neq: about the item, anywhere in the chain.
    Item,
    /// windash, base64, wide, expand: transform the value, before a shape.
    Transform,
    /// re: flags may follow.
    Regex,
    RegexFlag,
    /// A type of its own (cidr, comparisons, time parts, exists, fieldref): nothing but item modifiers after it.
    Final,
}

/// The modifiers that may follow `before` (the chain written so far), best first.
pub fn modifiers_after(before: &[&str]) -> Vec<(&'static str, &'static str)> {
    let kinds: Vec<Kind> =
        before.iter().filter_map(|b| MODIFIERS.iter().find(|(n, _, _)| n == b).map(|(_, k, _)| *k)).collect();
    let has = |k: Kind| kinds.contains(&k);
    MODIFIERS
        .iter()
        .filter(|(name, kind, _)| {
            if before.contains(name) {
                return false;
            }
            match kind {
                Kind::Item => true,
                Kind::RegexFlag => has(Kind::Regex),
                Kind::Shape | Kind::Transform => !has(Kind::Shape) && !has(Kind::Regex) && !has(Kind::Final),
                Kind::Regex | Kind::Final => kinds.iter().all(|k| *k == Kind::Item),
            }
        })
        .map(|(name, _, doc)| (*name, *doc))
        .collect()
}

pub fn modifier_doc(name: &str) -> Option<&'static str> {
    MODIFIERS.iter().find(|(n, _, _)| *n == name).map(|(_, _, d)| *d)
}

/// Known values of `logsource` keys, from the built-in log-source table.
pub fn logsource_values(key: &str) -> Vec<String> {
    let Ok(table) = LogSourceTable::parse(BUILTIN) else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for entry in &table.entries {
        match key {
            "product" => out.extend(entry.logsource.product.clone()),
            "service" => {
                out.extend(entry.logsource.service.clone());
                if let Some(from) = &entry.service {
                    out.extend(from.values.values().cloned());
                }
            }
            "category" => out.extend(entry.all_categories()),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Fields of Sysmon and Windows events by log-source category, with what they hold: (categories, field, doc).
/// The names are Sigma's (Sysmon's event data names; Security's for the Windows audit events).
pub const FIELDS: &[(&[&str], &str, &str)] = &[
    (&["*"], "EventID", "The event's identifier (Sysmon: 1 process creation, 3 network, 7 image load, ...)."),
    (&["*"], "Channel", "The Windows event log the event was written to."),
    (&["*"], "Computer", "The host that logged the event."),
    (&["*"], "Provider_Name", "The event's provider (Microsoft-Windows-Sysmon, Microsoft-Windows-Security-Auditing)."),
    (PROCESS, "Image", "Full path of the process's executable."),
    (&["process_creation"], "CommandLine", "The process's command line."),
    (&["process_creation"], "OriginalFileName", "The executable's original name from its version resource."),
    (&["process_creation"], "ParentImage", "Full path of the parent process's executable."),
    (&["process_creation"], "ParentCommandLine", "The parent process's command line."),
    (&["process_creation"], "CurrentDirectory", "The process's working folder."),
    (&["process_creation"], "IntegrityLevel", "The process's integrity level (Low, Medium, High, System)."),
    (&["process_creation", "network_connection"], "User", "The account the process runs as (DOMAIN\\user)."),
    (&["process_creation", "image_load", "driver_load"], "Hashes", "Hashes as `ALGORITHM=hex` pairs, comma-separated."),
    (&["process_creation", "image_load"], "Product", "The product name from the version resource."),
    (&["process_creation", "image_load"], "Company", "The company from the version resource."),
    (&["process_creation", "image_load"], "Description", "The file description from the version resource."),
    (&["image_load", "driver_load"], "ImageLoaded", "Full path of the module (DLL) or driver loaded."),
    (&["image_load", "driver_load"], "Signed", "Whether the module is signed (`true`/`false`)."),
    (&["image_load", "driver_load"], "Signature", "The signer's name."),
    (&["image_load", "driver_load"], "SignatureStatus", "The signature's state (Valid, Expired, ...)."),
    (&["network_connection"], "DestinationIp", "The remote address."),
    (&["network_connection"], "DestinationPort", "The remote port."),
    (&["network_connection"], "DestinationHostname", "The remote host's name, when resolved."),
    (&["network_connection"], "SourceIp", "The local address."),
    (&["network_connection"], "Initiated", "Whether the process opened the connection (`true`) or accepted it."),
    (&["file_event", "file_delete", "file_change", "create_stream_hash"], "TargetFilename", "Full path of the file."),
    (REGISTRY, "TargetObject", "Full path of the registry key or value."),
    (&["registry_set", "registry_event"], "Details", "The value written (registry_set)."),
    (&["registry_event", "registry_add", "registry_delete", "registry_set"], "EventType", "SetValue, CreateKey, ..."),
    (&["dns_query"], "QueryName", "The name looked up."),
    (&["dns_query"], "QueryResults", "The answers, semicolon-separated."),
    (&["pipe_created"], "PipeName", "The named pipe's name (`\\name`)."),
    (&["process_access"], "SourceImage", "The process opening the other."),
    (&["process_access", "create_remote_thread"], "TargetImage", "The process opened or injected into."),
    (&["process_access"], "GrantedAccess", "The access mask granted (0x1410, ...)."),
    (&["process_access"], "CallTrace", "The call stack of the open."),
    (&["create_remote_thread"], "StartAddress", "Where the new thread starts."),
    (&["ps_script"], "ScriptBlockText", "The PowerShell script block (event 4104)."),
    (&["ps_module"], "Payload", "The PowerShell pipeline output (event 4103)."),
    (&["*"], "SubjectUserName", "Security: the account that did it."),
    (&["*"], "TargetUserName", "Security: the account it was done to."),
    (&["*"], "LogonType", "Security: how the account logged on (2 interactive, 3 network, 10 remote interactive)."),
    (&["*"], "IpAddress", "Security: the client's address."),
];

const PROCESS: &[&str] = &[
    "process_creation",
    "image_load",
    "network_connection",
    "file_event",
    "file_delete",
    "registry_set",
    "registry_event",
    "registry_add",
    "registry_delete",
    "dns_query",
    "pipe_created",
    "driver_load",
    "create_stream_hash",
    "file_change",
    "raw_access_thread",
    "process_tampering",
];
const REGISTRY: &[&str] = &["registry_set", "registry_event", "registry_add", "registry_delete", "registry_rename"];

/// The fields of a category, those of every category included.
pub fn fields_for(category: Option<&str>) -> Vec<(&'static str, &'static str)> {
    FIELDS
        .iter()
        .filter(|(categories, _, _)| categories.contains(&"*") || category.is_none_or(|c| categories.contains(&c)))
        .map(|(_, name, doc)| (*name, *doc))
        .collect()
}

pub fn field_doc(name: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(_, n, _)| *n == name).map(|(_, _, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_follow_the_chain() {
        let names = |before: &[&str]| modifiers_after(before).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert!(names(&[]).contains(&"endswith"));
        assert!(!names(&["endswith"]).contains(&"contains"), "one shape per item");
        assert!(names(&["contains"]).contains(&"all"));
        assert_eq!(names(&["re"]).iter().filter(|n| ["i", "m", "s"].contains(n)).count(), 3);
        assert!(!names(&["re"]).contains(&"contains"));
        assert!(!names(&[]).contains(&"i"), "flags only after re");
        assert!(!names(&["cidr"]).contains(&"gt"));
        for (name, _, _) in MODIFIERS {
            assert!(vigil_compiler::syntax::Modifier::from_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn logsource_values_come_from_the_table() {
        assert!(logsource_values("product").contains(&"windows".to_string()));
        assert!(logsource_values("category").contains(&"process_creation".to_string()));
        assert!(logsource_values("service").contains(&"sysmon".to_string()));
    }
}
