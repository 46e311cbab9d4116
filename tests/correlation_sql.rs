//! Correlations: the engine of `vigil hunt` and the SQL `vigil convert` writes agree on hand-built timelines
//! (event_count, value_sum, value_avg; temporal, temporal_ordered and an extended `a and not b` condition),
//! including events exactly at the window's edge, several groups, a missing group value and out-of-order input.
//! The SQL runs on SQLite (embedded) and, where installed, DuckDB. For each group, a correlation detection of
//! the engine is the first event at which the condition holds after an event at which it did not; the SQL returns
//! every event at which it holds, from which the same transitions are read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};
use vigil_compiler::backend::{self, Options, Target};
use vigil_compiler::correlation::SigmaCorrelation;
use vigil_compiler::{load_str, lower, Content};
use vigil_runtime::correlation::{Engine, Hit, Spec};
use vigil_runtime::sqlite::SqliteStore;

const RULES: &str = "title: Failed logon
name: failed
logsource: {product: windows, service: security}
detection:
    s: {EventID: 4625}
    condition: s
";

/// (seconds, user, bytes) of each event; every event matches the base rule.
const TIMELINE: &[(u32, Option<&str>, u32)] = &[
    (0, Some("eve"), 10),
    (3, Some("eve"), 20),
    (5, Some("bob"), 500),
    (9, Some("eve"), 30),  // eve: 3 events in (0, 9]
    (10, Some("eve"), 40), // the event at 0 leaves the window exactly here
    (11, None, 5),
    (12, None, 5),
    (13, None, 5),
    (30, Some("eve"), 50), // eve alone again
    (31, Some("bob"), 700),
    (32, Some("eve"), 60),
    (33, Some("eve"), 70),
];

fn events() -> Vec<serde_json::Value> {
    TIMELINE
        .iter()
        .map(|(t, user, bytes)| {
            let mut e =
                serde_json::json!({"@timestamp": format!("2024-01-01T00:00:{t:02}Z"), "EventID": 4625, "Bytes": bytes});
            if let Some(u) = user {
                e["TargetUserName"] = serde_json::json!(u);
            }
            e
        })
        .collect()
}

fn correlation(block: &str) -> SigmaCorrelation {
    let text = format!("title: c\ncorrelation:\n{block}");
    let Some(Content::Correlation(c)) = load_str(&text).remove(0).content else { panic!("{text}") };
    c
}

/// The engine's detections as (group value, record of the event that fired).
fn engine_detections(c: &SigmaCorrelation, order: &[usize]) -> BTreeSet<(Option<String>, u64)> {
    let mut engine = Engine::new(vec![Spec::from_rule(c, vec![(0, "failed".into())], None)], 60_000, 1000);
    let all = events();
    let mut found = Vec::new();
    for &i in order {
        let event = &all[i];
        let time = vigil_runtime::time::millis(event["@timestamp"].as_str().unwrap_or("")).expect("time");
        let mut fields = BTreeMap::new();
        for key in ["TargetUserName", "Bytes"] {
            if let Some(v) = event.get(key) {
                fields.insert(key.to_string(), v.as_str().map_or_else(|| v.to_string(), str::to_string));
            }
        }
        found.extend(engine.push(Hit { input: 0, time, fields, source: (0, i as u64 + 1) }));
    }
    found.extend(engine.finish());
    found.iter().map(|d| (d.group[0].1.clone(), d.events.last().map_or(0, |e| e.1))).collect()
}

/// Transitions read from the records at which the SQL says the condition holds.
fn transitions(holding: &BTreeSet<u64>) -> BTreeSet<(Option<String>, u64)> {
    let mut by_group: BTreeMap<Option<&str>, Vec<u64>> = BTreeMap::new();
    for (i, (_, user, _)) in TIMELINE.iter().enumerate() {
        by_group.entry(*user).or_default().push(i as u64 + 1);
    }
    let mut out = BTreeSet::new();
    for (user, records) in by_group {
        let mut before = false;
        for r in records {
            let now = holding.contains(&r);
            if now && !before {
                out.insert((user.map(str::to_string), r));
            }
            before = now;
        }
    }
    out
}

fn sql(c: &SigmaCorrelation, target: Target) -> String {
    let Some(Content::Rule(rule)) = load_str(RULES).remove(0).content else { panic!("rule") };
    let options = Options { table: Some("logs".into()), ..Options::default() };
    let base = backend::convert(&lower(rule), target, "default", &Default::default(), &options).expect("base rule");
    backend::convert_correlation(c, &base, target, &options).expect("correlation SQL")
}

