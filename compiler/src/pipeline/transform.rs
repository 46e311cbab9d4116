//! What each transformation does to a rule, with pySigma's semantics (DESIGN.md, "Pipelines").

use super::conditions::{RuleView, ValueMatch};
use super::text::{
    expand_placeholders, extracted_value, plain_text, reparse_replaced, snake_case, substitute_template, to_regex,
};
use super::text::{Failure, PlaceholderFilter, RegexMethod};
use super::{ProcessingItem, RunState};
use crate::codes::Code;
use crate::condition::Condition;
use crate::correlation::{CorrelationCondition, SigmaCorrelation};
use crate::diagnostic::Diagnostics;
use crate::ir::meta::LogSource;
use crate::ir::value::{Number, Part, SigmaString};
use crate::rule::detection::{parse_detection, Detection, DetectionItem, NamedDetection};
use crate::rule::value::DetectionValue;
use crate::rule::SigmaRule;
use crate::yaml::Node;
use regex::Regex;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseMethod {
    Lower,
    Upper,
    SnakeCase,
}

#[derive(Clone, Debug)]
pub enum Transformation {
    /// Field name -> one or more names; the key `None` maps keywords to fields.
    FieldNameMapping(Vec<(Option<String>, Vec<String>)>),
    FieldNamePrefixMapping(Vec<(String, Vec<String>)>),
    FieldNamePrefix(String),
    FieldNameSuffix(String),
    DropDetectionItem,
    HashesFields {
        algorithms: Vec<String>,
        field_prefix: String,
        drop_algo_prefix: bool,
        fields: Vec<String>,
    },
    ExtractFields {
        regex: Regex,
        field_prefix: Option<String>,
        preserve_unmatched: bool,
    },
    WildcardPlaceholders(PlaceholderFilter),
    ValuePlaceholders(PlaceholderFilter),
    QueryExpressionPlaceholders {
        expression: String,
        mapping: BTreeMap<String, String>,
        filter: PlaceholderFilter,
    },
    /// Values read from a file, one per line (only with `PipelineOptions::allow_external_sources`).
    FilePlaceholders {
        path: String,
        filter: PlaceholderFilter,
    },
    AddCondition {
        conditions: Node<'static>,
        template: bool,
        negated: bool,
        name: Option<String>,
    },
    ChangeLogsource {
        category: Option<String>,
        product: Option<String>,
        service: Option<String>,
    },
    AddField(Vec<String>),
    RemoveField(Vec<String>),
    SetField(Vec<String>),
    ReplaceString {
        regex: Regex,
        replacement: String,
        skip_special: bool,
        interpret_special: bool,
    },
    MapString(BTreeMap<String, Vec<String>>),
    Regex(RegexMethod),
    SetValue(DetectionValue),
    ConvertType {
        to_number: bool,
    },
    Case(CaseMethod),
    /// Vigil's: sets `key` from the first value of `fields` (in the detections whose name matches `detections`)
    /// that one of `mapping`'s lists holds; nothing when none does. How the Kusto pipelines choose a table from
    /// event ids.
    SetStateFromValues {
        key: String,
        fields: Vec<String>,
        detections: Option<Regex>,
        mapping: Vec<(serde_json::Value, Vec<ValueMatch>)>,
    },
    SetState {
        key: String,
        value: serde_json::Value,
    },
    SetCustomAttribute {
        attribute: String,
        value: serde_json::Value,
    },
    RuleFailure(String),
    DetectionItemFailure(String),
    StrictFieldMappingFailure,
    Nest(Vec<ProcessingItem>),
}

/// What happens to a detection item.
pub(super) enum Replace {
    Keep,
    With(Detection),
    Drop,
}

/// Visits every item of every detection; `f` may keep, replace or drop it.
pub(super) fn rewrite_items(
    rule: &mut SigmaRule,
    f: &mut dyn FnMut(&mut DetectionItem) -> Result<Replace, Failure>,
) -> Result<(), Failure> {
    for named in &mut rule.detections {
        match rewrite(&mut named.detection, f)? {
            Replace::Keep => {}
            Replace::With(new) => named.detection = new,
            Replace::Drop => named.detection = Detection::AllOf(Vec::new()),
        }
    }
    Ok(())
}

