//! Conventions of the detection: conditions, log source, detection items and their values.

use super::{Findings, Subject};
use crate::codes::Code;
use crate::ir::value::{Number, Part, SigmaString};
use crate::load::Content;
use crate::rule::detection::DetectionItem;
use crate::rule::modifiers::Modifier;
use crate::rule::value::DetectionValue;
use crate::rule::SigmaRule;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn check(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let Content::Rule(rule) = subject.content else { return };
    conditions(rule, findings);
    logsource(subject, rule, findings);
    for named in &rule.detections {
        named.detection.visit_items(&mut |item| {
            item_shape(item, findings);
            item_values(item, findings);
        });
    }
}

static ALL_OF_THEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"all\s+of\s+them").unwrap());
static OF_THEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+of\s+them").unwrap());
static QUANTIFIED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:\d+|all)\s+of\s+(\S+)").unwrap());
static OF_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+of\s+([^\s)]+)").unwrap());

fn conditions(rule: &SigmaRule, findings: &mut Findings<'_>) {
    let single = rule.detections.len() == 1;
    for condition in &rule.conditions {
        let (source, pos) = (condition.source.as_str(), condition.pos);
        if ALL_OF_THEM.is_match(source) {
            findings.warn(Code::AllOfThemCondition, pos, "`all of them`: say `all of selection*` instead");
        }
        if single && source.contains("them") {
            findings.warn(Code::ThemConditionWithSingleDetection, pos, "`them` with a single detection: name it");
        }
        if single && OF_THEM.is_match(source) {
            findings.warn(Code::SigmahqOfthemCondition, pos, "`of them` with a single detection: name it");
        }
        // SigmaHQ's check reads the name as a regular expression anchored at its start, as pySigma does.
        let narrow = QUANTIFIED.captures_iter(source).filter_map(|c| c.get(1)).map(|m| m.as_str()).find(|name| {
            let exempt = (name.starts_with("filter_") || name.starts_with("selection_")) && name.ends_with("_*");
            !exempt
                && name.ends_with("_*")
                && Regex::new(&format!("^(?:{name})"))
                    .is_ok_and(|re| rule.detections.iter().filter(|d| re.is_match(&d.name)).count() < 2)
        });
        if let Some(name) = narrow {
            findings.warn(
                Code::SigmahqOfselectionCondition,
                pos,
                format!("`of {name}` selects fewer than two detections: name the detection"),
            );
        }
        let plain = OF_NAME
            .captures_iter(source)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str())
            .find(|name| *name != "them" && !name.ends_with('*'));
        if let Some(name) = plain {
            findings.warn(
                Code::SigmahqMissingAsteriskCondition,
                pos,
                format!("`of {name}` without `*` selects one detection: name it, or write `{name}*`"),
            );
        }
    }
}

/// Event IDs of Sysmon and of Security that have a generic log source: (service, event id, category).
const GENERIC_LOGSOURCES: &[(&str, i64, &str)] = &[
    ("sysmon", 1, "process_creation"),
    ("sysmon", 2, "file_change"),
    ("sysmon", 3, "network_connection"),
    ("sysmon", 4, "sysmon_status"),
    ("sysmon", 5, "process_termination"),
    ("sysmon", 6, "driver_load"),
    ("sysmon", 7, "image_load"),
    ("sysmon", 8, "create_remote_thread"),
    ("sysmon", 9, "raw_access_thread"),
    ("sysmon", 10, "process_access"),
    ("sysmon", 11, "file_event"),
    ("sysmon", 12, "registry_event"),
    ("sysmon", 13, "registry_event"),
    ("sysmon", 14, "registry_event"),
    ("sysmon", 15, "create_stream_hash"),
    ("sysmon", 16, "sysmon_status"),
    ("sysmon", 17, "pipe_created"),
    ("sysmon", 18, "pipe_created"),
    ("sysmon", 19, "wmi_event"),
    ("sysmon", 20, "wmi_event"),
    ("sysmon", 21, "wmi_event"),
    ("sysmon", 22, "dns_query"),
    ("sysmon", 23, "file_delete"),
    ("sysmon", 24, "clipboard_change"),
    ("sysmon", 25, "process_tampering"),
    ("sysmon", 26, "file_delete_detected"),
    ("sysmon", 27, "file_block_executable"),
    ("sysmon", 28, "file_block_shredding"),
    ("sysmon", 29, "file_executable_detected"),
    ("sysmon", 255, "sysmon_error"),
    ("security", 4688, "process_creation"),
];