/// The base rule, with the correlation's fields added as tests so that the store has their columns.
fn rule_with_fields() -> vigil_compiler::ir::Rule {
    use vigil_compiler::ir::{Expr, Test};
    let Some(Content::Rule(rule)) = load_str(RULES).remove(0).content else { panic!("rule") };
    let mut rule = lower(rule);
    rule.expr = Expr::and(vec![
        rule.expr.clone(),
        Expr::pred(Some("TargetUserName".into()), Test::Exists),
        Expr::pred(Some("Bytes".into()), Test::Exists),
    ]);
    rule
}

fn sqlite_holding(c: &SigmaCorrelation) -> BTreeSet<u64> {
    let mut store = SqliteStore::create(None, &[&rule_with_fields()]).expect("store");
    for (i, e) in events().iter().enumerate() {
        store.add(0, i as u64 + 1, e).expect("add");
    }
    store.commit().expect("commit");
    store.run(&sql(c, Target::Sqlite)).expect("SQLite runs the correlation").into_iter().map(|(_, r, _)| r).collect()
}

/// DuckDB through its Python package; `None` when it is not installed (CI installs it).
fn duckdb_holding(c: &SigmaCorrelation) -> Option<BTreeSet<u64>> {
    let store = SqliteStore::create(None, &[&rule_with_fields()]).expect("store");
    let rows: Vec<Vec<serde_json::Value>> =
        events().iter().enumerate().map(|(i, e)| store.row_json(0, i as u64 + 1, e)).collect();
    let request = serde_json::json!({"engine": "duckdb", "cases": [
        {"name": "c", "columns": store.column_names(), "rows": rows, "query": sql(c, Target::Duckdb)}
    ]});
    let mut child = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engines/run_sql.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(request.to_string().as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        assert!(std::env::var_os("CI").is_none(), "DuckDB must be installed in CI");
        return None;
    }
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(result[0]["error"].is_null(), "DuckDB: {}", result[0]["error"]);
    Some(result[0]["records"].as_array()?.iter().filter_map(|v| v.as_u64()).collect())
}

fn check(block: &str) {
    let c = correlation(block);
    let in_order: Vec<usize> = (0..TIMELINE.len()).collect();
    let expected = engine_detections(&c, &in_order);
    assert!(!expected.is_empty(), "the timeline must make this correlation fire: {block}");
    // Out of order within the lateness: the same detections.
    let mut shuffled = in_order.clone();
    shuffled.swap(1, 3);
    shuffled.swap(8, 10);
    assert_eq!(engine_detections(&c, &shuffled), expected, "out-of-order input");
    assert_eq!(transitions(&sqlite_holding(&c)), expected, "SQLite: {}", sql(&c, Target::Sqlite));
    if let Some(holding) = duckdb_holding(&c) {
        assert_eq!(transitions(&holding), expected, "DuckDB: {}", sql(&c, Target::Duckdb));
    }
}

#[test]
fn event_count_agrees() {
    check("  type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 3}\n");
}

#[test]
fn value_sum_agrees() {
    check("  type: value_sum\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 100, field: Bytes}\n");
}

#[test]
fn value_avg_with_a_range_agrees() {
    check("  type: value_avg\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 5s\n  condition: {gt: 20, lte: 60, field: Bytes}\n");
}

#[test]
fn types_sql_cannot_express_are_coded() {
    for block in [
        "  type: value_median\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 2, field: Bytes}\n",
        "  type: value_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 2, field: Bytes}\n",
    ] {
        let c = correlation(block);
        let error = backend::convert_correlation(&c, &["SELECT 1".into()], Target::Sqlite, &Options::default())
            .expect_err("unsupported");
        assert_eq!(error.code, vigil_compiler::Code::UnsupportedCorrelation);
    }
}

/// Temporal types on their own timeline: failed (4625) and successful (4624) logons of two users.
mod temporal {
    use super::*;

    const RULES: &str = "title: Failed\nname: failed\nlogsource: {product: windows}\ndetection:\n  s: {EventID: 4625}\n  condition: s\n---\ntitle: Success\nname: success\nlogsource: {product: windows}\ndetection:\n  s: {EventID: 4624}\n  condition: s\n";

