//! What pipelines do to the queries a backend wrote (pySigma's `postprocessing` and `finalizers`, same YAML and
//! semantics): each rule's query is post-processed by the steps whose rule conditions held for it (decided when
//! the pipelines ran, [`super::PipelineSet::postprocessing_for`]); then the finalizers turn all queries into one
//! output. Templates are Jinja (minijinja) with pySigma's context: `query`, `rule`, `pipeline.state`; `queries`
//! for finalizers. Python's own formats are kept where users see them: `simple_template` is `str.format`, the
//! `json` steps write what `json.dumps` writes.

use super::conditions::{Conditions, RuleCondition};
use super::{PipelineOptions, State};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir;
use regex::Regex;
use serde_json::{json, Value};
use std::fmt::Write;

/// A postprocessing or finalizer step, with the conditions under which it applies (postprocessing only).
#[derive(Clone, Debug)]
pub struct OutputStep {
    pub id: Option<String>,
    pub action: OutputAction,
    pub rule_conditions: Conditions<RuleCondition>,
}

impl PartialEq for OutputStep {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

/// A Jinja template: inline text, or a file below `path` (read only with `--allow-external-sources`).
#[derive(Clone, Debug)]
pub struct TemplateSource {
    pub text: String,
    pub path: Option<String>,
    pub autoescape: bool,
}

#[derive(Clone, Debug)]
pub enum OutputAction {
    /// `embed`: prefix + query + suffix.
    Embed { prefix: String, suffix: String },
    /// `simple_template`: Python's `str.format` with `query`, `rule`, `pipeline`.
    SimpleTemplate(String),
    /// `template` (postprocessing or finalizer): a Jinja template.
    Template(TemplateSource),
    /// `json` (postprocessing): the JSON document with every string `%QUERY%` replaced by the query.
    EmbedInJson(Value),
    /// `replace`: a regex replaced everywhere in the query.
    Replace { regex: Regex, replacement: String },
    /// `nest` / `nested`: steps applied in turn.
    Nest(Vec<OutputStep>),
    /// `concat`: prefix + queries joined by the separator + suffix.
    Concat { separator: String, prefix: String, suffix: String },
    /// `json` (finalizer): the list of queries as JSON, indented or not.
    JsonList { indent: Option<usize> },
    /// `yaml` (finalizer): the list of queries as YAML.
    YamlList,
}

fn failure(message: impl Into<String>) -> Diagnostic {
    Diagnostic::unlocated(Code::PipelineError, message)
}

/// The rule as templates see it, with pySigma's attribute names (`rule.title`, `rule.level`, `rule.tags`, ...).
pub fn rule_context(rule: &ir::Rule) -> Value {
    let meta = &rule.meta;
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
    json!({
        "title": meta.title,
        "id": text(&meta.id),
        "name": text(&meta.name),
        "status": meta.status.map(|s| s.as_str()),
        "level": meta.level.map(|l| l.as_str()),
        "description": text(&meta.description),
        "license": text(&meta.license),
        "author": text(&meta.author),
        "date": text(&meta.date),
        "modified": text(&meta.modified),
        "taxonomy": text(&meta.taxonomy),
        "references": meta.references,
        "tags": meta.tags,
        "falsepositives": meta.falsepositives,
        "fields": meta.fields,
        "scope": meta.scope,
        "logsource": {
            "category": text(&rule.logsource.category),
            "product": text(&rule.logsource.product),
            "service": text(&rule.logsource.service),
            "definition": text(&rule.logsource.definition),
        },
        "custom_attributes": meta.custom,
    })
}

/// Post-processes one query with `steps` (those that apply to its rule).
pub fn postprocess(
    steps: &[OutputStep],
    query: String,
    rule: &Value,
    state: &State,
    options: PipelineOptions,
) -> Result<String, Diagnostic> {
    let mut query = query;
    for step in steps {
        query = match &step.action {
            OutputAction::Embed { prefix, suffix } => format!("{prefix}{query}{suffix}"),
            OutputAction::SimpleTemplate(template) => {
                let context = json!({"query": query, "rule": rule, "pipeline": {"state": state}});
                simple_format(template, &context).map_err(failure)?
            }
            OutputAction::Template(source) => {
                let context = json!({"query": query, "rule": rule, "pipeline": {"state": state}});
                render(source, &context, options)?
            }
            OutputAction::EmbedInJson(template) => python_json(&replace_placeholder(template, &query), None),
            OutputAction::Replace { regex, replacement } => {
                regex.replace_all(&query, replacement.as_str()).into_owned()
            }
            OutputAction::Nest(inner) => postprocess(inner, query, rule, state, options)?,
            _ => return Err(failure("a finalizer cannot post-process a query")),
        };
    }
    Ok(query)
}

/// Finalizes all queries into one output. `state` is the last rule's (pySigma keeps the last pipeline run).
pub fn finalize(
    steps: &[OutputStep],
    queries: Vec<String>,
    state: &State,
    options: PipelineOptions,
) -> Result<String, Diagnostic> {
    let mut output = Value::from(queries);
    run_finalizers(steps, &mut output, state, options)?;
    Ok(match output {
        Value::String(s) => s,
        Value::Array(items) => items
            .iter()
            .map(|q| q.as_str().map(str::to_string).unwrap_or_else(|| q.to_string()))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    })
}

fn run_finalizers(
    steps: &[OutputStep],
    output: &mut Value,
    state: &State,
    options: PipelineOptions,
) -> Result<(), Diagnostic> {
    for step in steps {
        let next = match &step.action {
            OutputAction::Concat { separator, prefix, suffix } => {
                let Value::Array(items) = &*output else {
                    return Err(failure("`concat` needs the list of queries (an earlier finalizer made one text)"));
                };
                let parts: Vec<String> =
                    items.iter().map(|q| q.as_str().map(str::to_string).unwrap_or_else(|| python_str(q))).collect();
                Value::String(format!("{prefix}{}{suffix}", parts.join(separator)))
            }
            OutputAction::JsonList { indent } => Value::String(python_json(output, *indent)),
            OutputAction::YamlList => {
                Value::String(serde_yaml::to_string(&*output).map_err(|e| failure(format!("YAML output: {e}")))?)
            }
            OutputAction::Template(source) => {
                let context = json!({"queries": &*output, "pipeline": {"state": state}});
                Value::String(render(source, &context, options)?)
            }
            OutputAction::Nest(inner) => {
                let mut value = output.clone();
                run_finalizers(inner, &mut value, state, options)?;
                value
            }
            _ => return Err(failure("a postprocessing step cannot finalize the output")),
        };
        *output = next;
    }
    Ok(())
}

fn replace_placeholder(template: &Value, query: &str) -> Value {
    match template {
        Value::String(s) if s == "%QUERY%" => Value::String(query.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(|v| replace_placeholder(v, query)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), replace_placeholder(v, query))).collect())
        }
        other => other.clone(),
    }
}

