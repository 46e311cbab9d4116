//! Correlations resolved against the documents compiled with them, and lowered to the correlation IR: each entry
//! of `rules` found by id or name (a rule, or another correlation: a chain), the pipelines run over the
//! correlation with its rules' log sources, and every input told where it holds each group-by and value field.
//! The one resolver of the workspace: `convert`, `test` and `hunt` read its result.

use super::{Compiled, SourceFile};
use crate::codes::Code;
use crate::condition::Condition;
use crate::correlation::{CorrelationCondition, SigmaCorrelation};
use crate::diagnostic::Diagnostic;
use crate::ir::correlation::{self as ir, CorrelationType, InputExpr, InputField, InputSource};
use crate::ir::meta::LogSource;
use crate::pipeline::{PipelineSet, State};
use std::collections::HashMap;

/// A correlation of a compilation, lowered, with the document it comes from.
#[derive(Clone, Debug)]
pub struct LinkedCorrelation {
    /// The file (its position in the compilation) and document it was written in.
    pub file: usize,
    pub document: usize,
    pub correlation: ir::Correlation,
    /// The state the pipelines left.
    pub state: State,
}

/// A correlation waiting to be linked.
struct Pending {
    file: usize,
    document: usize,
    correlation: SigmaCorrelation,
    /// Its inputs: a rule by its number, or another pending correlation by its position here.
    sources: Vec<InputSource>,
}

/// Resolves and lowers every correlation of `files`; problems go on the correlation's document.
pub(super) fn link(files: &mut [SourceFile], pipelines: &PipelineSet) -> Vec<LinkedCorrelation> {
    // Names (ids and names) of rules by their number in the compilation, then of correlations; on a clash the
    // later definition wins, and a correlation over a rule.
    let mut names: HashMap<String, InputSource> = HashMap::new();
    let mut logsources: Vec<LogSource> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (d, document) in file.documents.iter().enumerate() {
            match &document.compiled {
                Some(Compiled::Rule(rule)) => {
                    let meta = &rule.rule.meta;
                    for name in meta.id.iter().chain(&meta.name) {
                        names.insert(name.clone(), InputSource::Rule(logsources.len()));
                    }
                    logsources.push(rule.rule.logsource.clone());
                }
                Some(Compiled::Correlation(correlation)) => pending.push(Pending {
                    file: f,
                    document: d,
                    correlation: correlation.clone(),
                    sources: Vec::new(),
                }),
                _ => {}
            }
        }
    }
    for (c, p) in pending.iter().enumerate() {
        for name in p.correlation.meta.id.iter().chain(&p.correlation.meta.name) {
            names.insert(name.clone(), InputSource::Correlation(c));
        }
    }
    let mut failed: Vec<Option<Diagnostic>> = vec![None; pending.len()];
    for (c, p) in pending.iter_mut().enumerate() {
        let missing: Vec<&str> =
            p.correlation.rules.iter().filter(|n| !names.contains_key(*n)).map(String::as_str).collect();
        if !missing.is_empty() {
            failed[c] = Some(Diagnostic::error(
                Code::UnknownRuleReference,
                p.correlation.pos,
                format!(
                    "correlation `{}` reads `{}`, which no rule loaded with it is",
                    p.correlation.meta.title,
                    missing.join("`, `")
                ),
            ));
            continue;
        }
        p.sources = p.correlation.rules.iter().map(|n| names[n]).collect();
    }

    // Dependency order: a correlation once every correlation it reads is done; those left wait on a circle or on
    // a correlation that failed.
    let mut order: Vec<usize> = Vec::new();
    let mut placed = vec![false; pending.len()];
    loop {
        let before = order.len();
        for c in 0..pending.len() {
            let ready = !placed[c]
                && failed[c].is_none()
                && pending[c].sources.iter().all(|s| match s {
                    InputSource::Correlation(other) => placed[*other] && failed[*other].is_none(),
                    InputSource::Rule(_) => true,
                });
            if ready {
                placed[c] = true;
                order.push(c);
            }
        }
        if order.len() == before {
            break;
        }
    }
    for c in 0..pending.len() {
        if placed[c] || failed[c].is_some() {
            continue;
        }
        let p = &pending[c];
        let reads_failed = p.sources.iter().find_map(|s| match s {
            InputSource::Correlation(o) if failed[*o].is_some() => Some(*o),
            _ => None,
        });
        failed[c] = Some(match reads_failed {
            Some(o) => Diagnostic::error(
                Code::UnknownRuleReference,
                p.correlation.pos,
                format!(
                    "correlation `{}` reads `{}`, which could not be loaded",
                    p.correlation.meta.title, pending[o].correlation.meta.title
                ),
            ),
            None => Diagnostic::error(
                Code::CorrelationCycle,
                p.correlation.pos,
                format!("correlation `{}` reads itself through the correlations it reads", p.correlation.meta.title),
            ),
        });
    }

    // Lowered in that order, chained inputs renumbered to their place in it.
    let mut position: Vec<Option<usize>> = vec![None; pending.len()];
    let mut linked: Vec<LinkedCorrelation> = Vec::new();
    for c in order {
        let p = &mut pending[c];
        let sources: Vec<InputSource> = p
            .sources
            .iter()
            .map(|s| match s {
                InputSource::Correlation(o) => position[*o].map_or(*s, InputSource::Correlation),
                rule => *rule,
            })
            .collect();
        if sources.iter().any(|s| matches!(s, InputSource::Correlation(o) if *o >= linked.len())) {
            // A chained input that failed later in its own lowering.
            failed[c] = Some(Diagnostic::error(
                Code::UnknownRuleReference,
                p.correlation.pos,
                format!("correlation `{}` reads a correlation that could not be loaded", p.correlation.meta.title),
            ));
            continue;
        }
        let read_logsources: Vec<LogSource> = sources
            .iter()
            .filter_map(|s| match s {
                InputSource::Rule(r) => logsources.get(*r).cloned(),
                InputSource::Correlation(_) => None,
            })
            .collect();
        let mut correlation = p.correlation.clone();
        let state = match pipelines.apply_correlation(&mut correlation, &read_logsources) {
            Ok(state) => state,
            Err(problem) => {
                failed[c] = Some(problem);
                continue;
            }
        };
        match lower(correlation, &sources, &linked) {
            Ok(lowered) => {
                position[c] = Some(linked.len());
                linked.push(LinkedCorrelation { file: p.file, document: p.document, correlation: lowered, state });
            }
            Err(problem) => failed[c] = Some(problem),
        }
    }
    for (c, problem) in failed.into_iter().enumerate() {
        if let Some(problem) = problem {
            let document = &mut files[pending[c].file].documents[pending[c].document];
            document.diagnostics.push(problem);
        }
    }
    linked
}

