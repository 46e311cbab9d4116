//! The Vigil compiler: Sigma YAML in, a normalised IR out.
//!
//! ```text
//! YAML text --yaml::parse--> spanned nodes --load::load_str--> rule documents (SigmaRule, with positions)
//!           --condition::parse (inside)--> condition trees --lower::lower--> ir::Rule --> matcher | backends
//! ```
//!
//! Every stage reports problems as [`Diagnostic`]s with a stable [`Code`] and a position; none of them panics on
//! bad input, and a bad document never stops the others.

pub mod backend;
pub mod codes;
pub mod compile;
pub mod condition;
pub mod correlation;
pub mod diagnostic;
pub mod filter;
pub mod ir;
pub mod load;
pub mod lower;
pub mod pipeline;
pub mod rule;
pub mod sql_table;
pub mod yaml;

pub use codes::Code;
pub use diagnostic::{Diagnostic, Pos, Severity};
pub use load::{load_str, Content, DocumentKind, LoadedDocument};
pub use lower::lower;
