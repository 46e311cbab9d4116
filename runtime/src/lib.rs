//! The Vigil runtime: rules compiled into one matcher, and the event readers it runs over.
//!
//! ```text
//! ir::Rule --program::compile--> Node --+
//!                                        +--> RuleSet (index by Channel/EventID, literal prefilter) --matches--> rules
//! file --read::read_path_raw--> Record --+
//!        (JSON text, or parsed JSON)     RuleSet::decode: only the fields rules read (text_fields for JSON text)
//! ```

mod bits;
pub mod correlate;
pub mod correlation;
mod decode;
pub mod derived;
pub mod event;
pub mod explain;
pub mod fields;
mod hex_keys;
pub mod logsource;
mod prefilter;
pub mod program;
pub mod read;
pub mod record;
mod regexes;
pub mod ruleset;
pub mod spark;
pub mod sqlite;
mod substrings;
mod text_screen;

pub mod time;
mod trie;
mod witness;

pub use event::Event;
pub use fields::{FieldId, FieldTable, Value};
pub use record::Record;
pub use ruleset::{CompiledRule, DecodedEvent, LogSources, Rejected, RuleInput, RuleSet};
pub use vigil_compiler::ir;
