//! The built-in log-source table (`rules/logsources.yml`) on one event of each shape it recognises
//! (`tests/logsources/*.json`: the event and the product, service and categories it must be given), and which rules
//! may then run on it.

use serde_json::Value as Json;
use std::path::Path;
use vigil_compiler::ir::meta::LogSource;
use vigil_compiler::logsources::LogSourceTable;
use vigil_runtime::logsource::{Classifier, UNKNOWN};
use vigil_runtime::{Event, FieldTable};

struct Fixture {
    name: String,
    event: Json,
    /// `None`: the table must not recognise the event.
    expect: Option<(Option<String>, Option<String>, Vec<String>)>,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/logsources");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("fixtures").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let json: Json = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
            let text = |v: &Json| v.as_str().map(str::to_string);
            let expect = json["expect"].as_object().map(|e| {
                let categories = e["categories"].as_array().expect("categories").iter().filter_map(text).collect();
                (text(&e["product"]), text(&e["service"]), categories)
            });
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            Fixture { name, event: json["event"].clone(), expect }
        })
        .collect()
}

#[test]
fn every_recognised_shape_gets_its_log_source() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 15, "one fixture per recognised shape");
    let mut fields = FieldTable::default();
    let classifier = Classifier::new(&LogSourceTable::builtin(), &mut fields);
    let mut wrong = Vec::new();
    for fixture in &fixtures {
        let key = classifier.classify(&Event::new(&fixture.event, &fields, false));
        let source = &classifier.sources[key as usize];
        let found =
            (key != UNKNOWN).then(|| (source.product.clone(), source.service.clone(), source.categories.clone()));
        if found != fixture.expect {
            wrong.push(format!("{}: expected {:?}, got {:?}", fixture.name, fixture.expect, found));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The event's product decides which rules may run: rules of its product (of a category it can have), rules of no
/// product whose category it can have, never a rule of another product; on an unrecognised event every rule may.
#[test]
fn rules_run_only_on_events_of_their_log_source() {
    let rule = |product: Option<&str>, service: Option<&str>, category: Option<&str>| LogSource {
        product: product.map(str::to_string),
        service: service.map(str::to_string),
        category: category.map(str::to_string),
        ..LogSource::default()
    };
    let windows_process = rule(Some("windows"), None, Some("process_creation"));
    let windows_security = rule(Some("windows"), Some("security"), None);
    let linux_process = rule(Some("linux"), None, Some("process_creation"));
    let cloudtrail = rule(Some("aws"), Some("cloudtrail"), None);
    let zeek_conn = rule(Some("zeek"), Some("conn"), None);
    let proxy = rule(None, None, Some("proxy"));
    let dns = rule(None, None, Some("dns"));

    let mut fields = FieldTable::default();
    let classifier = Classifier::new(&LogSourceTable::builtin(), &mut fields);
    let mut wrong = Vec::new();
    for fixture in fixtures() {
        let source = &classifier.sources[classifier.classify(&Event::new(&fixture.event, &fields, false)) as usize];
        let product = source.product.as_deref();
        let service = source.service.as_deref();
        // A rule of the product may be about any category when the event's is not known.
        let process = source.categories.is_empty() || source.categories.iter().any(|c| c == "process_creation");
        let expected = [
            (&windows_process, product.is_none() || (product == Some("windows") && process)),
            (&windows_security, product.is_none() || (product == Some("windows") && service == Some("security"))),
            (&linux_process, product.is_none() || (product == Some("linux") && process)),
            (&cloudtrail, product.is_none() || product == Some("aws")),
            (&zeek_conn, product.is_none() || (product == Some("zeek") && service != Some("dns"))),
            // No recognised product has proxy events.
            (&proxy, product.is_none()),
            // Zeek's logs can be about `dns` (its DNS log; the service is not always known); no other recognised
            // product's events can (Sysmon's are `dns_query`).
            (&dns, product.is_none() || product == Some("zeek")),
        ];
        for (rule, admitted) in expected {
            if source.admits(rule) != admitted {
                wrong.push(format!("{}: rule {rule} admitted {}, expected {admitted}", fixture.name, !admitted));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