/// A Jinja template rendered in a sandbox-like environment (no file access, no Python objects): values print
/// as Jinja2 prints Python's (`True`, `None`).
fn render(source: &TemplateSource, context: &Value, options: PipelineOptions) -> Result<String, Diagnostic> {
    let text = match &source.path {
        None => source.text.clone(),
        Some(dir) => {
            if !options.allow_external_sources {
                return Err(failure(format!(
                    "template `{}` is a file below `{dir}`: reading it needs --allow-external-sources",
                    source.text
                )));
            }
            let path = std::path::Path::new(dir).join(&source.text);
            std::fs::read_to_string(&path).map_err(|e| failure(format!("template file {}: {e}", path.display())))?
        }
    };
    let mut env = minijinja::Environment::new();
    if source.autoescape {
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    }
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return out.write_str("None").map_err(minijinja::Error::from);
        }
        if value.kind() == minijinja::value::ValueKind::Bool {
            return out.write_str(if value.is_true() { "True" } else { "False" }).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.render_str(&text, minijinja::Value::from_serialize(context)).map_err(|e| failure(format!("template: {e}")))
}

/// Python's `str.format` over `context`: `{query}`, `{rule.title}`, `{pipeline.state[key]}`, `{{`/`}}`, and the
/// conversions `!s`/`!r`. Format specifications (`:>10`) are refused: nothing in a query needs them.
pub fn simple_format(template: &str, context: &Value) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err("single `}` in a simple template (write `}}`)".into()),
            '{' => {
                let mut field = String::new();
                let mut depth = 0;
                loop {
                    match chars.next() {
                        None => return Err("`{` without its `}` in a simple template".into()),
                        Some('[') => {
                            depth += 1;
                            field.push('[');
                        }
                        Some(']') => {
                            depth -= 1;
                            field.push(']');
                        }
                        Some('}') if depth == 0 => break,
                        Some(ch) => field.push(ch),
                    }
                }
                let (field, spec) = field.split_once(':').map_or((field.as_str(), ""), |(f, s)| (f, s));
                if !spec.is_empty() {
                    return Err(format!("format specification `:{spec}` in `{{{field}}}` is not supported"));
                }
                let (field, conversion) = field.split_once('!').map_or((field, None), |(f, c)| (f, Some(c)));
                let value = lookup(context, field)?;
                match conversion {
                    None | Some("s") => out.push_str(&python_str(value)),
                    Some("r") => out.push_str(&python_repr(value)),
                    Some(other) => return Err(format!("conversion `!{other}` is not supported")),
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `name(.attr|[key])*` in `context`; pySigma's sandbox refuses names starting with `_`.
fn lookup<'v>(context: &'v Value, field: &str) -> Result<&'v Value, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => parts.push(std::mem::take(&mut current)),
            '[' => {
                parts.push(std::mem::take(&mut current));
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    current.push(d);
                }
                parts.push(std::mem::take(&mut current));
            }
            c => current.push(c),
        }
    }
    parts.push(current);
    let mut value = context;
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if part.starts_with('_') {
            return Err(format!("`{part}` in `{{{field}}}`: names starting with `_` are not accessible"));
        }
        value = match value {
            Value::Object(map) => map.get(&part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("`{{{field}}}`: no `{part}` there"))?;
    }
    Ok(value)
}

