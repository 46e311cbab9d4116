//! Every literal of a few hundred that occurs in a text, found by groups of literals each searched with Teddy.
//!
//! An overlapping Aho-Corasick search (the only automaton search that reports every literal) walks its DFA byte by
//! byte: no prefilter skips ahead for a few hundred literals, about 0.5 GB/s. Teddy (`aho_corasick::packed`, SIMD)
//! skips ahead at several GB/s but holds few literals and reports the leftmost match only. So the literals are
//! split into groups that Teddy holds; each group's search finds the next position where one of its literals
//! starts, every literal of the group that starts there is checked, and the search goes on one byte further.
//! Every occurrence of every literal is found (each start, at its turn, is the leftmost one left), so the answers
//! are those of the overlapping search. Measured on the PowerShell `ContextInfo` texts of the Mordor sets (13 MB,
//! `bench/NOTES.md`): 249 literals 25 -> 15 ms, 46 literals 27 -> 3 ms.
//!
//! A text where literals start nearly everywhere (`aaaa…` for `a`, `aa`, …) would make the checks quadratic: past
//! a budget of work proportional to the text's length the search gives up, and the caller answers with the
//! automaton instead.

use aho_corasick::packed::{Config, MatchKind, Searcher};
use aho_corasick::Span;

/// Literals in one group: Teddy's false candidates grow with its literals, the passes over the text with the
/// groups; 32 was fastest on PowerShell text among 8 to 48.
const GROUP: usize = 32;
/// One-byte literals in one group: Teddy holds no more of them (its fingerprint is then one byte).
const SHORT_GROUP: usize = 16;
/// At most this many groups (passes over a text): past that an automaton's one pass is as fast.
const MAX_GROUPS: usize = 24;
/// The work allowed per byte of text (a candidate costs [`CANDIDATE`] plus the length of each literal checked)
/// before the search gives up.
const WORK_PER_BYTE: usize = 8;
/// The work allowed for any text, however short.
const WORK_FLOOR: usize = 4096;
/// The cost of a candidate start, besides its checks.
const CANDIDATE: usize = 16;

#[derive(Debug)]
pub struct Groups {
    literals: Vec<String>,
    groups: Vec<Group>,
}

#[derive(Debug)]
struct Group {
    searcher: Searcher,
    /// The group's literal numbers, ordered by their literals: those that start with one byte are adjacent.
    members: Vec<u32>,
}

/// Whether a grouped search saw the whole text.
#[derive(Debug, PartialEq, Eq)]
pub enum Searched {
    Whole,
    /// It gave up part way (too many candidates): some literals that occur may not have been reported.
    GaveUp,
}

impl Groups {
    /// The groups for `literals`, or `None` when Teddy cannot hold them (an empty literal; a machine without the
    /// SIMD instructions it needs) or they need more than [`MAX_GROUPS`] groups.
    pub fn new(literals: &[String]) -> Option<Groups> {
        // Ordered literals put those sharing first bytes in one group: fewer distinct fingerprints for Teddy.
        // One-byte literals make a group of their own: Teddy holds fewer of them.
        let mut order: Vec<u32> = (0..literals.len() as u32).collect();
        order.sort_by_key(|n| (literals[*n as usize].len() > 1, &literals[*n as usize]));
        let one_byte = order.partition_point(|n| literals[*n as usize].len() <= 1);
        let (short, long) = order.split_at(one_byte);
        let chunks: Vec<&[u32]> = short.chunks(SHORT_GROUP).chain(long.chunks(GROUP)).collect();
        if chunks.len() > MAX_GROUPS {
            return None;
        }
        let groups = chunks
            .into_iter()
            .map(|members| {
                let mut builder = Config::new().match_kind(MatchKind::LeftmostFirst).builder();
                builder.extend(members.iter().map(|m| literals[*m as usize].as_bytes()));
                Some(Group { searcher: builder.build()?, members: members.to_vec() })
            })
            .collect::<Option<Vec<Group>>>()?;
        Some(Groups { literals: literals.to_vec(), groups })
    }

