//! The Vigil runtime: rules compiled into one matcher, and the event readers it runs over.
//!
//! ```text
//! ir::Rule --program::compile--> Node --+
//!                                        +--> RuleSet (index by Channel/EventID, literal prefilter) --matches--> rules
//! file --read::read_path_raw--> Record --+
//!        (JSON text, or parsed JSON)     RuleSet::decode: only the fields rules read (text_fields for JSON text)
//! ```

mod bits;
pub mod correlation;
pub mod event;
mod prefilter;
pub mod program;
pub mod read;
pub mod ruleset;
pub mod sqlite;
mod substrings;
mod text_fields;
pub mod time;
mod trie;
mod witness;

pub use event::{Event, FieldTable, Record};
pub use ruleset::{CompiledRule, Rejected, RuleSet};
pub use vigil_compiler::ir;
