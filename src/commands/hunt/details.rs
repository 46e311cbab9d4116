//! What a detection row shows of its event: the computer, event id and channel, and the details column (what
//! matched, then the event's key fields), read from the event's JSON whatever its shape (flat Sysmon/Security
//! JSON, EVTX's `Event.System` / `Event.EventData`, winlogbeat's `winlog`).

use serde_json::{Map, Value};

/// Where the common shapes keep an event's own fields, after the top level.
const CONTAINERS: [&str; 4] = ["Event.EventData", "Event.System", "winlog.event_data", "winlog"];

/// The fields that say most about an event, in the order shown after what matched. An event has the fields of
/// its own log source only, so this one list gives each log source its own: user, image and command line of a
/// process creation, target object and details of a registry event, destination of a network connection, ...
const KEY_FIELDS: [&str; 30] = [
    "User",
    "SubjectUserName",
    "TargetUserName",
    "Image",
    "NewProcessName",
    "CommandLine",
    "ParentImage",
    "ParentProcessName",
    "ParentCommandLine",
    "TargetObject",
    "Details",
    "TargetFilename",
    "ImageLoaded",
    "SourceImage",
    "TargetImage",
    "GrantedAccess",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    "QueryName",
    "PipeName",
    "ServiceName",
    "ImagePath",
    "ScriptBlockText",
    "IpAddress",
    "LogonType",
    "ObjectName",
    "ShareName",
    "RelativeTargetName",
    "Payload",
];

/// At most this many key fields follow what matched.
const KEY_FIELDS_SHOWN: usize = 4;

/// A field of the event by name: at the top level (or as a dotted path), then in the shapes' containers.
pub fn lookup<'e>(event: &'e Value, name: &str) -> Option<&'e Value> {
    let path = |root: &'e Value, dotted: &str| -> Option<&'e Value> {
        if let Some(v) = root.get(dotted) {
            return Some(v);
        }
        dotted.split('.').try_fold(root, |node, key| node.get(key))
    };
    path(event, name).or_else(|| CONTAINERS.iter().find_map(|c| path(event, c)?.get(name)))
}

/// A value as one line of text: strings, numbers and booleans as written, EVTX's `{"#text": ...}` by its text,
/// lists joined; line breaks become spaces.
pub fn text(value: &Value) -> Option<String> {
    let one = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => return None,
        Value::Array(items) => items.iter().filter_map(text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => return map.get("#text").and_then(text),
    };
    Some(one.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn first_text(event: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| lookup(event, n).and_then(text)).filter(|t| !t.is_empty())
}

pub fn computer(event: &Value) -> Option<String> {
    first_text(event, &["Computer", "Hostname", "ComputerName", "computer_name", "host.name", "host.hostname"])
}

pub fn event_id(event: &Value) -> Option<String> {
    first_text(event, &["EventID", "event_id", "event.code"])
}

pub fn channel(event: &Value) -> Option<String> {
    first_text(event, &["Channel", "channel", "log.channel"])
}

/// The details column: each matched field with the event's value (`ImageLoaded: C:\...`), a keyword
/// identifier's texts, then the event's key fields not shown yet, then the fields asked for with `--fields`.
pub fn details(matched: &Map<String, Value>, event: &Value, fields: &[String]) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut add = |name: &str, value: Option<String>, parts: &mut Vec<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            if !shown.iter().any(|s| s == name) {
                shown.push(name.to_string());
                parts.push(format!("{name}: {value}"));
            }
        }
    };
    for found in matched.values() {
        match found {
            Value::Object(map) => map.iter().for_each(|(name, value)| add(name, text(value), &mut parts)),
            Value::Array(texts) => texts.iter().for_each(|t| add("keyword", text(t), &mut parts)),
            _ => {}
        }
    }
    let matched_count = parts.len();
    for name in KEY_FIELDS {
        if parts.len() - matched_count >= KEY_FIELDS_SHOWN {
            break;
        }
        add(name, lookup(event, name).and_then(text), &mut parts);
    }
    for name in fields {
        add(name, lookup(event, name).and_then(text), &mut parts);
    }
    parts.join(" ¦ ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_found_in_every_shape() {
        let flat = json!({"Hostname": "ws1", "EventID": 7, "Channel": "Sysmon"});
        let evtx = json!({"Event": {"System": {"Computer": "ws2", "EventID": {"#text": 4688}, "Channel": "Security"},
                                    "EventData": {"NewProcessName": "C:\\x.exe"}}});
        let beat = json!({"winlog": {"computer_name": "ws3", "channel": "Security", "event_data": {"User": "bob"}}});
        assert_eq!((computer(&flat), event_id(&flat)), (Some("ws1".into()), Some("7".into())));
        assert_eq!((computer(&evtx), event_id(&evtx)), (Some("ws2".into()), Some("4688".into())));
        assert_eq!(channel(&evtx).as_deref(), Some("Security"));
        assert_eq!(computer(&beat).as_deref(), Some("ws3"));
        assert_eq!(lookup(&beat, "User"), Some(&json!("bob")));
        assert_eq!(lookup(&evtx, "Event.EventData.NewProcessName"), Some(&json!("C:\\x.exe")));
    }

    #[test]
    fn details_show_what_matched_then_key_fields_then_asked_fields() {
        let event = json!({"Image": "C:\\notepad.exe", "ImageLoaded": "C:\\wbemcomn.dll", "User": "bob",
                           "CommandLine": "notepad\r\n a.txt", "ProcessId": 4});
        let matched = json!({"selection": {"ImageLoaded": "C:\\wbemcomn.dll"}});
        let matched = matched.as_object().cloned().unwrap_or_default();
        assert_eq!(
            details(&matched, &event, &["ProcessId".to_string()]),
            "ImageLoaded: C:\\wbemcomn.dll ¦ User: bob ¦ Image: C:\\notepad.exe ¦ CommandLine: notepad a.txt ¦ ProcessId: 4"
        );
        let keywords = json!({"keywords": ["x mimikatz y"]});
        let keywords = keywords.as_object().cloned().unwrap_or_default();
        assert!(details(&keywords, &json!({}), &[]).starts_with("keyword: x mimikatz y"));
    }
}
