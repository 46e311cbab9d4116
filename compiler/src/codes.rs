//! Every diagnostic code Vigil emits, in one place. Codes are stable: tools and tests match on them.

/// Defines `Code`, its stable text and the list of all codes from one table, so they cannot drift apart.
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// A stable diagnostic code. The string form (`Code::as_str`) is what users and JSON output see.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        /// All codes, for documentation and tests.
        pub const ALL: &[Code] = &[$(Code::$name,)*];

        impl Code {
            /// The stable, kebab-case name of the code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    // --- YAML and document structure ---
    /// The file is not valid YAML.
    YamlSyntax = "yaml-syntax",
    /// A tab character where YAML requires spaces.
    YamlTab = "yaml-tab",
    /// The same key appears twice in one mapping.
    DuplicateKey = "duplicate-key",
    /// An alias (`*name`) refers to an anchor that was never defined, or YAML features Sigma does not use.
    YamlUnsupported = "yaml-unsupported",
    /// Input too large to read safely: YAML aliases that expand past the node budget (a "billion laughs"), a
    /// condition past its length or nesting limit, a value expansion (windash, base64offset, placeholders) past its
    /// limit, regexes past their compiled-size budget.
    TooLarge = "too-large",
    /// A YAML document that is not a mapping.
    DocumentNotMapping = "document-not-mapping",
    /// `action:` other than global/reset/repeat, or `repeat` with nothing before it.
    InvalidAction = "invalid-action",
    /// The file is empty or has only comments.
    EmptyFile = "empty-file",

    // --- Files ---
    /// A rule or pipeline file that cannot be read (missing, a directory loop, no permission).
    FileUnreadable = "file-unreadable",
    /// A file that is not UTF-8 text; the position is that of the first invalid byte.
    InvalidUtf8 = "invalid-utf8",

    // --- Rule metadata ---
    /// `title` is missing.
    MissingTitle = "missing-title",
    /// `logsource` is missing.
    MissingLogsource = "missing-logsource",
    /// `detection` is missing.
    MissingDetection = "missing-detection",
    /// `detection` has no `condition`.
    MissingCondition = "missing-condition",
    /// A key holds a value of the wrong YAML type (a list where a string belongs, ...).
    WrongType = "wrong-type",
    /// `logsource` sets none of category, product, service.
    EmptyLogsource = "empty-logsource",
    /// `status` is not one of the values the specification allows.
    InvalidStatus = "invalid-status",
    /// `level` is not one of the values the specification allows.
    InvalidLevel = "invalid-level",
    /// `id` is not a UUID.
    InvalidId = "invalid-id",
    /// `date` / `modified` is not YYYY-MM-DD (or legacy YYYY/MM/DD).
    InvalidDate = "invalid-date",
    /// A tag is not `namespace.name` in lowercase.
    InvalidTag = "invalid-tag",
    /// A `related` entry lacks `id` or has an unknown `type`.
    InvalidRelated = "invalid-related",

    // --- Detection and values ---
    /// A modifier name Vigil does not know.
    UnknownModifier = "unknown-modifier",
    /// Modifiers in an order that cannot work (`contains|re`, `contains|base64`, ...).
    ModifierOrder = "modifier-order",
    /// A modifier applied to a value of the wrong type (`gt: 'abc'`, `cidr: 5`, ...).
    ModifierType = "modifier-type",
    /// The same modifier twice in one chain.
    DuplicateModifier = "duplicate-modifier",
    /// `all` on a single value, or `windash` with `all`: legal but almost certainly not meant.
    SuspiciousModifier = "suspicious-modifier",
    /// A value is neither a scalar nor a list of scalars.
    InvalidValue = "invalid-value",
    /// A detection that is neither a map, a list of maps, nor a list of keywords.
    InvalidDetection = "invalid-detection",
    /// `null` used as a keyword (a value without a field).
    NullKeyword = "null-keyword",
    /// A `re` value that does not compile.
    InvalidRegex = "invalid-regex",
    /// A regular expression (or wildcard pattern) that compiles to more than the matcher's size budget.
    RegexTooLarge = "regex-too-large",
    /// A `cidr` value that is not a network.
    InvalidCidr = "invalid-cidr",
    /// A time-part value out of range (`hour: 25`).
    InvalidTimePart = "invalid-time-part",
    /// `base64offset` without `contains` after it.
    Base64OffsetWithoutContains = "base64offset-without-contains",
    /// A legacy `timeframe` inside `detection`; ignored.
    LegacyTimeframe = "legacy-timeframe",
    /// A detection whose name starts with `_` or uses characters the condition cannot reference.
    UnreferencableDetection = "unreferencable-detection",
    /// A detection never used by the condition.
    UnusedDetection = "unused-detection",

    // --- Condition ---
    /// The condition does not parse.
    ConditionSyntax = "condition-syntax",
    /// An identifier in the condition names no detection.
    UndefinedIdentifier = "undefined-identifier",
    /// `1 of pattern*` / `all of pattern*` matches no detection.
    SelectorMatchesNothing = "selector-matches-nothing",
    /// The legacy pipe syntax (`| count() by x > 5`, `| near`): write a correlation rule instead.
    LegacyAggregation = "legacy-aggregation",
    /// `AND` / `OR` / `NOT` in upper case: accepted, but not portable to pySigma.
    UppercaseOperator = "uppercase-operator",
    /// Parentheses or `not` nested deeper than the parser allows.
    NestingTooDeep = "nesting-too-deep",
    /// `2 of ...` and other counts above 1.
    UnsupportedQuantifier = "unsupported-quantifier",

    // --- Correlation and filter documents ---
    /// A correlation rule whose `correlation` block is incomplete or inconsistent.
    InvalidCorrelation = "invalid-correlation",
    /// A correlation names a rule (by id or name) that is not among the rules loaded with it.
    UnknownRuleReference = "unknown-rule-reference",
    /// Correlations that read each other in a circle.
    CorrelationCycle = "correlation-cycle",
    /// A filter document whose `filter` block is incomplete or inconsistent.
    InvalidFilter = "invalid-filter",
    /// A filter that names rules none of which is loaded with it.
    FilterUnused = "filter-unused",

    // --- Conventions (`vigil check --validators`, compiler/src/validate): pySigma's core validators ---
    /// A condition with `all of them`: `all of selection*` says what is meant.
    AllOfThemCondition = "all-of-them-condition",
    /// A condition that says `them` in a rule with a single detection.
    ThemConditionWithSingleDetection = "them-condition-with-single-detection",
    /// A Sysmon or Security `EventID` where a generic log source (process_creation, ...) exists.
    SpecificInsteadOfGenericLogsource = "specific-instead-of-generic-logsource",
    /// A `logsource` key other than category, product, service, definition.
    FieldnameLogsource = "fieldname-logsource",
    /// A custom top-level key that is a misspelt standard one (`realted`, `reference`).
    CustomAttributes = "custom-attributes",
    /// Two rule files of the same name in different folders.
    DuplicateFilename = "duplicate-filename",
    /// The same reference twice in one rule.
    DuplicateReferences = "duplicate-references",
    /// Two rules with the same title.
    DuplicateTitle = "duplicate-title",
    /// A file name shorter than 10 or longer than 90 characters.
    FilenameLength = "filename-length",
    /// A rule without `id`.
    IdentifierExistence = "identifier-existence",
    /// Two rules with the same `id`.
    IdentifierUniqueness = "identifier-uniqueness",
    /// A field's `all` modifier without `contains`: every value must equal the field, which nothing does.
    AllWithoutContains = "all-without-contains",
    /// `windash` with `all`: the dash variants would all have to match.
    WindashWithAll = "windash-with-all",
    /// A tag that is not `namespace.name` in lowercase letters, digits, `-`, `_` and `.`.
    TagFormat = "tag-format",
    /// A tag namespace other than attack, car, cve, d3fend, detection, stp, tlp.
    NamespaceTag = "namespace-tag",
    /// A car, cve, detection or stp tag whose name does not have that namespace's form.
    TagPattern = "tag-pattern",
    /// An attack tag that names no ATT&CK tactic and has no technique, group, software, data source or
    /// mitigation identifier's form.
    AttackTag = "attack-tag",
    /// A tlp tag that is not a TLP 1.0 or 2.0 label.
    TlpTag = "tlp-tag",
    /// The same tag twice in one rule.
    DuplicateTag = "duplicate-tag",
    /// A control character in a value, usually a single backslash before `t` or `n` in a double-quoted string.
    ControlCharacter = "control-character",
    /// Two `*` wildcards in a row.
    DoubleWildcard = "double-wildcard",
    /// An escaped `\*` or `\?` in a value: make sure the literal character is meant.
    EscapedWildcard = "escaped-wildcard",
    /// A number written as a quoted string.
    NumberAsString = "number-as-string",
    /// Values that all begin and/or end with `*` where `contains`, `startswith` or `endswith` is meant.
    WildcardsInsteadOfModifiers = "wildcards-instead-of-modifiers",

    // --- Conventions: SigmaHQ's (pySigma-validators-sigmahq) ---
    /// A rule without `author`.
    SigmahqAuthorExistence = "sigmahq-author-existence",
    /// `1 of x` / `all of x` without `*`: a selector over one name.
    SigmahqMissingAsteriskCondition = "sigmahq-missing-asterisk-condition",
    /// `1 of x_*` / `all of x_*` matching fewer than two detections.
    SigmahqOfselectionCondition = "sigmahq-ofselection-condition",
    /// `of them` in a rule with a single detection.
    SigmahqOfthemCondition = "sigmahq-ofthem-condition",
    /// A correlation type that needs `group-by` without it.
    SigmahqCorrelationGroupByExistence = "sigmahq-correlation-group-by-existence",
    /// A temporal correlation over fewer than two rules.
    SigmahqCorrelationRulesMinimum = "sigmahq-correlation-rules-minimum",
    /// A rule without `date`.
    SigmahqDateExistence = "sigmahq-date-existence",
    /// `modified` earlier than `date`.
    SigmahqModifiedDateOrder = "sigmahq-modified-date-order",
    /// `modified` without `date`.
    SigmahqModifiedWithoutDate = "sigmahq-modified-without-date",
    /// `modified` equal to `date`.
    SigmahqRedundantModified = "sigmahq-redundant-modified",
    /// A rule without `description`.
    SigmahqDescriptionExistence = "sigmahq-description-existence",
    /// A description shorter than 16 characters.
    SigmahqDescriptionLength = "sigmahq-description-length",
    /// A link in the description of a rule without references.
    SigmahqLinkInDescription = "sigmahq-link-in-description",
    /// A lookahead, lookbehind or atomic group in a regular expression, which many backends lack.
    SigmahqUnsupportedRegexGroupConstruct = "sigmahq-unsupported-regex-group-construct",
    /// A false-positive entry that is `none`, `pentest` or `penetration`.
    SigmahqFalsepositivesBannedWord = "sigmahq-falsepositives-banned-word",
    /// A false-positive entry that does not start with a capital letter.
    SigmahqFalsepositivesCapital = "sigmahq-falsepositives-capital",
    /// A common typo in a false-positive entry.
    SigmahqFalsepositivesTypoWord = "sigmahq-falsepositives-typo-word",
    /// A user field compared with a localised `AUTHORITY` name.
    SigmahqFieldUser = "sigmahq-field-user",
    /// A Sysmon `Hashes` value that is not `ALGORITHM=hex` with a known algorithm and length.
    SigmahqInvalidHashKv = "sigmahq-invalid-hash-kv",
    /// A field name with a space.
    SigmahqSpaceFieldName = "sigmahq-space-field-name",
    /// The deprecated `fields` key.
    SigmahqFieldsExistence = "sigmahq-fields-existence",
    /// A top-level key SigmaHQ does not use.
    SigmahqUnknownField = "sigmahq-unknown-field",
    /// A correlation rule whose file name does not start with `correlation_`.
    SigmahqCorrelationFilenamePrefix = "sigmahq-correlation-filename-prefix",
    /// A file name that is not 10 to 90 lowercase letters, digits and `_` (with one `_` at least) and `.yml`.
    SigmahqFilenameConvention = "sigmahq-filename-convention",
    /// A rule without `level`.
    SigmahqLevelExistence = "sigmahq-level-existence",
    /// A `service: sysmon` rule that never tests `EventID`.
    SigmahqSysmonMissingEventid = "sigmahq-sysmon-missing-eventid",
    /// The same value twice in one field's list.
    SigmahqFieldDuplicateValue = "sigmahq-field-duplicate-value",
    /// `all` over a single value.
    SigmahqInvalidAllModifier = "sigmahq-invalid-all-modifier",
    /// A GitHub reference to a branch rather than a commit.
    SigmahqGithubLink = "sigmahq-github-link",
    /// An attack.mitre.org reference where an attack tag belongs.
    SigmahqMitreLink = "sigmahq-mitre-link",
    /// A rule without `status`.
    SigmahqStatusExistence = "sigmahq-status-existence",
    /// A status above `experimental` (or `test` with regression tests) for a rule younger than 60 days.
    SigmahqStatusToHigh = "sigmahq-status-to-high",
    /// A deprecated or unsupported rule (they belong in their own folders).
    SigmahqStatus = "sigmahq-status",
    /// A rule under rules-dfir, rules-emerging-threats or rules-threat-hunting without that detection tag.
    SigmahqTagsDetection = "sigmahq-tags-detection",
    /// A TLP tag other than `tlp.clear`.
    SigmahqTagsTlp = "sigmahq-tags-tlp",
    /// More than one detection tag.
    SigmahqTagsUniqueDetection = "sigmahq-tags-unique-detection",
    /// More than one TLP tag.
    SigmahqTagsUniqueTlp = "sigmahq-tags-unique-tlp",
    /// A lowercase word in a title that SigmaHQ writes in title case.
    SigmahqTitleCase = "sigmahq-title-case",
    /// A title ending with a dot.
    SigmahqTitleEnd = "sigmahq-title-end",
    /// A title longer than 120 characters.
    SigmahqTitleLength = "sigmahq-title-length",
    /// A title starting with `Detect` or `Detects`.
    SigmahqTitleStart = "sigmahq-title-start",

    // --- Processing pipelines ---
    /// `-p NAME` names neither a built-in pipeline nor a readable file.
    PipelineNotFound = "pipeline-not-found",
    /// A key a pipeline, processing item, condition or transformation does not have.
    PipelineUnknownKey = "pipeline-unknown-key",
    /// A transformation, condition, postprocessing or finalizer type that does not exist.
    PipelineUnknownType = "pipeline-unknown-type",
    /// A missing or invalid parameter (wrong type, bad regex, conflicting options, ...).
    PipelineInvalid = "pipeline-invalid",
    /// A file, HTTP or command placeholder source, which is off unless explicitly allowed.
    PipelineExternalSource = "pipeline-external-source",
    /// A rule rejected on purpose by a pipeline (`rule_failure`, `detection_item_failure`,
    /// `strict_field_mapping_failure`).
    RuleFailure = "rule-failure",
    /// A pipeline could not transform a rule (missing variable, value that cannot be converted, ...).
    PipelineError = "pipeline-error",

    // --- Backends: a construct the target language cannot express (never a silently different query) ---
    /// A keyword (a value without a field) on a target with no full-text search.
    UnsupportedKeyword = "unsupported-keyword",
    /// A regular expression the target cannot run there (no regex operator, or a construct its dialect lacks).
    UnsupportedRegex = "unsupported-regex",
    /// A CIDR network the target cannot test.
    UnsupportedCidr = "unsupported-cidr",
    /// A comparison of two fields (`fieldref`) the target cannot express.
    UnsupportedFieldReference = "unsupported-field-reference",
    /// A wildcard or character the target's pattern syntax cannot express (Splunk has no `?`).
    UnsupportedWildcard = "unsupported-wildcard",
    /// A time-part modifier (`hour`, `month`, ...) the target cannot extract.
    UnsupportedTimePart = "unsupported-time-part",
    /// A `%placeholder%` no pipeline resolved.
    UnsupportedPlaceholder = "unsupported-placeholder",
    /// A value type the target cannot compare (a boolean keyword, a null keyword, ...).
    UnsupportedValue = "unsupported-value",
    /// An output format the target does not offer, or a rule the format cannot hold.
    UnsupportedFormat = "unsupported-format",
    /// A correlation type or shape the target cannot express.
    UnsupportedCorrelation = "unsupported-correlation",
    /// A target name that does not exist.
    UnknownTarget = "unknown-target",

    // --- Commands ---
    /// Options that cannot be used together, or a required one missing.
    Usage = "usage",
    /// A pipeline that names its backends (`allowed_backends`) without the target asked for.
    PipelineRefusesTarget = "pipeline-refuses-target",
    /// Finalizers of a pipeline, which make one output of all queries: not run with `--jsonl` or `--output-dir`.
    PipelineOutputIgnored = "pipeline-output-ignored",
    /// A document `vigil fmt` leaves as written: not a block mapping, tabs in its indentation, or a layout it cannot
    /// change without changing the YAML.
    FormatSkipped = "format-skipped",
    /// A convention fix (`vigil check --fix`) not made: it would have changed what a rule matches.
    FixRefused = "fix-refused",
    /// Queries converted without any pipeline: they test the rules' detections, not their log sources.
    NoLogsourceConditions = "no-logsource-conditions",
    /// KQL without a table (no `--table`, no pipeline setting one): a condition, not a runnable query.
    KustoWithoutTable = "kusto-without-table",
    /// A `vigil.yml` that cannot be read or understood.
    InvalidConfig = "invalid-config",
    /// An input (log file or directory) that cannot be read.
    InputUnreadable = "input-unreadable",
    /// A record of an input that is not an event (a line that is not JSON, a corrupt EVTX record).
    RecordUnreadable = "record-unreadable",
    /// The output file cannot be created or written.
    OutputUnwritable = "output-unwritable",
    /// A query engine (SQLite) failed.
    EngineError = "engine-error",
    /// Detections left out of correlations: no readable time, later than `--lateness`, beyond `--max-groups`.
    CorrelationIncomplete = "correlation-incomplete",
    /// A log-source table (`--logsource-table`) that cannot be read or understood, or a bad `--logsource`.
    InvalidLogsourceTable = "invalid-logsource-table",
    /// A hunt stopped by Ctrl-C: what it reports covers the events read until then.
    Interrupted = "interrupted",
    /// Detections without a readable event time, left out of an output that needs one (Timesketch).
    MissingEventTime = "missing-event-time",
    /// `--engine spark` cannot start Spark: no Python with pyspark (or `SPARK_HOME`), or no Java.
    SparkUnavailable = "spark-unavailable",
    /// The Spark job of `--engine spark` failed; the message carries the end of Spark's own report.
    SparkJobFailed = "spark-job-failed",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in super::ALL {
            let text = code.as_str();
            assert!(text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{text}");
            assert!(seen.insert(text), "{text} twice");
        }
        assert_eq!(seen.len(), 151);
    }
}
