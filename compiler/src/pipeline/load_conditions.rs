//! Loading the condition families of processing items: rule, detection-item and field-name conditions, and
//! how they combine (`*_cond_op`, `*_cond_not`, `*_cond_expr`).

use super::conditions::{
    Combine, Conditions, FieldCondition, ItemCondition, Op, Quantifier, RuleCondition, StateTest, ValueMatch,
};
use super::load::{scalar_json, value_pos, Loader};
use crate::codes::Code;
use crate::condition::{self, Condition};
use crate::ir::meta::LogSource;
use crate::yaml::{Kind, Node};
use regex::Regex;

impl Loader {
    pub(super) fn value_match(&mut self, map: &Node<'_>, key: &str) -> Option<ValueMatch> {
        let node = map.get(key).or_else(|| self.missing(map, key))?;
        Some(match &node.kind {
            Kind::Str(s) => ValueMatch::Str(s.to_string()),
            Kind::Int(i) => ValueMatch::Num(*i as f64),
            Kind::Float(f) => ValueMatch::Num(*f),
            Kind::Bool(b) => ValueMatch::Bool(*b),
            _ => {
                self.error(Code::PipelineInvalid, node.pos, format!("`{key}` must be a string, number or boolean"));
                return None;
            }
        })
    }

    pub(super) fn op(&mut self, map: &Node<'_>, allowed: &[&str]) -> Option<Op> {
        match self.optional_string(map, "op") {
            None => Some(Op::Eq),
            Some(text) if allowed.contains(&text.as_str()) => Op::parse(&text),
            Some(text) => {
                self.error(
                    Code::PipelineInvalid,
                    map.pos,
                    format!("invalid `op` `{text}` (expected {})", allowed.join(", ")),
                );
                None
            }
        }
    }

    pub(super) fn state_test(&mut self, map: &Node<'_>) -> Option<StateTest> {
        let key = self.required_string(map, "key")?;
        let val = map.get("val").map(scalar_json).or_else(|| self.missing(map, "val"))?;
        let op = self.op(map, &["eq", "ne", "gte", "gt", "lte", "lt"])?;
        Some(StateTest { key, val, op })
    }

    pub(super) fn quantifier(&mut self, map: &Node<'_>) -> Option<Quantifier> {
        let text = self.required_string(map, "cond")?;
        match text.as_str() {
            "any" => Some(Quantifier::Any),
            "all" => Some(Quantifier::All),
            other => {
                let pos = value_pos(map, "cond");
                self.error(Code::PipelineInvalid, pos, format!("`cond` must be `any` or `all`, not `{other}`"));
                None
            }
        }
    }

