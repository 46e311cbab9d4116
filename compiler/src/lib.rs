//! The Vigil compiler: Sigma YAML in, a normalised IR out, and the IR rendered as queries.
//!
//! ```text
//! YAML text --yaml::parse--> spanned nodes --load::load_str--> documents (SigmaRule, SigmaCorrelation,
//!   SigmaFilter, with positions) --PipelineSet::apply--> transformed rule --lower--> ir::Rule
//!   \__________________________ compile::compile_source (the front end) ___________________________/
//! SourceFile* --Compilation::new (compile/link.rs)--> rules + ir::Correlation (resolved, dependency order)
//! ir::Rule + pipeline state --backend::convert--> query text;  ir::Correlation + inputs' queries
//!   --backend::convert_correlation--> query text;  ir --vigil_runtime::RuleSet--> matcher
//! ```
//!
//! Every stage reports problems as [`Diagnostic`]s with a stable [`Code`] and a position; none of them panics on
//! bad input, and a bad document never stops the others. Commands use the front end ([`compile`]); the syntax
//! stage is open to tools that work on rules as written ([`syntax`]).

pub mod backend;
mod codes;
pub mod compile;
mod condition;
mod correlation;
mod diagnostic;
mod filter;
pub mod format;
pub mod ir;
mod load;
pub mod logsources;
mod lower;
pub mod pipeline;
mod rule;
pub mod sql_table;
pub mod validate;
mod yaml;

pub use codes::{Code, ALL as ALL_CODES};
pub use diagnostic::{render, Diagnostic, Pos, Severity};
pub use load::DocumentKind;

/// The rule syntax stage, for tools that work on Sigma as written (tests, formatters, an editor): documents with
/// their positions, rule, correlation and filter syntax, condition trees, the YAML trees behind them, and the
/// lowering of one rule. Commands go through [`compile`] instead.
pub mod syntax {
    pub use crate::condition::{parse as parse_condition, Condition};
    pub use crate::correlation::{CorrelationCondition, SigmaCorrelation};
    pub use crate::filter::{FilterRules, SigmaFilter};
    pub use crate::load::{load_str, Content, LoadedDocument};
    pub use crate::lower::{lower, lower_conditions};
    pub use crate::rule::modifiers::Modifier;
    pub use crate::rule::SigmaRule;
    pub use crate::yaml::{parse as parse_yaml, parse_fast, parse_with_events, Kind, Node};
}