/// Python's `str()` of a JSON value.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a JSON value (`'text'`, `True`, `None`, `['a', 1]`, `{'k': 'v'}`).
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if c.is_control() => {
                        let _ = write!(out, "\\x{:02x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", python_repr(&Value::String(k.clone())), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What Python's `json.dumps(value, indent=indent)` writes: `", "` and `": "` between items without an indent,
/// non-ASCII characters as `\uXXXX`.
pub fn python_json(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_json(value, indent, 0, &mut out);
    out
}

fn write_json(value: &Value, indent: Option<usize>, level: usize, out: &mut String) {
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let separator = if indent.is_some() { "," } else { ", " };
    match value {
        Value::String(s) => json_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, level + 1);
                write_json(item, indent, level + 1, out);
            }
            newline(out, level);
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, level + 1);
                json_string(k, out);
                out.push_str(": ");
                write_json(v, indent, level + 1, out);
            }
            newline(out, level);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_formats() {
        let context =
            json!({"query": "a=1", "rule": {"title": "T", "tags": ["x", "y"]}, "pipeline": {"state": {"k": 1}}});
        assert_eq!(simple_format("{rule.title}: {query} {{x}} {pipeline.state[k]}", &context).unwrap(), "T: a=1 {x} 1");
        assert_eq!(simple_format("{rule.tags!r}", &context).unwrap(), "['x', 'y']");
        assert!(simple_format("{query:>10}", &context).is_err());
        assert!(simple_format("{rule.__class__}", &context).is_err());
        assert_eq!(
            python_json(&json!({"q": "é\"", "n": [1, true, null]}), None),
            r#"{"q": "\u00e9\"", "n": [1, true, null]}"#
        );
        assert_eq!(python_json(&json!(["a"]), Some(2)), "[\n  \"a\"\n]");
    }
}