    /// Reads `<family>_conditions` with `<family>_cond_op`, `_cond_not` and `_cond_expr`.
    pub(super) fn conditions<C>(
        &mut self,
        item: &Node<'_>,
        family: &str,
        parse_one: impl Fn(&mut Self, &str, &Node<'_>) -> Option<C>,
    ) -> Conditions<C> {
        let mut out = Conditions::default();
        let list_key = format!("{family}_conditions");
        let op_key = format!("{family}_cond_op");
        let expr_key = format!("{family}_cond_expr");
        out.negate = self.bool(item, &format!("{family}_cond_not"), false);
        let Some(list) = item.get(&list_key) else { return out };
        let entries: Vec<(String, &Node<'_>)> = match &list.kind {
            Kind::Seq(items) => items.iter().enumerate().map(|(i, n)| ((i + 1).to_string(), n)).collect(),
            Kind::Map(entries) => {
                entries.iter().map(|(k, v)| (k.scalar_text().unwrap_or_default().into_owned(), v)).collect()
            }
            _ => {
                self.error(
                    Code::PipelineInvalid,
                    list.pos,
                    format!("`{list_key}` must be a list or a mapping of ids to conditions"),
                );
                return out;
            }
        };
        for (id, node) in entries {
            if node.as_map().is_none() {
                self.error(Code::PipelineInvalid, node.pos, "a condition must be a mapping with a `type`");
                continue;
            }
            let Some(kind) = self.required_string(node, "type") else { continue };
            if let Some(condition) = parse_one(self, &kind, node) {
                out.items.push((id, condition));
            }
        }
        let op = self.optional_string(item, &op_key);
        match item.get(&expr_key) {
            Some(expr_node) => {
                if op.is_some() {
                    self.error(
                        Code::PipelineInvalid,
                        expr_node.pos,
                        format!("`{expr_key}` and `{op_key}` cannot be used together"),
                    );
                }
                if !matches!(list.kind, Kind::Map(_)) {
                    self.error(
                        Code::PipelineInvalid,
                        list.pos,
                        format!("with `{expr_key}`, `{list_key}` must map ids to conditions"),
                    );
                }
                let Some(text) = self.string(expr_node, &expr_key) else { return out };
                match condition::parse(&text) {
                    Ok((tree, _)) => {
                        let mut unknown = Vec::new();
                        check_ids(&tree, &out.items, &mut unknown);
                        for id in unknown {
                            self.error(
                                Code::PipelineInvalid,
                                expr_node.pos,
                                format!("`{expr_key}` names `{id}`, which is not one of the conditions"),
                            );
                        }
                        out.combine = Combine::Expr(tree);
                    }
                    Err(e) => self.error(
                        Code::PipelineInvalid,
                        expr_node.pos.shifted(e.offset),
                        format!("`{expr_key}`: {}", e.message),
                    ),
                }
            }
            None => match op.as_deref() {
                None | Some("and") => out.combine = Combine::All,
                Some("or") => out.combine = Combine::Any,
                Some(other) => self.error(
                    Code::PipelineInvalid,
                    item.pos,
                    format!("`{op_key}` must be `and` or `or`, not `{other}`"),
                ),
            },
        }
        out
    }

    pub(super) fn condition_params(&mut self, node: &Node<'_>, kind: &str, params: &[&str]) {
        let allowed: Vec<&str> = std::iter::once("type").chain(params.iter().copied()).collect();
        self.unknown_keys(node, &allowed, &format!("a `{kind}` condition"));
    }

    pub(super) fn unknown_condition<C>(&mut self, node: &Node<'_>, kind: &str, family: &str) -> Option<C> {
        let pos = node.entry("type").map_or(node.pos, |(_, v)| v.pos);
        self.error(Code::PipelineUnknownType, pos, format!("unknown {family} condition type `{kind}`"));
        None
    }

    pub(super) fn rule_condition(&mut self, kind: &str, node: &Node<'_>) -> Option<RuleCondition> {
        use RuleCondition as R;
        Some(match kind {
            "logsource" => {
                self.condition_params(node, kind, &["category", "product", "service"]);
                R::Logsource(LogSource {
                    category: self.optional_string(node, "category"),
                    product: self.optional_string(node, "product"),
                    service: self.optional_string(node, "service"),
                    ..LogSource::default()
                })
            }
            "contains_detection_item" => {
                self.condition_params(node, kind, &["field", "value"]);
                R::ContainsDetectionItem {
                    field: self.required_string(node, "field")?,
                    value: self.value_match(node, "value")?,
                }
            }
            "contains_field" => {
                self.condition_params(node, kind, &["field"]);
                R::ContainsField(self.required_string(node, "field")?)
            }
            "processing_item_applied" => {
                self.condition_params(node, kind, &["processing_item_id"]);
                R::ProcessingItemApplied(self.required_string(node, "processing_item_id")?)
            }
            "processing_state" => {
                self.condition_params(node, kind, &["key", "val", "op"]);
                R::ProcessingState(self.state_test(node)?)
            }
            "is_sigma_rule" => {
                self.condition_params(node, kind, &[]);
                R::IsSigmaRule
            }
            "is_sigma_correlation_rule" => {
                self.condition_params(node, kind, &[]);
                R::IsSigmaCorrelationRule
            }
            "rule_attribute" => {
                self.condition_params(node, kind, &["attribute", "value", "op"]);
                let op = self.op(node, &["eq", "ne", "gte", "gt", "lte", "lt", "in", "not_in"])?;
                R::RuleAttribute {
                    attribute: self.required_string(node, "attribute")?,
                    value: self.value_match(node, "value")?,
                    op,
                }
            }
            "tag" => {
                self.condition_params(node, kind, &["tag"]);
                R::Tag(self.required_string(node, "tag")?)
            }
            other => return self.unknown_condition(node, other, "rule"),
        })
    }

    pub(super) fn item_condition(&mut self, kind: &str, node: &Node<'_>) -> Option<ItemCondition> {
        use ItemCondition as I;
        Some(match kind {
            "match_string" => {
                self.condition_params(node, kind, &["pattern", "negate", "cond"]);
                let pattern_node = node.get("pattern").or_else(|| self.missing(node, "pattern"))?;
                let pattern = self.regex(pattern_node, "pattern", true)?;
                I::MatchString { pattern, negate: self.bool(node, "negate", false), quantifier: self.quantifier(node)? }
            }
            "match_value" => {
                self.condition_params(node, kind, &["value", "cond"]);
                I::MatchValue { value: self.value_match(node, "value")?, quantifier: self.quantifier(node)? }
            }
            "contains_wildcard" => {
                self.condition_params(node, kind, &["cond"]);
                I::ContainsWildcard { quantifier: self.quantifier(node)? }
            }
            "is_null" => {
                self.condition_params(node, kind, &["cond"]);
                I::IsNull { quantifier: self.quantifier(node)? }
            }
            "processing_item_applied" => {
                self.condition_params(node, kind, &["processing_item_id"]);
                I::ProcessingItemApplied(self.required_string(node, "processing_item_id")?)
            }
            "processing_state" => {
                self.condition_params(node, kind, &["key", "val", "op"]);
                I::ProcessingState(self.state_test(node)?)
            }
            other => return self.unknown_condition(node, other, "detection item"),
        })
    }

    pub(super) fn field_condition(&mut self, kind: &str, node: &Node<'_>) -> Option<FieldCondition> {
        use FieldCondition as F;
        Some(match kind {
            "include_fields" | "exclude_fields" => {
                self.condition_params(node, kind, &["fields", "mode"]);
                let fields = match node.get("fields") {
                    Some(n) => self.strings(n, "fields"),
                    None => self.missing(node, "fields")?,
                };
                let patterns = match self.optional_string(node, "mode").as_deref() {
                    None | Some("plain") => None,
                    Some("re") => {
                        let mut compiled = Vec::new();
                        for f in &fields {
                            match Regex::new(&format!("^(?:{f})")) {
                                Ok(re) => compiled.push(re),
                                Err(_) => {
                                    self.error(Code::PipelineInvalid, node.pos, format!("invalid field pattern `{f}`"))
                                }
                            }
                        }
                        Some(compiled)
                    }
                    Some(other) => {
                        self.error(
                            Code::PipelineInvalid,
                            node.pos,
                            format!("`mode` must be `plain` or `re`, not `{other}`"),
                        );
                        return None;
                    }
                };
                if kind == "include_fields" {
                    F::Include { fields, patterns }
                } else {
                    F::Exclude { fields, patterns }
                }
            }
            "processing_item_applied" => {
                self.condition_params(node, kind, &["processing_item_id"]);
                F::ProcessingItemApplied(self.required_string(node, "processing_item_id")?)
            }
            "processing_state" => {
                self.condition_params(node, kind, &["key", "val", "op"]);
                F::ProcessingState(self.state_test(node)?)
            }
            other => return self.unknown_condition(node, other, "field name"),
        })
    }
}

fn check_ids<C>(tree: &Condition, items: &[(String, C)], unknown: &mut Vec<String>) {
    match tree {
        Condition::Ident(id) => {
            if !items.iter().any(|(i, _)| i == id) && !unknown.contains(id) {
                unknown.push(id.clone());
            }
        }
        Condition::Selector { .. } => {}
        Condition::Not(inner) => check_ids(inner, items, unknown),
        Condition::And(children) | Condition::Or(children) => {
            children.iter().for_each(|c| check_ids(c, items, unknown))
        }
    }
}
