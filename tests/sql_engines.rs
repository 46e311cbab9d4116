//! Results test for the SQL backends: every conformance fixture (`tests/conformance/*.yml`: a rule, then events
//! marked `match: true|false`) runs through the matcher and through its generated SQL on SQLite (embedded), DuckDB
//! (Python package) and a real PostgreSQL server (`VIGIL_POSTGRES_DSN`, started by `.ci/run`). Every engine must
//! return exactly the expected events. Where an engine cannot, the fixture says why, per event
//! (`skip: {postgres: "reason"}`, or `sql:` for every SQL engine); a skip that is no longer needed fails too.

mod common;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vigil_compiler::backend::{self, ConvertOptions, Target};
use vigil_compiler::compile::{compile_source, Settings};
use vigil_compiler::ir;
use vigil_runtime::sqlite::SqliteStore;
use vigil_runtime::RuleSet;

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "match")]
    expected: bool,
    event: serde_json::Value,
    #[serde(default)]
    skip: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Cases {
    events: Vec<Case>,
}

struct Fixture {
    name: String,
    rule: ir::Rule,
    cases: Vec<Case>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> Vec<Fixture> {
    let dir = root().join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fixtures").flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("UTF-8");
            let (rule_text, cases_text) = text.split_once("\n---\n").expect("a rule, `---`, then the events");
            let file = compile_source(path.display().to_string(), rule_text.to_string(), &Settings::default());
            let Some(rule) = file.documents[0].rule() else {
                panic!("{}: the rule does not load", path.display());
            };
            let cases: Cases = serde_yaml::from_str(cases_text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("").to_string();
            Fixture { name, rule: rule.rule.clone(), cases: cases.events }
        })
        .collect()
}

fn query(fixture: &Fixture, target: Target) -> String {
    let options = ConvertOptions { table: Some("logs".into()), ..ConvertOptions::default() };
    let mut queries = backend::convert(&fixture.rule, target, "default", &Default::default(), &options)
        .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
    queries.remove(0)
}

/// Records (1-based event positions) each engine returned, or the engine's error.
type Outcome = Result<Vec<u64>, String>;

/// DuckDB or PostgreSQL through `tests/engines/run_sql.py`.
fn run_python(engine: &str, fixtures: &[Fixture], dsn: Option<&str>) -> Vec<Outcome> {
    let target = if engine == "duckdb" { Target::Duckdb } else { Target::Postgres };
    let cases: Vec<serde_json::Value> = fixtures
        .iter()
        .map(|f| {
            let store = SqliteStore::create(None, &[&f.rule]).expect("store");
            let rows: Vec<Vec<serde_json::Value>> =
                f.cases.iter().enumerate().map(|(i, c)| store.row_json(0, i as u64 + 1, &c.event)).collect();
            serde_json::json!({"name": f.name, "columns": store.column_names(), "rows": rows, "query": query(f, target)})
        })
        .collect();
    let request = serde_json::json!({"engine": engine, "dsn": dsn, "cases": cases});
    common::run_sql(&request)
        .iter()
        .map(|r| match r.get("error").and_then(|e| e.as_str()) {
            Some(e) => Err(e.to_string()),
            None => Ok(r["records"].as_array().into_iter().flatten().filter_map(|v| v.as_u64()).collect()),
        })
        .collect()
}

fn run_sqlite(fixtures: &[Fixture]) -> Vec<Outcome> {
    fixtures
        .iter()
        .map(|f| {
            let mut store = SqliteStore::create(None, &[&f.rule])?;
            for (i, case) in f.cases.iter().enumerate() {
                store.add(0, i as u64 + 1, &case.event)?;
            }
            store.commit()?;
            Ok(store.run(&query(f, Target::Sqlite))?.into_iter().map(|row| row.record).collect())
        })
        .collect()
}

fn run_matcher(fixtures: &[Fixture]) -> Vec<Outcome> {
    fixtures
        .iter()
        .map(|f| {
            let (set, rejected) = RuleSet::build(vec![(f.name.clone(), f.rule.clone())]);
            if let Some(r) = rejected.first() {
                return Err(r.diagnostic.to_string());
            }
            Ok(f.cases
                .iter()
                .enumerate()
                .filter(|(_, c)| !set.matches(&set.event(&c.event)).is_empty())
                .map(|(i, _)| i as u64 + 1)
                .collect())
        })
        .collect()
}

/// Disagreements of one engine with the fixtures: unexpected results without a skip, and skips not needed.
fn check(engine: &str, fixtures: &[Fixture], outcomes: &[Outcome], problems: &mut Vec<String>) -> (usize, usize) {
    let (mut agreed, mut skipped) = (0, 0);
    for (fixture, outcome) in fixtures.iter().zip(outcomes) {
        for (i, case) in fixture.cases.iter().enumerate() {
            let record = i as u64 + 1;
            let skip = case.skip.get(engine).or_else(|| (engine != "matcher").then(|| case.skip.get("sql")).flatten());
            let got = outcome.as_ref().map(|records| records.contains(&record));
            match (got, skip) {
                (Ok(got), None) if got == case.expected => agreed += 1,
                (Ok(got), Some(_)) if got == case.expected => {
                    problems.push(format!("{engine}: {} event {record}: agrees now; remove its skip", fixture.name))
                }
                (_, Some(_)) => skipped += 1,
                (Ok(got), None) => problems.push(format!(
                    "{engine}: {} event {record}: expected match={}, got {got}: {}",
                    fixture.name, case.expected, case.event
                )),
                (Err(e), None) => problems.push(format!("{engine}: {} event {record}: {e}", fixture.name)),
            }
        }
    }
    (agreed, skipped)
}

fn conformance_fixtures() -> Vec<Fixture> {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 20, "expected the conformance fixtures");
    fixtures
}

/// Every engine's outcomes are the fixtures' expectations.
fn assert_expected(fixtures: &[Fixture], runs: &[(&str, Vec<Outcome>)]) {
    let mut problems = Vec::new();
    for (engine, outcomes) in runs {
        let (agreed, skipped) = check(engine, fixtures, outcomes, &mut problems);
        eprintln!("{engine}: {agreed} events as expected, {skipped} skipped with a reason");
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_matcher_and_sqlite_return_the_expected_events_of_every_conformance_fixture() {
    let fixtures = conformance_fixtures();
    assert_expected(&fixtures, &[("matcher", run_matcher(&fixtures)), ("sqlite", run_sqlite(&fixtures))]);
}

#[test]
#[ignore = "needs python3 with DuckDB and psycopg, and PostgreSQL (VIGIL_POSTGRES_DSN): tests/engines"]
fn duckdb_and_postgres_return_the_expected_events_of_every_conformance_fixture() {
    let fixtures = conformance_fixtures();
    let dsn =
        std::env::var("VIGIL_POSTGRES_DSN").expect("VIGIL_POSTGRES_DSN (tests/engines/start_postgres.sh prints it)");
    let runs = [
        ("duckdb", run_python("duckdb", &fixtures, None)),
        ("postgres", run_python("postgres", &fixtures, Some(&dsn))),
    ];
    assert_expected(&fixtures, &runs);
}