fn rewrite(
    detection: &mut Detection,
    f: &mut dyn FnMut(&mut DetectionItem) -> Result<Replace, Failure>,
) -> Result<Replace, Failure> {
    match detection {
        Detection::Item(item) => f(item),
        Detection::AllOf(children) | Detection::AnyOf(children) => {
            let old = std::mem::take(children);
            for mut child in old {
                match rewrite(&mut child, f)? {
                    Replace::Keep => children.push(child),
                    Replace::With(new) => children.push(new),
                    Replace::Drop => {}
                }
            }
            Ok(Replace::Keep)
        }
    }
}

/// `set_state_from_values`: the state value of the first rule value (detections, items and values in rule
/// order) found in one of `mapping`'s lists, the first such list winning.
fn first_mapped_value(
    rule: &SigmaRule,
    fields: &[String],
    detections: Option<&Regex>,
    mapping: &[(serde_json::Value, Vec<ValueMatch>)],
) -> Option<serde_json::Value> {
    let mut found = None;
    for named in &rule.detections {
        if found.is_some() {
            break;
        }
        if detections.is_some_and(|re| !re.is_match(&named.name)) {
            continue;
        }
        named.detection.visit_items(&mut |item| {
            if found.is_some() || !item.field.as_ref().is_some_and(|f| fields.contains(f)) {
                return;
            }
            found = item.values.iter().find_map(|v| {
                mapping
                    .iter()
                    .find(|(_, when)| when.iter().any(|m| loosely_equal(m, v)))
                    .map(|(state, _)| state.clone())
            });
        });
    }
    found
}

/// A value of the pipeline and a rule value, a number also equal to its decimal text (`EventID: '4688'`).
fn loosely_equal(expected: &ValueMatch, value: &DetectionValue) -> bool {
    match (expected, value) {
        (ValueMatch::Num(n), DetectionValue::Str { value, .. }) => {
            value.as_plain().and_then(|text| text.trim().parse::<f64>().ok()) == Some(*n)
        }
        _ => expected.matches(value),
    }
}

pub(super) fn mark(applied: &mut Vec<String>, id: &Option<String>) {
    if let Some(id) = id {
        if !applied.contains(id) {
            applied.push(id.clone());
        }
    }
}

impl ProcessingItem {
    pub(super) fn item_matches(&self, item: &DetectionItem, run: &RunState) -> bool {
        self.item_conditions.evaluate(|c| c.matches(item, run))
            && self.field_conditions.evaluate(|c| c.matches_item(item, run))
    }

    pub(super) fn field_matches(&self, field: Option<&str>, run: &RunState) -> bool {
        self.field_conditions.evaluate(|c| c.matches_field(field, run))
    }

