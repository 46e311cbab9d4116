//! Correlation rules over a stream of detections: true sliding windows over event time, per group.
//!
//! Input: the detections of the base rules (and, for chains, of other correlations), each with its event's
//! time, the group-by values read from its event, and the aggregated field's value. The engine keeps, per
//! correlation and group, only the hits still inside the window (expired as time moves on), and reports a
//! correlation detection when its condition becomes true for a group (and again only after it has been false).
//!
//! Semantics (compiler/DESIGN.md, "Correlations"):
//! - The window of a hit at time `t` is `(t - timespan, t]`: a hit exactly `timespan` older no longer counts.
//! - `event_count`: hits in the window; `value_count`: distinct values of the field; `value_sum`/`value_avg`/
//!   `value_percentile`/`value_median`: over the numeric values of the field (other values are ignored).
//! - `temporal`: every referenced rule has a hit in the window (or the extended condition holds over "has a hit
//!   in the window"); `temporal_ordered`: the rules' hits occur in the listed order within the window.
//! - Conditions are checked when a hit arrives, so `lt`/`lte` hold for windows that contain at least one hit.
//! - Hits may arrive out of order by up to `lateness`: they are held in a buffer and released in time order once
//!   the newest time seen is `lateness` past them. A hit older than one already released is counted as too late
//!   and dropped (processing it would reorder the past).
//! - Groups whose windows are empty are forgotten; at most `max_groups` groups per correlation are kept, and
//!   reaching the limit is reported (new groups are dropped until old ones expire).

use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use vigil_compiler::ir::correlation::{CmpOp, Condition, Correlation, CorrelationType, InputField};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A detection entering the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Which input it is, as numbered by [`CorrelationEngine::new`] (`inputs`).
    pub input: usize,
    pub time: Millis,
    /// The event's values of every correlation's group-by fields and aggregated field, by field name.
    pub fields: BTreeMap<String, String>,
    /// Where the event is: (file, record), for reporting the contributing events.
    pub source: (u32, u64),
}

/// A correlation detection.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// The correlation, by its position in the engine.
    pub correlation: usize,
    /// (group-by field, value) pairs; a missing value is `None`.
    pub group: Vec<(String, Option<String>)>,
    pub window_start: Millis,
    pub window_end: Millis,
    /// The aggregate that met the condition (count, distinct values, sum, ...); `None` for temporal types.
    pub value: Option<f64>,
    /// The events of the window, in time order.
    pub events: Vec<(u32, u64)>,
}

/// What the engine had to leave out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    pub too_late: u64,
    pub groups_dropped: u64,
}

/// One correlation, resolved against the engine's inputs.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: CorrelationType,
    /// What it reads, in the order of its `rules`.
    pub inputs: Vec<SpecInput>,
    pub group_by: Vec<String>,
    pub timespan_ms: Millis,
    pub condition: Option<Condition>,
    pub percentile: f64,
    /// The input this correlation's own detections feed (chains), if another correlation reads it.
    pub output: Option<usize>,
}

/// One input of a correlation: the engine input it is, and the names its hits carry each field under.
#[derive(Clone, Debug)]
pub struct SpecInput {
    pub input: usize,
    /// Per group-by field, the hit field holding it (`None`: the input has no such value).
    pub group_keys: Vec<Option<String>>,
    /// The hit field holding the aggregated value.
    pub value_key: Option<String>,
}

impl Spec {
    /// A spec from a lowered correlation: `inputs[i]` is the engine input of its `i`-th input, and
    /// `chained_group_by(i)` the group-by fields of the correlation it reads if it is a chain (a chained
    /// detection's hit carries its group values under those names).
    pub fn new(
        correlation: &Correlation,
        inputs: Vec<usize>,
        chained_group_by: &dyn Fn(usize) -> Option<Vec<String>>,
        output: Option<usize>,
    ) -> Spec {
        let inputs = correlation
            .inputs
            .iter()
            .zip(inputs)
            .enumerate()
            .map(|(i, (lowered, input))| {
                let key = |field: &InputField| match field {
                    InputField::Field(name) => Some(name.clone()),
                    InputField::ChainedGroup(k) => chained_group_by(i).and_then(|g| g.get(*k).cloned()),
                    InputField::Missing => None,
                };
                SpecInput {
                    input,
                    group_keys: lowered.group_fields.iter().map(key).collect(),
                    value_key: lowered.value.as_ref().and_then(key),
                }
            })
            .collect();
        Spec {
            kind: correlation.kind,
            inputs,
            group_by: correlation.group_by.clone(),
            timespan_ms: correlation
                .timespan
                .map_or(Millis::MAX / 4, |s| Millis::try_from(s).unwrap_or(Millis::MAX).saturating_mul(1000)),
            condition: correlation.condition.clone(),
            percentile: correlation.percentile,
            output,
        }
    }
}

