//! Conventions: what a rule may do wrong while still being valid Sigma. pySigma's core validators (`pysigma`) and
//! SigmaHQ's (`sigmahq`, from pySigma-validators-sigmahq), each a [`Code`], as `vigil check --validators` runs
//! them. The rules are read as written (the YAML tree for positions, the rule syntax for detections); pipelines
//! play no part.
//!
//! ```text
//! path + text --validate_source--> diagnostics per document;  rules of many files --Collection--> duplicates
//! ```
//!
//! [`CATALOG`] names each check's set and the pySigma validator and issue it follows, for `vigil list validators`
//! and for the comparison with pySigma (tests/validators.rs). The few validators left out need data pySigma
//! downloads at run time (ATT&CK, D3FEND, SigmaHQ's taxonomy): DESIGN.md, "Validators".

mod collection;
mod detection;
mod fix;
mod metadata;
mod tags;

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use crate::load::{load_str, Content};
use crate::yaml::{self, Node};
use std::collections::BTreeSet;
use std::path::Path;

pub use collection::Collection;
pub use fix::{fix_one, fix_source, is_fixable};
pub use tags::{ATTACK_TACTICS, RETIRED_TACTICS};

/// A set of checks, as `--validators` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Set {
    /// pySigma's own validators.
    Pysigma,
    /// pySigma-validators-sigmahq, SigmaHQ's conventions.
    Sigmahq,
}

impl Set {
    pub fn name(self) -> &'static str {
        match self {
            Set::Pysigma => "pysigma",
            Set::Sigmahq => "sigmahq",
        }
    }
}

/// One check: its code, its set, and the pySigma validator and issue class it follows.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub code: Code,
    pub set: Set,
    /// pySigma's validator identifiers (`sigma check --exclude` takes them).
    pub validators: &'static [&'static str],
    /// pySigma's issue classes this check reports as.
    pub issues: &'static [&'static str],
}

macro_rules! catalog {
    ($($set:ident $code:ident [$($validator:literal),*] [$($issue:literal),*];)*) => {
        /// Every convention check, in `vigil list validators` order.
        pub const CATALOG: &[Check] = &[
            $(Check { code: Code::$code, set: Set::$set, validators: &[$($validator),*], issues: &[$($issue),*] },)*
        ];
    };
}

