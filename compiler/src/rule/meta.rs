//! Rule metadata and log sources, with type checks that point at the offending key.

use crate::codes::Code;
use crate::diagnostic::{Diagnostics, Pos};
use crate::yaml::{Kind, Node};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Unsupported,
    Deprecated,
    Experimental,
    Test,
    Stable,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A `related:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub id: String,
    pub kind: String,
}

/// Metadata shared by rules, correlations and filters. Keys Vigil does not interpret are kept in `custom`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub taxonomy: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub fields: Vec<String>,
    pub scope: Vec<String>,
    pub related: Vec<Related>,
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// `logsource:`: which log a rule reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub definition: Option<String>,
    pub custom: BTreeMap<String, String>,
}

impl LogSource {
    /// Whether this (rule) log source falls under `spec`: every attribute `spec` sets must be equal here.
    pub fn matches(&self, spec: &LogSource) -> bool {
        fn ok(spec: &Option<String>, mine: &Option<String>) -> bool {
            spec.is_none() || spec == mine
        }
        ok(&spec.category, &self.category) && ok(&spec.product, &self.product) && ok(&spec.service, &self.service)
    }
}

impl std::fmt::Display for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        let attributes = [("category", &self.category), ("product", &self.product), ("service", &self.service)];
        for (name, value) in attributes {
            if let Some(value) = value {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{name}={value}")?;
                first = false;
            }
        }
        for (name, value) in &self.custom {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Reads a string; numbers are accepted as their text (a `title: 2021` is still a title).
pub fn expect_string(node: &Node<'_>, key: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.kind {
        Kind::Str(s) => Some(s.to_string()),
        Kind::Int(_) | Kind::Float(_) => node.scalar_text().map(|s| s.into_owned()),
        _ => {
            diags.error(Code::WrongType, node.pos, format!("`{key}` must be a string, not {}", node.type_name()));
            None
        }
    }
}

/// Reads a list of strings; a single string is accepted as a list of one.
pub fn expect_string_list(node: &Node<'_>, key: &str, diags: &mut Diagnostics) -> Vec<String> {
    match &node.kind {
        Kind::Seq(items) => items.iter().filter_map(|item| expect_string(item, key, diags)).collect(),
        Kind::Null => Vec::new(),
        _ => expect_string(node, key, diags).into_iter().collect(),
    }
}

fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(
            |(i, &b)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            },
        )
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && (b[4] == b'-' && b[7] == b'-' || b[4] == b'/' && b[7] == b'/')
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_tag(text: &str) -> bool {
    match text.split_once('.') {
        Some((namespace, name)) => {
            !namespace.is_empty()
                && !name.is_empty()
                && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }
        None => false,
    }
}

/// The metadata keys a document kind reads itself; all other keys go to `custom`.
pub const META_KEYS: &[&str] = &[
    "title",
    "id",
    "name",
    "status",
    "level",
    "description",
    "license",
    "author",
    "date",
    "modified",
    "taxonomy",
    "references",
    "tags",
    "falsepositives",
    "fields",
    "scope",
    "related",
];

/// Reads the metadata of a document. `structural` are the keys of the document kind (logsource, detection, ...),
/// which are neither metadata nor custom attributes.
pub fn parse_meta(root: &Node<'_>, structural: &[&str], diags: &mut Diagnostics) -> Meta {
    let mut meta = Meta::default();
    let Some(entries) = root.as_map() else {
        return meta;
    };
    match root.get("title") {
        Some(node) => meta.title = expect_string(node, "title", diags).unwrap_or_default(),
        None => diags.error(Code::MissingTitle, root.pos, "missing `title`"),
    }
    for (key, value) in entries {
        let Some(name) = key.as_str() else { continue };
        let text = |diags: &mut Diagnostics| expect_string(value, name, diags);
        match name {
            "title" => {}
            "id" => {
                meta.id = text(diags);
                if let Some(id) = &meta.id {
                    if !is_uuid(id) {
                        diags.warning(Code::InvalidId, value.pos, format!("`id` `{id}` is not a UUID"));
                    }
                }
            }
            "name" => meta.name = text(diags),
            "status" => {
                if let Some(s) = text(diags) {
                    meta.status = Status::parse(&s);
                    if meta.status.is_none() {
                        diags.error(
                            Code::InvalidStatus,
                            value.pos,
                            format!("unknown status `{s}` (stable, test, experimental, deprecated, unsupported)"),
                        );
                    }
                }
            }
            "level" => {
                if let Some(s) = text(diags) {
                    meta.level = Level::parse(&s);
                    if meta.level.is_none() {
                        diags.error(
                            Code::InvalidLevel,
                            value.pos,
                            format!("unknown level `{s}` (informational, low, medium, high, critical)"),
                        );
                    }
                }
            }
            "description" => meta.description = text(diags),
            "license" => meta.license = text(diags),
            "author" => meta.author = text(diags),
            "taxonomy" => meta.taxonomy = text(diags),
            "date" | "modified" => {
                let date = text(diags);
                if let Some(d) = &date {
                    if !is_date(d) {
                        diags.warning(Code::InvalidDate, value.pos, format!("`{name}` `{d}` is not YYYY-MM-DD"));
                    }
                }
                if name == "date" {
                    meta.date = date;
                } else {
                    meta.modified = date;
                }
            }
            "references" => meta.references = expect_string_list(value, name, diags),
            "falsepositives" => meta.falsepositives = expect_string_list(value, name, diags),
            "fields" => meta.fields = expect_string_list(value, name, diags),
            "scope" => meta.scope = expect_string_list(value, name, diags),
            "tags" => {
                meta.tags = expect_string_list(value, name, diags);
                for tag in &meta.tags {
                    if !is_tag(tag) {
                        diags.warning(
                            Code::InvalidTag,
                            value.pos,
                            format!("tag `{tag}` is not `namespace.name` in lower case"),
                        );
                    }
                }
            }
            "related" => meta.related = parse_related(value, diags),
            other if structural.contains(&other) => {}
            other => {
                meta.custom.insert(other.to_string(), value.to_json());
            }
        }
    }
    meta
}

fn parse_related(node: &Node<'_>, diags: &mut Diagnostics) -> Vec<Related> {
    const TYPES: [&str; 6] = ["derived", "obsolete", "merged", "renamed", "similar", "correlation"];
    let Kind::Seq(items) = &node.kind else {
        diags.error(Code::WrongType, node.pos, "`related` must be a list of `{id, type}`");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let id = item.get("id").and_then(|n| expect_string(n, "id", diags));
        let kind = item.get("type").and_then(|n| expect_string(n, "type", diags));
        match (id, kind) {
            (Some(id), Some(kind)) => {
                if !TYPES.contains(&kind.as_str()) {
                    diags.warning(Code::InvalidRelated, item.pos, format!("unknown related type `{kind}`"));
                }
                out.push(Related { id, kind });
            }
            _ => diags.warning(Code::InvalidRelated, item.pos, "a `related` entry needs `id` and `type`"),
        }
    }
    out
}

/// Reads `logsource:`. Reports a missing or empty log source.
pub fn parse_logsource(root: &Node<'_>, diags: &mut Diagnostics) -> Option<LogSource> {
    let Some((key, node)) = root.entry("logsource") else {
        diags.error(Code::MissingLogsource, root.pos, "missing `logsource`");
        return None;
    };
    let Some(entries) = node.as_map() else {
        diags.error(Code::WrongType, node.pos, format!("`logsource` must be a mapping, not {}", node.type_name()));
        return None;
    };
    let mut logsource = LogSource::default();
    for (k, v) in entries {
        let Some(name) = k.as_str() else { continue };
        let value = expect_string(v, name, diags);
        match name {
            "category" => logsource.category = value,
            "product" => logsource.product = value,
            "service" => logsource.service = value,
            "definition" => logsource.definition = value,
            _ => {
                if let Some(value) = value {
                    logsource.custom.insert(name.to_string(), value);
                }
            }
        }
    }
    if logsource.category.is_none() && logsource.product.is_none() && logsource.service.is_none() {
        diags.error(Code::EmptyLogsource, key.pos, "`logsource` sets none of `category`, `product`, `service`");
    }
    Some(logsource)
}

/// The position of `key` in `root`, or of `root` itself.
pub fn key_pos(root: &Node<'_>, key: &str) -> Pos {
    root.entry(key).map_or(root.pos, |(k, _)| k.pos)
}
