//! Regular expressions (`|re` values and globs) built on first use, within a memory budget. A compiled regex holds
//! its automata (tens of kilobytes each, megabytes for case-insensitive Unicode classes) and, per thread that runs
//! it, a lazy DFA cache: over the SigmaHQ corpus about 10 MB that most hunts never use, since the index and the
//! prefilter rule most rules out. Each regex is still built once when its rule compiles, so that an invalid or
//! oversized one rejects the rule there, with its diagnostic, and never later; its compiled size counts against
//! the rule's and the rule set's budgets ([`Budget`]), so that a hostile rule (sixty `\w{900}` values) is rejected
//! instead of taking gigabytes.

use regex_automata::meta::{BuildError, Config, Regex};
use regex_automata::util::syntax;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Flags of one regular expression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Options {
    pub case_insensitive: bool,
    pub multi_line: bool,
    pub dot_matches_new_line: bool,
}

/// The most memory one regex may compile to (the regex crate's default; SigmaHQ's largest takes under 1 MB).
pub const REGEX_LIMIT: usize = 10 << 20;
/// The most memory the regexes of one rule may compile to, together.
pub const RULE_LIMIT: usize = 32 << 20;
/// The most memory the regexes of a rule set may compile to, together (SigmaHQ's whole corpus: about 10 MB).
pub const SET_LIMIT: usize = 512 << 20;
/// The lazy DFA's cache per regex and thread (the crate's default is 2 MB; a cache that fills is cleared and the
/// search goes on, so this bounds memory, not answers).
const DFA_CACHE: usize = 1 << 20;

/// How much compiled regex memory is left, for a rule and for its rule set; with the sizes of the rule set's
/// regexes when they were measured ahead ([`Measured`]).
#[derive(Debug)]
pub struct Budget {
    pub rule_left: usize,
    pub set_left: usize,
    measured: Arc<Measured>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::measured(Arc::default())
    }
}

impl Budget {
    /// A full budget that reads regexes' sizes from `measured` where it has them.
    pub fn measured(measured: Arc<Measured>) -> Budget {
        Budget { rule_left: RULE_LIMIT, set_left: SET_LIMIT, measured }
    }

    /// A new rule starts: its own budget, within what the set has left.
    pub fn next_rule(&mut self) {
        self.rule_left = RULE_LIMIT.min(self.set_left);
    }
}

/// Why a regex was not built.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum RegexError {
    Invalid(String),
    /// It alone would take more than [`REGEX_LIMIT`].
    TooBig,
    /// It fits alone, but not in what its rule or rule set has left.
    OverBudget {
        rule: bool,
    },
}

#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    options: Options,
    built: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Checks that `pattern` compiles within the limits, and charges its size to `budget`; keeps only its text
    /// until first use.
    pub fn new(pattern: String, options: Options, budget: &mut Budget) -> Result<LazyRegex, RegexError> {
        let size = match budget.measured.size(&pattern, options) {
            Some(known) => known?,
            None => checked_size(&pattern, options)?,
        };
        if size > budget.rule_left || size > budget.set_left {
            return Err(RegexError::OverBudget { rule: size > budget.rule_left });
        }
        budget.rule_left -= size;
        budget.set_left -= size;
        Ok(LazyRegex { pattern, options, built: OnceLock::new() })
    }

    pub fn is_match(&self, text: &str) -> bool {
        // It compiled once with the same options, so it compiles again; were it not to, it would match nothing
        // rather than stop the hunt.
        self.built.get_or_init(|| build(&self.pattern, self.options).ok()).as_ref().is_some_and(|re| re.is_match(text))
    }
}

/// The compiled sizes of a rule set's regexes (or why one cannot be built), measured once per distinct pattern and
/// flags, on every core, before its rules compile in order: rules repeat patterns (the SigmaHQ Windows rules' 426
/// regexes and globs are 229 distinct), and measuring is most of a regex's cost at rule loading.
#[derive(Debug, Default)]
pub struct Measured(HashMap<String, Vec<(Options, Size)>>);

/// A regex's compiled size, or why it cannot be built.
pub(crate) type Size = Result<usize, RegexError>;

