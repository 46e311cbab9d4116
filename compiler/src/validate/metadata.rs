//! Conventions of a document's metadata and file: title, description, dates, status, level, author, false
//! positives, references, keys, identifier, file name, correlation shape.

use super::{Findings, Subject};
use crate::codes::Code;
use crate::ir::correlation::CorrelationType;
use crate::ir::meta::Status;
use crate::load::Content;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn check(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    title(subject, findings);
    description(subject, findings);
    dates(subject, findings);
    presence(subject, findings);
    false_positives(subject, findings);
    references(subject, findings);
    keys(subject, findings);
    file_name(subject, findings);
    correlation(subject, findings);
}

/// Lowercase words SigmaHQ leaves lowercase in a title.
const TITLE_SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "new", "of", "on", "or", "over", "the", "through", "to",
    "via", "with", "without",
];

const TITLE_MAX: usize = 120;

fn title(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let title = &subject.meta().title;
    let pos = subject.pos_of("title");
    if title.chars().count() > TITLE_MAX {
        findings.warn(Code::SigmahqTitleLength, pos, format!("the title is longer than {TITLE_MAX} characters"));
    }
    if title.starts_with("Detect ") || title.starts_with("Detects ") {
        findings.warn(Code::SigmahqTitleStart, pos, "the title starts with `Detect`: say what happens instead");
    }
    if title.ends_with('.') {
        findings.warn(Code::SigmahqTitleEnd, pos, "the title ends with a dot");
    }
    for word in title.split(' ') {
        let lowercase = word.chars().any(char::is_lowercase) && !word.chars().any(char::is_uppercase);
        let exempt = TITLE_SMALL_WORDS.contains(&word)
            || word.contains(['.', '/', '_'])
            || word.chars().next().is_some_and(char::is_numeric);
        if lowercase && !exempt {
            findings.warn(Code::SigmahqTitleCase, pos, format!("`{word}` in the title should be capitalised"));
        }
    }
}

const DESCRIPTION_MIN: usize = 16;

fn description(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let meta = subject.meta();
    let pos = subject.pos_of("description");
    let Some(description) = &meta.description else {
        findings.warn(Code::SigmahqDescriptionExistence, pos, "the rule has no `description`");
        return;
    };
    if description.chars().count() < DESCRIPTION_MIN {
        findings.warn(
            Code::SigmahqDescriptionLength,
            pos,
            format!("the description is shorter than {DESCRIPTION_MIN} characters"),
        );
    }
    if !description.is_empty() && meta.references.is_empty() {
        let lower = description.to_lowercase();
        if let Some(word) = ["http://", "https://", "internal research"].iter().find(|w| lower.contains(*w)) {
            findings.warn(
                Code::SigmahqLinkInDescription,
                pos,
                format!("the description mentions `{word}`: links and sources belong in `references`"),
            );
        }
    }
}

/// A `date`/`modified` value as (year, month, day), from `YYYY-MM-DD` or the legacy `YYYY/MM/DD`.
fn parse_date(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(['-', '/']);
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((year, month, day))
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm), to compare a rule's age with today.
fn days_from_civil((year, month, day): (u32, u32, u32)) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn today() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    seconds / 86_400
}

/// A new rule may not claim more than `experimental` (or `test`, with regression data) for this many days.
const NEW_RULE_DAYS: i64 = 60;

fn dates(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let meta = subject.meta();
    let date = meta.date.as_deref().and_then(parse_date);
    let modified = meta.modified.as_deref().and_then(parse_date);
    match (meta.date.is_some(), meta.modified.is_some()) {
        (false, true) => findings.warn(
            Code::SigmahqModifiedWithoutDate,
            subject.pos_of("modified"),
            "`modified` without `date`: a new rule has `date` only",
        ),
        (false, false) => findings.warn(Code::SigmahqDateExistence, subject.root.pos, "the rule has no `date`"),
        _ => {}
    }
    if let (Some(date), Some(modified)) = (date, modified) {
        if modified < date {
            findings.warn(Code::SigmahqModifiedDateOrder, subject.pos_of("modified"), "`modified` is before `date`");
        } else if modified == date {
            findings.warn(Code::SigmahqRedundantModified, subject.pos_of("modified"), "`modified` equals `date`");
        }
    }
    if let (Some(date), Some(status)) = (date, meta.status) {
        let with_tests = meta.custom.contains_key("regression_tests_path");
        let (highest, days) = if with_tests { (Status::Test, 0) } else { (Status::Experimental, NEW_RULE_DAYS) };
        if status > highest && today() - days_from_civil(date) <= days {
            findings.warn(
                Code::SigmahqStatusToHigh,
                subject.pos_of("status"),
                format!("a rule this new should be `{}` at most", highest.as_str()),
            );
        }
    }
}

fn presence(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let meta = subject.meta();
    let at = subject.root.pos;
    if meta.author.is_none() {
        findings.warn(Code::SigmahqAuthorExistence, at, "the rule has no `author`");
    }
    if meta.level.is_none() {
        findings.warn(Code::SigmahqLevelExistence, at, "the rule has no `level`");
    }
    match meta.status {
        None => findings.warn(Code::SigmahqStatusExistence, at, "the rule has no `status`"),
        Some(status @ (Status::Deprecated | Status::Unsupported)) => findings.warn(
            Code::SigmahqStatus,
            subject.pos_of("status"),
            format!("a {} rule belongs in SigmaHQ's `{}` folder", status.as_str(), status.as_str()),
        ),
        Some(_) => {}
    }
    if meta.id.is_none() {
        findings.warn(Code::IdentifierExistence, at, "the rule has no `id`");
    }
    if !meta.fields.is_empty() {
        findings.warn(Code::SigmahqFieldsExistence, subject.pos_of("fields"), "`fields` is deprecated");
    }
}