    pub(crate) fn apply_to_rule(&self, rule: &mut SigmaRule, run: &mut RunState) -> Result<(), Failure> {
        let applies =
            self.rule_conditions.is_empty() || self.rule_conditions.evaluate(|c| c.matches(&RuleView::Rule(rule), run));
        if !applies {
            return Ok(());
        }
        mark(&mut rule.applied, &self.id);
        if self.is_field_mapping() {
            return self.map_rule_fields(rule, run);
        }
        match &self.transformation {
            Transformation::DropDetectionItem => rewrite_items(rule, &mut |item| {
                Ok(if self.item_matches(item, run) { Replace::Drop } else { Replace::Keep })
            }),
            Transformation::HashesFields { .. } | Transformation::ExtractFields { .. } => {
                rewrite_items(rule, &mut |item| {
                    if !self.item_matches(item, run) {
                        return Ok(Replace::Keep);
                    }
                    match self.split_item(item)? {
                        Some(detection) => Ok(Replace::With(detection)),
                        None => Ok(Replace::Keep),
                    }
                })
            }
            Transformation::AddCondition { conditions, template, negated, name } => {
                self.add_condition(rule, run, conditions, *template, *negated, name)
            }
            Transformation::ChangeLogsource { category, product, service } => {
                rule.logsource = LogSource {
                    category: category.clone(),
                    product: product.clone(),
                    service: service.clone(),
                    ..LogSource::default()
                };
                Ok(())
            }
            Transformation::AddField(fields) => {
                rule.meta.fields.extend(fields.iter().cloned());
                Ok(())
            }
            Transformation::RemoveField(fields) => {
                for field in fields {
                    if let Some(i) = rule.meta.fields.iter().position(|f| f == field) {
                        rule.meta.fields.remove(i);
                    }
                }
                Ok(())
            }
            Transformation::SetField(fields) => {
                rule.meta.fields = fields.clone();
                Ok(())
            }
            Transformation::SetState { key, value } => {
                run.state.insert(key.clone(), value.clone());
                Ok(())
            }
            Transformation::SetStateFromValues { key, fields, detections, mapping } => {
                if let Some(value) = first_mapped_value(rule, fields, detections.as_ref(), mapping) {
                    run.state.insert(key.clone(), value);
                }
                Ok(())
            }
            Transformation::SetCustomAttribute { attribute, value } => {
                rule.meta.custom.insert(attribute.clone(), value.clone());
                Ok(())
            }
            Transformation::RuleFailure(message) => Err((Code::RuleFailure, message.clone())),
            Transformation::DetectionItemFailure(message) => rewrite_items(rule, &mut |item| {
                if self.item_matches(item, run) {
                    let field = item.field.as_deref().unwrap_or("<keyword>");
                    return Err((Code::RuleFailure, format!("{message} (field `{field}`)")));
                }
                Ok(Replace::Keep)
            }),
            Transformation::StrictFieldMappingFailure => {
                let mut unmapped = Vec::new();
                for named in &rule.detections {
                    named.detection.visit_items(&mut |item| {
                        if let Some(field) = &item.field {
                            let mapped = run.mapped_sources.contains(field) || run.mapped_targets.contains(field);
                            if !mapped && !unmapped.contains(field) {
                                unmapped.push(field.clone());
                            }
                        }
                    });
                }
                if unmapped.is_empty() {
                    Ok(())
                } else {
                    Err((Code::RuleFailure, format!("the following fields are not mapped: {}", unmapped.join(", "))))
                }
            }
            Transformation::Nest(items) => {
                for item in items {
                    item.apply_to_rule(rule, run)?;
                }
                Ok(())
            }
            _ => {
                // DetectionValue transformations.
                rewrite_items(rule, &mut |item| {
                    if !self.item_matches(item, run) {
                        return Ok(Replace::Keep);
                    }
                    let mut changed = false;
                    let mut values = Vec::with_capacity(item.values.len());
                    for value in &item.values {
                        match self.transform_value(value, run)? {
                            Some(new) => {
                                changed = true;
                                values.extend(new);
                            }
                            None => values.push(value.clone()),
                        }
                    }
                    if changed {
                        item.values = values;
                        mark(&mut item.applied, &self.id);
                    }
                    Ok(Replace::Keep)
                })
            }
        }
    }