/// A hit kept in a group's window.
#[derive(Clone, Debug)]
struct Kept {
    time: Millis,
    /// Position of the rule in the spec's `inputs`.
    rule: usize,
    value: Option<String>,
    source: (u32, u64),
}

#[derive(Default)]
struct Group {
    window: VecDeque<Kept>,
    /// Whether the condition held at the last hit (a detection is reported when it turns true).
    firing: bool,
}

/// Buffered hit, ordered by time (the earliest first out of the max-heap).
struct Pending(Hit, u64);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.0.time == other.0.time && self.1 == other.1
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.0.time, other.1).cmp(&(self.0.time, self.1))
    }
}

/// The correlation engine.
pub struct CorrelationEngine {
    specs: Vec<Spec>,
    /// input -> the correlations reading it, with the rule's position in each.
    readers: HashMap<usize, Vec<(usize, usize)>>,
    groups: Vec<HashMap<Vec<Option<String>>, Group>>,
    buffer: BinaryHeap<Pending>,
    sequence: u64,
    newest: Millis,
    released: Millis,
    lateness: Millis,
    max_groups: usize,
    /// Hits processed since each correlation's last sweep of expired groups.
    since_sweep: Vec<u32>,
    pub limits: Limits,
}

/// Expired groups are swept after this many hits of a correlation, so that memory follows the groups alive in
/// the window rather than every key ever seen.
const SWEEP_EVERY: u32 = 16_384;

impl CorrelationEngine {
    pub fn new(specs: Vec<Spec>, lateness: Millis, max_groups: usize) -> CorrelationEngine {
        let mut readers: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
        for (c, spec) in specs.iter().enumerate() {
            for (position, input) in spec.inputs.iter().enumerate() {
                readers.entry(input.input).or_default().push((c, position));
            }
        }
        let groups = specs.iter().map(|_| HashMap::new()).collect();
        let since_sweep = vec![0; specs.len()];
        CorrelationEngine {
            since_sweep,
            specs,
            readers,
            groups,
            buffer: BinaryHeap::new(),
            sequence: 0,
            newest: Millis::MIN,
            released: Millis::MIN,
            lateness,
            max_groups,
            limits: Limits::default(),
        }
    }

    /// Adds a hit; returns the detections that became due (hits are released in time order after `lateness`).
    pub fn push(&mut self, hit: Hit) -> Vec<Detection> {
        if hit.time < self.released {
            self.limits.too_late += 1;
            return Vec::new();
        }
        self.newest = self.newest.max(hit.time);
        self.sequence += 1;
        self.buffer.push(Pending(hit, self.sequence));
        let due = self.newest.saturating_sub(self.lateness);
        self.release(Some(due))
    }

    /// Releases every buffered hit (end of input).
    pub fn finish(&mut self) -> Vec<Detection> {
        self.release(None)
    }

    fn release(&mut self, until: Option<Millis>) -> Vec<Detection> {
        let mut out = Vec::new();
        while let Some(Pending(hit, _)) = self.buffer.peek() {
            if until.is_some_and(|u| hit.time > u) {
                break;
            }
            let Some(Pending(hit, _)) = self.buffer.pop() else { break };
            self.released = self.released.max(hit.time);
            self.process(hit, &mut out);
        }
        out
    }

    /// Feeds one hit (in time order) to the correlations reading its input; chained detections feed on.
    fn process(&mut self, hit: Hit, out: &mut Vec<Detection>) {
        let mut queue = vec![hit];
        while let Some(hit) = queue.pop() {
            let readers = self.readers.get(&hit.input).cloned().unwrap_or_default();
            for (c, position) in readers {
                if let Some(detection) = self.update(c, position, &hit) {
                    if let Some(output) = self.specs[c].output {
                        // A chained correlation reads this detection as a hit at its time, with its group values.
                        let fields =
                            detection.group.iter().filter_map(|(k, v)| Some((k.clone(), v.clone()?))).collect();
                        queue.push(Hit { input: output, time: detection.window_end, fields, source: hit.source });
                    }
                    out.push(detection);
                }
            }
        }
    }

