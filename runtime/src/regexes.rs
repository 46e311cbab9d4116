//! Regular expressions (`|re` values and globs) built on first use. A compiled regex holds its automata (tens of
//! kilobytes each, megabytes for case-insensitive Unicode classes) and, per thread that runs it, a lazy DFA cache:
//! over the SigmaHQ corpus about 10 MB that most hunts never use, since the index and the prefilter rule most
//! rules out. Each regex is still built once when its rule compiles, so that an invalid or oversized one rejects
//! the rule there, with its diagnostic, and never later.

use regex::{Regex, RegexBuilder};
use std::sync::OnceLock;

/// Flags and limits of one regular expression.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub case_insensitive: bool,
    pub multi_line: bool,
    pub dot_matches_new_line: bool,
}

/// The most memory one regex may compile to (the regex crate's default is 10 MB; SigmaHQ has none near it).
const SIZE_LIMIT: usize = 50 << 20;
/// The lazy DFA's cache per regex and thread (the crate's default is 2 MB; a cache that fills is cleared and the
/// search goes on, so this bounds memory, not answers).
const DFA_CACHE: usize = 1 << 20;

#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    options: Options,
    built: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Checks that `pattern` compiles (within the size limit), keeping only its text until first use.
    pub fn new(pattern: String, options: Options) -> Result<LazyRegex, regex::Error> {
        drop(build(&pattern, options)?);
        Ok(LazyRegex { pattern, options, built: OnceLock::new() })
    }

    pub fn is_match(&self, text: &str) -> bool {
        // It compiled once with the same options, so it compiles again; were it not to, it would match nothing
        // rather than stop the hunt.
        self.built.get_or_init(|| build(&self.pattern, self.options).ok()).as_ref().is_some_and(|re| re.is_match(text))
    }
}

fn build(pattern: &str, options: Options) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(options.case_insensitive)
        .multi_line(options.multi_line)
        .dot_matches_new_line(options.dot_matches_new_line)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_CACHE)
        .build()
}
