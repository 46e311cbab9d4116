//! A record's fields read straight from its JSON text are those the general path reads from its JSON tree: on
//! every record of `../shared/evtx` and every Mordor event, with every name the record could be read by, the same
//! fields with the same values; and so for other shapes, repeated keys and text that is not JSON.

mod common;

use vigil_runtime::Value;
use vigil_runtime::{read, Event, FieldTable, Record};

/// Every name the flattening could give a value of `json`: each key at any depth, and `Element_attribute`.
fn intern_names(json: &serde_json::Value, table: &mut FieldTable) {
    let serde_json::Value::Object(map) = json else {
        if let serde_json::Value::Array(items) = json {
            items.iter().for_each(|item| intern_names(item, table));
        }
        return;
    };
    for (key, value) in map {
        table.intern(key);
        if let Some(serde_json::Value::Object(attributes)) = value.get("#attributes") {
            for attribute in attributes.keys() {
                table.intern(&format!("{key}_{attribute}"));
            }
        }
        intern_names(value, table);
    }
}

/// A value as text, for comparing.
fn show(value: &Value<'_>) -> String {
    match value {
        Value::Str(s, _) => format!("str {s}"),
        Value::Num(n, text) => format!("num {n} {}", text.get()),
        Value::Bool(b) => format!("bool {b}"),
        Value::Null => "null".into(),
        Value::List(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
    }
}

fn fields(event: &Event<'_>, table: &FieldTable) -> Vec<String> {
    event.fields().map(|(id, value)| format!("{} = {}", table.name(id), show(value))).collect()
}

/// Compares the fields read from `record`'s text with those read from its tree, with every name it could give.
fn compare(record: &Record, place: &dyn Fn() -> String) -> usize {
    let tree = record.json().clone();
    let mut table = FieldTable::default();
    intern_names(&tree, &mut table);
    let from_tree = Event::new(&tree, &table, true);
    let from_text = Event::of(record, &table, true).expect("JSON");
    let (expected, actual) = (fields(&from_tree, &table), fields(&from_text, &table));
    assert_eq!(actual, expected, "{}", place());
    expected.len()
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn evtx_fields_from_the_text_equal_fields_from_the_tree() {
    let shared = common::shared("evtx");
    let files = common::evtx_files(&shared.join("evtx"));
    let (mut records, mut compared_fields) = (0usize, 0usize);
    for file in &files {
        read::read_path_raw(file, &mut |position, raw| {
            let record = raw.into_record().expect("a record");
            assert!(matches!(record, Record::Text(_)), "EVTX records are read as text");
            compared_fields += compare(&record, &|| format!("{} record {position}", file.display()));
            records += 1;
        })
        .expect("readable");
    }
    eprintln!("{records} records, {compared_fields} fields compared");
    assert!(records > 8000, "the EVTX samples hold 8,255 records");
}

#[test]
#[ignore = "needs ../shared beside the repository"]
fn json_line_fields_from_the_text_equal_fields_from_the_tree() {
    let shared = common::shared("mordor");
    let mut files: Vec<_> =
        std::fs::read_dir(shared.join("mordor")).expect("mordor").flatten().map(|e| e.path()).collect();
    files.sort();
    let (mut lines, mut compared_fields) = (0usize, 0usize);
    for file in files.iter().filter(|p| p.to_string_lossy().ends_with(".jsonl.gz")) {
        read::read_path_raw(file, &mut |position, raw| {
            let record = raw.into_record().expect("a record");
            if record.error(position).is_some() {
                return;
            }
            compared_fields += compare(&record, &|| format!("{}:{position}", file.display()));
            lines += 1;
        })
        .expect("readable");
    }
    eprintln!("{lines} lines, {compared_fields} fields compared");
    assert!(lines > 30_000, "the Mordor datasets hold 30,685 events");
}

#[test]
fn other_shapes_repeated_keys_and_bad_text_read_as_in_the_tree() {
    let mut table = FieldTable::default();
    for name in ["Event", "Image", "System", "Channel", "ProcessID", "Name"] {
        table.intern(name);
    }
    for text in [
        r##"{"Image": "C:\\x.exe"}"##,
        r##"{"Event": {"EventData": {"Image": "a"}}}"##,
        r##"{"Event": {"System": {"Channel": "S"}}, "Image": "b"}"##,
        r##"{"Image": "b", "Event": {"System": {"Channel": "S"}}}"##,
        r##"{"Event": 5}"##,
        r##"[1, 2]"##,
        r##"7"##,
        r##"{}"##,
        // A repeated key keeps its last value, in a flat object and in a section.
        r##"{"Image": "first", "Channel": "c", "Image": "last"}"##,
        r##"{"Event": {"System": {"Channel": "one", "Channel": "two"}, "EventData": {"Image": "a", "Image": "b"}}}"##,
        // System's value of a name wins over EventData's, wherever EventData is.
        r##"{"Event": {"EventData": {"ProcessID": 1}, "System": {"Execution": {"#attributes": {"ProcessID": 2}}}}}"##,
        r##"{"Event": {"System": {"Provider": {"#attributes": {"Name": "p", "Name": "q"}}}}}"##,
        r##"{"Event": {"System": {"Channel": {"#text": "a", "#text": "b"}}}}"##,
        r##"{"Event": {"System": {}, "UserData": {"Kind": {"Image": "x", "Image": "y"}}}}"##,
    ] {
        let tree: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let expected = fields(&Event::new(&tree, &table, true), &table);
        for record in [Record::line(text.to_string()), Record::evtx(text.to_string())] {
            assert_eq!(fields(&Event::of(&record, &table, true).expect(text), &table), expected, "{text}");
        }
    }
    // Text that is not JSON is no event, and says why.
    let record = Record::line("{\"Image\": ".into());
    assert!(Event::of(&record, &table, true).is_none());
    assert!(record.error(3).is_some_and(|e| e.starts_with("line 3: EOF while parsing")), "{:?}", record.error(3));
    assert!(record.into_json(3).is_err());
}

#[test]
fn escaped_strings_and_attributes_read_as_in_the_tree() {
    let text = r##"{"Event": {"#attributes": {"xmlns": "x"}, "System": {
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}},
        "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 4688}, "Channel": "Security",
        "TimeCreated": {"#attributes": {"SystemTime": "2025-01-01T00:00:00Z"}}, "Keywords": "0x80", "Level": 1.5},
        "EventData": {"Image": "C:\\Windows\\x.exe", "Hashes": ["a", {"#text": "b"}, 3], "Empty": null,
            "Obj": {"k": "v"}, "Uni": "\u00c4\u0042"},
        "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "y"}, "SubjectUserName": "bob"}}}}"##;
    let tree: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let mut table = FieldTable::default();
    intern_names(&tree, &mut table);
    let record = Record::evtx(text.to_string());
    let from_text = Event::of(&record, &table, true).expect("JSON");
    let from_tree = Event::new(&tree, &table, true);
    assert_eq!(fields(&from_text, &table), fields(&from_tree, &table));
    let image = from_text.get(table.get("Image").expect("interned")).expect("read");
    assert_eq!(image.text(), Some("C:\\Windows\\x.exe"));
    assert_eq!(
        from_text.get(table.get("Provider_Name").expect("interned")).and_then(Value::text),
        Some("Microsoft-Windows-Sysmon")
    );
    let values = |e: &Event<'_>| e.all_values().iter().map(show).collect::<Vec<_>>();
    assert_eq!(values(&from_text), values(&from_tree));
    // Detections print the record's JSON, parsed from the text when asked.
    assert_eq!(from_text.json(), &tree);
}

