//! Sigma filters (meta filters, spec v2.1; pySigma's semantics): a filter applies to a detection rule (never to a
//! correlation; to its base rules, yes) that it names in `rules` by id or name (`any`, or an empty list, for all),
//! when the filter's log source covers the rule's (every attribute the filter sets is the rule's). Its detections
//! join the rule's under names of their own (`_filt_<n>_<name>`, which `them` and other selectors of the rule do not
//! select) and each of the rule's conditions becomes `(condition) and (filter condition)`. Several filters compose
//! in the order given. Applied on the rule syntax, before pipelines: the pipelines map the filter's fields as they
//! map the rule's, so every target's query and the matcher see the filter.

use super::{Compiled, SourceFile};
use crate::codes::Code;
use crate::condition::{Condition, SelectorTarget};
use crate::diagnostic::Diagnostic;
use crate::filter::{FilterRules, SigmaFilter};
use crate::rule::detection::NamedDetection;
use crate::rule::{ParsedCondition, SigmaRule};

/// A filter, with the document it was written in (to report it when it names no rule).
#[derive(Clone, Debug)]
pub struct Filter {
    pub filter: SigmaFilter,
    /// The position of its file among the files compiled together, and of its document in the file.
    pub file: usize,
    pub document: usize,
}

/// Whether `filter` applies to `rule`.
fn applies(filter: &SigmaFilter, rule: &SigmaRule) -> bool {
    let named = match &filter.rules {
        FilterRules::Any => true,
        FilterRules::Named(names) => {
            let meta = &rule.meta;
            names.iter().any(|n| meta.id.as_deref() == Some(n.as_str()) || meta.name.as_deref() == Some(n.as_str()))
        }
    };
    named && rule.logsource.matches(&filter.logsource)
}

/// Applies every filter of `filters` that applies to `rule`; returns the positions of those applied.
pub(super) fn apply(rule: &mut SigmaRule, filters: &[Filter]) -> Vec<usize> {
    let mut applied = Vec::new();
    for (k, Filter { filter, .. }) in filters.iter().enumerate() {
        if !applies(filter, rule) {
            continue;
        }
        let prefix = format!("_filt_{k}_");
        rule.detections.extend(
            filter.detections.iter().map(|d| NamedDetection { name: format!("{prefix}{}", d.name), ..d.clone() }),
        );
        let renamed: Vec<Condition> = filter.conditions.iter().map(|c| rename(&c.tree, &prefix)).collect();
        let condition = match renamed.len() {
            1 => renamed.into_iter().next().unwrap_or(Condition::Or(Vec::new())),
            _ => Condition::Or(renamed),
        };
        for ParsedCondition { source, tree, .. } in &mut rule.conditions {
            *source = format!("({source}) and ({condition})");
            let original = std::mem::replace(tree, Condition::Or(Vec::new()));
            *tree = Condition::And(vec![original, condition.clone()]);
        }
        applied.push(k);
    }
    applied
}

/// A filter's condition over its detections renamed with `prefix`.
fn rename(condition: &Condition, prefix: &str) -> Condition {
    match condition {
        Condition::Ident(name) => Condition::Ident(format!("{prefix}{name}")),
        Condition::Selector { quantifier, target } => {
            let pattern = match target {
                SelectorTarget::Them => format!("{prefix}*"),
                SelectorTarget::Pattern(p) => format!("{prefix}{p}"),
            };
            Condition::Selector { quantifier: *quantifier, target: SelectorTarget::Pattern(pattern) }
        }
        Condition::Not(inner) => Condition::Not(Box::new(rename(inner, prefix))),
        Condition::And(items) => Condition::And(items.iter().map(|i| rename(i, prefix)).collect()),
        Condition::Or(items) => Condition::Or(items.iter().map(|i| rename(i, prefix)).collect()),
    }
}

/// Warns on each filter that names rules (not `any`) of which none was compiled with it (`filter-unused`).
pub(super) fn report_unused(files: &mut [SourceFile], filters: &[Filter]) {
    let mut used = vec![false; filters.len()];
    for file in files.iter() {
        for document in &file.documents {
            if let Some(Compiled::Rule(rule)) = &document.compiled {
                rule.filters.iter().for_each(|&k| used[k] = true);
            }
        }
    }
    for (k, f) in filters.iter().enumerate() {
        let FilterRules::Named(names) = &f.filter.rules else { continue };
        if used[k] {
            continue;
        }
        let Some(document) = files.get_mut(f.file).and_then(|file| file.documents.get_mut(f.document)) else {
            continue;
        };
        document.diagnostics.push(Diagnostic::warning(
            Code::FilterUnused,
            f.filter.pos,
            format!("the filter applies to no rule loaded with it (it names `{}`)", names.join("`, `")),
        ));
    }
}