catalog! {
    Pysigma AllOfThemCondition ["all_of_them_condition"] ["AllOfThemConditionIssue"];
    Pysigma ThemConditionWithSingleDetection ["them_condition_with_single_detection"]
        ["ThemConditionWithSingleDetectionIssue"];
    Pysigma SpecificInsteadOfGenericLogsource ["specific_instead_of_generic_logsource"]
        ["SpecificInsteadOfGenericLogsourceIssue"];
    Pysigma FieldnameLogsource ["fieldname_logsource"] ["FieldnameLogsourceIssue"];
    Pysigma CustomAttributes ["custom_attributes"] ["CustomAttributesIssue"];
    Pysigma DuplicateFilename ["duplicate_filename"] ["DuplicateFilenameIssue"];
    Pysigma DuplicateReferences ["duplicate_references"] ["DuplicateReferencesIssue"];
    Pysigma DuplicateTitle ["duplicate_title"] ["DuplicateTitleIssue"];
    Pysigma FilenameLength ["filename_length"] ["FilenameLengthIssue"];
    Pysigma IdentifierExistence ["identifier_existence"] ["IdentifierExistenceIssue"];
    Pysigma IdentifierUniqueness ["identifier_uniqueness"] ["IdentifierCollisionIssue"];
    Pysigma AllWithoutContains ["invalid_modifier_combinations"] ["AllWithoutContainsModifierIssue"];
    Pysigma WindashWithAll ["invalid_modifier_combinations"] ["WindowsDashCombinedWithAllModifierIssue"];
    Pysigma TagFormat ["tag_format"] ["InvalidTagFormatIssue"];
    Pysigma NamespaceTag ["namespace_tag"] ["InvalidNamespaceTagIssue"];
    Pysigma TagPattern ["cartag", "cvetag", "detection_tag", "stptag"] ["InvalidPatternTagIssue"];
    Pysigma AttackTag ["attacktag"] ["InvalidATTACKTagIssue"];
    Pysigma TlpTag ["tlptag", "tlpv1_tag", "tlpv2_tag"] ["InvalidTLPTagIssue"];
    Pysigma DuplicateTag ["duplicate_tag"] ["DuplicateTagIssue"];
    Pysigma ControlCharacter ["control_character"] ["ControlCharacterIssue"];
    Pysigma DoubleWildcard ["double_wildcard"] ["DoubleWildcardIssue"];
    Pysigma EscapedWildcard ["escaped_wildcard"] ["EscapedWildcardIssue"];
    Pysigma NumberAsString ["number_as_string"] ["NumberAsStringIssue"];
    Pysigma WildcardsInsteadOfModifiers ["wildcards_instead_of_modifiers"]
        ["WildcardsInsteadOfContainsModifierIssue", "WildcardInsteadOfStartswithIssue",
         "WildcardInsteadOfEndswithIssue"];
    Sigmahq SigmahqAuthorExistence ["sigmahq_author_existence"] ["SigmahqAuthorExistenceIssue"];
    Sigmahq SigmahqMissingAsteriskCondition ["sigmahq_missing_asterisk_condition"]
        ["SigmahqMissingAsteriskConditionIssue"];
    Sigmahq SigmahqOfselectionCondition ["sigmahq_ofselection_condition"] ["SigmahqOfselectionConditionIssue"];
    Sigmahq SigmahqOfthemCondition ["sigmahq_ofthem_condition"] ["SigmahqOfthemConditionIssue"];
    Sigmahq SigmahqCorrelationGroupByExistence ["sigmahq_correlation_group_by_existence"]
        ["SigmahqCorrelationGroupByExistenceIssue"];
    Sigmahq SigmahqCorrelationRulesMinimum ["sigmahq_correlation_rules_minimum"]
        ["SigmahqCorrelationRulesMinimumIssue"];
    Sigmahq SigmahqDateExistence ["sigmahq_date_existence"] ["SigmahqDateExistenceIssue"];
    Sigmahq SigmahqModifiedDateOrder ["sigmahq_modified_date_order"] ["SigmahqModifiedDateOrderIssue"];
    Sigmahq SigmahqModifiedWithoutDate ["sigmahq_modified_without_date"] ["SigmahqModifiedWithoutDateIssue"];
    Sigmahq SigmahqRedundantModified ["sigmahq_redundant_modified"] ["SigmahqRedundantModifiedIssue"];
    Sigmahq SigmahqDescriptionExistence ["sigmahq_description_existence"] ["SigmahqDescriptionExistenceIssue"];
    Sigmahq SigmahqDescriptionLength ["sigmahq_description_length"] ["SigmahqDescriptionLengthIssue"];
    Sigmahq SigmahqLinkInDescription ["sigmahq_link_in_description"] ["SigmahqLinkInDescriptionIssue"];
    Sigmahq SigmahqUnsupportedRegexGroupConstruct ["sigmahq_unsupported_regex_group_construct"]
        ["SigmahqUnsupportedRegexGroupConstructIssue"];
    Sigmahq SigmahqFalsepositivesBannedWord ["sigmahq_falsepositives_banned_word"]
        ["SigmahqFalsepositivesBannedWordIssue"];
    Sigmahq SigmahqFalsepositivesCapital ["sigmahq_falsepositives_capital"] ["SigmahqFalsepositivesCapitalIssue"];
    Sigmahq SigmahqFalsepositivesTypoWord ["sigmahq_falsepositives_typo_word"]
        ["SigmahqFalsepositivesTypoWordIssue"];
    Sigmahq SigmahqFieldUser ["sigmahq_field_user"] ["SigmahqFieldUserIssue"];
    Sigmahq SigmahqInvalidHashKv ["sigmahq_invalid_hash_kv"] ["SigmahqInvalidHashKvIssue"];
    Sigmahq SigmahqSpaceFieldName ["sigmahq_space_field_name"] ["SigmahqSpaceFieldNameIssue"];
    Sigmahq SigmahqFieldsExistence ["sigmahq_fields_existence"] ["SigmahqFieldsExistenceIssue"];
    Sigmahq SigmahqUnknownField ["sigmahq_unknown_field"] ["SigmahqUnknownFieldIssue"];
    Sigmahq SigmahqCorrelationFilenamePrefix ["sigmahq_correlation_filename_prefix"]
        ["SigmahqCorrelationFilenamePrefixIssue"];
    Sigmahq SigmahqFilenameConvention ["sigmahq_filename_convention"] ["SigmahqFilenameConventionIssue"];
    Sigmahq SigmahqLevelExistence ["sigmahq_level_existence"] ["SigmahqLevelExistenceIssue"];
    Sigmahq SigmahqSysmonMissingEventid ["sigmahq_sysmon_missing_eventid"] ["SigmahqSysmonMissingEventidIssue"];
    Sigmahq SigmahqFieldDuplicateValue ["sigmahq_field_duplicate_value"] ["SigmahqFieldDuplicateValueIssue"];
    Sigmahq SigmahqInvalidAllModifier ["sigmahq_invalid_all_modifier"] ["SigmahqInvalidAllModifierIssue"];
    Sigmahq SigmahqGithubLink ["sigmahq_github_link"] ["SigmahqGithubLinkIssue"];
    Sigmahq SigmahqMitreLink ["sigmahq_mitre_link"] ["SigmahqMitreLinkIssue"];
    Sigmahq SigmahqStatusExistence ["sigmahq_status_existence"] ["SigmahqStatusExistenceIssue"];
    Sigmahq SigmahqStatusToHigh ["sigmahq_status_to_high"] ["SigmahqStatusToHighIssue"];
    Sigmahq SigmahqStatus ["sigmahq_status"] ["SigmahqStatusIssue"];
    Sigmahq SigmahqTagsDetection ["sigmahq_tags_detection"] ["SigmahqTagsDetectionIssue"];
    Sigmahq SigmahqTagsTlp ["sigmahq_tags_tlp"] ["SigmahqTagsTlpIssue"];
    Sigmahq SigmahqTagsUniqueDetection ["sigmahq_tags_unique_detection"] ["SigmahqTagsUniqueDetectionIssue"];
    Sigmahq SigmahqTagsUniqueTlp ["sigmahq_tags_unique_tlp"] ["SigmahqTagsUniqueTlpIssue"];
    Sigmahq SigmahqTitleCase ["sigmahq_title_case"] ["SigmahqTitleCaseIssue"];
    Sigmahq SigmahqTitleEnd ["sigmahq_title_end"] ["SigmahqTitleEndIssue"];
    Sigmahq SigmahqTitleLength ["sigmahq_title_length"] ["SigmahqTitleLengthIssue"];
    Sigmahq SigmahqTitleStart ["sigmahq_title_start"] ["SigmahqTitleStartIssue"];
}

