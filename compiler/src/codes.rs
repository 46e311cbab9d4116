//! Every diagnostic code Vigil emits, in one place. Codes are stable: tools and tests match on them.

/// A stable diagnostic code. The string form (`Code::as_str`) is what users and JSON output see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    // --- YAML and document structure ---
    /// The file is not valid YAML.
    YamlSyntax,
    /// A tab character where YAML requires spaces.
    YamlTab,
    /// The same key appears twice in one mapping.
    DuplicateKey,
    /// An alias (`*name`) refers to an anchor that was never defined, or YAML features Sigma does not use.
    YamlUnsupported,
    /// A YAML document that is not a mapping.
    DocumentNotMapping,
    /// `action:` other than global/reset/repeat, or `repeat` with nothing before it.
    InvalidAction,
    /// The file is empty or has only comments.
    EmptyFile,

    // --- Rule metadata ---
    /// `title` is missing.
    MissingTitle,
    /// `logsource` is missing.
    MissingLogsource,
    /// `detection` is missing.
    MissingDetection,
    /// `detection` has no `condition`.
    MissingCondition,
    /// A key holds a value of the wrong YAML type (a list where a string belongs, ...).
    WrongType,
    /// `logsource` sets none of category, product, service.
    EmptyLogsource,
    /// `status` is not one of the values the specification allows.
    InvalidStatus,
    /// `level` is not one of the values the specification allows.
    InvalidLevel,
    /// `id` is not a UUID.
    InvalidId,
    /// `date` / `modified` is not YYYY-MM-DD (or legacy YYYY/MM/DD).
    InvalidDate,
    /// A tag is not `namespace.name` in lowercase.
    InvalidTag,
    /// A `related` entry lacks `id` or has an unknown `type`.
    InvalidRelated,

    // --- Detection and values ---
    /// A modifier name Vigil does not know.
    UnknownModifier,
    /// Modifiers in an order that cannot work (`contains|re`, `contains|base64`, ...).
    ModifierOrder,
    /// A modifier applied to a value of the wrong type (`gt: 'abc'`, `cidr: 5`, ...).
    ModifierType,
    /// The same modifier twice in one chain.
    DuplicateModifier,
    /// `all` on a single value, or `windash` with `all`: legal but almost certainly not meant.
    SuspiciousModifier,
    /// A value is neither a scalar nor a list of scalars.
    InvalidValue,
    /// A detection that is neither a map, a list of maps, nor a list of keywords.
    InvalidDetection,
    /// `null` used as a keyword (a value without a field).
    NullKeyword,
    /// A `re` value that does not compile.
    InvalidRegex,
    /// A `cidr` value that is not a network.
    InvalidCidr,
    /// A time-part value out of range (`hour: 25`).
    InvalidTimePart,
    /// `base64offset` without `contains` after it.
    Base64OffsetWithoutContains,
    /// A legacy `timeframe` inside `detection`; ignored.
    LegacyTimeframe,
    /// A detection whose name starts with `_` or uses characters the condition cannot reference.
    UnreferencableDetection,
    /// A detection never used by the condition.
    UnusedDetection,

    // --- Condition ---
    /// The condition does not parse.
    ConditionSyntax,
    /// An identifier in the condition names no detection.
    UndefinedIdentifier,
    /// `1 of pattern*` / `all of pattern*` matches no detection.
    SelectorMatchesNothing,
    /// The legacy pipe syntax (`| count() by x > 5`, `| near`): write a correlation rule instead.
    LegacyAggregation,
    /// `AND` / `OR` / `NOT` in upper case: accepted, but not portable to pySigma.
    UppercaseOperator,
    /// Parentheses or `not` nested deeper than the parser allows.
    NestingTooDeep,
    /// `2 of ...` and other counts above 1.
    UnsupportedQuantifier,

    // --- Correlation and filter documents ---
    /// A correlation rule whose `correlation` block is incomplete or inconsistent.
    InvalidCorrelation,
    /// A filter document whose `filter` block is incomplete or inconsistent.
    InvalidFilter,

    // --- Processing pipelines ---
    /// `-p NAME` names neither a built-in pipeline nor a readable file.
    PipelineNotFound,
    /// A key a pipeline, processing item, condition or transformation does not have.
    PipelineUnknownKey,
    /// A transformation, condition, postprocessing or finalizer type that does not exist.
    PipelineUnknownType,
    /// A missing or invalid parameter (wrong type, bad regex, conflicting options, ...).
    PipelineInvalid,
    /// A file, HTTP or command placeholder source, which is off unless explicitly allowed.
    PipelineExternalSource,
    /// A rule rejected on purpose by a pipeline (`rule_failure`, `detection_item_failure`,
    /// `strict_field_mapping_failure`).
    RuleFailure,
    /// A pipeline could not transform a rule (missing variable, value that cannot be converted, ...).
    PipelineError,
}

