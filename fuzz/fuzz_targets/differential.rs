//! A random rule (from the IR's grammar: fields, modifiers, values, `and`/`or`/`not`, keywords) and random events:
//! the matcher and the rule's SQL on SQLite must find the same events, and every rule that matches an event must be
//! among the candidates the index and prefilter let through.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::{compile_source, Settings};
use vigil_runtime::sqlite::SqliteStore;
use vigil_runtime::RuleSet;

const FIELDS: &[&str] = &["Image", "CommandLine", "EventID", "User"];
const WORDS: &[&str] = &["cmd", "CMD.exe", "a b", "x*y", "\\\\", "é", "1", "10", "", "true", "%"];
const MODIFIERS: &[&str] = &["", "|contains", "|startswith", "|endswith", "|contains|all", "|cased", "|re", "|exists"];

fn word(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut text = String::new();
    for _ in 0..u.int_in_range(1..=3)? {
        text.push_str(u.choose(WORDS)?);
    }
    Ok(text)
}

fn yaml_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A selection: one to three field tests.
fn selection(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut out = String::new();
    for _ in 0..u.int_in_range(1..=3)? {
        let field = u.choose(FIELDS)?;
        let modifier = u.choose(MODIFIERS)?;
        let value = match *modifier {
            "|exists" => u.choose(&["true", "false"])?.to_string(),
            "|re" => yaml_string(&regex_escape_some(&word(u)?)),
            _ if u.arbitrary()? => format!("[{}, {}]", yaml_string(&word(u)?), yaml_string(&word(u)?)),
            _ if u.ratio(1, 8)? => "null".to_string(),
            _ => yaml_string(&word(u)?),
        };
        out.push_str(&format!("        {field}{modifier}: {value}\n"));
    }
    Ok(out)
}

fn regex_escape_some(text: &str) -> String {
    text.replace('*', ".*").replace('%', "\\%").replace('\\', "\\\\")
}

fn condition(u: &mut Unstructured<'_>, names: &[String], depth: u32) -> arbitrary::Result<String> {
    Ok(match u.int_in_range(0..=if depth > 2 { 0 } else { 3 })? {
        0 => u.choose(names)?.clone(),
        1 => format!("not {}", condition(u, names, depth + 1)?),
        2 => format!("({} and {})", condition(u, names, depth + 1)?, condition(u, names, depth + 1)?),
        _ => format!("({} or {})", condition(u, names, depth + 1)?, condition(u, names, depth + 1)?),
    })
}

fn rule(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let mut text = String::from("title: fuzz\nlogsource: {product: windows}\ndetection:\n");
    let mut names = Vec::new();
    for i in 0..u.int_in_range(1..=3)? {
        text.push_str(&format!("    s{i}:\n{}", selection(u)?));
        names.push(format!("s{i}"));
    }
    if u.ratio(1, 4)? {
        text.push_str(&format!("    k:\n        - {}\n", yaml_string(&word(u)?)));
        names.push("k".to_string());
    }
    text.push_str(&format!("    condition: {}\n", condition(u, &names, 0)?));
    Ok(text)
}

fn event(u: &mut Unstructured<'_>) -> arbitrary::Result<serde_json::Value> {
    let mut event = serde_json::Map::new();
    for field in FIELDS {
        match u.int_in_range(0..=4)? {
            0 => {}
            1 => drop(event.insert(field.to_string(), serde_json::Value::Null)),
            2 => drop(event.insert(field.to_string(), serde_json::json!(u.int_in_range(0..=12)?))),
            3 => drop(event.insert(field.to_string(), serde_json::json!(u.arbitrary::<bool>()?))),
            _ => drop(event.insert(field.to_string(), serde_json::json!(word(u)?))),
        }
    }
    Ok(serde_json::Value::Object(event))
}

#[derive(Debug)]
struct Case {
    rule: String,
    events: Vec<serde_json::Value>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let rule = rule(u)?;
        let events = (0..u.int_in_range(1..=6)?).map(|_| event(u)).collect::<arbitrary::Result<_>>()?;
        Ok(Case { rule, events })
    }
}

fuzz_target!(|case: Case| {
    let file = compile_source("fuzz.yml".into(), case.rule.clone(), &Settings::default());
    let Some(lowered) = file.documents.first().and_then(|d| d.rule()) else { return };
    let (set, rejected) = RuleSet::build(vec![(String::new(), lowered.rule.clone())]);
    if !rejected.is_empty() {
        return;
    }
    let options = ConvertOptions { table: Some("logs".into()), ..ConvertOptions::default() };
    let Ok(mut queries) = backend::convert(&lowered.rule, Target::Sqlite, "default", &lowered.state, &options) else {
        return;
    };
    let mut store = SqliteStore::create(None, &[&lowered.rule]).expect("store");
    let mut matcher = Vec::new();
    // A SQL column cannot tell a null value from a missing field, so `exists` on a present null differs there by
    // design (compiler/DESIGN.md, "Null and exists"): such events are left out of the comparison.
    let known_difference = |event: &serde_json::Value| {
        case.rule.contains("|exists") && event.as_object().is_some_and(|o| o.values().any(|v| v.is_null()))
    };
    for (i, event) in case.events.iter().enumerate() {
        if known_difference(event) {
            continue;
        }
        let decoded = set.event(event);
        let matched = !set.matches(&decoded).is_empty();
        assert_eq!(
            matched,
            set.rule_matches(0, &decoded.event),
            "the prefilter left out a match: {event}\n{}",
            case.rule
        );
        if matched {
            matcher.push(i as u64 + 1);
        }
        store.add(0, i as u64 + 1, event).expect("row");
    }
    store.commit().expect("commit");
    let query = queries.remove(0);
    let sqlite: Vec<u64> = store.run(&query).expect("the SQL runs").into_iter().map(|row| row.record).collect();
    assert_eq!(matcher, sqlite, "matcher and SQLite differ\n{}\n{query}\n{:?}", case.rule, case.events);
});