/// pySigma's validators that every `vigil check` runs anyway, as errors or warnings of the language itself: the
/// issue class and Vigil's code. For the comparison with pySigma.
pub const ALWAYS_CHECKED: &[(&str, Code)] = &[
    ("DanglingDetectionIssue", Code::UnusedDetection),
    ("DanglingConditionIssue", Code::UndefinedIdentifier),
    ("Base64OffsetWithoutContainsModifierIssue", Code::Base64OffsetWithoutContains),
    ("ModifierAppliedMultipleIssue", Code::DuplicateModifier),
];

/// The catalog entry of a convention code.
pub fn check_of(code: Code) -> Option<&'static Check> {
    CATALOG.iter().find(|c| c.code == code)
}

/// Which checks run: the sets named, less the codes excluded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub sets: BTreeSet<Set>,
    pub excluded: BTreeSet<Code>,
}

impl Selection {
    /// Parses `--validators`' value: comma-separated `pysigma`, `sigmahq`, `all`, `none`.
    pub fn parse_sets(text: &str) -> Result<BTreeSet<Set>, String> {
        let mut sets = BTreeSet::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "pysigma" => {
                    sets.insert(Set::Pysigma);
                }
                "sigmahq" => {
                    sets.insert(Set::Sigmahq);
                }
                "all" => sets.extend([Set::Pysigma, Set::Sigmahq]),
                "none" => sets.clear(),
                other => return Err(format!("unknown validator set `{other}` (pysigma, sigmahq, all, none)")),
            }
        }
        Ok(sets)
    }

    /// Parses a code given to `--exclude`: a convention code, or a pySigma validator identifier (all its codes).
    pub fn parse_exclusion(text: &str) -> Result<Vec<Code>, String> {
        let text = text.trim();
        let codes: Vec<Code> = CATALOG
            .iter()
            .filter(|c| c.code.as_str() == text || c.validators.contains(&text))
            .map(|c| c.code)
            .collect();
        if codes.is_empty() {
            Err(format!("`{text}` is not a validator code (see `vigil list validators`)"))
        } else {
            Ok(codes)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Whether `code` runs under this selection.
    pub fn runs(&self, code: Code) -> bool {
        !self.excluded.contains(&code) && check_of(code).is_some_and(|c| self.sets.contains(&c.set))
    }
}

/// Where findings go: only the selected checks are kept.
pub(crate) struct Findings<'s> {
    selection: &'s Selection,
    pub(crate) out: Vec<Diagnostic>,
}