fn false_positives(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    for (index, entry) in subject.meta().falsepositives.iter().enumerate() {
        let pos = subject.item_pos("falsepositives", index);
        if let Some(first) = entry.chars().next() {
            if first.to_uppercase().ne(std::iter::once(first)) {
                let word = entry.split(' ').next().unwrap_or_default();
                findings.warn(
                    Code::SigmahqFalsepositivesCapital,
                    pos,
                    format!("false positive `{word}` ... should start with a capital letter"),
                );
            }
        }
        for word in entry.split(' ') {
            let lower = word.trim().to_lowercase();
            if ["none", "pentest", "penetration"].contains(&lower.as_str()) {
                findings.warn(
                    Code::SigmahqFalsepositivesBannedWord,
                    pos,
                    format!("`{word}` is not a false positive (say `Unknown`, or name what triggers the rule)"),
                );
            }
            if ["unkown", "ligitimate", "legitimeate"].contains(&lower.as_str()) {
                findings.warn(Code::SigmahqFalsepositivesTypoWord, pos, format!("`{word}` is misspelt"));
            }
        }
    }
}

static GITHUB_FILE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^https://github.com/.*\.\w{1,3}$").unwrap());
static GITHUB_COMMIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^.*/[0-9a-z]{40}/").unwrap());

fn references(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let pos = subject.pos_of("references");
    let references = &subject.meta().references;
    for (i, link) in references.iter().enumerate() {
        // Once per repeated reference, at its second appearance.
        if references[..i].iter().filter(|r| *r == link).count() == 1 {
            findings.warn(Code::DuplicateReferences, pos, format!("`{link}` is referenced twice"));
        }
        if GITHUB_FILE.is_match(link) && !GITHUB_COMMIT.is_match(link) {
            findings.warn(
                Code::SigmahqGithubLink,
                pos,
                format!("`{link}` links a branch, which moves: link a commit instead"),
            );
        }
        if link.starts_with("https://attack.mitre.org/") {
            findings.warn(Code::SigmahqMitreLink, pos, format!("`{link}`: use an attack tag instead (attack.t1059)"));
        }
    }
}

/// Misspellings of standard keys that pySigma points out.
const MISSPELT_KEYS: &[&str] = &["realted", "relatde", "relted", "rlated", "reference"];

fn keys(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let custom = &subject.meta().custom;
    if let Some(key) = custom.keys().find(|k| MISSPELT_KEYS.contains(&k.as_str())) {
        findings.warn(
            Code::CustomAttributes,
            subject.pos_of(key),
            format!("`{key}` looks like a misspelt standard key"),
        );
    }
    let unknown: Vec<&str> = custom
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "regression_tests_path" | "simulation" | "correlation"))
        .collect();
    if let Some(first) = unknown.first() {
        findings.warn(
            Code::SigmahqUnknownField,
            subject.pos_of(first),
            format!("key{} SigmaHQ does not use: {}", if unknown.len() > 1 { "s" } else { "" }, unknown.join(", ")),
        );
    }
}

static SIGMAHQ_FILE_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9_]{10,90}\.yml").unwrap());

fn file_name(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let Some(name) = subject.path.file_name().map(|n| n.to_string_lossy()) else { return };
    let at = subject.root.pos;
    let length = name.chars().count();
    if !(10..=90).contains(&length) {
        findings.warn(Code::FilenameLength, at, format!("the file name has {length} characters (10 to 90)"));
    }
    if !SIGMAHQ_FILE_NAME.is_match(&name) || !name.contains('_') {
        findings.warn(
            Code::SigmahqFilenameConvention,
            at,
            format!("`{name}` is not 10 to 90 lowercase letters, digits and `_`, then `.yml`"),
        );
    }
    if matches!(subject.content, Content::Correlation(_)) && !name.starts_with("correlation_") {
        findings.warn(
            Code::SigmahqCorrelationFilenamePrefix,
            at,
            format!("`{name}` holds a correlation: its name should start with `correlation_`"),
        );
    }
}

fn correlation(subject: &Subject<'_, '_>, findings: &mut Findings<'_>) {
    let Content::Correlation(correlation) = subject.content else { return };
    let at = subject.pos_of("correlation");
    let temporal = matches!(correlation.kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered);
    if temporal && correlation.rules.len() < 2 {
        findings.warn(Code::SigmahqCorrelationRulesMinimum, at, "a temporal correlation needs two rules at least");
    }
    let needs_group_by =
        temporal || matches!(correlation.kind, CorrelationType::EventCount | CorrelationType::ValueCount);
    if needs_group_by && correlation.group_by.is_empty() {
        findings.warn(Code::SigmahqCorrelationGroupByExistence, at, "the correlation has no `group-by`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil((1970, 1, 1)), 0);
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
        assert_eq!(days_from_civil((2026, 12, 4)) - days_from_civil((2026, 10, 5)), 60);
        assert_eq!(parse_date("2024/02/29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2024-02"), None);
    }
}