    /// `hashes_fields` and `extract_fields`: one item becomes a detection over new fields.
    fn split_item(&self, item: &DetectionItem) -> Result<Option<Detection>, Failure> {
        let strings: Option<Vec<&SigmaString>> = item
            .values
            .iter()
            .map(|v| match v {
                DetectionValue::Str { value, .. } => Some(value),
                _ => None,
            })
            .collect();
        let Some(strings) = strings else { return Ok(None) };
        match &self.transformation {
            Transformation::HashesFields { algorithms, field_prefix, drop_algo_prefix, fields } => {
                if !item.field.as_ref().is_some_and(|f| fields.contains(f)) {
                    return Ok(None);
                }
                let mut groups: Vec<(String, Vec<DetectionValue>)> = Vec::new();
                for s in strings {
                    let plain = plain_text(s);
                    let parts: Vec<&str> =
                        if plain.contains('|') { plain.split('|').collect() } else { plain.split('=').collect() };
                    let (algorithm, hash) = if parts.len() == 2 {
                        (parts[0].trim_start_matches('*').to_uppercase(), parts[1].trim_matches(['*', '?']))
                    } else {
                        let hash = parts[0].trim_matches(['*', '?']);
                        let by_length = match hash.len() {
                            32 => "MD5",
                            40 => "SHA1",
                            64 => "SHA256",
                            128 => "SHA512",
                            _ => "",
                        };
                        (by_length.to_string(), hash)
                    };
                    if !algorithms.contains(&algorithm) {
                        continue;
                    }
                    let name = format!("{field_prefix}{}", if *drop_algo_prefix { "" } else { &algorithm });
                    let value = DetectionValue::Str { value: SigmaString::parse(hash), cased: false };
                    match groups.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, values)) => values.push(value),
                        None => groups.push((name, vec![value])),
                    }
                }
                if groups.is_empty() {
                    return Err((
                        Code::PipelineError,
                        format!(
                            "no valid hash algorithm found in `{}`; expected one of {}",
                            item.field.as_deref().unwrap_or(""),
                            algorithms.join(", ")
                        ),
                    ));
                }
                let items = groups
                    .into_iter()
                    .filter(|(name, _)| !name.is_empty())
                    .map(|(name, values)| {
                        let field = (name != "keyword").then_some(name);
                        Detection::Item(self.new_item(field, values, item))
                    })
                    .collect();
                Ok(Some(Detection::AnyOf(items)))
            }
            Transformation::ExtractFields { regex, field_prefix, preserve_unmatched } => {
                let mut per_value = Vec::new();
                for s in strings {
                    let plain = plain_text(s);
                    let Some(captures) = regex.captures(&plain) else {
                        if *preserve_unmatched {
                            // The value stays as the rule wrote it, with its modifiers: in pySigma they are already
                            // part of the value (`contains` is `*x*`), here they are kept beside it.
                            let value = DetectionValue::Str { value: s.clone(), cased: false };
                            let mut kept = self.new_item(item.field.clone(), vec![value], item);
                            kept.modifiers = item.modifiers.clone();
                            per_value.push(Detection::Item(kept));
                        }
                        continue;
                    };
                    let mut items = Vec::new();
                    for name in regex.capture_names().flatten() {
                        let Some(found) = captures.name(name).map(|m| m.as_str()).filter(|m| !m.is_empty()) else {
                            continue;
                        };
                        let field = match field_prefix {
                            Some(prefix) => format!("{prefix}.{name}"),
                            None => name.to_string(),
                        };
                        items.push(Detection::Item(self.new_item(Some(field), vec![extracted_value(found)], item)));
                    }
                    if !items.is_empty() {
                        per_value.push(Detection::AllOf(items));
                    }
                }
                Ok(match per_value.len() {
                    0 => None,
                    1 => per_value.pop(),
                    _ if item.all => Some(Detection::AllOf(per_value)),
                    _ => Some(Detection::AnyOf(per_value)),
                })
            }
            _ => Ok(None),
        }
    }

    fn new_item(&self, field: Option<String>, values: Vec<DetectionValue>, from: &DetectionItem) -> DetectionItem {
        let mut item = DetectionItem::new(field, values, from.pos);
        mark(&mut item.applied, &self.id);
        item
    }

    /// A value transformation on one value: `None` when it leaves the value alone.
    fn transform_value(&self, value: &DetectionValue, run: &RunState) -> Result<Option<Vec<DetectionValue>>, Failure> {
        if let DetectionValue::Expansion(items) = value {
            // Alternatives are transformed one by one and stay alternatives.
            let mut changed = false;
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                match self.transform_value(v, run)? {
                    Some(new) => {
                        changed = true;
                        out.extend(new);
                    }
                    None => out.push(v.clone()),
                }
            }
            return Ok(changed.then(|| vec![DetectionValue::Expansion(out)]));
        }
        let t = &self.transformation;
        Ok(match (t, value) {
            (Transformation::SetValue(new), _) => Some(vec![new.clone()]),
            (Transformation::ConvertType { to_number: false }, DetectionValue::Num(n)) => {
                Some(vec![DetectionValue::Str { value: SigmaString::literal(n.to_string()), cased: false }])
            }
            (Transformation::ConvertType { to_number: true }, DetectionValue::Str { value: s, .. }) => {
                let text = plain_text(s);
                match Number::parse(&text) {
                    Some(n) => Some(vec![DetectionValue::Num(n)]),
                    None => return Err((Code::PipelineError, format!("value `{s}` cannot be converted to a number"))),
                }
            }
            (Transformation::ReplaceString { .. }, DetectionValue::Num(n)) => {
                self.replace_string(&SigmaString::literal(n.to_string()), false)?
            }
            (Transformation::ReplaceString { .. }, DetectionValue::Str { value: s, cased }) => {
                self.replace_string(s, *cased)?
            }
            (Transformation::MapString(mapping), DetectionValue::Str { value: s, .. }) => {
                mapping.get(&s.to_string()).map(|targets| {
                    targets.iter().map(|t| DetectionValue::Str { value: SigmaString::parse(t), cased: false }).collect()
                })
            }
            (Transformation::Regex(method), DetectionValue::Str { value: s, .. }) => {
                if s.parts.is_empty() {
                    return Ok(None);
                }
                Some(vec![to_regex(s, *method)?])
            }
            (Transformation::Case(method), DetectionValue::Str { value: s, cased }) => {
                let changed = s.map_literals(|text| match method {
                    CaseMethod::Lower => text.to_lowercase(),
                    CaseMethod::Upper => text.to_uppercase(),
                    CaseMethod::SnakeCase => snake_case(text),
                });
                Some(vec![DetectionValue::Str { value: changed, cased: *cased }])
            }
            (
                Transformation::WildcardPlaceholders(filter)
                | Transformation::ValuePlaceholders(filter)
                | Transformation::FilePlaceholders { filter, .. },
                DetectionValue::Str { value: s, cased },
            ) => {
                if !s.parts.iter().any(|p| matches!(p, Part::Placeholder(n) if filter.handles(n))) {
                    return Ok(None);
                }
                let expanded = expand_placeholders(s, filter, &|name| self.placeholder_values(name, run))?;
                Some(expanded.into_iter().map(|value| DetectionValue::Str { value, cased: *cased }).collect())
            }
            (
                Transformation::QueryExpressionPlaceholders { expression, mapping, filter },
                DetectionValue::Str { value: s, .. },
            ) => match s.parts.as_slice() {
                [Part::Placeholder(name)] if filter.handles(name) => Some(vec![DetectionValue::QueryExpression {
                    expression: expression.clone(),
                    id: mapping.get(name).cloned().unwrap_or_else(|| name.clone()),
                }]),
                parts if parts.iter().any(|p| matches!(p, Part::Placeholder(_))) && parts.len() > 1 => {
                    return Err((
                        Code::PipelineError,
                        format!("`query_expression_placeholders` needs a value that is only a placeholder, not `{s}`"),
                    ))
                }
                _ => None,
            },
            _ => None,
        })
    }

    fn placeholder_values(&self, name: &str, run: &RunState) -> Result<Vec<SigmaString>, Failure> {
        match &self.transformation {
            Transformation::WildcardPlaceholders(_) => Ok(vec![SigmaString { parts: vec![Part::AnyRun] }]),
            Transformation::ValuePlaceholders(_) => match run.vars.get(name) {
                Some(values) => Ok(values.iter().map(|v| SigmaString::parse(v)).collect()),
                None => Err((
                    Code::PipelineError,
                    format!("placeholder `%{name}%` has no variable in the pipeline's `vars`"),
                )),
            },
            Transformation::FilePlaceholders { path, .. } => {
                if !run.options.allow_external_sources {
                    return Err((
                        Code::PipelineExternalSource,
                        format!("`file_placeholders` reads `{path}`: external sources are off (allow them explicitly)"),
                    ));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| (Code::PipelineError, format!("cannot read placeholder file `{path}`: {e}")))?;
                Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(SigmaString::parse).collect())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn replace_string(&self, s: &SigmaString, cased: bool) -> Result<Option<Vec<DetectionValue>>, Failure> {
        let Transformation::ReplaceString { regex, replacement, skip_special, interpret_special } =
            &self.transformation
        else {
            return Ok(None);
        };
        let new = if *skip_special {
            // Only the literal text, each part on its own; with `interpret_special` the result may add wildcards.
            let mut out = SigmaString::default();
            for part in &s.parts {
                match part {
                    Part::Lit(text) => {
                        let replaced = regex.replace_all(text, replacement.as_str());
                        if *interpret_special {
                            for p in SigmaString::parse(&replaced).parts {
                                out.push(p);
                            }
                        } else {
                            out.push(Part::Lit(replaced.into_owned()));
                        }
                    }
                    other => out.push(other.clone()),
                }
            }
            out
        } else {
            // The whole value in Sigma syntax; afterwards only `\*` and `\?` are escapes, other backslashes stay.
            let text = s.to_string();
            let replaced = regex.replace_all(&text, replacement.as_str());
            reparse_replaced(&replaced, s.has_placeholders())
        };
        Ok((new != *s).then(|| vec![DetectionValue::Str { value: new, cased }]))
    }

    #[allow(clippy::too_many_arguments)]
    fn add_condition(
        &self,
        rule: &mut SigmaRule,
        run: &mut RunState,
        conditions: &Node<'static>,
        template: bool,
        negated: bool,
        name: &Option<String>,
    ) -> Result<(), Failure> {
        let node = if template { substitute_template(conditions, &rule.logsource) } else { conditions.clone() };
        let mut diags = Diagnostics::default();
        let detection = parse_detection(&node, &mut diags);
        let detection = match detection {
            Some(d) if !diags.has_errors() => d,
            _ => {
                let first = diags.into_vec().into_iter().find(|d| d.is_error());
                let why = first.map_or_else(|| "invalid conditions".to_string(), |d| d.message);
                return Err((Code::PipelineInvalid, format!("`add_condition`: {why}")));
            }
        };
        let name = match name {
            Some(name) => name.clone(),
            None => loop {
                run.added_conditions += 1;
                let candidate = format!("_cond_{}", run.added_conditions);
                if rule.detection(&candidate).is_none() {
                    break candidate;
                }
            },
        };
        let mut detection = detection;
        let id = &self.id;
        let mut mark_all = |item: &mut DetectionItem| -> Result<Replace, Failure> {
            mark(&mut item.applied, id);
            Ok(Replace::Keep)
        };
        rewrite(&mut detection, &mut mark_all)?;
        rule.detections.push(NamedDetection { name: name.clone(), pos: rule.pos, detection });
        let added = Condition::Ident(name.clone());
        let added = if negated { Condition::Not(Box::new(added)) } else { added };
        let prefix = if negated { format!("not {name}") } else { name };
        for condition in &mut rule.conditions {
            let old = std::mem::replace(&mut condition.tree, Condition::Ident(String::new()));
            condition.tree = Condition::And(vec![added.clone(), old]);
            condition.source = format!("{prefix} and ({})", condition.source);
        }
        Ok(())
    }

    pub(crate) fn apply_to_correlation(
        &self,
        correlation: &mut SigmaCorrelation,
        logsources: &[LogSource],
        run: &mut RunState,
    ) -> Result<(), Failure> {
        let applies = self.rule_conditions.is_empty()
            || self.rule_conditions.evaluate(|c| c.matches(&RuleView::Correlation(correlation, logsources), run));
        if !applies {
            return Ok(());
        }
        if self.is_field_mapping() {
            let aliases: Vec<String> = correlation.aliases.keys().cloned().collect();
            for mapping in correlation.aliases.values_mut() {
                for field in mapping.values_mut() {
                    let mapped = self.map_field(field, run);
                    if mapped.len() != 1 {
                        return Err((Code::PipelineError, format!("alias field `{field}` maps to several fields")));
                    }
                    *field = mapped.into_iter().next().unwrap_or_default();
                }
            }
            let group_by = std::mem::take(&mut correlation.group_by);
            correlation.group_by = group_by
                .into_iter()
                .flat_map(|f| if aliases.contains(&f) { vec![f] } else { self.map_field(&f, run) })
                .collect();
            if let Some(CorrelationCondition::Threshold { field, .. }) = &mut correlation.condition {
                for f in field.iter_mut() {
                    let mapped = self.map_field(f, run);
                    if mapped.len() != 1 {
                        return Err((Code::PipelineError, format!("condition field `{f}` maps to several fields")));
                    }
                    *f = mapped.into_iter().next().unwrap_or_default();
                }
            }
            return Ok(());
        }
        match &self.transformation {
            Transformation::SetState { key, value } => {
                run.state.insert(key.clone(), value.clone());
            }
            Transformation::SetCustomAttribute { attribute, value } => {
                correlation.meta.custom.insert(attribute.clone(), value.clone());
            }
            Transformation::RuleFailure(message) => return Err((Code::RuleFailure, message.clone())),
            Transformation::Nest(items) => {
                for item in items {
                    item.apply_to_correlation(correlation, logsources, run)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