/// Every dotted path of `json` below its root with the value `Value::from_json` gives it: the reference the decoder's
/// nested reading must agree with.
fn dotted_paths(json: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
    let serde_json::Value::Object(map) = json else { return };
    for (key, value) in map {
        let name = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        if !path.is_empty() {
            out.push((name.clone(), show(&Value::from_json(value))));
        }
        dotted_paths(value, &name, out);
    }
}

#[test]
fn nested_objects_read_by_dotted_paths_and_names_without_spaces() {
    let text = r##"{"protoPayload": {"serviceName": "storage", "auth": {"principal": "p@x", "#text": "t"},
        "list": [1, "two"]}, "a.b": "literal", "a": {"b": "nested"}, "Threat Name": "Eicar", "Source Name": "s",
        "SourceName": "exact", "winlog": {"channel": "Security", "event_data": {"New Value": "v"}}}"##;
    let tree: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let mut reference = Vec::new();
    dotted_paths(&tree, "", &mut reference);
    let mut table = FieldTable::default();
    for (name, _) in &reference {
        table.intern(name);
    }
    for name in ["protoPayload", "a.b", "ThreatName", "SourceName", "winlog.event_data.NewValue"] {
        table.intern(name);
    }
    let record = Record::line(text.to_string());
    let from_text = Event::of(&record, &table, true).expect("JSON");
    let from_tree = Event::new(&tree, &table, true);
    assert_eq!(fields(&from_text, &table), fields(&from_tree, &table));
    let get = |name: &str| from_text.get(table.get(name).expect("interned")).map(show);
    for (name, value) in &reference {
        // `a.b` is both a member of the root and a path; the member (flattened) wins.
        if name != "a.b" {
            assert_eq!(get(name).as_ref(), Some(value), "{name}");
        }
    }
    assert_eq!(get("a.b").as_deref(), Some("str literal"));
    assert_eq!(get("protoPayload").as_deref(), Some("null"), "an object without #text reads as null");
    assert_eq!(get("protoPayload.auth").as_deref(), Some("str t"));
    assert_eq!(get("ThreatName").as_deref(), Some("str Eicar"), "a name with spaces is read without them");
    assert_eq!(get("SourceName").as_deref(), Some("str exact"), "the exact name wins");
    assert_eq!(get("winlog.event_data.NewValue"), None, "spaces are dropped from member names, not from paths");
}