/// Lowers a resolved correlation; `earlier` holds the correlations its chained inputs name.
fn lower(
    correlation: SigmaCorrelation,
    sources: &[InputSource],
    earlier: &[LinkedCorrelation],
) -> Result<ir::Correlation, Diagnostic> {
    let SigmaCorrelation { meta, kind, rules, group_by, timespan, condition, aliases, generate, pos } = correlation;
    let value_field = match (&condition, kind.needs_field()) {
        (Some(CorrelationCondition::Threshold { field, .. }), true) => field.first().cloned(),
        _ => None,
    };
    let percentile = match (&condition, kind) {
        (_, CorrelationType::ValueMedian) => 50.0,
        (Some(CorrelationCondition::Threshold { percentile: Some(p), .. }), _) => *p,
        _ => 50.0,
    };
    // Where input `name` (read from `source`) holds the field the correlation calls `field`.
    let locate = |name: &str, source: InputSource, field: &str| -> InputField {
        let own = aliases.get(field).and_then(|m| m.get(name)).map_or(field, String::as_str);
        match source {
            InputSource::Rule(_) => InputField::Field(own.to_string()),
            InputSource::Correlation(c) => earlier
                .get(c)
                .and_then(|inner| inner.correlation.group_by.iter().position(|g| g == own))
                .map_or(InputField::Missing, InputField::ChainedGroup),
        }
    };
    let inputs = rules
        .iter()
        .zip(sources)
        .map(|(name, &source)| ir::Input {
            name: name.clone(),
            source,
            group_fields: group_by.iter().map(|g| locate(name, source, g)).collect(),
            value: value_field.as_deref().map(|f| locate(name, source, f)),
        })
        .collect();
    let condition = match condition {
        None => None,
        Some(CorrelationCondition::Threshold { ops, .. }) => Some(ir::Condition::Threshold(ops)),
        Some(CorrelationCondition::Extended(tree)) => {
            Some(ir::Condition::Inputs(over_inputs(&tree, &rules).ok_or_else(|| {
                Diagnostic::error(
                    Code::InvalidCorrelation,
                    pos,
                    "a correlation condition combines its rules by name with and, or, not (no `1 of` selectors)",
                )
            })?))
        }
    };
    let aliases = aliases.into_keys().collect();
    Ok(ir::Correlation {
        meta,
        kind,
        inputs,
        group_by,
        timespan,
        condition,
        value_field,
        percentile,
        aliases,
        generate,
    })
}

/// A temporal condition over rule names as an expression over input positions (`None` for selectors).
fn over_inputs(tree: &Condition, rules: &[String]) -> Option<InputExpr> {
    Some(match tree {
        Condition::Ident(name) => InputExpr::Seen(rules.iter().position(|r| r == name)?),
        Condition::Not(inner) => InputExpr::Not(Box::new(over_inputs(inner, rules)?)),
        Condition::And(items) => InputExpr::And(items.iter().map(|i| over_inputs(i, rules)).collect::<Option<_>>()?),
        Condition::Or(items) => InputExpr::Or(items.iter().map(|i| over_inputs(i, rules)).collect::<Option<_>>()?),
        Condition::Selector { .. } => return None,
    })
}