fn logsource(subject: &Subject<'_, '_>, rule: &SigmaRule, findings: &mut Findings<'_>) {
    let logsource = &rule.logsource;
    let at = subject.pos_of("logsource");
    for key in logsource.custom.keys() {
        findings.warn(
            Code::FieldnameLogsource,
            at,
            format!("`logsource` key `{key}` is none of category, product, service, definition"),
        );
    }
    let windows = logsource.product.as_deref() == Some("windows");
    let service = logsource.service.as_deref();
    let items = || rule.detections.iter().flat_map(|d| d.detection.items());
    if windows && findings.runs(Code::SpecificInsteadOfGenericLogsource) {
        for item in items().filter(|i| i.field.as_deref() == Some("EventID")) {
            for value in &item.values {
                let DetectionValue::Num(Number::Int(id)) = *value else { continue };
                if let Some((_, _, category)) =
                    GENERIC_LOGSOURCES.iter().find(|(s, e, _)| Some(*s) == service && *e == id)
                {
                    findings.warn(
                        Code::SpecificInsteadOfGenericLogsource,
                        item.pos,
                        format!("EventID {id}: use the generic log source `category: {category}`"),
                    );
                }
            }
        }
    }
    if service == Some("sysmon") && !items().any(|i| i.field.as_deref() == Some("EventID")) {
        findings.warn(Code::SigmahqSysmonMissingEventid, at, "a `service: sysmon` rule that never tests `EventID`");
    }
}

const HASH_FIELDS: &[&str] = &["Hashes", "Hash"];
/// Sysmon's hash algorithms and the length of their hex digests.
const HASH_LENGTHS: &[(&str, usize)] = &[("MD5", 32), ("SHA1", 40), ("SHA256", 64), ("IMPHASH", 32)];
/// Regex group constructs that many backends lack.
const UNSUPPORTED_GROUPS: &[&str] = &["(?=", "(?!", "(?<=", "(?<!", "(?>"];
/// Modifiers under which values compare case-sensitively.
const CASED: &[Modifier] = &[
    Modifier::Base64,
    Modifier::Base64Offset,
    Modifier::Re,
    Modifier::IgnoreCase,
    Modifier::MultiLine,
    Modifier::DotAll,
    Modifier::Cased,
];

/// Checks of an item as a whole: its field name, modifiers and list of values.
fn item_shape(item: &DetectionItem, findings: &mut Findings<'_>) {
    let pos = item.pos;
    let has = |m: Modifier| item.modifiers.contains(&m);
    let all = item.all || has(Modifier::All);
    if let Some(field) = &item.field {
        if field.contains(' ') {
            findings.warn(Code::SigmahqSpaceFieldName, pos, format!("field `{field}` has a space: write `_`"));
        }
        if all && !has(Modifier::Contains) {
            findings.warn(Code::AllWithoutContains, pos, "`all` without `contains`: no value equals every other");
        }
        if all && item.values.len() < 2 {
            findings.warn(Code::SigmahqInvalidAllModifier, pos, "`all` over a single value");
        }
        if field.to_lowercase().contains("user") && item.values.len() == 1 {
            let text = display(&item.values[0]);
            if text.contains("AUTORI") || text.contains("AUTHORI") {
                findings.warn(
                    Code::SigmahqFieldUser,
                    pos,
                    format!("`{text}` is localised: match `AUT*` or the SID instead"),
                );
            }
        }
        if HASH_FIELDS.contains(&field.as_str()) {
            for bad in invalid_hashes(&item.values) {
                findings.warn(
                    Code::SigmahqInvalidHashKv,
                    pos,
                    format!("`{bad}` is not ALGORITHM=hex (MD5, SHA1, ...)"),
                );
            }
        }
        duplicate_values(item, findings);
    }
    if has(Modifier::Windash) && all {
        findings.warn(Code::WindashWithAll, pos, "`windash` with `all`: every dash variant would have to match");
    }
    if has(Modifier::Re) {
        let mut seen: Vec<&str> = Vec::new();
        for value in &item.values {
            if let DetectionValue::Regex { pattern, .. } = value {
                if UNSUPPORTED_GROUPS.iter().any(|g| pattern.contains(g)) && !seen.contains(&pattern.as_str()) {
                    seen.push(pattern);
                    findings.warn(
                        Code::SigmahqUnsupportedRegexGroupConstruct,
                        pos,
                        format!("`{pattern}` has a lookaround or atomic group, which many backends lack"),
                    );
                }
            }
        }
    }
    wildcards_instead_of_modifiers(item, findings);
}

fn display(value: &DetectionValue) -> String {
    match value {
        DetectionValue::Str { value, .. } => value.to_string(),
        DetectionValue::Num(n) => n.to_string(),
        DetectionValue::Bool(b) => b.to_string(),
        DetectionValue::Null => "null".into(),
        DetectionValue::Regex { pattern, .. } => pattern.clone(),
        other => format!("{other:?}"),
    }
}

