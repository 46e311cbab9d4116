//! Correlation rules (Sigma v2): parsed and checked here, as written; `ir::correlation` holds them resolved and
//! lowered, which is what backends and the runtime read.

use crate::codes::Code;
use crate::condition::{self, Condition};
use crate::diagnostic::{Diagnostics, Pos};
use crate::ir::correlation::{CmpOp, CorrelationType};
use crate::ir::meta::Meta;
use crate::rule::meta::{expect_string, expect_string_list, parse_meta};
use crate::yaml::{Kind, Node};
use std::collections::BTreeMap;

/// The condition of a correlation.
#[derive(Clone, Debug, PartialEq)]
pub enum CorrelationCondition {
    /// One comparison, or two for a range (`gt: 10` with `lte: 20`), all of which must hold.
    Threshold { ops: Vec<(CmpOp, f64)>, field: Vec<String>, percentile: Option<f64> },
    /// Temporal types: a boolean expression over rule names (`a and not b`).
    Extended(Condition),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SigmaCorrelation {
    pub meta: Meta,
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Window length in seconds; `None` only for `value_median`, which may omit it.
    pub timespan: Option<u64>,
    pub condition: Option<CorrelationCondition>,
    /// alias -> (rule name or id -> field)
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    pub generate: bool,
    pub pos: Pos,
}

/// Parses `5m`, `1h`, `30s`, `2d`, `1w`, `1M`, `1y` into seconds.
pub fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        'M' => 2_629_746,
        'y' => 31_556_952,
        _ => return None,
    };
    number.checked_mul(seconds)
}

fn invalid(diags: &mut Diagnostics, pos: Pos, message: impl Into<String>) {
    diags.error(Code::InvalidCorrelation, pos, message);
}

/// Parses a correlation document.
pub fn parse_correlation(root: &Node<'_>, diags: &mut Diagnostics) -> Option<SigmaCorrelation> {
    let meta = parse_meta(root, &["correlation", "generate"], diags);
    let (block_key, block) = root.entry("correlation")?;
    // "Missing" problems point at the `correlation:` key; a block mapping itself starts at its first key.
    let here = block_key.pos;
    if block.as_map().is_none() {
        invalid(diags, block.pos, format!("`correlation` must be a mapping, not {}", block.type_name()));
        return None;
    }
    for (key, _) in block.as_map().unwrap_or_default() {
        let known = ["type", "rules", "group-by", "timespan", "timeframe", "condition", "aliases", "generate", "field"];
        if let Some(k) = key.as_str() {
            if !known.contains(&k) {
                diags.warning(Code::InvalidCorrelation, key.pos, format!("unknown correlation key `{k}`"));
            }
        }
    }
    let kind = match block.get("type") {
        Some(node) => match expect_string(node, "type", diags).as_deref().map(CorrelationType::parse) {
            Some(Some(kind)) => Some(kind),
            Some(None) => {
                invalid(diags, node.pos, "unknown correlation type (event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile, value_median)");
                None
            }
            None => None,
        },
        None => {
            invalid(diags, here, "missing `type`");
            None
        }
    };
    let mut rules = block.get("rules").map(|n| expect_string_list(n, "rules", diags)).unwrap_or_default();
    let group_by = block.get("group-by").map(|n| expect_string_list(n, "group-by", diags)).unwrap_or_default();
    let timespan_node = block.get("timespan").or_else(|| block.get("timeframe"));
    let timespan = match timespan_node {
        Some(node) => match node.scalar_text().as_deref().and_then(parse_timespan) {
            Some(seconds) => Some(seconds),
            None => {
                invalid(diags, node.pos, "`timespan` must be a number and a unit: s, m, h, d, w, M or y (`5m`)");
                None
            }
        },
        None => {
            if kind.is_some_and(|k| k != CorrelationType::ValueMedian) {
                invalid(diags, here, "missing `timespan`");
            }
            None
        }
    };
    let generate_node = block.get("generate").or_else(|| root.get("generate"));
    let generate = match generate_node.map(|n| (&n.kind, n.pos)) {
        None => false,
        Some((Kind::Bool(b), _)) => *b,
        Some((_, pos)) => {
            invalid(diags, pos, "`generate` must be true or false");
            false
        }
    };
    let aliases = block.get("aliases").map(|n| parse_aliases(n, diags)).unwrap_or_default();
    let top_field = block.get("field").map(|n| expect_string_list(n, "field", diags)).unwrap_or_default();

    let condition = match (block.entry("condition"), kind) {
        (Some((key, node)), Some(kind)) => parse_condition(key.pos, node, kind, top_field, &mut rules, diags),
        (None, Some(kind)) if !kind.is_temporal() => {
            invalid(diags, here, format!("`{}` needs a `condition`", kind.as_str()));
            None
        }
        _ => None,
    };
    if rules.is_empty() {
        invalid(diags, here, "`rules` must name at least one rule");
    }
    if let (Some(kind), Some(CorrelationCondition::Threshold { field, .. })) = (kind, &condition) {
        if kind.needs_field() && field.is_empty() {
            invalid(diags, here, format!("`{}` needs `field` in its condition", kind.as_str()));
        }
    }
    if diags.has_errors() {
        return None;
    }
    Some(SigmaCorrelation { meta, kind: kind?, rules, group_by, timespan, condition, aliases, generate, pos: root.pos })
}

