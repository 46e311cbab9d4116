//! Processing pipelines: pySigma's pipeline YAML, applied to rules before the matcher and every backend.
//!
//! A pipeline is a list of processing items; each item is a transformation guarded by rule, detection-item and
//! field-name conditions. Pipelines work on the rule syntax ([`SigmaRule`]), before lowering, because pySigma
//! defines their effects on detection items (a one-to-many field mapping makes an OR of the *item*; dropped
//! items disappear from their detection). Several pipelines run in priority order ([`PipelineSet`]).
//!
//! ```text
//! pipeline YAML --load::parse--> Pipeline --PipelineSet::resolve--> ordered set --apply--> transformed SigmaRule
//! ```

pub mod builtin;
mod conditions;
mod field_mapping;
mod load;
mod load_conditions;
mod load_transformations;
pub mod output;
mod text;
mod transform;

pub use conditions::{Combine, Conditions, FieldCondition, ItemCondition, RuleCondition, ValueMatch};
pub use load::parse;
pub use output::OutputStep;
pub use transform::Transformation;

use crate::codes::Code;
use crate::correlation::SigmaCorrelation;
use crate::diagnostic::{Diagnostic, Pos};
use crate::ir::meta::LogSource;
use crate::rule::SigmaRule;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One pipeline, as loaded from YAML.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub name: Option<String>,
    pub priority: i64,
    pub allowed_backends: Vec<String>,
    /// Variables for `value_placeholders`: name -> values.
    pub vars: BTreeMap<String, Vec<String>>,
    pub items: Vec<ProcessingItem>,
    /// Query postprocessing and finalizers (`output.rs`): `vigil convert` runs them on the queries.
    pub postprocessing: Vec<OutputStep>,
    pub finalizers: Vec<OutputStep>,
    /// Where it came from: a built-in name or a file path.
    pub origin: String,
}

/// A transformation with the conditions under which it applies.
#[derive(Clone, Debug)]
pub struct ProcessingItem {
    pub id: Option<String>,
    pub transformation: Transformation,
    pub rule_conditions: Conditions<RuleCondition>,
    pub item_conditions: Conditions<ItemCondition>,
    pub field_conditions: Conditions<FieldCondition>,
    pub pos: Pos,
}

/// Why a pipeline could not transform a rule or correlation: an error at `pos` (the document's), naming the
/// pipeline and the processing item responsible.
fn failed(pipeline: &Pipeline, item: &ProcessingItem, pos: Pos, (code, message): (Code, String)) -> Diagnostic {
    let item = item.id.as_deref().map(|id| format!(", item `{id}`")).unwrap_or_default();
    Diagnostic::error(code, pos, format!("{message} (pipeline {}{item})", pipeline.origin))
}

/// PipelineOptions that widen what pipelines may do.
#[derive(Clone, Copy, Debug, Default)]
pub struct PipelineOptions {
    /// Allow `file_placeholders` (reading values from files named in the pipeline).
    pub allow_external_sources: bool,
}

/// Several pipelines in the order they run: by priority, then in the order given (as pySigma sorts them).
#[derive(Clone, Debug, Default)]
pub struct PipelineSet {
    pub pipelines: Vec<Pipeline>,
    pub options: PipelineOptions,
}

/// The text of a `-p` argument's pipeline (built in, or a readable file), for showing a problem's line.
pub fn spec_text(spec: &str) -> Option<String> {
    builtin::find(spec).map(str::to_string).or_else(|| std::fs::read_to_string(spec).ok())
}

/// Loads one `-p` argument: a built-in pipeline name, or else a pipeline YAML file.
pub fn load_spec(spec: &str) -> Result<Pipeline, Vec<Diagnostic>> {
    if let Some(text) = builtin::find(spec) {
        return parse(text, spec);
    }
    match std::fs::read_to_string(spec) {
        Ok(text) => parse(&text, spec),
        Err(e) => Err(vec![Diagnostic::error(
            Code::PipelineNotFound,
            None,
            format!("pipeline `{spec}` is neither built in ({}) nor a readable file: {e}", builtin::names().join(", ")),
        )]),
    }
}

/// Per-rule bookkeeping while the pipelines run (pySigma keeps it on the pipeline and resets it per rule).
#[derive(Debug, Default)]
pub(crate) struct RunState {
    /// `set_state` values, read by `processing_state` conditions and by backends.
    pub state: BTreeMap<String, serde_json::Value>,
    /// Field name -> ids of the items that mapped it there (`processing_item_applied` on field names).
    pub field_applied: HashMap<String, BTreeSet<String>>,
    /// Source fields that some mapping handled, and the fields they became (`strict_field_mapping_failure`).
    pub mapped_sources: BTreeSet<String>,
    pub mapped_targets: BTreeSet<String>,
    pub vars: BTreeMap<String, Vec<String>>,
    pub options: PipelineOptions,
    /// Counter for the names of detections added by `add_condition`.
    pub added_conditions: usize,
}

/// The state the pipelines left after a rule, for backends (`{state[table]}` and the like).
pub type State = BTreeMap<String, serde_json::Value>;

