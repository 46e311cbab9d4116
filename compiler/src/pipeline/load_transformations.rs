//! Loading transformations: each `type` of processing item and its parameters, checked and located.

use super::conditions::ValueMatch;
use super::load::{scalar_json, value_pos, Loader, ITEM_KEYS};
use super::text::{python_replacement, PlaceholderFilter, RegexMethod};
use super::transform::{CaseMethod, Transformation};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use crate::ir::value::{Number, SigmaString};
use crate::rule::value::DetectionValue;
use crate::yaml::{Kind, Node};
use regex::Regex;

impl Loader {
    /// Checks that a transformation's parameters are among `params` (plus the processing item's own keys).
    fn params(&mut self, node: &Node<'_>, kind: &str, params: &[&str]) {
        let allowed: Vec<&str> = ITEM_KEYS.iter().chain(params.iter()).copied().collect();
        self.unknown_keys(node, &allowed, &format!("a `{kind}` processing item"));
    }

    fn placeholder_filter(&mut self, node: &Node<'_>) -> PlaceholderFilter {
        let include = node.get("include").map(|n| self.strings(n, "include"));
        let exclude = node.get("exclude").map(|n| self.strings(n, "exclude"));
        if include.is_some() && exclude.is_some() {
            self.error(Code::PipelineInvalid, node.pos, "`include` and `exclude` cannot be used together");
        }
        PlaceholderFilter { include, exclude }
    }