/// The `Hashes` values that are not `ALGORITHM=hex`, each literal piece on its own (as SigmaHQ reads them).
fn invalid_hashes(values: &[DetectionValue]) -> Vec<String> {
    let mut bad = Vec::new();
    for value in values {
        let DetectionValue::Str { value, .. } = value else {
            bad.push(display(value));
            continue;
        };
        for part in &value.parts {
            let Part::Lit(text) = part else { continue };
            let mut pieces = text.split('=');
            let (Some(name), Some(digest), None) = (pieces.next(), pieces.next(), pieces.next()) else {
                bad.push(text.clone());
                continue;
            };
            match HASH_LENGTHS.iter().find(|(n, _)| *n == name) {
                Some((_, length)) if digest.len() == *length && digest.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                Some(_) => bad.push(digest.to_string()),
                None => bad.push(name.to_string()),
            }
        }
    }
    bad
}

fn duplicate_values(item: &DetectionItem, findings: &mut Findings<'_>) {
    let cased = item.modifiers.iter().any(|m| CASED.contains(m));
    let key = |v: &DetectionValue| if cased { display(v) } else { display(v).to_lowercase() };
    let mut seen: Vec<String> = Vec::with_capacity(item.values.len());
    for value in &item.values {
        let k = key(value);
        if seen.contains(&k) {
            let field = item.field.as_deref().unwrap_or_default();
            findings.warn(
                Code::SigmahqFieldDuplicateValue,
                item.pos,
                format!("`{}` is listed twice under `{field}`", display(value)),
            );
        } else {
            seen.push(k);
        }
    }
}

/// Values written with `*` at the ends where a modifier says it. Read from the values after their modifiers: an
/// item with `contains`, `startswith` or `endswith` gained those stars from the modifier, so it is left alone (the
/// values as written are gone by then; the difference with pySigma is in DESIGN.md, "Validators").
fn wildcards_instead_of_modifiers(item: &DetectionItem, findings: &mut Findings<'_>) {
    let shaped = [Modifier::Contains, Modifier::StartsWith, Modifier::EndsWith];
    if item.values.is_empty() || item.modifiers.iter().any(|m| shaped.contains(m) || *m == Modifier::Windash) {
        return;
    }
    let strings: Option<Vec<&SigmaString>> = item
        .values
        .iter()
        .map(|v| match v {
            DetectionValue::Str { value, .. }
                if value.parts.len() > 1 || value.as_plain().is_some_and(|p| p.chars().count() > 1) =>
            {
                Some(value)
            }
            _ => None,
        })
        .collect();
    let Some(strings) = strings else { return };
    let plain = |parts: &[Part]| parts.iter().all(|p| matches!(p, Part::Lit(_)));
    let message = if strings.iter().all(|s| {
        s.parts.len() >= 2 && s.starts_with_any_run() && s.ends_with_any_run() && plain(&s.parts[1..s.parts.len() - 1])
    }) {
        "values between `*`: use `|contains`"
    } else if strings.iter().all(|s| s.starts_with_any_run() && plain(&s.parts[1..])) {
        "values starting with `*`: use `|endswith`"
    } else if strings.iter().all(|s| s.ends_with_any_run() && plain(&s.parts[..s.parts.len() - 1])) {
        "values ending with `*`: use `|startswith`"
    } else {
        return;
    };
    findings.warn(Code::WildcardsInsteadOfModifiers, item.pos, message);
}

/// Checks of each string value, keywords included (values that expand to alternatives are not read).
fn item_values(item: &DetectionItem, findings: &mut Findings<'_>) {
    for value in &item.values {
        let DetectionValue::Str { value, .. } = value else { continue };
        let literals = || value.parts.iter().filter_map(|p| if let Part::Lit(t) = p { Some(t.as_str()) } else { None });
        if literals().any(|t| t.chars().any(|c| (c as u32) < 32)) {
            findings.warn(
                Code::ControlCharacter,
                item.pos,
                format!(
                    "`{}` holds a control character: a single backslash in a double-quoted string?",
                    value.to_string().escape_debug()
                ),
            );
        }
        if value.parts.windows(2).any(|w| w[0] == Part::AnyRun && w[1] == Part::AnyRun) {
            findings.warn(Code::DoubleWildcard, item.pos, format!("`{value}` has `**`: one `*` is enough"));
        }
        if literals().any(|t| t.contains(['*', '?'])) {
            findings.warn(
                Code::EscapedWildcard,
                item.pos,
                format!("`{value}` has an escaped wildcard: make sure the literal character is meant"),
            );
        }
        if let [Part::Lit(text)] = value.parts.as_slice() {
            if !text.contains(' ') && is_python_int(text) {
                findings.warn(Code::NumberAsString, item.pos, format!("`{text}` is a number written as a string"));
            }
        }
    }
}

/// Whether Python's `int()` takes the text: surrounding whitespace, a sign, digits with single `_` between them.
fn is_python_int(text: &str) -> bool {
    let text = text.trim();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_integers() {
        assert!(is_python_int("8388608"));
        assert!(is_python_int("-1"));
        assert!(is_python_int("1_000"));
        assert!(!is_python_int("1__0"));
        assert!(!is_python_int("0x10"));
        assert!(!is_python_int(""));
    }
}
