//! pySigma pipeline YAML -> [`Pipeline`], with every problem located: unknown keys, unknown types, missing or
//! invalid parameters. The file format is pySigma's, unchanged.

use super::output::{OutputAction, OutputStep, TemplateSource};
use super::text::python_replacement;
use super::{Pipeline, ProcessingItem};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use crate::yaml::{self, Kind, Node};
use regex::Regex;
use std::collections::BTreeMap;

const TOP_KEYS: &[&str] =
    &["name", "priority", "allowed_backends", "vars", "transformations", "postprocessing", "finalizers"];

pub(super) const ITEM_KEYS: &[&str] = &[
    "id",
    "type",
    "rule_conditions",
    "rule_cond_op",
    "rule_cond_not",
    "rule_cond_expr",
    "detection_item_conditions",
    "detection_item_cond_op",
    "detection_item_cond_not",
    "detection_item_cond_expr",
    "field_name_conditions",
    "field_name_cond_op",
    "field_name_cond_not",
    "field_name_cond_expr",
];

const POSTPROCESSING: &[&str] = &["embed", "simple_template", "template", "json", "replace", "nest"];
const FINALIZERS: &[&str] = &["concat", "json", "yaml", "template", "nested"];

/// Parses a pipeline file. `origin` names it in messages (a built-in name or a path).
pub fn parse(text: &str, origin: &str) -> Result<Pipeline, Vec<Diagnostic>> {
    let (documents, yaml_problems) = yaml::parse(text);
    if !yaml_problems.is_empty() {
        return Err(yaml_problems);
    }
    let mut loader = Loader { diags: Vec::new() };
    let root = match documents.as_slice() {
        [one] if one.root.as_map().is_some() => &one.root,
        [one] => {
            loader.error(Code::PipelineInvalid, one.root.pos, "a pipeline must be a mapping");
            return Err(loader.diags);
        }
        _ => {
            let message = "a pipeline file holds exactly one YAML document";
            return Err(vec![Diagnostic::error(Code::PipelineInvalid, None, message)]);
        }
    };
    loader.unknown_keys(root, TOP_KEYS, "pipeline");
    let name = root.get("name").and_then(|n| loader.string(n, "name"));
    let priority = match root.get("priority") {
        Some(Node { kind: Kind::Int(i), .. }) => *i,
        Some(node) => {
            loader.error(Code::PipelineInvalid, node.pos, "`priority` must be a whole number");
            0
        }
        None => 0,
    };
    let allowed_backends =
        root.get("allowed_backends").map(|n| loader.strings(n, "allowed_backends")).unwrap_or_default();
    let vars = root.get("vars").map(|n| loader.vars(n)).unwrap_or_default();
    let items = match root.get("transformations") {
        Some(node) => loader.items(node),
        None => Vec::new(),
    };
    let postprocessing = root
        .get("postprocessing")
        .map(|n| loader.output_steps(n, POSTPROCESSING, "postprocessing"))
        .unwrap_or_default();
    let finalizers =
        root.get("finalizers").map(|n| loader.output_steps(n, FINALIZERS, "finalizer")).unwrap_or_default();
    if loader.diags.is_empty() {
        Ok(Pipeline {
            name,
            priority,
            allowed_backends,
            vars,
            items,
            postprocessing,
            finalizers,
            origin: origin.to_string(),
        })
    } else {
        Err(loader.diags)
    }
}

pub(super) struct Loader {
    pub(super) diags: Vec<Diagnostic>,
}

pub(super) fn scalar_json(node: &Node<'_>) -> serde_json::Value {
    node.to_json()
}

