//! Every deployable format (`vigil list formats -t T`) over the active SigmaHQ corpus: each rule's output parses
//! (JSON, one object per line; YAML for Sentinel), holds to the schema of what the SIEM imports
//! (`tests/deploy/*.schema.json`: Kibana's rule import and alerting API, saved objects, Elasticsearch request
//! bodies, Sentinel's analytics-rule template, Defender's detection rule), and carries exactly the query the
//! default format writes for the same rule (whose parsing by each language's own parser other tests check). A rule
//! the format refuses must be refused for a reason the test knows.

mod common;

use common::{stderr, vigil};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// One format to check: the target, the format, its pipelines, its schema, and where its query is.
struct Case {
    target: &'static str,
    format: &'static str,
    pipelines: &'static [&'static str],
    schema: &'static str,
    /// The query the output carries, for comparing with the default format's.
    query: fn(&Value) -> Option<String>,
}

fn at(pointer: &'static str) -> impl Fn(&Value) -> Option<String> {
    move |v| v.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

fn saved_search_query(v: &Value) -> Option<String> {
    let source: Value =
        serde_json::from_str(v.pointer("/attributes/kibanaSavedObjectMeta/searchSourceJSON")?.as_str()?).ok()?;
    source.pointer("/query/query").or_else(|| source.pointer("/query/esql")).and_then(Value::as_str).map(str::to_string)
}

/// The part of a tstats search that is the rule's own search: between ` where ` and ` by `.
fn data_model_query(v: &Value) -> Option<String> {
    let text = v.as_str()?;
    let start = text.find(" where ")? + " where ".len();
    let end = text[start..].find(" by ")? + start;
    Some(text[start..end].to_string())
}

const ECS: &[&str] = &["ecs-windows"];
const XDR: &[&str] = &["microsoft_xdr"];

fn cases() -> Vec<Case> {
    vec![
        Case {
            target: "lucene",
            format: "kibana_ndjson",
            pipelines: ECS,
            schema: "kibana_saved_search",
            query: saved_search_query,
        },
        Case {
            target: "lucene",
            format: "dsl_lucene",
            pipelines: ECS,
            schema: "search_bodies",
            query: |v| at("/query/bool/must/0/query_string/query")(v),
        },
        Case {
            target: "lucene",
            format: "siem_rule",
            pipelines: ECS,
            schema: "kibana_alerting_rule",
            query: |v| at("/params/query")(v),
        },
        Case {
            target: "lucene",
            format: "siem_rule_ndjson",
            pipelines: ECS,
            schema: "elastic_detection_rule",
            query: |v| at("/query")(v),
        },
        Case {
            target: "esql",
            format: "kibana_ndjson",
            pipelines: ECS,
            schema: "kibana_saved_search",
            query: saved_search_query,
        },
        Case {
            target: "esql",
            format: "siem_rule",
            pipelines: ECS,
            schema: "kibana_alerting_rule",
            query: |v| at("/params/query")(v),
        },
        Case {
            target: "esql",
            format: "siem_rule_ndjson",
            pipelines: ECS,
            schema: "elastic_detection_rule",
            query: |v| at("/query")(v),
        },
        Case { target: "eql", format: "eqlapi", pipelines: ECS, schema: "search_bodies", query: |v| at("/query")(v) },
        Case {
            target: "eql",
            format: "siem_rule",
            pipelines: ECS,
            schema: "kibana_alerting_rule",
            query: |v| at("/params/query")(v),
        },
        Case {
            target: "eql",
            format: "siem_rule_ndjson",
            pipelines: ECS,
            schema: "elastic_detection_rule",
            query: |v| at("/query")(v),
        },
        Case {
            target: "splunk",
            format: "data_model",
            pipelines: &["splunk_cim"],
            schema: "",
            query: data_model_query,
        },
        Case {
            target: "kusto",
            format: "sentinel_rule",
            pipelines: XDR,
            schema: "sentinel_analytics_rule",
            query: |v| at("/query")(v),
        },
        Case {
            target: "kusto",
            format: "sentinel_rule",
            pipelines: &["sentinel_asim"],
            schema: "sentinel_analytics_rule",
            query: |v| at("/query")(v),
        },
        Case {
            target: "kusto",
            format: "sentinel_rule",
            pipelines: &["azure_monitor"],
            schema: "sentinel_analytics_rule",
            query: |v| at("/query")(v),
        },
        Case {
            target: "kusto",
            format: "defender_detection",
            pipelines: XDR,
            schema: "defender_detection_rule",
            query: |v| at("/queryCondition/queryText")(v),
        },
    ]
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/deploy/{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Problems of one output against its schema (and what a schema cannot say), empty when it is valid.
fn problems(case: &Case, validator: Option<&jsonschema::Validator>, output: &Value) -> Vec<String> {
    let mut found: Vec<String> = validator
        .map(|v| v.iter_errors(output).map(|e| format!("{} at {}", e, e.instance_path())).collect())
        .unwrap_or_default();
    match (case.target, case.format) {
        (_, "kibana_ndjson") if saved_search_query(output).is_none() => {
            found.push("searchSourceJSON is not JSON with a query".into());
        }
        (_, "sentinel_rule") => {
            let minutes = |key: &str| -> Option<u64> {
                let text = output[key].as_str()?;
                let (n, unit) = text.split_at(text.len() - 1);
                let n: u64 = n.parse().ok()?;
                Some(match unit {
                    "m" => n,
                    "h" => n * 60,
                    "d" => n * 24 * 60,
                    _ => return None,
                })
            };
            match (minutes("queryFrequency"), minutes("queryPeriod")) {
                (Some(f), Some(p)) if (5..=14 * 24 * 60).contains(&f) && (5..=14 * 24 * 60).contains(&p) && p >= f => {}
                other => found.push(format!("queryFrequency/queryPeriod out of Sentinel's ranges: {other:?}")),
            }
        }
        ("splunk", "data_model") => {
            let text = output.as_str().unwrap_or("");
            let set = text.split("from datamodel=").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("");
            let data_set = set.split('.').nth(1).unwrap_or("");
            if !text.starts_with("| tstats ") || data_set.is_empty() {
                found.push("not a tstats search over a data model".into());
            }
            if !text.contains(&format!("`drop_dm_object_name({data_set})`")) {
                found.push(format!("no drop_dm_object_name({data_set})"));
            }
        }
        _ => {}
    }
    found
}

/// `vigil convert --jsonl` of the active corpus: path and document title -> its queries, or its error code.
fn convert(
    target: &str,
    format: &str,
    pipelines: &[&str],
    folders: &[String],
) -> HashMap<(String, String), Result<Vec<String>, String>> {
    let mut args = vec!["convert", "-t", target, "-f", format, "--jsonl"];
    for p in pipelines {
        args.extend(["-p", p]);
    }
    args.extend(folders.iter().map(String::as_str));
    let output = vigil(&args);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{target} {format}: {}", stderr(&output));
    let mut results = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let record: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{target} {format}: {e}: {line}"));
        let key =
            (record["path"].as_str().unwrap_or("").to_string(), record["title"].as_str().unwrap_or("").to_string());
        let result = if record["error"].is_null() {
            Ok(record["queries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|q| q.as_str().map(str::to_string))
                .collect())
        } else {
            Err(format!(
                "{} {}",
                record["error"]["code"].as_str().unwrap_or("?"),
                record["error"]["message"].as_str().unwrap_or("")
            ))
        };
        results.insert(key, result);
    }
    results
}

/// Why a format may refuse a rule the default format converts (the message's start).
const KNOWN_REFUSALS: &[&str] = &[
    // Sentinel ids are GUIDs; a few SigmaHQ rules have others.
    "unsupported-format Sentinel rule ids are GUIDs",
    "unsupported-format the query is longer than Sentinel's 10000 characters",
    // tstats reads data-model fields only.
    "unsupported-keyword tstats searches data-model fields only",
];

#[test]
#[ignore = "needs ../shared (the SigmaHQ corpus)"]
fn every_deployable_format_of_the_corpus_is_valid() {
    let folders = common::corpus_folders();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in cases() {
        let name = format!("{} -f {} -p {}", case.target, case.format, case.pipelines.join(" -p "));
        let validator = (!case.schema.is_empty()).then(|| schema(case.schema));
        let formatted = convert(case.target, case.format, case.pipelines, &folders);
        let plain = convert(case.target, "default", case.pipelines, &folders);
        let mut valid = 0usize;
        let mut refused: BTreeMap<String, usize> = BTreeMap::new();
        for (key, result) in &formatted {
            let Some(Ok(plain_queries)) = plain.get(key) else { continue };
            let outputs = match result {
                Ok(outputs) => outputs,
                Err(why) => {
                    if !KNOWN_REFUSALS.iter().any(|k| why.starts_with(k)) {
                        failures.push(format!("{name}: {}: refused: {why}", key.0));
                    }
                    *refused.entry(why.split(':').next().unwrap_or(why).to_string()).or_default() += 1;
                    continue;
                }
            };
            for (output, plain_query) in outputs.iter().zip(plain_queries) {
                let value: Value = match case.format {
                    "sentinel_rule" => match serde_yaml::from_str(output) {
                        Ok(v) => v,
                        Err(e) => {
                            failures.push(format!("{name}: {}: not YAML: {e}", key.0));
                            continue;
                        }
                    },
                    "data_model" => Value::String(output.clone()),
                    _ => {
                        if output.contains('\n') {
                            failures.push(format!("{name}: {}: a JSON object over several lines", key.0));
                        }
                        match serde_json::from_str(output) {
                            Ok(v) => v,
                            Err(e) => {
                                failures.push(format!("{name}: {}: not JSON: {e}", key.0));
                                continue;
                            }
                        }
                    }
                };
                let mut found = problems(&case, validator.as_ref(), &value);
                let carried = (case.query)(&value);
                let same = match (case.format, carried.as_deref()) {
                    // tstats: the search is the `where` (none when it is `*`), its commands come after the `by`.
                    ("data_model", Some(search)) => {
                        plain_query == search || plain_query.starts_with(&format!("{search} | "))
                    }
                    ("data_model", None) => plain_query == "*" || plain_query.starts_with("* | "),
                    (_, carried) => carried == Some(plain_query.as_str()),
                };
                if !same {
                    found.push(format!("carries {carried:?}, the default format {plain_query:?}"));
                }
                if found.is_empty() {
                    valid += 1;
                } else {
                    failures.push(format!("{name}: {}: {}", key.0, found.join("; ")));
                }
            }
        }
        let converted_plain = plain.values().filter(|r| r.is_ok()).count();
        report.push(format!(
            "{name}: {valid} valid of {converted_plain} converted by the default format; refused: {refused:?}"
        ));
        if valid + refused.values().sum::<usize>() < converted_plain {
            failures.push(format!("{name}: {valid} valid + refused < {converted_plain} converted"));
        }
        if valid < 100 {
            failures.push(format!("{name}: only {valid} valid outputs"));
        }
    }
    eprintln!("{}", report.join("\n"));
    failures.truncate(30);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The schemas refuse what Kibana, Sentinel and Defender refuse: the check above can fail.
#[test]
fn the_schemas_refuse_broken_rules() {
    let seed = |target: &str, format: &str, pipeline: &str| -> Value {
        let output =
            vigil(&["convert", "-t", target, "-f", format, "-p", pipeline, "rules/sysmon_wmi_module_load.yml"]);
        let text = common::stdout(&output);
        if format == "sentinel_rule" {
            serde_yaml::from_str(&text).expect("YAML")
        } else {
            serde_json::from_str(text.trim()).expect("JSON")
        }
    };
    let broken = |schema_name: &str, mut value: Value, change: &dyn Fn(&mut Value)| {
        let validator = schema(schema_name);
        assert!(validator.is_valid(&value), "{schema_name}: the seed's output is valid before the change");
        change(&mut value);
        assert!(!validator.is_valid(&value), "{schema_name}: {value}");
    };
    let elastic = seed("lucene", "siem_rule_ndjson", "ecs-windows");
    broken("elastic_detection_rule", elastic.clone(), &|v| v["risk_score"] = Value::from(101));
    broken("elastic_detection_rule", elastic.clone(), &|v| v["severity"] = Value::from("informational"));
    broken("elastic_detection_rule", elastic.clone(), &|v| {
        v.as_object_mut().map(|o| o.remove("rule_id"));
    });
    broken("elastic_detection_rule", elastic, &|v| v["threat"][0]["tactic"]["id"] = Value::from("execution"));
    let esql = seed("esql", "siem_rule_ndjson", "ecs-windows");
    broken("elastic_detection_rule", esql, &|v| v["index"] = serde_json::json!(["logs-*"]));
    let sentinel = seed("kusto", "sentinel_rule", "microsoft_xdr");
    broken("sentinel_analytics_rule", sentinel.clone(), &|v| v["severity"] = Value::from("Critical"));
    broken("sentinel_analytics_rule", sentinel.clone(), &|v| v["tactics"] = serde_json::json!(["Defense Evasion"]));
    broken("sentinel_analytics_rule", sentinel.clone(), &|v| v["id"] = Value::from("not-a-guid"));
    broken("sentinel_analytics_rule", sentinel, &|v| v["queryFrequency"] = Value::from("PT1H"));
    let defender = seed("kusto", "defender_detection", "microsoft_xdr");
    broken("defender_detection_rule", defender, &|v| v["schedule"]["period"] = Value::from("2H"));
}
