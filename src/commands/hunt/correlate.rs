//! Correlation rules in `vigil hunt`: references resolved to the loaded rules, the fields each detection must
//! carry (time, group-by, aggregated field), and the engine fed in input order.

use super::RuleInfo;
use std::collections::BTreeMap;
use vigil_compiler::correlation::SigmaCorrelation;
use vigil_compiler::pipeline::PipelineSet;
use vigil_runtime::correlation::{Engine, Hit, Spec};
use vigil_runtime::{Event, FieldTable, RuleSet};

/// A correlation document as loaded.
pub struct LoadedCorrelation {
    pub path: String,
    pub rule: SigmaCorrelation,
}

/// Settings from the command line.
pub struct Settings {
    /// The field that holds each event's time, instead of the usual ones.
    pub time_field: Option<String>,
    pub lateness_ms: i64,
    pub max_groups: usize,
}

/// The correlations of a hunt, ready to run: the engine (run by the writer, in input order), what detections
/// print, and what the workers extract from each detection.
pub struct Correlations {
    pub engine: Engine,
    /// What detections print about each correlation, and its type.
    pub infos: Vec<(RuleInfo, &'static str)>,
    pub extract: Extract,
}

/// What a detection of a correlated rule must carry, read by the worker threads.
pub struct Extract {
    /// Per compiled rule: its engine input, when some correlation reads it.
    input_of_rule: Vec<Option<usize>>,
    /// Per compiled rule: its own detections are not printed (`generate: false` in every correlation reading it).
    pub suppressed: Vec<bool>,
    /// The fields hits carry.
    table: FieldTable,
    time_field: Option<String>,
    pub no_time: std::sync::atomic::AtomicU64,
}

/// Resolves `correlations` against the compiled `rules` (loaded in `loaded` order); problems are returned, one
/// bad correlation never stops the others.
pub fn prepare(
    correlations: Vec<LoadedCorrelation>,
    loaded: &[(Option<String>, Option<String>)],
    rules: &RuleSet,
    pipelines: &PipelineSet,
    settings: Settings,
) -> (Option<Correlations>, Vec<String>) {
    let mut problems = Vec::new();
    if correlations.is_empty() {
        return (None, problems);
    }
    let base = rules.rules.len();
    // name or id -> engine input, for base rules (by their compiled index) and correlations (after them).
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (index, rule) in rules.rules.iter().enumerate() {
        let (id, name) = &loaded[rule.source_index];
        for key in [id, name].into_iter().flatten() {
            names.insert(key.clone(), index);
        }
    }
    for (c, correlation) in correlations.iter().enumerate() {
        for key in [&correlation.rule.meta.id, &correlation.rule.meta.name].into_iter().flatten() {
            names.insert(key.clone(), base + c);
        }
    }
    let read_by_others: Vec<bool> = (0..correlations.len())
        .map(|c| correlations.iter().any(|other| other.rule.rules.iter().any(|r| names.get(r) == Some(&(base + c)))))
        .collect();
    let mut specs = Vec::new();
    let mut infos = Vec::new();
    let mut input_of_rule = vec![None; base];
    let mut generate = vec![None::<bool>; base];
    let mut table = FieldTable::default();
    for (c, LoadedCorrelation { path, mut rule }) in correlations.into_iter().enumerate() {
        if let Err(e) = pipelines.apply_correlation(&mut rule, &[]) {
            problems.push(format!("{path}: {} [{}]", e.message, e.code));
            continue;
        }
        let mut inputs = Vec::new();
        for name in &rule.rules {
            match names.get(name) {
                Some(&input) => inputs.push((input, name.clone())),
                None => problems.push(format!(
                    "{path}: correlation `{}` refers to `{name}`, which no loaded rule is",
                    rule.meta.title
                )),
            }
        }
        if inputs.len() != rule.rules.len() {
            continue;
        }
        for (input, name) in &inputs {
            if *input < base {
                input_of_rule[*input] = Some(*input);
                let g = generate[*input].get_or_insert(rule.generate);
                *g |= rule.generate;
            }
            for group in &rule.group_by {
                let field = rule.aliases.get(group).and_then(|m| m.get(name)).unwrap_or(group);
                table.intern(field);
            }
            if let Some(vigil_compiler::correlation::CorrelationCondition::Threshold { field, .. }) = &rule.condition {
                for f in field {
                    table.intern(rule.aliases.get(f).and_then(|m| m.get(name)).unwrap_or(f));
                }
            }
        }
        let output = read_by_others[c].then_some(base + c);
        specs.push(Spec::from_rule(&rule, inputs, output));
        infos.push((
            RuleInfo { id: rule.meta.id.clone(), title: rule.meta.title.clone(), level: rule.meta.level, path },
            rule.kind.as_str(),
        ));
    }
    if specs.is_empty() {
        return (None, problems);
    }
    let suppressed = generate.iter().map(|g| *g == Some(false)).collect();
    let engine = Engine::new(specs, settings.lateness_ms, settings.max_groups);
    let extract =
        Extract { input_of_rule, suppressed, table, time_field: settings.time_field, no_time: Default::default() };
    let correlations = Correlations { engine, infos, extract };
    (Some(correlations), problems)
}

impl Extract {
    /// The hit a detection of compiled rule `rule` on `json` makes, if a correlation reads the rule. An event
    /// without a readable time cannot be placed in a window: it is counted and left out.
    pub fn hit(&self, rule: u32, json: &serde_json::Value, source: (u32, u64)) -> Option<Hit> {
        let input = (*self.input_of_rule.get(rule as usize)?)?;
        let text = match &self.time_field {
            Some(field) => json.get(field).and_then(|v| v.as_str()).map(str::to_string),
            None => super::timestamp(json),
        };
        let Some(time) = text.as_deref().and_then(vigil_runtime::time::millis) else {
            self.no_time.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return None;
        };
        let event = Event::new(json, &self.table, false);
        let fields = (0..self.table.len() as u32)
            .filter_map(|id| Some((self.table.name(id).to_string(), event.get(id)?.text()?.to_string())))
            .collect();
        Some(Hit { input, time, fields, source })
    }
}