    fn update(&mut self, c: usize, position: usize, hit: &Hit) -> Option<Detection> {
        let spec = &self.specs[c];
        let input = &spec.inputs[position];
        let read = |key: &Option<String>| key.as_ref().and_then(|k| hit.fields.get(k).cloned());
        let key: Vec<Option<String>> = input.group_keys.iter().map(read).collect();
        let value = read(&input.value_key);
        let groups = &mut self.groups[c];
        self.since_sweep[c] += 1;
        if self.since_sweep[c] >= SWEEP_EVERY {
            self.since_sweep[c] = 0;
            let horizon = hit.time.saturating_sub(spec.timespan_ms);
            groups.retain(|_, g| g.window.back().is_some_and(|k| k.time > horizon));
        }
        if !groups.contains_key(&key) && groups.len() >= self.max_groups {
            // Make room by forgetting groups whose windows have expired before refusing the new one.
            let horizon = hit.time.saturating_sub(spec.timespan_ms);
            groups.retain(|_, g| g.window.back().is_some_and(|k| k.time > horizon));
            if groups.len() >= self.max_groups {
                self.limits.groups_dropped += 1;
                return None;
            }
        }
        let group = groups.entry(key.clone()).or_default();
        group.window.push_back(Kept { time: hit.time, rule: position, value, source: hit.source });
        while group.window.front().is_some_and(|k| k.time <= hit.time.saturating_sub(spec.timespan_ms)) {
            group.window.pop_front();
        }
        if group.window.len() == 1 {
            // The group's window had emptied: the condition was false in between, whether or not the group
            // was swept meanwhile (so that detections never depend on when sweeps happen).
            group.firing = false;
        }
        let (holds, aggregate) = evaluate(spec, &group.window);
        let fire = holds && !group.firing;
        group.firing = holds;
        fire.then(|| Detection {
            correlation: c,
            group: spec.group_by.iter().cloned().zip(key).collect(),
            window_start: group.window.front().map_or(hit.time, |k| k.time),
            window_end: hit.time,
            value: aggregate,
            events: group.window.iter().map(|k| k.source).collect(),
        })
    }

    /// Groups currently held, over all correlations (for memory reports and tests).
    pub fn group_count(&self) -> usize {
        self.groups.iter().map(HashMap::len).sum()
    }
}