impl Findings<'_> {
    pub(crate) fn runs(&self, code: Code) -> bool {
        self.selection.runs(code)
    }

    pub(crate) fn warn(&mut self, code: Code, pos: Pos, message: impl Into<String>) {
        if self.selection.runs(code) {
            self.out.push(Diagnostic::warning(code, pos, message));
        }
    }
}

/// A document as the checks see it: the YAML as written (for positions and raw values) and what it parsed to.
pub(crate) struct Subject<'d, 'a> {
    /// The document's root mapping.
    pub root: &'d Node<'a>,
    pub content: &'d Content,
    /// The file's path, for the file-name conventions.
    pub path: &'d Path,
}

impl Subject<'_, '_> {
    /// Where `key` is written (its value), or the document's start.
    pub fn pos_of(&self, key: &str) -> Pos {
        self.root.get(key).map_or(self.root.pos, |v| v.pos)
    }

    /// Where the `index`th entry of the list under `key` is written, or where the key's value is.
    pub fn item_pos(&self, key: &str, index: usize) -> Pos {
        match self.root.get(key).map(|v| &v.kind) {
            Some(crate::yaml::Kind::Seq(items)) => items.get(index).map_or_else(|| self.pos_of(key), |i| i.pos),
            _ => self.pos_of(key),
        }
    }

    pub fn meta(&self) -> &crate::ir::meta::Meta {
        match self.content {
            Content::Rule(rule) => &rule.meta,
            Content::Correlation(correlation) => &correlation.meta,
            Content::Filter(filter) => &filter.meta,
        }
    }
}

/// The convention findings of one file, by document index (as [`crate::load::LoadedDocument::index`]). Documents
/// with errors are left out: their problems come first. Files-wide checks (duplicates) are [`Collection`]'s.
pub fn validate_source(path: &Path, text: &str, selection: &Selection) -> Vec<(usize, Vec<Diagnostic>)> {
    if selection.is_empty() {
        return Vec::new();
    }
    let (documents, _) = yaml::parse(text);
    let mut out = Vec::new();
    for loaded in load_str(text) {
        let (Some(content), Some(document)) = (&loaded.content, documents.get(loaded.index)) else { continue };
        if matches!(content, Content::Filter(_)) {
            continue;
        }
        let subject = Subject { root: &document.root, content, path };
        let mut findings = Findings { selection, out: Vec::new() };
        metadata::check(&subject, &mut findings);
        tags::check(&subject, &mut findings);
        detection::check(&subject, &mut findings);
        if !findings.out.is_empty() {
            out.push((loaded.index, findings.out));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_convention_code_is_in_the_catalog_once() {
        let mut seen = BTreeSet::new();
        for check in CATALOG {
            assert!(seen.insert(check.code), "{} twice", check.code);
        }
        let first = crate::codes::ALL.iter().position(|&c| c == Code::AllOfThemCondition).unwrap();
        let last = crate::codes::ALL.iter().position(|&c| c == Code::SigmahqTitleStart).unwrap();
        assert_eq!(seen.len(), last - first + 1, "a convention code missing from the catalog");
    }

    #[test]
    fn selections_parse() {
        assert_eq!(Selection::parse_sets("all").unwrap().len(), 2);
        assert_eq!(Selection::parse_sets("sigmahq").unwrap(), BTreeSet::from([Set::Sigmahq]));
        assert!(Selection::parse_sets("sigmahq,nope").is_err());
        assert_eq!(Selection::parse_exclusion("sigmahq-title-end").unwrap(), vec![Code::SigmahqTitleEnd]);
        assert_eq!(Selection::parse_exclusion("invalid_modifier_combinations").unwrap().len(), 2);
        assert!(Selection::parse_exclusion("yaml-syntax").is_err());
    }
}