impl Measured {
    pub fn new(patterns: Vec<(String, Options)>) -> Measured {
        use rayon::prelude::*;
        let distinct: std::collections::HashSet<(String, Options)> = patterns.into_iter().collect();
        let patterns: Vec<(String, Options)> = distinct.into_iter().collect();
        let sizes: Vec<Size> = patterns.par_iter().map(|(p, o)| checked_size(p, *o)).collect();
        Measured::from_sizes(patterns.into_iter().zip(sizes).map(|((p, o), s)| (p, o, s)))
    }

    /// Sizes measured before (`derived.rs`).
    pub(crate) fn from_sizes(sizes: impl Iterator<Item = (String, Options, Size)>) -> Measured {
        let mut by_pattern: HashMap<String, Vec<(Options, Size)>> = HashMap::new();
        for (pattern, options, size) in sizes {
            by_pattern.entry(pattern).or_default().push((options, size));
        }
        Measured(by_pattern)
    }

    /// Every size, to keep.
    pub(crate) fn sizes(&self) -> impl Iterator<Item = (String, Options, Size)> + '_ {
        self.0.iter().flat_map(|(p, all)| all.iter().map(move |(o, s)| (p.clone(), *o, s.clone())))
    }

    fn size(&self, pattern: &str, options: Options) -> Option<Size> {
        self.0.get(pattern)?.iter().find(|(o, _)| *o == options).map(|(_, size)| size.clone())
    }
}

/// What a regex will take once built, without building it: its forward Thompson NFA, compiled with the same
/// syntax and size limit as [`build`] (so a pattern is invalid or too big here exactly when it is there), counted
/// twice for the reverse NFA the meta regex adds. A quarter to a third of building the meta regex, which also
/// extracts prefilter literals and tries its other engines: rule loading compiled every regex twice before (once
/// to check it, once on first use).
fn checked_size(pattern: &str, options: Options) -> Result<usize, RegexError> {
    use regex_automata::nfa::thompson;
    thread_local! {
        // One compiler per thread: a new one allocates and zeroes its UTF-8 state tables for every pattern, a
        // reused one only clears them.
        static COMPILER: std::cell::RefCell<thompson::Compiler> = std::cell::RefCell::new({
            let mut compiler = thompson::Compiler::new();
            compiler.configure(thompson::Config::new().nfa_size_limit(Some(REGEX_LIMIT)));
            compiler
        });
    }
    COMPILER.with_borrow_mut(|compiler| match compiler.syntax(syntax_config(options)).build(pattern) {
        Ok(nfa) => Ok(2 * nfa.memory_usage()),
        Err(e) if e.size_limit().is_some() => Err(RegexError::TooBig),
        Err(e) => Err(RegexError::Invalid(e.to_string())),
    })
}

fn syntax_config(options: Options) -> syntax::Config {
    syntax::Config::new()
        .case_insensitive(options.case_insensitive)
        .multi_line(options.multi_line)
        .dot_matches_new_line(options.dot_matches_new_line)
}

fn build(pattern: &str, options: Options) -> Result<Regex, RegexError> {
    Regex::builder()
        .syntax(syntax_config(options))
        .configure(Config::new().nfa_size_limit(Some(REGEX_LIMIT)).hybrid_cache_capacity(DFA_CACHE))
        .build(pattern)
        .map_err(|e: BuildError| match e.size_limit() {
            Some(_) => RegexError::TooBig,
            None => RegexError::Invalid(e.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_ahead_is_measured_on_the_spot() {
        let cased = Options::default();
        let folded = Options { case_insensitive: true, ..Options::default() };
        let patterns = ["^a+b$", r"\w{40}", "(unclosed", r"\w{2000}{2000}"];
        let all: Vec<(String, Options)> = patterns
            .iter()
            .flat_map(|p| [(p.to_string(), cased), (p.to_string(), folded), (p.to_string(), cased)])
            .collect();
        let measured = Arc::new(Measured::new(all));
        for pattern in patterns {
            for options in [cased, folded] {
                let (mut ahead, mut on_the_spot) = (Budget::measured(measured.clone()), Budget::default());
                let a = LazyRegex::new(pattern.to_string(), options, &mut ahead).map(|_| ahead.set_left);
                let b = LazyRegex::new(pattern.to_string(), options, &mut on_the_spot).map(|_| on_the_spot.set_left);
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{pattern} {options:?}");
            }
        }
        // Case folding makes `\w` larger: the two flags are measured apart.
        assert!(measured.size(r"\w{40}", folded).is_some() && measured.size(r"\w{40}", cased).is_some());
        assert!(measured.size("never seen", cased).is_none());
    }
}