fn parse_aliases(node: &Node<'_>, diags: &mut Diagnostics) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let Some(entries) = node.as_map() else {
        invalid(diags, node.pos, "`aliases` must map alias names to {rule: field}");
        return out;
    };
    for (alias, mapping) in entries {
        let Some(alias) = alias.as_str() else {
            continue;
        };
        let Some(pairs) = mapping.as_map() else {
            invalid(diags, mapping.pos, format!("alias `{alias}` must map rule names to field names"));
            continue;
        };
        let mut fields = BTreeMap::new();
        for (rule, field) in pairs {
            if let (Some(rule), Some(field)) = (rule.scalar_text(), expect_string(field, "aliases", diags)) {
                fields.insert(rule.into_owned(), field);
            }
        }
        out.insert(alias.to_string(), fields);
    }
    out
}

fn parse_condition(
    key: Pos,
    node: &Node<'_>,
    kind: CorrelationType,
    top_field: Vec<String>,
    rules: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Option<CorrelationCondition> {
    if let Some(text) = node.as_str() {
        if !kind.is_temporal() {
            invalid(diags, node.pos, "a condition expression is only allowed for temporal correlations");
            return None;
        }
        let tree = match condition::parse(text) {
            Ok((tree, _)) => tree,
            Err(e) => {
                diags.error(Code::InvalidCorrelation, node.pos.shifted(e.offset), e.message);
                return None;
            }
        };
        let mut names = Vec::new();
        collect_idents(&tree, &mut names);
        if rules.is_empty() {
            *rules = names;
        } else if let Some(missing) = names.iter().find(|n| !rules.contains(n)) {
            invalid(diags, node.pos, format!("`{missing}` is used in the condition but not listed in `rules`"));
        }
        return Some(CorrelationCondition::Extended(tree));
    }
    let Some(entries) = node.as_map() else {
        invalid(diags, node.pos, "`condition` must be a mapping such as `gte: 10`");
        return None;
    };
    let mut ops = Vec::new();
    let mut field = top_field;
    let mut percentile = None;
    for (key, value) in entries {
        let Some(name) = key.as_str() else { continue };
        if name == "field" {
            field = expect_string_list(value, "field", diags);
            continue;
        }
        let number = match value.kind {
            Kind::Int(i) => Some(i as f64),
            Kind::Float(f) => Some(f),
            _ => None,
        };
        if name == "percentile" {
            percentile = number;
            if number.is_none_or(|p| !(0.0..=100.0).contains(&p)) {
                invalid(diags, value.pos, "`percentile` must be a number from 0 to 100");
            }
            continue;
        }
        let Some(op) = CmpOp::parse(name) else {
            invalid(diags, key.pos, format!("unknown condition operator `{name}` (gt, gte, lt, lte, eq, neq)"));
            continue;
        };
        match number {
            Some(n) => ops.push((op, n)),
            None => invalid(diags, value.pos, format!("`{name}` needs a number")),
        }
    }
    if ops.is_empty() {
        invalid(diags, key, "the condition needs one operator (gt, gte, lt, lte, eq, neq) or two for a range");
    } else if ops.len() > 2 {
        invalid(diags, key, "at most two operators (a range) are allowed in a correlation condition");
    }
    Some(CorrelationCondition::Threshold { ops, field, percentile })
}

fn collect_idents(tree: &Condition, out: &mut Vec<String>) {
    match tree {
        Condition::Ident(name) => {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        Condition::Selector { .. } => {}
        Condition::Not(inner) => collect_idents(inner, out),
        Condition::And(items) | Condition::Or(items) => items.iter().for_each(|i| collect_idents(i, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("5m"), Some(300));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("2d"), Some(172_800));
        assert_eq!(parse_timespan("10"), None);
        assert_eq!(parse_timespan("m"), None);
    }
}
