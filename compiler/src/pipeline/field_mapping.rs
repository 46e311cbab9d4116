//! Field-name transformations (`field_name_mapping`, `field_name_prefix_mapping`, `field_name_prefix`,
//! `field_name_suffix`): the rule's `fields`, field references, item fields (one-to-many makes an OR of copies of
//! the item), with pySigma's tracking of which item mapped which field.

use super::text::Failure;
use super::transform::{mark, rewrite_items, Replace, Transformation};
use super::{ProcessingItem, RunState};
use crate::ir::value::Part;
use crate::rule::detection::Detection;
use crate::rule::value::DetectionValue;
use crate::rule::SigmaRule;

impl ProcessingItem {
    /// The raw mapping of a field name by a field-name transformation (`None`: not this transformation's).
    pub(super) fn map_name(&self, field: Option<&str>) -> Option<Vec<String>> {
        match &self.transformation {
            Transformation::FieldNameMapping(mapping) => {
                mapping.iter().find(|(k, _)| k.as_deref() == field).map(|(_, v)| v.clone())
            }
            Transformation::FieldNamePrefixMapping(mapping) => {
                let field = field?;
                mapping
                    .iter()
                    .find(|(prefix, _)| field.starts_with(prefix.as_str()))
                    .map(|(prefix, targets)| targets.iter().map(|t| format!("{t}{}", &field[prefix.len()..])).collect())
            }
            Transformation::FieldNamePrefix(prefix) => field.map(|f| vec![format!("{prefix}{f}")]),
            Transformation::FieldNameSuffix(suffix) => field.map(|f| vec![format!("{f}{suffix}")]),
            _ => None,
        }
    }

    pub(super) fn is_field_mapping(&self) -> bool {
        matches!(
            self.transformation,
            Transformation::FieldNameMapping(_)
                | Transformation::FieldNamePrefixMapping(_)
                | Transformation::FieldNamePrefix(_)
                | Transformation::FieldNameSuffix(_)
        )
    }

    /// Maps a field name if the mapping applies and the field-name conditions hold; records which item mapped
    /// it (for `processing_item_applied` on field names).
    pub(super) fn map_field(&self, field: &str, run: &mut RunState) -> Vec<String> {
        match self.map_name(Some(field)) {
            Some(targets) if self.field_matches(Some(field), run) => {
                if targets.len() != 1 || targets[0] != field {
                    let mut ids = run.field_applied.remove(field).unwrap_or_default();
                    if let Some(id) = &self.id {
                        ids.insert(id.clone());
                    }
                    for target in &targets {
                        run.field_applied.insert(target.clone(), ids.clone());
                    }
                }
                targets
            }
            _ => vec![field.to_string()],
        }
    }

    /// Field-name transformations: the rule's `fields`, field references in values, and item fields
    /// (one-to-many mappings make an OR of copies of the item).
    pub(super) fn map_rule_fields(&self, rule: &mut SigmaRule, run: &mut RunState) -> Result<(), Failure> {
        let fields = std::mem::take(&mut rule.meta.fields);
        rule.meta.fields = fields.iter().flat_map(|f| self.map_field(f, run)).collect();
        rewrite_items(rule, &mut |item| {
            if !self.item_matches(item, run) {
                return Ok(Replace::Keep);
            }
            let mut changed = false;
            if item.values.iter().any(|v| matches!(v, DetectionValue::FieldRef { .. })) {
                let mut values = Vec::with_capacity(item.values.len());
                for value in std::mem::take(&mut item.values) {
                    match value {
                        DetectionValue::FieldRef { field, any_before, any_after, cased }
                            if self.field_matches(Some(&field), run) =>
                        {
                            let targets = self.map_field(&field, run);
                            changed |= targets.len() != 1 || targets[0] != field;
                            values.extend(targets.into_iter().map(|field| DetectionValue::FieldRef {
                                field,
                                any_before,
                                any_after,
                                cased,
                            }));
                        }
                        other => values.push(other),
                    }
                }
                item.values = values;
            }
            let field = item.field.clone();
            let targets = match self.map_name(field.as_deref()) {
                Some(targets) if self.field_matches(field.as_deref(), run) => targets,
                _ => {
                    if changed {
                        mark(&mut item.applied, &self.id);
                    }
                    return Ok(Replace::Keep);
                }
            };
            if field.is_none() {
                // A keyword mapped to fields becomes a substring match on them.
                for value in &mut item.values {
                    if let DetectionValue::Str { value, .. } = value {
                        if !value.starts_with_any_run() {
                            value.parts.insert(0, Part::AnyRun);
                        }
                        if !value.ends_with_any_run() {
                            value.push(Part::AnyRun);
                        }
                    }
                }
            }
            if let Some(source) = &field {
                run.mapped_sources.insert(source.clone());
            }
            run.mapped_targets.extend(targets.iter().cloned());
            mark(&mut item.applied, &self.id);
            if targets.len() == 1 {
                item.field = targets.into_iter().next();
                return Ok(Replace::Keep);
            }
            let copies = targets
                .into_iter()
                .map(|target| {
                    let mut copy = item.clone();
                    copy.field = Some(target);
                    Detection::Item(copy)
                })
                .collect();
            Ok(Replace::With(Detection::AnyOf(copies)))
        })
    }
}