    pub(super) fn transformation(&mut self, kind: &str, node: &Node<'_>) -> Option<Transformation> {
        use Transformation as T;
        let type_pos = node.entry("type").map_or(node.pos, |(_, v)| v.pos);
        Some(match kind {
            "field_name_mapping" => {
                self.params(node, kind, &["mapping"]);
                let mapping = node.get("mapping").map(|m| self.string_map(m, "mapping", true));
                T::FieldNameMapping(mapping.or_else(|| self.missing(node, "mapping"))?)
            }
            "field_name_prefix_mapping" => {
                self.params(node, kind, &["mapping"]);
                let mapping = node.get("mapping").map(|m| self.string_map(m, "mapping", false));
                let mapping = mapping.or_else(|| self.missing(node, "mapping"))?;
                T::FieldNamePrefixMapping(mapping.into_iter().map(|(k, v)| (k.unwrap_or_default(), v)).collect())
            }
            "field_name_prefix" => {
                self.params(node, kind, &["prefix"]);
                T::FieldNamePrefix(self.required_string(node, "prefix")?)
            }
            "field_name_suffix" => {
                self.params(node, kind, &["suffix"]);
                T::FieldNameSuffix(self.required_string(node, "suffix")?)
            }
            "drop_detection_item" => {
                self.params(node, kind, &[]);
                T::DropDetectionItem
            }
            "hashes_fields" => {
                self.params(node, kind, &["valid_hash_algos", "field_prefix", "drop_algo_prefix", "field_to_parse"]);
                let algorithms = match node.get("valid_hash_algos") {
                    Some(n) => self.strings(n, "valid_hash_algos"),
                    None => self.missing(node, "valid_hash_algos")?,
                };
                T::HashesFields {
                    algorithms,
                    field_prefix: self.optional_string(node, "field_prefix").unwrap_or_default(),
                    drop_algo_prefix: self.bool(node, "drop_algo_prefix", false),
                    fields: node
                        .get("field_to_parse")
                        .map(|n| self.strings(n, "field_to_parse"))
                        .unwrap_or_else(|| vec!["Hashes".into(), "Hash".into()]),
                }
            }
            "extract_fields" => {
                self.params(node, kind, &["regex", "field_prefix", "preserve_unmatched"]);
                let regex_node = node.get("regex").or_else(|| self.missing(node, "regex"))?;
                let regex = self.regex(regex_node, "regex", true)?;
                if regex.capture_names().flatten().next().is_none() {
                    self.error(
                        Code::PipelineInvalid,
                        regex_node.pos,
                        "`regex` needs at least one named group `(?P<name>...)`",
                    );
                }
                T::ExtractFields {
                    regex,
                    field_prefix: self.optional_string(node, "field_prefix"),
                    preserve_unmatched: self.bool(node, "preserve_unmatched", false),
                }
            }
            "wildcard_placeholders" | "value_placeholders" => {
                self.params(node, kind, &["include", "exclude"]);
                let filter = self.placeholder_filter(node);
                if kind == "wildcard_placeholders" {
                    T::WildcardPlaceholders(filter)
                } else {
                    T::ValuePlaceholders(filter)
                }
            }
            "query_expression_placeholders" => {
                self.params(node, kind, &["expression", "mapping", "include", "exclude"]);
                let mapping = node.get("mapping").map(|m| self.string_map(m, "mapping", false)).unwrap_or_default();
                T::QueryExpressionPlaceholders {
                    expression: self.required_string(node, "expression")?,
                    mapping: mapping.into_iter().map(|(k, v)| (k.unwrap_or_default(), v.join(","))).collect(),
                    filter: self.placeholder_filter(node),
                }
            }
            "file_placeholders" => {
                self.params(node, kind, &["path", "include", "exclude", "format"]);
                if let Some(format) = self.optional_string(node, "format") {
                    if format != "plaintext" {
                        self.error(
                            Code::PipelineInvalid,
                            node.pos,
                            format!("`file_placeholders` format `{format}`: only `plaintext` is supported"),
                        );
                    }
                }
                T::FilePlaceholders { path: self.required_string(node, "path")?, filter: self.placeholder_filter(node) }
            }
            "http_placeholders" | "command_placeholders" => {
                self.error(
                    Code::PipelineExternalSource,
                    type_pos,
                    format!("`{kind}` fetches values from outside the pipeline; Vigil does not fetch URLs or run commands for pipelines"),
                );
                return None;
            }
            "field_name_transform" => {
                self.error(
                    Code::PipelineInvalid,
                    type_pos,
                    "`field_name_transform` calls a Python function and cannot be written in YAML",
                );
                return None;
            }
            "add_condition" => {
                self.params(node, kind, &["conditions", "name", "template", "negated"]);
                let conditions = node.get("conditions").or_else(|| self.missing(node, "conditions"))?;
                if conditions.as_map().is_none() {
                    self.error(Code::PipelineInvalid, conditions.pos, "`conditions` must map fields to values");
                }
                // Checked now, so a mistake is reported with the pipeline rather than with every rule.
                let mut check = crate::diagnostic::Diagnostics::default();
                crate::rule::detection::parse_detection(conditions, &mut check);
                for problem in check.into_vec().into_iter().filter(|d| d.is_error()) {
                    self.diags.push(Diagnostic { code: Code::PipelineInvalid, ..problem });
                }
                T::AddCondition {
                    conditions: conditions.clone().into_owned(),
                    template: self.bool(node, "template", false),
                    negated: self.bool(node, "negated", false),
                    name: self.optional_string(node, "name"),
                }
            }
            "change_logsource" => {
                self.params(node, kind, &["category", "product", "service"]);
                T::ChangeLogsource {
                    category: self.optional_string(node, "category"),
                    product: self.optional_string(node, "product"),
                    service: self.optional_string(node, "service"),
                }
            }
            "add_field" | "remove_field" => {
                self.params(node, kind, &["field"]);
                let fields = match node.get("field") {
                    Some(n) => self.strings(n, "field"),
                    None => self.missing(node, "field")?,
                };
                if kind == "add_field" {
                    T::AddField(fields)
                } else {
                    T::RemoveField(fields)
                }
            }
            "set_field" => {
                self.params(node, kind, &["fields"]);
                T::SetField(match node.get("fields") {
                    Some(n) => self.strings(n, "fields"),
                    None => self.missing(node, "fields")?,
                })
            }
            "replace_string" => {
                self.params(node, kind, &["regex", "replacement", "skip_special", "interpret_special"]);
                let regex_node = node.get("regex").or_else(|| self.missing(node, "regex"))?;
                let regex = self.regex(regex_node, "regex", false)?;
                let replacement = python_replacement(&self.required_string(node, "replacement")?);
                T::ReplaceString {
                    regex,
                    replacement,
                    skip_special: self.bool(node, "skip_special", false),
                    interpret_special: self.bool(node, "interpret_special", false),
                }
            }
            "map_string" => {
                self.params(node, kind, &["mapping"]);
                let mapping = node.get("mapping").map(|m| self.string_map(m, "mapping", false));
                let mapping = mapping.or_else(|| self.missing(node, "mapping"))?;
                T::MapString(mapping.into_iter().map(|(k, v)| (k.unwrap_or_default(), v)).collect())
            }
            "regex" => {
                self.params(node, kind, &["method"]);
                let method = match self.optional_string(node, "method").as_deref() {
                    None | Some("ignore_case_brackets") => RegexMethod::IgnoreCaseBrackets,
                    Some("ignore_case_flag") => RegexMethod::IgnoreCaseFlag,
                    Some("plain") => RegexMethod::Plain,
                    Some(other) => {
                        self.error(
                            Code::PipelineInvalid,
                            value_pos(node, "method"),
                            format!("unknown `method` `{other}` (plain, ignore_case_flag, ignore_case_brackets)"),
                        );
                        return None;
                    }
                };
                T::Regex(method)
            }
            "set_value" => {
                self.params(node, kind, &["value", "force_type"]);
                let value = node.get("value").or_else(|| self.missing(node, "value"))?;
                let force = self.optional_string(node, "force_type");
                T::SetValue(self.set_value(value, force.as_deref(), value_pos(node, "force_type"))?)
            }
            "convert_type" => {
                self.params(node, kind, &["target_type"]);
                match self.required_string(node, "target_type")?.as_str() {
                    "str" => T::ConvertType { to_number: false },
                    "num" => T::ConvertType { to_number: true },
                    other => {
                        self.error(
                            Code::PipelineInvalid,
                            value_pos(node, "target_type"),
                            format!("`target_type` must be `str` or `num`, not `{other}`"),
                        );
                        return None;
                    }
                }
            }
            "case" => {
                self.params(node, kind, &["method"]);
                T::Case(match self.optional_string(node, "method").as_deref() {
                    None | Some("lower") => CaseMethod::Lower,
                    Some("upper") => CaseMethod::Upper,
                    Some("snake_case") => CaseMethod::SnakeCase,
                    Some(other) => {
                        self.error(
                            Code::PipelineInvalid,
                            value_pos(node, "method"),
                            format!("unknown `method` `{other}` (lower, upper, snake_case)"),
                        );
                        return None;
                    }
                })
            }
            "set_state" => {
                self.params(node, kind, &["key", "val"]);
                let value = node.get("val").map(scalar_json).or_else(|| self.missing(node, "val"))?;
                T::SetState { key: self.required_string(node, "key")?, value }
            }
            "set_state_from_values" => {
                self.params(node, kind, &["key", "fields", "detections", "mapping"]);
                let key = self.required_string(node, "key")?;
                let fields = match node.get("fields") {
                    Some(n) => self.strings(n, "fields"),
                    None => self.missing(node, "fields")?,
                };
                // Detection names are matched without case, as pySigma's Kusto pipelines lower them.
                let detections = match node.get("detections") {
                    Some(n) => {
                        let pattern = self.string(n, "detections")?;
                        match Regex::new(&format!("(?i){pattern}")) {
                            Ok(re) => Some(re),
                            Err(_) => {
                                self.error(
                                    Code::PipelineInvalid,
                                    n.pos,
                                    format!("invalid `detections` pattern `{pattern}`"),
                                );
                                return None;
                            }
                        }
                    }
                    None => None,
                };
                let mapping_node = node.get("mapping").or_else(|| self.missing(node, "mapping"))?;
                let mapping = self.value_lists(mapping_node)?;
                T::SetStateFromValues { key, fields, detections, mapping }
            }
            "set_custom_attribute" => {
                self.params(node, kind, &["attribute", "value"]);
                let value = node.get("value").map(scalar_json).or_else(|| self.missing(node, "value"))?;
                T::SetCustomAttribute { attribute: self.required_string(node, "attribute")?, value }
            }
            "rule_failure" | "detection_item_failure" => {
                self.params(node, kind, &["message"]);
                let message = self.required_string(node, "message")?;
                if kind == "rule_failure" {
                    T::RuleFailure(message)
                } else {
                    T::DetectionItemFailure(message)
                }
            }
            "strict_field_mapping_failure" => {
                self.params(node, kind, &[]);
                T::StrictFieldMappingFailure
            }
            "nest" => {
                self.params(node, kind, &["items"]);
                let items = node.get("items").or_else(|| self.missing(node, "items"))?;
                T::Nest(self.items(items))
            }
            other => {
                self.error(Code::PipelineUnknownType, type_pos, format!("unknown transformation type `{other}`"));
                return None;
            }
        })
    }