    /// (seconds, user, event id)
    const TIMELINE: &[(u32, &str, u32)] = &[
        (0, "eve", 4624), // eve: success before failure
        (2, "eve", 4625),
        (5, "bob", 4625),
        (9, "bob", 4624), // bob: failure then success, 4 s apart
        (20, "ann", 4625),
        (30, "ann", 4624), // ann: exactly 10 s apart: outside a 10 s window
        (40, "eve", 4625),
        (55, "eve", 4625),
    ];

    fn events() -> Vec<serde_json::Value> {
        TIMELINE
            .iter()
            .map(|(t, user, id)| serde_json::json!({"@timestamp": format!("2024-01-01T00:00:{t:02}Z"), "EventID": id, "TargetUserName": user}))
            .collect()
    }

    fn rules() -> Vec<vigil_compiler::ir::Rule> {
        load_str(RULES)
            .into_iter()
            .filter_map(|d| match d.content {
                Some(Content::Rule(r)) => Some(lower(r)),
                _ => None,
            })
            .collect()
    }

    fn engine(c: &SigmaCorrelation) -> BTreeSet<(Option<String>, u64)> {
        let inputs = c.rules.iter().map(|r| (if r == "failed" { 0 } else { 1 }, r.clone())).collect();
        let mut engine = Engine::new(vec![Spec::from_rule(c, inputs, None)], 0, 100);
        let mut found = Vec::new();
        for (i, (t, user, id)) in TIMELINE.iter().enumerate() {
            let input = if *id == 4625 { 0 } else { 1 };
            let fields = [("TargetUserName".to_string(), user.to_string())].into_iter().collect();
            found.extend(engine.push(Hit { input, time: *t as i64 * 1000, fields, source: (0, i as u64 + 1) }));
        }
        found.extend(engine.finish());
        found.iter().map(|d| (d.group[0].1.clone(), d.events.last().map_or(0, |e| e.1))).collect()
    }

    fn transitions(holding: &BTreeSet<u64>) -> BTreeSet<(Option<String>, u64)> {
        let mut by_group: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (i, (_, user, _)) in TIMELINE.iter().enumerate() {
            by_group.entry(user).or_default().push(i as u64 + 1);
        }
        let mut out = BTreeSet::new();
        for (user, records) in by_group {
            let mut before = false;
            for r in records {
                let now = holding.contains(&r);
                if now && !before {
                    out.insert((Some(user.to_string()), r));
                }
                before = now;
            }
        }
        out
    }

    fn sqlite(c: &SigmaCorrelation) -> BTreeSet<u64> {
        let rules = rules();
        let options = Options { table: Some("logs".into()), ..Options::default() };
        let base: Vec<String> = c
            .rules
            .iter()
            .map(|name| {
                let rule = if name == "failed" { &rules[0] } else { &rules[1] };
                backend::convert(rule, Target::Sqlite, "default", &Default::default(), &options)
                    .expect("rule")
                    .remove(0)
            })
            .collect();
        let query = backend::convert_correlation(c, &base, Target::Sqlite, &options).expect("SQL");
        let mut with_user = rules[0].clone();
        with_user.expr =
            vigil_compiler::ir::Expr::pred(Some("TargetUserName".into()), vigil_compiler::ir::Test::Exists);
        let mut store = SqliteStore::create(None, &[&rules[0], &rules[1], &with_user]).expect("store");
        for (i, e) in events().iter().enumerate() {
            store.add(0, i as u64 + 1, e).expect("add");
        }
        store.commit().expect("commit");
        store.run(&query).unwrap_or_else(|e| panic!("{e}\n{query}")).into_iter().map(|(_, r, _)| r).collect()
    }

    fn check(block: &str, expected: &[(&str, u64)]) {
        let c = correlation(block);
        let from_engine = engine(&c);
        let expected: BTreeSet<(Option<String>, u64)> =
            expected.iter().map(|(u, r)| (Some(u.to_string()), *r)).collect();
        assert_eq!(from_engine, expected, "engine: {block}");
        assert_eq!(transitions(&sqlite(&c)), expected, "SQLite: {block}");
    }

    #[test]
    fn temporal_any_order() {
        check(
            "  type: temporal\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n",
            &[("eve", 2), ("bob", 4)],
        );
    }

    #[test]
    fn temporal_ordered_failure_then_success() {
        check(
            "  type: temporal_ordered\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n",
            &[("bob", 4)],
        );
    }

    #[test]
    fn extended_failure_without_success() {
        check(
            "  type: temporal\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: failed and not success\n",
            &[("bob", 3), ("ann", 5), ("eve", 7)],
        );
    }
}