impl Loader {
    pub(super) fn error(&mut self, code: Code, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, pos, message));
    }

    pub(super) fn unknown_keys(&mut self, node: &Node<'_>, allowed: &[&str], what: &str) {
        for (key, _) in node.as_map().unwrap_or_default() {
            let name = key.scalar_text().unwrap_or_default();
            if !allowed.contains(&name.as_ref()) {
                let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                self.error(
                    Code::PipelineUnknownKey,
                    key.pos,
                    format!("unknown key `{name}` in {what} (expected {expected})"),
                );
            }
        }
    }

    pub(super) fn string(&mut self, node: &Node<'_>, key: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.to_string()),
            Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => node.scalar_text().map(|s| s.into_owned()),
            _ => {
                self.error(
                    Code::PipelineInvalid,
                    node.pos,
                    format!("`{key}` must be a string, not {}", node.type_name()),
                );
                None
            }
        }
    }

    pub(super) fn required_string(&mut self, map: &Node<'_>, key: &str) -> Option<String> {
        match map.get(key) {
            Some(node) => self.string(node, key),
            None => {
                self.error(Code::PipelineInvalid, map.pos, format!("missing `{key}`"));
                None
            }
        }
    }

    pub(super) fn optional_string(&mut self, map: &Node<'_>, key: &str) -> Option<String> {
        match map.get(key) {
            Some(Node { kind: Kind::Null, .. }) | None => None,
            Some(node) => self.string(node, key),
        }
    }

    pub(super) fn bool(&mut self, map: &Node<'_>, key: &str, default: bool) -> bool {
        match map.get(key) {
            None => default,
            Some(Node { kind: Kind::Bool(b), .. }) => *b,
            Some(node) => {
                self.error(Code::PipelineInvalid, node.pos, format!("`{key}` must be true or false"));
                default
            }
        }
    }

    /// A string, or a list of strings.
    pub(super) fn strings(&mut self, node: &Node<'_>, key: &str) -> Vec<String> {
        match &node.kind {
            Kind::Seq(items) => items.iter().filter_map(|i| self.string(i, key)).collect(),
            _ => self.string(node, key).into_iter().collect(),
        }
    }

    pub(super) fn vars(&mut self, node: &Node<'_>) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        let Some(entries) = node.as_map() else {
            self.error(Code::PipelineInvalid, node.pos, "`vars` must map names to values");
            return out;
        };
        for (key, value) in entries {
            let name = key.scalar_text().unwrap_or_default().into_owned();
            out.insert(name, self.strings(value, "vars"));
        }
        out
    }

    /// `{key: value | [values]}` maps; with `null_key`, a `null` key is kept as `None` (keywords).
    pub(super) fn string_map(
        &mut self,
        node: &Node<'_>,
        key: &str,
        null_key: bool,
    ) -> Vec<(Option<String>, Vec<String>)> {
        let Some(entries) = node.as_map() else {
            self.error(Code::PipelineInvalid, node.pos, format!("`{key}` must be a mapping"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let name = match &k.kind {
                Kind::Null if null_key => None,
                Kind::Null => {
                    self.error(Code::PipelineInvalid, k.pos, format!("`{key}` cannot have a null key"));
                    continue;
                }
                _ => k.scalar_text().map(|s| s.into_owned()),
            };
            out.push((name, self.strings(v, key)));
        }
        out
    }

    pub(super) fn regex(&mut self, node: &Node<'_>, key: &str, anchored: bool) -> Option<Regex> {
        let pattern = self.string(node, key)?;
        // Python's `re.match` anchors at the start; `re.sub`/`search` do not.
        let source = if anchored { format!("^(?:{pattern})") } else { pattern.clone() };
        match Regex::new(&source) {
            Ok(re) => Some(re),
            Err(e) => {
                let detail = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                self.error(
                    Code::PipelineInvalid,
                    node.pos,
                    format!("invalid regular expression `{pattern}`: {detail}"),
                );
                None
            }
        }
    }

    pub(super) fn items(&mut self, node: &Node<'_>) -> Vec<ProcessingItem> {
        let Kind::Seq(entries) = &node.kind else {
            self.error(Code::PipelineInvalid, node.pos, "`transformations` must be a list");
            return Vec::new();
        };
        entries.iter().filter_map(|entry| self.item(entry)).collect()
    }

    fn item(&mut self, node: &Node<'_>) -> Option<ProcessingItem> {
        if node.as_map().is_none() {
            self.error(Code::PipelineInvalid, node.pos, "a processing item must be a mapping with a `type`");
            return None;
        }
        let before = self.diags.len();
        let id = self.optional_string(node, "id");
        let kind = self.required_string(node, "type")?;
        let rule_conditions = self.conditions(node, "rule", |l, t, n| l.rule_condition(t, n));
        let item_conditions = self.conditions(node, "detection_item", |l, t, n| l.item_condition(t, n));
        let field_conditions = self.conditions(node, "field_name", |l, t, n| l.field_condition(t, n));
        let transformation = self.transformation(&kind, node);
        if self.diags.len() > before {
            return None;
        }
        Some(ProcessingItem {
            id,
            transformation: transformation?,
            rule_conditions,
            item_conditions,
            field_conditions,
            pos: node.pos,
        })
    }

    pub(super) fn missing<T>(&mut self, node: &Node<'_>, key: &str) -> Option<T> {
        self.error(Code::PipelineInvalid, node.pos, format!("missing `{key}`"));
        None
    }

    fn output_steps(&mut self, node: &Node<'_>, known: &[&str], what: &str) -> Vec<OutputStep> {
        let Kind::Seq(entries) = &node.kind else {
            self.error(Code::PipelineInvalid, node.pos, format!("`{what}` must be a list"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries {
            if entry.as_map().is_none() {
                self.error(Code::PipelineInvalid, entry.pos, format!("a {what} must be a mapping with a `type`"));
                continue;
            }
            let Some(kind) = self.required_string(entry, "type") else { continue };
            if !known.contains(&kind.as_str()) {
                let pos = entry.entry("type").map_or(entry.pos, |(_, v)| v.pos);
                self.error(
                    Code::PipelineUnknownType,
                    pos,
                    format!("unknown {what} type `{kind}` (expected {})", known.join(", ")),
                );
                continue;
            }
            let id = self.optional_string(entry, "id");
            let rule_conditions = self.conditions(entry, "rule", |l, t, n| l.rule_condition(t, n));
            let finalizer = known == FINALIZERS;
            if finalizer && !rule_conditions.is_empty() {
                self.error(
                    Code::PipelineInvalid,
                    entry.pos,
                    "finalizers have no rule conditions: they see all queries",
                );
            }
            if let Some(action) = self.output_action(&kind, entry, finalizer) {
                out.push(OutputStep { id, action, rule_conditions });
            }
        }
        out
    }

    /// The parameters of one postprocessing step (`finalizer` false) or finalizer, as pySigma names them.
    fn output_action(&mut self, kind: &str, node: &Node<'_>, finalizer: bool) -> Option<OutputAction> {
        const STEP_KEYS: &[&str] =
            &["type", "id", "rule_conditions", "rule_cond_op", "rule_cond_not", "rule_cond_expr"];
        let allow =
            |params: &[&'static str]| -> Vec<&'static str> { STEP_KEYS.iter().chain(params).copied().collect() };
        let what = if finalizer { format!("a `{kind}` finalizer") } else { format!("a `{kind}` postprocessing step") };
        let text = |l: &mut Self, key: &str| l.optional_string(node, key).unwrap_or_default();
        Some(match (kind, finalizer) {
            ("embed", false) => {
                self.unknown_keys(node, &allow(&["prefix", "suffix"]), &what);
                OutputAction::Embed { prefix: text(self, "prefix"), suffix: text(self, "suffix") }
            }
            ("simple_template", false) => {
                self.unknown_keys(node, &allow(&["template"]), &what);
                OutputAction::SimpleTemplate(self.required_string(node, "template")?)
            }
            ("template", _) => {
                self.unknown_keys(node, &allow(&["template", "path", "autoescape", "vars"]), &what);
                if let Some(vars) = node.get("vars") {
                    self.error(
                        Code::PipelineInvalid,
                        vars.pos,
                        "`vars` names a Python file of template helpers: Vigil runs no Python",
                    );
                    return None;
                }
                let source = TemplateSource {
                    text: self.required_string(node, "template")?,
                    path: self.optional_string(node, "path"),
                    autoescape: self.bool(node, "autoescape", false),
                };
                if source.path.is_none() {
                    // Checked now, so a typo shows where it is rather than at the first query.
                    if let Err(e) = minijinja::Environment::new().template_from_str(&source.text) {
                        let pos = value_pos(node, "template");
                        self.error(Code::PipelineInvalid, pos, format!("template: {e}"));
                        return None;
                    }
                }
                OutputAction::Template(source)
            }
            ("json", false) => {
                self.unknown_keys(node, &allow(&["json_template"]), &what);
                let template = self.required_string(node, "json_template")?;
                match serde_json::from_str(&template) {
                    Ok(value) => OutputAction::EmbedInJson(value),
                    Err(e) => {
                        self.error(
                            Code::PipelineInvalid,
                            value_pos(node, "json_template"),
                            format!("`json_template`: {e}"),
                        );
                        return None;
                    }
                }
            }
            ("replace", false) => {
                self.unknown_keys(node, &allow(&["pattern", "replacement"]), &what);
                let pattern_node = node.get("pattern").or_else(|| self.missing(node, "pattern"))?;
                let regex = self.regex(pattern_node, "pattern", false)?;
                let replacement = python_replacement(&self.required_string(node, "replacement")?);
                OutputAction::Replace { regex, replacement }
            }
            ("nest", false) => {
                self.unknown_keys(node, &allow(&["items"]), &what);
                let items = node.get("items").or_else(|| self.missing(node, "items"))?;
                OutputAction::Nest(self.output_steps(items, POSTPROCESSING, "postprocessing"))
            }
            ("concat", true) => {
                self.unknown_keys(node, &allow(&["separator", "prefix", "suffix"]), &what);
                OutputAction::Concat {
                    separator: self.optional_string(node, "separator").unwrap_or_else(|| "\n".into()),
                    prefix: text(self, "prefix"),
                    suffix: text(self, "suffix"),
                }
            }
            ("json", true) => {
                self.unknown_keys(node, &allow(&["indent"]), &what);
                OutputAction::JsonList { indent: self.indent(node) }
            }
            ("yaml", true) => {
                self.unknown_keys(node, &allow(&["indent"]), &what);
                let _ = self.indent(node);
                OutputAction::YamlList
            }
            ("nested", true) => {
                self.unknown_keys(node, &allow(&["finalizers"]), &what);
                let items = node.get("finalizers").or_else(|| self.missing(node, "finalizers"))?;
                OutputAction::Nest(self.output_steps(items, FINALIZERS, "finalizer"))
            }
            _ => return None,
        })
    }

    fn indent(&mut self, node: &Node<'_>) -> Option<usize> {
        let value = node.get("indent")?;
        match value.kind {
            Kind::Null => None,
            Kind::Int(n) if (0..=64).contains(&n) => Some(n as usize),
            _ => {
                self.error(Code::PipelineInvalid, value.pos, "`indent` must be a number from 0 to 64, or null");
                None
            }
        }
    }
}

/// The position of the value under `key`, or of the mapping itself.
pub(super) fn value_pos(map: &Node<'_>, key: &str) -> Pos {
    map.get(key).map_or(map.pos, |v| v.pos)
}
