//! Conventions of `tags`: their form, namespaces, known ATT&CK tactics and identifier forms, TLP labels,
//! duplicates, and SigmaHQ's detection and TLP tags.

use super::{Findings, Subject};
use crate::codes::Code;
use regex::Regex;
use std::sync::LazyLock;

/// ATT&CK Enterprise tactics by short name, in the matrix's order, as tags name them (`attack.execution`). ATT&CK
/// v18 (October 2025) renamed TA0005 Defense Evasion `stealth` and added `defense-impairment`; `defense-evasion`
/// stays in the list for older rules' tags (`vigil hunt`'s summary counts it) but is retired ([`RETIRED_TACTICS`]).
pub const ATTACK_TACTICS: [&str; 16] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "stealth",
    "defense-impairment",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Tactics ATT&CK no longer has: an `attack-tag` warning.
pub const RETIRED_TACTICS: &[&str] = &["defense-evasion"];

const NAMESPACES: &[&str] = &["attack", "car", "cve", "d3fend", "detection", "stp", "tlp"];

/// TLP 1.0 and 2.0 labels.
const TLP_LABELS: &[&str] = &["white", "green", "amber", "red", "clear", "amber-strict"];

static TAG_FORM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9\-_]+\.[a-z0-9\-_.]+$").unwrap());
/// Techniques (and sub-techniques), groups, software, data sources, mitigations.
static ATTACK_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(t\d{4}(\.\d{3})?|g\d{4}|s\d{4}|ds\d{4}|m\d{4})$").unwrap());
/// The name forms of the namespaces that have one: (namespace, form, example).
static NAME_FORMS: LazyLock<[(&str, Regex, &str); 4]> = LazyLock::new(|| {
    [
        ("car", Regex::new(r"^\d{4}-\d{2}-\d{3}$").unwrap(), "car.2016-04-005"),
        ("cve", Regex::new(r"^\d+-\d+$").unwrap(), "cve.2021-44228"),
        ("detection", Regex::new(r"^(dfir|emerging-threats|threat-hunting)").unwrap(), "detection.threat-hunting"),
        ("stp", Regex::new(r"^[1-5][auk]?$").unwrap(), "stp.3a"),
    ]
});

/// Whether a tag has the form `namespace.name` in lowercase letters, digits, `-`, `_` and `.`.
pub(super) fn is_tag_form(tag: &str) -> bool {
    TAG_FORM.is_match(tag)
}

/// SigmaHQ's folders whose rules carry the detection tag of the same name.
const DETECTION_FOLDERS: &[&str] = &["dfir", "emerging-threats", "threat-hunting"];

pub(super) fn check(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let tags = &subject.meta().tags;
    let pos = subject.pos_of("tags");
    for (i, tag) in tags.iter().enumerate() {
        let pos = subject.item_pos("tags", i);
        let (namespace, name) = tag.split_once('.').unwrap_or((tag, ""));
        if !TAG_FORM.is_match(tag) {
            findings.warn(Code::TagFormat, pos, format!("tag `{tag}` is not `namespace.name` in lowercase"));
        }
        if !NAMESPACES.contains(&namespace) {
            findings.warn(Code::NamespaceTag, pos, format!("tag `{tag}`: unknown namespace `{namespace}`"));
        }
        if let Some((_, form, example)) = NAME_FORMS.iter().find(|(ns, _, _)| *ns == namespace) {
            if !form.is_match(name) {
                findings.warn(Code::TagPattern, pos, format!("tag `{tag}` does not have the form of `{example}`"));
            }
        }
        let tactic = ATTACK_TACTICS.contains(&name) && !RETIRED_TACTICS.contains(&name);
        if namespace == "attack" && !tactic && !ATTACK_ID.is_match(name) {
            let hint = if name == "defense-evasion" {
                ": ATT&CK v18 renamed it `attack.stealth` (and added `attack.defense-impairment`)"
            } else {
                ""
            };
            findings.warn(
                Code::AttackTag,
                pos,
                format!("tag `{tag}` is neither an ATT&CK tactic nor an ATT&CK identifier{hint}"),
            );
        }
        if namespace == "tlp" && !TLP_LABELS.contains(&name) {
            findings.warn(Code::TlpTag, pos, format!("tag `{tag}` is not a TLP label"));
        }
        if namespace == "tlp" && name != "clear" {
            findings.warn(Code::SigmahqTagsTlp, pos, format!("tag `{tag}`: SigmaHQ publishes `tlp.clear` rules only"));
        }
        if tags[..i].iter().filter(|t| *t == tag).count() == 1 {
            findings.warn(Code::DuplicateTag, pos, format!("tag `{tag}` is given twice"));
        }
    }
    let in_namespace = |ns: &str| tags.iter().filter(|t| t.split_once('.').is_some_and(|(n, _)| n == ns)).count();
    if in_namespace("detection") > 1 {
        findings.warn(Code::SigmahqTagsUniqueDetection, pos, "more than one detection tag");
    }
    if in_namespace("tlp") > 1 {
        findings.warn(Code::SigmahqTagsUniqueTlp, pos, "more than one tlp tag");
    }
    let path = subject.path.to_string_lossy();
    for folder in DETECTION_FOLDERS {
        let expected = format!("detection.{folder}");
        if path.contains(&format!("rules-{folder}")) && !tags.contains(&expected) {
            findings.warn(
                Code::SigmahqTagsDetection,
                pos,
                format!("a rule under rules-{folder} carries the tag `{expected}`"),
            );
            break;
        }
    }
}
