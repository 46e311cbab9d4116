//! Which of a set of literals occur in a text: the one search used by rule programs (does any occur?) and by the
//! prefilter (which ones occur?).
//!
//! A handful of literals are each found with `memmem` (SIMD; cheap to build, and much faster than an automaton
//! whose rare-byte prefilter fires everywhere in path-heavy text such as `CallTrace`). More share one
//! Aho-Corasick automaton: a contiguous NFA builds in a fraction of a DFA's time and memory (thousands of rules
//! each have a few literals), a DFA scans faster (the prefilter's few hundred literals per field over long
//! PowerShell text). Measured with `bench/matcher.sh` and `bench/peers.sh`.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem::Finder;

/// At most this many literals are searched one by one.
const FEW_LITERALS: usize = 4;
/// At most this many literals get a DFA when scanning speed is asked for: its tables grow with the literals'
/// total length (673 PowerShell literals: tens of MB, most of rule loading spent filling them).
const DFA_LITERALS: usize = 300;

/// How the automaton for more literals is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// Quick to build: a contiguous NFA.
    Small,
    /// Quick to scan: a DFA, for up to `DFA_LITERALS` literals.
    Fast,
}

#[derive(Debug)]
pub enum Substrings {
    Few(Vec<Finder<'static>>),
    Automaton(AhoCorasick),
}

/// [`Substrings`] built on first use: most rules of a large set are never evaluated on a given input (the index
/// and the prefilter rule them out) and many fields never occur in it, so their searches need never be built (a
/// fifth of loading the SigmaHQ Windows rules went to automata).
#[derive(Debug)]
pub struct Lazy {
    literals: Vec<String>,
    build: Build,
    built: std::sync::OnceLock<Substrings>,
}

impl Lazy {
    pub fn new(literals: Vec<String>, build: Build) -> Lazy {
        Lazy { literals, build, built: std::sync::OnceLock::new() }
    }

    pub fn get(&self) -> &Substrings {
        self.built.get_or_init(|| {
            // An automaton too large to build (none is, for a rule's literals) is replaced by one search per
            // literal: slower, the same answers.
            Substrings::new(&self.literals, self.build).unwrap_or_else(|_| Substrings::one_by_one(&self.literals))
        })
    }
}

impl Substrings {
    fn one_by_one(literals: &[String]) -> Substrings {
        Substrings::Few(literals.iter().map(|l| Finder::new(l.as_bytes()).into_owned()).collect())
    }

    pub fn new(literals: &[String], build: Build) -> Result<Substrings, aho_corasick::BuildError> {
        if literals.len() <= FEW_LITERALS {
            return Ok(Substrings::one_by_one(literals));
        }
        let kind = match build {
            Build::Fast if literals.len() <= DFA_LITERALS => AhoCorasickKind::DFA,
            _ => AhoCorasickKind::ContiguousNFA,
        };
        AhoCorasick::builder()
            .kind(Some(kind))
            .build(literals)
            .or_else(|_| AhoCorasick::new(literals))
            .map(Substrings::Automaton)
    }

    /// Whether any literal occurs in `text`.
    pub fn is_match(&self, text: impl AsRef<[u8]>) -> bool {
        let text = text.as_ref();
        match self {
            Substrings::Few(finders) => finders.iter().any(|f| f.find(text).is_some()),
            Substrings::Automaton(ac) => ac.is_match(text),
        }
    }

    /// Calls `found` with the index of every literal that occurs in `text` (possibly more than once).
    pub fn each_found(&self, text: &str, mut found: impl FnMut(usize)) {
        match self {
            Substrings::Few(finders) => {
                for (i, finder) in finders.iter().enumerate() {
                    if finder.find(text.as_bytes()).is_some() {
                        found(i);
                    }
                }
            }
            Substrings::Automaton(ac) => ac.find_overlapping_iter(text).for_each(|m| found(m.pattern().as_usize())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_and_many_literals_find_the_same() {
        let few: Vec<String> = ["abc", "bcd", "x"].iter().map(|s| s.to_string()).collect();
        let many: Vec<String> = ["abc", "bcd", "x", "q1", "q2", "q3"].iter().map(|s| s.to_string()).collect();
        for build in [Build::Small, Build::Fast] {
            for literals in [&few, &many] {
                let s = Substrings::new(literals, build).expect("built");
                let mut found = Vec::new();
                s.each_found("zabcdz", |i| found.push(i));
                found.sort();
                found.dedup();
                assert_eq!(found, vec![0, 1], "overlapping literals are both found");
                assert!(s.is_match("..x.."));
                assert!(!s.is_match("ab cd"));
            }
        }
        // An empty literal occurs in every text.
        assert!(Substrings::new(&[String::new()], Build::Small).expect("built").is_match(""));
    }
}
