//! Which of a set of literals occur in a text: the one search used by rule programs (does any occur?) and by the
//! prefilter (which ones occur?).
//!
//! A handful of literals are each found with `memmem` (SIMD; cheap to build, and much faster than an automaton
//! whose rare-byte prefilter fires everywhere in path-heavy text such as `CallTrace`). More share one
//! Aho-Corasick automaton: a contiguous NFA builds in a fraction of a DFA's time and memory (thousands of rules
//! each have a few literals), a DFA scans faster (the prefilter's few hundred literals per field over long
//! PowerShell text). Measured with `bench/matcher.sh` and `bench/peers.sh`. Which of up to a few hundred literals
//! occur is found faster still by groups of literals each searched with Teddy (`groups.rs`).

mod groups;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use groups::{Groups, Searched};
use memchr::memmem::Finder;
use std::sync::OnceLock;

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
    /// Quick to scan when every literal that occurs is asked for: Teddy groups, else a DFA for up to
    /// `DFA_LITERALS` literals.
    Fast,
}

#[derive(Debug)]
pub enum Substrings {
    Few(Vec<Finder<'static>>),
    Automaton(AhoCorasick),
    /// Teddy groups, and the automaton for a text where they give up (built then).
    Grouped(Groups, OnceLock<Box<Substrings>>),
}

/// [`Substrings`] built on first use: most rules of a large set are never evaluated on a given input (the index
/// and the prefilter rule them out) and many fields never occur in it, so their searches need never be built (a
/// fifth of loading the SigmaHQ Windows rules went to automata).
#[derive(Debug)]
pub struct Lazy {
    literals: Vec<String>,
    build: Build,
    built: OnceLock<Substrings>,
}

impl Lazy {
    pub fn new(literals: Vec<String>, build: Build) -> Lazy {
        Lazy { literals, build, built: OnceLock::new() }
    }

    pub fn get(&self) -> &Substrings {
        self.built.get_or_init(|| Substrings::built(&self.literals, self.build))
    }
}

impl Substrings {
    fn one_by_one(literals: &[String]) -> Substrings {
        Substrings::Few(literals.iter().map(|l| Finder::new(l.as_bytes()).into_owned()).collect())
    }

    /// [`Substrings::new`], or, for an automaton too large to build (none is, for a rule's literals), one search
    /// per literal: slower, the same answers.
    fn built(literals: &[String], build: Build) -> Substrings {
        Substrings::new(literals, build).unwrap_or_else(|_| Substrings::one_by_one(literals))
    }

    pub fn new(literals: &[String], build: Build) -> Result<Substrings, aho_corasick::BuildError> {
        if literals.len() <= FEW_LITERALS {
            return Ok(Substrings::one_by_one(literals));
        }
        if build == Build::Fast {
            if let Some(groups) = Groups::new(literals) {
                return Ok(Substrings::Grouped(groups, OnceLock::new()));
            }
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
            Substrings::Grouped(groups, _) => groups.is_match(text),
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
            Substrings::Grouped(groups, automaton) => {
                if groups.each_found(text.as_bytes(), &mut found) == Searched::GaveUp {
                    // The literals reported so far are reported again: harmless, and rare.
                    let automaton =
                        automaton.get_or_init(|| Box::new(Substrings::built(groups.literals(), Build::Small)));
                    automaton.each_found(text, found);
                }
            }
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
        // Where the Teddy groups give up (a literal starts at every byte), the automaton answers.
        let long: Vec<String> = (1..=40).map(|n| "a".repeat(n * 50) + "c").chain(["b".to_string()]).collect();
        let grouped = Substrings::new(&long, Build::Fast).expect("built");
        assert!(matches!(grouped, Substrings::Grouped(..)));
        let text = format!("b{}c", "a".repeat(1_000));
        let mut found = Vec::new();
        grouped.each_found(&text, |i| found.push(i));
        found.sort();
        found.dedup();
        assert_eq!(found, (0..20).chain([40]).collect::<Vec<_>>());
        // An empty literal occurs in every text.
        assert!(Substrings::new(&[String::new()], Build::Small).expect("built").is_match(""));
    }
}