fn compare(op: CmpOp, value: f64, threshold: f64) -> bool {
    match op {
        CmpOp::Gt => value > threshold,
        CmpOp::Gte => value >= threshold,
        CmpOp::Lt => value < threshold,
        CmpOp::Lte => value <= threshold,
        CmpOp::Eq => value == threshold,
        CmpOp::Neq => value != threshold,
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Whether the condition holds over a window, and the aggregate it compared.
fn evaluate(spec: &Spec, window: &VecDeque<Kept>) -> (bool, Option<f64>) {
    let numbers = || -> Vec<f64> { window.iter().filter_map(|k| k.value.as_deref()?.trim().parse().ok()).collect() };
    let aggregate = match spec.kind {
        CorrelationType::EventCount => Some(window.len() as f64),
        CorrelationType::ValueCount => {
            let distinct: std::collections::BTreeSet<&str> = window.iter().filter_map(|k| k.value.as_deref()).collect();
            Some(distinct.len() as f64)
        }
        CorrelationType::ValueSum => Some(numbers().iter().sum()),
        CorrelationType::ValueAvg => {
            let n = numbers();
            (!n.is_empty()).then(|| n.iter().sum::<f64>() / n.len() as f64)
        }
        CorrelationType::ValuePercentile | CorrelationType::ValueMedian => {
            let mut n = numbers();
            n.sort_by(f64::total_cmp);
            percentile(&n, spec.percentile)
        }
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
            return (temporal_holds(spec, window), None);
        }
    };
    let holds = match (&spec.condition, aggregate) {
        (Some(Condition::Threshold(ops)), Some(value)) => {
            ops.iter().all(|(op, threshold)| compare(*op, value, *threshold))
        }
        _ => false,
    };
    (holds, aggregate)
}

fn temporal_holds(spec: &Spec, window: &VecDeque<Kept>) -> bool {
    let n = spec.inputs.len();
    let seen = |rule: usize| window.iter().any(|k| k.rule == rule);
    let ordered = spec.kind == CorrelationType::TemporalOrdered;
    if let Some(Condition::Inputs(condition)) = &spec.condition {
        // Ordered: the condition over the rules seen, and those rules' hits in the listed order.
        if ordered {
            let present: Vec<usize> = (0..n).filter(|r| seen(*r)).collect();
            if in_order(window, &present) < present.len() {
                return false;
            }
        }
        return condition.eval(&seen);
    }
    let needed = match &spec.condition {
        Some(Condition::Threshold(ops)) => ops.clone(),
        _ => vec![(CmpOp::Gte, n as f64)],
    };
    // How many rules are in the window: distinct rules, or for `temporal_ordered` the most rules whose hits
    // occur in the listed order.
    let count =
        if ordered { in_order(window, &(0..n).collect::<Vec<_>>()) } else { (0..n).filter(|r| seen(*r)).count() };
    needed.iter().all(|(op, threshold)| compare(*op, count as f64, *threshold))
}

/// The most of `rules` (in their listed order) whose hits occur in that order in the window: the longest
/// strictly increasing run of list positions among the hits (patience sorting, O(w log n)).
fn in_order(window: &VecDeque<Kept>, rules: &[usize]) -> usize {
    let mut tails: Vec<usize> = Vec::new();
    for k in window {
        let Some(position) = rules.iter().position(|&r| r == k.rule) else { continue };
        match tails.binary_search(&position) {
            Ok(_) => {}
            Err(i) if i == tails.len() => tails.push(position),
            Err(i) => tails[i] = position,
        }
    }
    tails.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_compiler::compile::{compile_source, Compilation, Settings};

    /// A correlation from its `correlation:` block, compiled with a rule for each name it reads, reading
    /// engine inputs 0, 1, ... in the order of its rules.
    fn spec(block: &str) -> Spec {
        let mut text = format!("title: tested\nname: tested\ncorrelation:\n{block}");
        for name in ["failed", "logon", "r", "a", "b", "c", "proc", "many_failures", "success"] {
            text.push_str(&format!(
                "---\ntitle: {name}\nname: {name}\nlogsource: {{product: x}}\ndetection: {{s: {{f: 1}}, condition: s}}\n"
            ));
        }
        let settings = Settings::default();
        let compilation = Compilation::new(vec![compile_source("test".into(), text, &settings)], &settings);
        let linked = compilation.correlations.first().unwrap_or_else(|| panic!("not a correlation: {block}"));
        let inputs = (0..linked.correlation.inputs.len()).collect();
        Spec::new(&linked.correlation, inputs, &|_| None, None)
    }

    fn hit(input: usize, seconds: i64, fields: &[(&str, &str)]) -> Hit {
        Hit {
            input,
            time: seconds * 1000,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            source: (0, seconds as u64),
        }
    }

    /// Runs hits through one correlation (no lateness) and returns (window end in seconds, value) per detection.
    fn run(spec: Spec, hits: Vec<Hit>) -> Vec<(i64, Option<f64>)> {
        let mut engine = CorrelationEngine::new(vec![spec], 0, 1000);
        let mut out = Vec::new();
        for h in hits {
            out.extend(engine.push(h));
        }
        out.extend(engine.finish());
        out.iter().map(|d| (d.window_end / 1000, d.value)).collect()
    }

    #[test]
    fn event_count_per_group_with_the_window_edge_excluded() {
        let s = || {
            spec("  type: event_count\n  rules: [failed]\n  group-by: [User]\n  timespan: 10s\n  condition: {gte: 3}\n")
        };
        let u = |t, user| hit(0, t, &[("User", user)]);
        assert_eq!(run(s(), vec![u(0, "a"), u(1, "b"), u(4, "a"), u(9, "a")]), vec![(9, Some(3.0))]);
        // The hit at 0 is exactly 10 s before the one at 10: outside the window.
        assert_eq!(run(s(), vec![u(0, "a"), u(5, "a"), u(10, "a")]), vec![]);
        // Fires once while the condition holds, again after it stopped holding.
        let hits = vec![u(0, "a"), u(1, "a"), u(2, "a"), u(3, "a"), u(30, "a"), u(31, "a"), u(32, "a")];
        assert_eq!(run(s(), hits), vec![(2, Some(3.0)), (32, Some(3.0))]);
    }

    #[test]
    fn ranges_and_missing_group_fields() {
        let s = spec(
            "  type: event_count\n  rules: [r]\n  group-by: [Host]\n  timespan: 1m\n  condition: {gt: 1, lte: 2}\n",
        );
        // Events without the field form their own group (Host = none).
        let hits = vec![hit(0, 0, &[]), hit(0, 1, &[]), hit(0, 2, &[("Host", "x")])];
        let mut engine = CorrelationEngine::new(vec![s], 0, 10);
        let mut found = Vec::new();
        for h in hits {
            found.extend(engine.push(h));
        }
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].group, vec![("Host".to_string(), None)]);
        assert_eq!(found[0].events, vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn value_count_counts_distinct_values() {
        let s = spec("  type: value_count\n  rules: [logon]\n  group-by: [User]\n  timespan: 1h\n  condition: {gte: 3, field: Host}\n");
        let h = |t, host| hit(0, t, &[("User", "bob"), ("Host", host)]);
        assert_eq!(run(s, vec![h(0, "a"), h(1, "a"), h(2, "b"), h(3, "b"), h(4, "c")]), vec![(4, Some(3.0))]);
    }

    #[test]
    fn value_sum_avg_percentile_median() {
        let h = |t, bytes: &str| hit(0, t, &[("Host", "h"), ("Bytes", bytes)]);
        let hits = || vec![h(0, "10"), h(1, "not a number"), h(2, "30"), h(3, "200")];
        let sum = spec("  type: value_sum\n  rules: [r]\n  group-by: [Host]\n  timespan: 1m\n  condition: {gt: 100, field: Bytes}\n");
        assert_eq!(run(sum, hits()), vec![(3, Some(240.0))]);
        let avg = spec("  type: value_avg\n  rules: [r]\n  group-by: [Host]\n  timespan: 1m\n  condition: {gte: 20, field: Bytes}\n");
        assert_eq!(run(avg, hits()), vec![(2, Some(20.0))]);
        let pct = spec(
            "  type: value_percentile\n  rules: [r]\n  group-by: [Host]\n  timespan: 1m\n  condition: {gte: 200, field: Bytes, percentile: 90}\n",
        );
        assert_eq!(run(pct, hits()), vec![(3, Some(200.0))]);
        let median = spec("  type: value_median\n  rules: [r]\n  group-by: [Host]\n  timespan: 1m\n  condition: {gte: 30, field: Bytes}\n");
        assert_eq!(run(median, hits()), vec![(3, Some(30.0))]);
    }

    #[test]
    fn temporal_needs_every_rule_in_the_window_in_any_order() {
        let s = || spec("  type: temporal\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5s\n");
        let h = |input, t| hit(input, t, &[("Host", "h")]);
        assert_eq!(run(s(), vec![h(1, 0), h(0, 3)]), vec![(3, None)]);
        assert_eq!(run(s(), vec![h(0, 0), h(1, 5)]), vec![], "5 s apart: the first left the window");
    }

    #[test]
    fn temporal_ordered_needs_the_listed_order() {
        let s = || spec("  type: temporal_ordered\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5s\n");
        let h = |input, t| hit(input, t, &[("Host", "h")]);
        assert_eq!(run(s(), vec![h(1, 0), h(0, 1)]), vec![]);
        assert_eq!(run(s(), vec![h(1, 0), h(0, 1), h(1, 2)]), vec![(2, None)]);
    }

    #[test]
    fn temporal_ordered_with_a_count_or_an_extended_condition() {
        // gte 2 of [a, b, c] in order: b then c will do, c then b will not.
        let s = || {
            spec(
                "  type: temporal_ordered
  rules: [a, b, c]
  group-by: [Host]
  timespan: 5s
  condition: {gte: 2}
",
            )
        };
        let h = |input, t| hit(input, t, &[("Host", "h")]);
        assert_eq!(run(s(), vec![h(2, 0), h(1, 1)]), vec![]);
        assert_eq!(run(s(), vec![h(2, 0), h(1, 1), h(2, 2)]), vec![(2, None)]);
        assert_eq!(run(s(), vec![h(1, 0), h(1, 1), h(0, 2)]), vec![], "one rule, twice, is one");
        // `a and b and c`, ordered: all three in order; `a and not c`: a seen, c not, order trivially kept.
        let all = || {
            spec(
                "  type: temporal_ordered
  rules: [a, b, c]
  group-by: [Host]
  timespan: 5s
  condition: a and b and c
",
            )
        };
        assert_eq!(run(all(), vec![h(1, 0), h(0, 1), h(2, 2)]), vec![]);
        assert_eq!(run(all(), vec![h(0, 0), h(1, 1), h(2, 2)]), vec![(2, None)]);
        let without = || {
            spec(
                "  type: temporal_ordered
  rules: [a, b, c]
  group-by: [Host]
  timespan: 5s
  condition: a and not c
",
            )
        };
        assert_eq!(run(without(), vec![h(0, 0)]), vec![(0, None)]);
        assert_eq!(run(without(), vec![h(1, 0), h(0, 1)]), vec![], "b before a: the rules seen are out of order");
    }

    #[test]
    fn extended_temporal_condition_with_not() {
        let s = || {
            spec("  type: temporal\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5s\n  condition: a and not b\n")
        };
        let h = |input, t| hit(input, t, &[("Host", "h")]);
        assert_eq!(run(s(), vec![h(1, 0), h(0, 2)]), vec![], "b is in the window");
        assert_eq!(run(s(), vec![h(1, 0), h(0, 6)]), vec![(6, None)], "b left the window");
    }

    #[test]
    fn aliases_group_different_field_names() {
        let s = spec(
            "  type: temporal\n  rules: [logon, proc]\n  group-by: [user]\n  timespan: 1m\n  aliases:\n    user:\n      logon: TargetUserName\n      proc: User\n",
        );
        let hits = vec![
            hit(0, 0, &[("TargetUserName", "alice")]),
            hit(1, 10, &[("User", "alice")]),
            hit(1, 11, &[("User", "bob")]),
        ];
        let mut engine = CorrelationEngine::new(vec![s], 0, 10);
        let found: Vec<Detection> = hits.into_iter().flat_map(|h| engine.push(h)).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].group, vec![("user".to_string(), Some("alice".to_string()))]);
    }

    #[test]
    fn out_of_order_hits_within_the_lateness_are_reordered() {
        let s = spec("  type: temporal_ordered\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5s\n");
        let h = |input, t| hit(input, t, &[("Host", "h")]);
        let mut engine = CorrelationEngine::new(vec![s], 3000, 10);
        let mut found = Vec::new();
        // b at 2 arrives before a at 1: within 3 s of lateness, a is processed first.
        for hit in [h(1, 2), h(0, 1), h(1, 20), h(0, 30), h(0, 10)] {
            found.extend(engine.push(hit));
        }
        found.extend(engine.finish());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].window_end, 2000);
        assert_eq!(engine.limits.too_late, 1, "a at 10 came after b at 20 was released (30 - 3 s)");
    }

    #[test]
    fn chained_correlations() {
        // Three failed logons per user in 10 s, then a success for that user within a minute.
        let failures = spec(
            "  type: event_count\n  rules: [failed]\n  group-by: [User]\n  timespan: 10s\n  condition: {gte: 3}\n",
        );
        let mut followed =
            spec("  type: temporal_ordered\n  rules: [many_failures, success]\n  group-by: [User]\n  timespan: 1m\n");
        // Inputs: 0 failed logon, 1 successful logon, 2 the first correlation's detections.
        let failures = Spec { output: Some(2), ..failures };
        followed.inputs[0].input = 2;
        followed.inputs[1].input = 1;
        let mut engine = CorrelationEngine::new(vec![failures, followed], 0, 100);
        let u = |input, t| hit(input, t, &[("User", "eve")]);
        let mut found = Vec::new();
        for h in [u(0, 0), u(0, 1), u(0, 2), u(1, 30)] {
            found.extend(engine.push(h));
        }
        let kinds: Vec<usize> = found.iter().map(|d| d.correlation).collect();
        assert_eq!(kinds, vec![0, 1]);
        assert_eq!(found[1].window_end, 30_000);
    }

    #[test]
    fn state_is_bounded() {
        let s = spec("  type: event_count\n  rules: [r]\n  group-by: [User]\n  timespan: 10s\n  condition: {gte: 2}\n");
        let mut engine = CorrelationEngine::new(vec![s], 0, 3);
        for (i, user) in ["a", "b", "c", "d"].iter().enumerate() {
            engine.push(hit(0, i as i64, &[("User", user)]));
        }
        assert_eq!(engine.group_count(), 3);
        assert_eq!(engine.limits.groups_dropped, 1);
        // Once the old groups' windows expired, new groups are taken again.
        engine.push(hit(0, 100, &[("User", "e")]));
        assert_eq!(engine.limits.groups_dropped, 1);
        assert!(engine.group_count() <= 3);
    }
}
