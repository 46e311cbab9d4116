//! Rule metadata and log sources, with type checks that point at the offending key.

use crate::codes::Code;
use crate::diagnostic::Diagnostics;
use crate::ir::meta::{Level, LogSource, Meta, Related, Status};
use crate::yaml::{Kind, Node};

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
