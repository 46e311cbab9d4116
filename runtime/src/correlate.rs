//! Correlations wired to a compiled rule set: which rule detections feed which correlation, the fields a
//! detection must carry (group-by and aggregated fields, read from the event as the rules decoded it), and the
//! engine (`correlation.rs`) fed in input order.

use crate::correlation::{CorrelationEngine, Hit, Millis, Spec};
use crate::event::Event;
use crate::fields::FieldId;
use crate::ruleset::RuleSet;
use vigil_compiler::ir::correlation::{Correlation, InputSource};
use vigil_compiler::{Code, Diagnostic};

/// How correlation windows are kept.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How far out of time order hits may arrive and still be correlated in order.
    pub lateness_ms: Millis,
    /// The most groups each correlation keeps at once.
    pub max_groups: usize,
}

/// The correlations of a hunt, ready to run: the engine (fed by one thread, in input order) and what detections
/// must give it (read by every worker).
pub struct Correlator {
    pub engine: CorrelationEngine,
    pub hits: Hits,
    /// Per correlation given to [`Correlator::new`]: its position in the engine, if it could be wired.
    pub engine_index: Vec<Option<usize>>,
}

/// Which detections feed the engine, and the fields they carry.
pub struct Hits {
    /// Per compiled rule: its engine input, when some correlation reads it.
    input_of_rule: Vec<Option<usize>>,
    /// Per compiled rule: its own detections are not reported (`generate: false` in every correlation reading it).
    suppressed: Vec<bool>,
    /// The fields hits carry, by name and by their id in the rule set's table.
    fields: Vec<(String, FieldId)>,
}

/// The event fields the rules must decode for `correlations`: pass them to [`RuleSet::build_reading`].
pub fn fields_read(correlations: &[Correlation]) -> Vec<String> {
    let mut names: Vec<String> = correlations
        .iter()
        .flat_map(|c| (0..c.inputs.len()).flat_map(move |i| c.fields_of_input(i)))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Correlator {
    /// Wires `correlations` (lowered, in dependency order) to `rules`, compiled from the compilation's rules
    /// with [`fields_read`]. A correlation reading a rule the matcher could not compile (or a correlation that
    /// failed so) is left out with a diagnostic, by its position in `correlations`.
    pub fn new(
        correlations: &[Correlation],
        rules: &RuleSet,
        limits: Limits,
    ) -> (Correlator, Vec<(usize, Diagnostic)>) {
        let base = rules.rules.len();
        let mut compiled_of_source = vec![None; rules.rules.iter().map(|r| r.source_index + 1).max().unwrap_or(0)];
        for (index, rule) in rules.rules.iter().enumerate() {
            compiled_of_source[rule.source_index] = Some(index);
        }
        let mut problems = Vec::new();
        let mut engine_index: Vec<Option<usize>> = vec![None; correlations.len()];
        let mut wired: Vec<usize> = Vec::new();
        for (c, correlation) in correlations.iter().enumerate() {
            let inputs: Option<Vec<usize>> = correlation
                .inputs
                .iter()
                .map(|input| match input.source {
                    InputSource::Rule(r) => compiled_of_source.get(r).copied().flatten(),
                    InputSource::Correlation(other) => engine_index.get(other).copied().flatten().map(|e| base + e),
                })
                .collect();
            match inputs {
                Some(_) => {
                    engine_index[c] = Some(wired.len());
                    wired.push(c);
                }
                None => problems.push((
                    c,
                    Diagnostic::unlocated(
                        Code::UnknownRuleReference,
                        format!("correlation `{}` reads a rule the matcher could not compile", correlation.meta.title),
                    ),
                )),
            }
        }
        let read_by_others = |c: usize| {
            correlations.iter().any(|other| {
                other.inputs.iter().any(|i| i.source == InputSource::Correlation(c) && engine_index[c].is_some())
            })
        };
        let mut specs = Vec::new();
        let mut input_of_rule = vec![None; base];
        let mut generate = vec![None::<bool>; base];
        for &c in &wired {
            let correlation = &correlations[c];
            let mut inputs = Vec::new();
            for input in &correlation.inputs {
                inputs.push(match input.source {
                    InputSource::Rule(r) => {
                        let compiled = compiled_of_source[r].unwrap_or_default();
                        input_of_rule[compiled] = Some(compiled);
                        *generate[compiled].get_or_insert(correlation.generate) |= correlation.generate;
                        compiled
                    }
                    InputSource::Correlation(other) => base + engine_index[other].unwrap_or_default(),
                });
            }
            let chained = |i: usize| match correlation.inputs[i].source {
                InputSource::Correlation(other) => Some(correlations[other].group_by.clone()),
                InputSource::Rule(_) => None,
            };
            let output = read_by_others(c).then(|| base + engine_index[c].unwrap_or_default());
            specs.push(Spec::new(correlation, inputs, &chained, output));
        }
        let fields =
            fields_read(correlations).into_iter().filter_map(|n| Some((n.clone(), rules.fields.get(&n)?))).collect();
        let hits = Hits { input_of_rule, suppressed: generate.iter().map(|g| *g == Some(false)).collect(), fields };
        let engine = CorrelationEngine::new(specs, limits.lateness_ms, limits.max_groups);
        (Correlator { engine, hits, engine_index }, problems)
    }
}

impl Hits {
    /// Whether compiled rule `rule`'s own detections are reported.
    pub fn reports(&self, rule: u32) -> bool {
        !self.suppressed.get(rule as usize).copied().unwrap_or(false)
    }

    /// Whether some correlation reads compiled rule `rule`.
    pub fn reads(&self, rule: u32) -> bool {
        self.input_of_rule.get(rule as usize).copied().flatten().is_some()
    }

    /// The hit a detection of compiled rule `rule` on `event` (at `time`) makes, if a correlation reads the rule.
    pub fn hit(&self, rule: u32, event: &Event<'_>, time: Millis, source: (u32, u64)) -> Option<Hit> {
        let input = self.input_of_rule.get(rule as usize).copied().flatten()?;
        let fields = self
            .fields
            .iter()
            .filter_map(|(name, id)| Some((name.clone(), event.get(*id)?.text()?.to_string())))
            .collect();
        Some(Hit { input, time, fields, source })
    }
}
