//! A hand-built timeline of failed (4625) and successful (4624) logons, and correlation cases over it with the
//! detections each must give: shared by the correlation tests of the SQL targets (tests/correlation_sql.rs) and of
//! the Spark engine (tests/spark_engine.rs).

pub const RULES: &str = "title: Failed logon
name: failed
logsource: {product: windows, service: security}
detection:
    s: {EventID: 4625}
    condition: s
---
title: Successful logon
name: success
logsource: {product: windows, service: security}
detection:
    s: {EventID: 4624}
    condition: s
";

/// (seconds, event id, TargetUserName, Bytes). Successful logons also name their user in `LogonUser`, the same
/// user except at 40 s (for the aliases case).
pub const TIMELINE: &[(u32, u32, Option<&str>, u32)] = &[
    (0, 4625, Some("eve"), 10),
    (3, 4625, Some("eve"), 20),
    (5, 4625, Some("bob"), 500),
    (9, 4625, Some("eve"), 30),  // eve: 3 failures in (-1 s, 9 s]
    (10, 4625, Some("eve"), 40), // the failure at 0 leaves a 10 s window exactly here
    (11, 4625, None, 5),         // no user: a group of its own
    (12, 4625, None, 5),
    (13, 4625, None, 5),
    (14, 4624, Some("bob"), 0), // bob: a success 9 s after his failure
    (20, 4625, Some("ann"), 1),
    (30, 4624, Some("ann"), 0), // ann: a success exactly 10 s after her failure
    (31, 4625, Some("eve"), 50),
    (32, 4625, Some("bob"), 700),
    (33, 4625, Some("eve"), 60),
    (35, 4625, Some("eve"), 70),
    (36, 4624, Some("eve"), 0), // eve: a success after three failures
    (40, 4624, Some("dan"), 0), // dan's success, logged with LogonUser eve
    (41, 4625, Some("dan"), 2), // dan: a failure after his success
];

pub fn logon_user(i: usize) -> Option<&'static str> {
    let (t, id, user, _) = TIMELINE[i];
    match (id, t) {
        (4624, 40) => Some("eve"),
        (4624, _) => user,
        _ => None,
    }
}

/// 2024-01-01T00:00:00Z in milliseconds: the timeline's second 0.
pub const EPOCH: i64 = 1_704_067_200_000;

pub fn time_text(t: u32) -> String {
    format!("2024-01-01T00:{:02}:{:02}Z", t / 60, t % 60)
}

pub type Expected = &'static [(&'static [Option<&'static str>], u32)];

const EVE: &[Option<&str>] = &[Some("eve")];
const BOB: &[Option<&str>] = &[Some("bob")];
const ANN: &[Option<&str>] = &[Some("ann")];
const DAN: &[Option<&str>] = &[Some("dan")];
const NOBODY: &[Option<&str>] = &[None];

/// (name, correlation documents, expected detections as (group, second)).
pub const CASES: &[(&str, &str, Expected)] = &[
    (
        "event_count",
        "title: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 3}\n",
        &[(EVE, 9), (NOBODY, 13), (EVE, 35)],
    ),
    (
        "event_count_without_group_over_two_rules",
        "title: c\ncorrelation:\n  type: event_count\n  rules: [failed, success]\n  timespan: 5s\n  condition: {gte: 5}\n",
        &[(&[], 13)],
    ),
    (
        "value_count",
        "title: c\ncorrelation:\n  type: value_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 3, field: Bytes}\n",
        &[(EVE, 9), (EVE, 35)],
    ),
    (
        "value_sum",
        "title: c\ncorrelation:\n  type: value_sum\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 100, field: Bytes}\n",
        &[(BOB, 5), (BOB, 32), (EVE, 33)],
    ),
    (
        "value_avg_with_a_range",
        "title: c\ncorrelation:\n  type: value_avg\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 5s\n  condition: {gt: 20, lte: 60, field: Bytes}\n",
        &[(EVE, 9), (EVE, 31)],
    ),
    (
        "value_median",
        "title: c\ncorrelation:\n  type: value_median\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 40, field: Bytes}\n",
        &[(BOB, 5), (EVE, 31), (BOB, 32)],
    ),
    (
        "value_percentile",
        "title: c\ncorrelation:\n  type: value_percentile\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {lt: 15, field: Bytes, percentile: 25}\n",
        &[(EVE, 0), (NOBODY, 11), (ANN, 20), (DAN, 41)],
    ),
    (
        "temporal_any_order",
        "title: c\ncorrelation:\n  type: temporal\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n",
        &[(BOB, 14), (EVE, 36), (DAN, 41)],
    ),
    (
        "temporal_ordered_failure_then_success",
        "title: c\ncorrelation:\n  type: temporal_ordered\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n",
        &[(BOB, 14), (EVE, 36)],
    ),
    (
        "extended_failure_without_success",
        "title: c\ncorrelation:\n  type: temporal\n  rules: [failed, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: failed and not success\n",
        &[(EVE, 0), (BOB, 5), (NOBODY, 11), (ANN, 20), (EVE, 31), (BOB, 32)],
    ),
    (
        "aliases_read_each_rules_own_field",
        "title: c\ncorrelation:\n  type: temporal\n  rules: [failed, success]\n  group-by: [user]\n  timespan: 10s\n  aliases:\n    user:\n      failed: TargetUserName\n      success: LogonUser\n",
        &[(BOB, 14), (EVE, 36)],
    ),
    (
        "chain_of_a_burst_then_a_success",
        "title: burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 10s\n  condition: {gte: 2}\n---\ntitle: c\ncorrelation:\n  type: temporal_ordered\n  rules: [burst, success]\n  group-by: [TargetUserName]\n  timespan: 10s\n",
        &[(EVE, 36)],
    ),
];

/// The rules and every case's correlations in one file, each case's correlation titled by the case's name.
pub fn rule_file() -> String {
    let mut text = RULES.to_string();
    for (name, correlations, _) in CASES {
        text.push_str("---\n");
        text.push_str(&correlations.replace("title: c\n", &format!("title: {name}\n")));
    }
    text
}

/// The timeline as Security events in JSON lines, their times written in every form `vigil hunt` reads (RFC 3339
/// with `Z`, `z`, an offset or a fraction; without an offset, with a space or a `T` and a fraction).
pub fn jsonl() -> String {
    let forms = [
        |t: u32| time_text(t),
        |t: u32| time_text(t).replace('T', "t").replace('Z', "z"),
        |t: u32| time_text(t).replace('Z', "+00:00"),
        |t: u32| time_text(t).replace('Z', ".000Z"),
        |t: u32| time_text(t).replace('T', " ").replace('Z', ""),
        |t: u32| time_text(t).replace('Z', ".0"),
    ];
    TIMELINE
        .iter()
        .enumerate()
        .map(|(i, (t, id, user, bytes))| {
            let event = serde_json::json!({
                "@timestamp": forms[i % forms.len()](*t),
                "Channel": "Security",
                "EventID": id,
                "TargetUserName": user,
                "LogonUser": logon_user(i),
                "Bytes": bytes,
            });
            format!("{event}\n")
        })
        .collect()
}