impl PipelineSet {
    /// Orders `pipelines` by priority (stable) and merges their variables.
    pub fn new(mut pipelines: Vec<Pipeline>, options: PipelineOptions) -> Self {
        pipelines.sort_by_key(|p| p.priority);
        PipelineSet { pipelines, options }
    }

    /// Resolves `-p` arguments: a built-in name, or a path to a pipeline YAML file. Problems come with the spec
    /// they are in. (Routing pipelines are added by `compile::routing`.)
    pub fn resolve(specs: &[String], options: PipelineOptions) -> Result<Self, Vec<(String, Diagnostic)>> {
        let mut pipelines = Vec::new();
        let mut problems = Vec::new();
        for spec in specs {
            match load_spec(spec) {
                Ok(p) => pipelines.push(p),
                Err(d) => problems.extend(d.into_iter().map(|d| (spec.clone(), d))),
            }
        }
        if problems.is_empty() {
            Ok(PipelineSet::new(pipelines, options))
        } else {
            Err(problems)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pipelines.is_empty()
    }

    /// The first pipeline that names its backends (`allowed_backends`) without `backend`, by its origin.
    pub fn refusing(&self, backend: &str) -> Option<&str> {
        self.pipelines
            .iter()
            .find(|p| !p.allowed_backends.is_empty() && !p.allowed_backends.iter().any(|b| b == backend))
            .map(|p| p.origin.as_str())
    }

    fn run_state(&self) -> RunState {
        let mut vars = BTreeMap::new();
        for pipeline in &self.pipelines {
            for (k, v) in &pipeline.vars {
                vars.insert(k.clone(), v.clone());
            }
        }
        RunState { vars, options: self.options, ..RunState::default() }
    }

    /// Whether an item of the pipeline from `origin` that has rule conditions would apply to `rule` as it is: a
    /// cheap test before running the whole set on a copy of the rule (routing's other log sources).
    pub fn may_claim(&self, origin: &str, rule: &SigmaRule) -> bool {
        let run = self.run_state();
        self.claiming_items(origin)
            .any(|item| item.rule_conditions.evaluate(|c| c.matches(&conditions::RuleView::Rule(rule), &run)))
    }

    /// The items of the pipeline from `origin` that move a rule to another log source (`change_logsource`, under
    /// rule conditions): applying one says the pipeline claimed the rule for its source.
    pub fn claiming_items<'s>(&'s self, origin: &'s str) -> impl Iterator<Item = &'s ProcessingItem> + 's {
        self.pipelines.iter().filter(move |p| p.origin == origin).flat_map(|p| &p.items).filter(|item| {
            !item.rule_conditions.is_empty() && matches!(item.transformation, Transformation::ChangeLogsource { .. })
        })
    }

    /// The postprocessing steps that apply to `rule` after the pipelines ran (their rule conditions hold), in
    /// pipeline order; a `nest` keeps the inner steps that apply.
    pub fn postprocessing_for(&self, rule: &SigmaRule, state: &State) -> Vec<OutputStep> {
        let mut run = self.run_state();
        run.state = state.clone();
        let view = conditions::RuleView::Rule(rule);
        fn applying(steps: &[OutputStep], test: &dyn Fn(&OutputStep) -> bool) -> Vec<OutputStep> {
            let mut out = Vec::new();
            for step in steps.iter().filter(|s| test(s)) {
                let mut step = step.clone();
                if let output::OutputAction::Nest(inner) = &step.action {
                    step.action = output::OutputAction::Nest(applying(inner, test));
                }
                out.push(step);
            }
            out
        }
        let test = |step: &OutputStep| {
            step.rule_conditions.is_empty() || step.rule_conditions.evaluate(|c| c.matches(&view, &run))
        };
        self.pipelines.iter().flat_map(|p| applying(&p.postprocessing, &test)).collect()
    }

    /// The finalizers of every pipeline, in pipeline order.
    pub fn finalizers(&self) -> Vec<OutputStep> {
        self.pipelines.iter().flat_map(|p| p.finalizers.iter().cloned()).collect()
    }

    pub fn options(&self) -> PipelineOptions {
        self.options
    }

    /// Runs every processing item of every pipeline over `rule`, in order. Returns the final state.
    pub fn apply(&self, rule: &mut SigmaRule) -> Result<State, Diagnostic> {
        let mut run = self.run_state();
        for pipeline in &self.pipelines {
            for item in &pipeline.items {
                item.apply_to_rule(rule, &mut run).map_err(|e| failed(pipeline, item, rule.pos, e))?;
            }
        }
        Ok(run.state)
    }

    /// Runs the pipelines over a correlation rule: field names in `group-by`, aliases and the condition's field
    /// are mapped; `logsources` are those of the rules it references (for `logsource` conditions).
    pub fn apply_correlation(
        &self,
        correlation: &mut SigmaCorrelation,
        logsources: &[LogSource],
    ) -> Result<State, Diagnostic> {
        let mut run = self.run_state();
        for pipeline in &self.pipelines {
            for item in &pipeline.items {
                let pos = correlation.pos;
                item.apply_to_correlation(correlation, logsources, &mut run)
                    .map_err(|e| failed(pipeline, item, pos, e))?;
            }
        }
        Ok(run.state)
    }
}
