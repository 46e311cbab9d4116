//! The Vigil runtime: the compiled multi-rule matcher and the event readers (JSON, JSONL, gzip, EVTX).
//!
//! This crate is the home of the matcher built from `vigil_compiler::ir`; it is filled by the runtime work
//! (see ARCHITECTURE.md). Until then it only re-exports the IR it will consume.

pub use vigil_compiler::ir;