use Code::*;

/// All codes, for documentation and tests.
pub const ALL: &[Code] = &[
    YamlSyntax,
    YamlTab,
    DuplicateKey,
    YamlUnsupported,
    DocumentNotMapping,
    InvalidAction,
    EmptyFile,
    MissingTitle,
    MissingLogsource,
    MissingDetection,
    MissingCondition,
    WrongType,
    EmptyLogsource,
    InvalidStatus,
    InvalidLevel,
    InvalidId,
    InvalidDate,
    InvalidTag,
    InvalidRelated,
    UnknownModifier,
    ModifierOrder,
    ModifierType,
    DuplicateModifier,
    SuspiciousModifier,
    InvalidValue,
    InvalidDetection,
    NullKeyword,
    InvalidRegex,
    InvalidCidr,
    InvalidTimePart,
    Base64OffsetWithoutContains,
    LegacyTimeframe,
    UnreferencableDetection,
    UnusedDetection,
    ConditionSyntax,
    UndefinedIdentifier,
    SelectorMatchesNothing,
    LegacyAggregation,
    UppercaseOperator,
    NestingTooDeep,
    UnsupportedQuantifier,
    InvalidCorrelation,
    InvalidFilter,
    PipelineNotFound,
    PipelineUnknownKey,
    PipelineUnknownType,
    PipelineInvalid,
    PipelineExternalSource,
    RuleFailure,
    PipelineError,
];

impl Code {
    /// The stable, kebab-case name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            YamlSyntax => "yaml-syntax",
            YamlTab => "yaml-tab",
            DuplicateKey => "duplicate-key",
            YamlUnsupported => "yaml-unsupported",
            DocumentNotMapping => "document-not-mapping",
            InvalidAction => "invalid-action",
            EmptyFile => "empty-file",
            MissingTitle => "missing-title",
            MissingLogsource => "missing-logsource",
            MissingDetection => "missing-detection",
            MissingCondition => "missing-condition",
            WrongType => "wrong-type",
            EmptyLogsource => "empty-logsource",
            InvalidStatus => "invalid-status",
            InvalidLevel => "invalid-level",
            InvalidId => "invalid-id",
            InvalidDate => "invalid-date",
            InvalidTag => "invalid-tag",
            InvalidRelated => "invalid-related",
            UnknownModifier => "unknown-modifier",
            ModifierOrder => "modifier-order",
            ModifierType => "modifier-type",
            DuplicateModifier => "duplicate-modifier",
            SuspiciousModifier => "suspicious-modifier",
            InvalidValue => "invalid-value",
            InvalidDetection => "invalid-detection",
            NullKeyword => "null-keyword",
            InvalidRegex => "invalid-regex",
            InvalidCidr => "invalid-cidr",
            InvalidTimePart => "invalid-time-part",
            Base64OffsetWithoutContains => "base64offset-without-contains",
            LegacyTimeframe => "legacy-timeframe",
            UnreferencableDetection => "unreferencable-detection",
            UnusedDetection => "unused-detection",
            ConditionSyntax => "condition-syntax",
            UndefinedIdentifier => "undefined-identifier",
            SelectorMatchesNothing => "selector-matches-nothing",
            LegacyAggregation => "legacy-aggregation",
            UppercaseOperator => "uppercase-operator",
            NestingTooDeep => "nesting-too-deep",
            UnsupportedQuantifier => "unsupported-quantifier",
            InvalidCorrelation => "invalid-correlation",
            InvalidFilter => "invalid-filter",
            PipelineNotFound => "pipeline-not-found",
            PipelineUnknownKey => "pipeline-unknown-key",
            PipelineUnknownType => "pipeline-unknown-type",
            PipelineInvalid => "pipeline-invalid",
            PipelineExternalSource => "pipeline-external-source",
            RuleFailure => "rule-failure",
            PipelineError => "pipeline-error",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