    /// `mapping` of `set_state_from_values`: a list of `{value: STATE, when: [VALUES]}`, in priority order.
    fn value_lists(&mut self, node: &Node<'_>) -> Option<Vec<(serde_json::Value, Vec<ValueMatch>)>> {
        let Kind::Seq(entries) = &node.kind else {
            self.error(Code::PipelineInvalid, node.pos, "`mapping` must be a list of `{value: ..., when: [...]}`");
            return None;
        };
        let mut out = Vec::new();
        for entry in entries {
            if entry.as_map().is_none() {
                self.error(Code::PipelineInvalid, entry.pos, "a `mapping` entry must be `{value: ..., when: [...]}`");
                continue;
            }
            self.unknown_keys(entry, &["value", "when"], "a `mapping` entry");
            let Some(value) = entry.get("value").map(scalar_json).or_else(|| self.missing(entry, "value")) else {
                continue;
            };
            let Some(when) = entry.get("when").or_else(|| self.missing(entry, "when")) else { continue };
            let items: Vec<&Node<'_>> = match &when.kind {
                Kind::Seq(items) => items.iter().collect(),
                _ => vec![when],
            };
            let mut values = Vec::new();
            for item in items {
                match &item.kind {
                    Kind::Str(s) => values.push(ValueMatch::Str(s.to_string())),
                    Kind::Int(i) => values.push(ValueMatch::Num(*i as f64)),
                    Kind::Float(f) => values.push(ValueMatch::Num(*f)),
                    Kind::Bool(b) => values.push(ValueMatch::Bool(*b)),
                    _ => self.error(
                        Code::PipelineInvalid,
                        item.pos,
                        "`when` values must be strings, numbers or booleans",
                    ),
                }
            }
            out.push((value, values));
        }
        Some(out)
    }

    fn set_value(&mut self, node: &Node<'_>, force: Option<&str>, force_pos: Pos) -> Option<DetectionValue> {
        let text = node.scalar_text().map(|s| s.into_owned());
        match (force, &node.kind) {
            (Some("str"), Kind::Str(_) | Kind::Int(_) | Kind::Float(_)) => {
                Some(DetectionValue::Str { value: SigmaString::parse(&text.unwrap_or_default()), cased: false })
            }
            (Some("num"), Kind::Str(_) | Kind::Int(_) | Kind::Float(_)) => {
                match text.as_deref().and_then(Number::parse) {
                    Some(n) => Some(DetectionValue::Num(n)),
                    None => {
                        self.error(Code::PipelineInvalid, node.pos, "`value` cannot be converted to a number");
                        None
                    }
                }
            }
            (Some(other), _) if other != "str" && other != "num" => {
                self.error(
                    Code::PipelineInvalid,
                    force_pos,
                    format!("`force_type` must be `str` or `num`, not `{other}`"),
                );
                None
            }
            (Some(_), _) => {
                self.error(Code::PipelineInvalid, node.pos, "`force_type` applies to strings and numbers only");
                None
            }
            (None, Kind::Str(s)) => Some(DetectionValue::Str { value: SigmaString::parse(s), cased: false }),
            (None, Kind::Int(i)) => Some(DetectionValue::Num(Number::Int(*i))),
            (None, Kind::Float(f)) => Some(DetectionValue::Num(Number::Float(*f))),
            (None, Kind::Bool(b)) => Some(DetectionValue::Bool(*b)),
            (None, Kind::Null) => Some(DetectionValue::Null),
            (None, _) => {
                self.error(Code::PipelineInvalid, node.pos, "`value` must be a string, number, boolean or null");
                None
            }
        }
    }
}