    /// The literals, by their numbers.
    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    /// Whether any literal occurs in `text`.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.groups.iter().any(|group| group.searcher.find(text).is_some())
    }

    /// Calls `found` with the number of every literal that occurs in `text` (possibly more than once), unless the
    /// search gives up.
    pub fn each_found(&self, text: &[u8], found: &mut impl FnMut(usize)) -> Searched {
        let mut budget = WORK_PER_BYTE.saturating_mul(text.len()).saturating_add(WORK_FLOOR);
        for group in &self.groups {
            let mut at = 0;
            while at < text.len() {
                let Some(hit) = group.searcher.find_in(text, Span::from(at..text.len())) else { break };
                let start = hit.start();
                let rest = &text[start..];
                let first = |m: &u32| self.literals[*m as usize].as_bytes()[0];
                let from = group.members.partition_point(|m| first(m) < rest[0]);
                let to = group.members.partition_point(|m| first(m) <= rest[0]);
                let mut work = CANDIDATE;
                for member in &group.members[from..to] {
                    let literal = self.literals[*member as usize].as_bytes();
                    work += literal.len();
                    if rest.starts_with(literal) {
                        found(*member as usize);
                    }
                }
                budget = match budget.checked_sub(work) {
                    Some(left) => left,
                    None => return Searched::GaveUp,
                };
                at = start + 1;
            }
        }
        Searched::Whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of the literals that occur in `text`, by looking for each.
    fn occurring(literals: &[String], text: &str) -> Vec<usize> {
        (0..literals.len()).filter(|i| text.contains(literals[*i].as_str())).collect()
    }

    fn found(groups: &Groups, text: &str) -> (Vec<usize>, Searched) {
        let mut found = Vec::new();
        let searched = groups.each_found(text.as_bytes(), &mut |i| found.push(i));
        found.sort_unstable();
        found.dedup();
        (found, searched)
    }

    /// Literals that overlap, nest, share starts and span groups: each is found wherever it occurs, as looking for
    /// each one finds it. (A search that went on past the end of its match, as a non-overlapping one does, misses
    /// `bcd` in `abcd`; one that checked only the literal Teddy reports at a start misses `ab` beside `abc`.)
    #[test]
    fn every_occurring_literal_is_found() {
        let mut literals: Vec<String> = ["abc", "ab", "bcd", "b", "cd", "xyz", "abcdef", "zz", "-nop", " -w "]
            .iter()
            .map(|s| s.to_string())
            .collect();
        literals.extend((0..150).map(|n| format!("invoke-{n}.ps1")));
        let groups = Groups::new(&literals).expect("Teddy holds these literals");
        assert!(groups.groups.len() > 1, "the literals span groups");
        let texts = [
            "abcdef",
            "xabcd",
            "zzz",
            "powershell -nop -w hidden invoke-7.ps1 invoke-149.ps1",
            "invoke-1.ps",
            "",
            "b",
            "a long text with none of them at all, longer than a SIMD register or two",
        ];
        for text in texts {
            assert_eq!(found(&groups, text), (occurring(&literals, text), Searched::Whole), "{text:?}");
        }
        assert!(groups.is_match(b"..cd.."));
        assert!(!groups.is_match(b"none here"));
    }

    /// Literals starting at every byte of a long text: the search gives up within its budget instead of checking
    /// every literal at every byte.
    #[test]
    fn candidates_everywhere_give_up() {
        let literals: Vec<String> = (1..=40).map(|n| "a".repeat(n * 50)).collect();
        let groups = Groups::new(&literals).expect("Teddy holds these literals");
        let text = "a".repeat(100_000);
        assert_eq!(found(&groups, &text).1, Searched::GaveUp);
    }

    #[test]
    fn literals_teddy_cannot_hold_are_refused() {
        assert!(Groups::new(&["abc".to_string(), String::new()]).is_none(), "an empty literal");
        let too_many: Vec<String> = (0..GROUP * MAX_GROUPS + 1).map(|n| format!("literal {n}")).collect();
        assert!(Groups::new(&too_many).is_none());
    }
}
