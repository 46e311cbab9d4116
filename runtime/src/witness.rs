//! Witnesses: what every event a rule matches must show, as facts about single field values ("`Image` ends with
//! `\cmd.exe`", "`CommandLine` contains `-enc`", "`EventID` is 4688"), derived from the rule's IR. The prefilter
//! (`prefilter.rs`) checks them all in one pass over an event.

use vigil_compiler::ir::value::{Part, SigmaString};
use vigil_compiler::ir::{Expr, StrOp, Test};

/// A fact about one value (folded to lower case, as uncased tests see it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Fact {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Reads as this integer (a JSON number, or a string that parses as one).
    Number(i64),
}

impl Fact {
    /// A rough guess of how often the fact holds by chance: hash lookups beat scans, long literals beat short.
    pub(crate) fn weight(&self) -> u32 {
        match self {
            Fact::Exact(_) | Fact::Number(_) => 1,
            Fact::Prefix(s) | Fact::Suffix(s) => 2 + if s.len() < 3 { 4 } else { 0 },
            Fact::Contains(s) => 3 + if s.len() < 4 { 6 } else { 0 },
        }
    }
}

/// Facts about fields (`None`: keywords, any value of the event) of which at least one holds on every event an
/// expression matches.
pub(crate) type Witness = Vec<(Option<String>, Fact)>;

/// How many witnesses of a rule the prefilter checks: the rule is admitted when each holds (`Company` is
/// `Microsoft Corporation` on most events, but not together with `Image` ending in `\csi.exe`).
pub(crate) const WITNESSES_PER_RULE: usize = 2;

/// How many witnesses an expression keeps, the best ones, while they are combined.
const WITNESSES_KEPT: usize = 4;

/// The number of facts past which an OR's witnesses stop multiplying (see [`witnesses`]).
const LARGE_WITNESS: usize = 512;

/// Witnesses that all hold on every event matching `expr` (a conjunction of disjunctions of facts), best first:
/// those that admit the fewest events by [`Fact::weight`], and those only about `Channel` and `EventID` last (the
/// rule set's index has checked them). Empty when none is known.
pub(crate) fn witnesses(expr: &Expr) -> Vec<Witness> {
    let mut found = match expr {
        Expr::Const(true) | Expr::Not(_) => Vec::new(),
        // A witness without facts: never holds.
        Expr::Const(false) => vec![Vec::new()],
        Expr::Pred(p) => match (&p.field, &p.test) {
            (Some(_), Test::Regex { pattern, flags }) => regex_facts(pattern, *flags)
                .map(|facts| facts.into_iter().map(|f| (p.field.clone(), f)).collect())
                .into_iter()
                .collect(),
            _ => predicate_fact(&p.field, &p.test).map(|f| vec![(p.field.clone(), f)]).into_iter().collect(),
        },
        // Every operand's witnesses hold.
        Expr::And(items) => items.iter().flat_map(witnesses).collect(),
        // (a1 and a2) or (b1 and b2) implies (a1 or b1), (a1 or b2), (a2 or b1) and (a2 or b2). A branch without a
        // witness leaves the whole without one.
        Expr::Or(items) => {
            let mut product = vec![Vec::new()];
            for item in items {
                let mut branch = witnesses(item);
                if branch.is_empty() {
                    return Vec::new();
                }
                // Past a few hundred facts, each witness would be copied per alternative of every later branch
                // (quadratic in a large OR): the branch's best witness alone goes on.
                if product.iter().map(Vec::len).sum::<usize>() > LARGE_WITNESS {
                    branch.truncate(1);
                }
                // Built by moving: an OR of thousands of literals is one witness growing by one fact per branch.
                let mut combined = Vec::with_capacity(product.len() * branch.len());
                let Some((last, others)) = branch.split_last() else { return Vec::new() };
                for mut a in product {
                    for b in others {
                        combined.push(a.iter().chain(b).cloned().collect());
                    }
                    a.extend(last.iter().cloned());
                    combined.push(a);
                }
                product = combined;
                best_first(&mut product);
            }
            product
        }
    };
    best_first(&mut found);
    found
}

/// Sorts witnesses best first and keeps [`WITNESSES_KEPT`] of them (leaving one out only weakens the conjunction).
/// A fact about `Channel` or `EventID` counts as weak: the index has already kept the events of the rule's channels
/// and ids, on which such a fact holds (`Image` ending in `\x.exe` or `Channel` being `Security` admits every
/// Security event the index lets through, when a rule reads Sysmon and Security alike).
fn best_first(witnesses: &mut Vec<Witness>) {
    let weight = |(field, fact): &(Option<String>, Fact)| match field.as_deref() {
        Some("Channel" | "EventID") => 100,
        _ => fact.weight(),
    };
    witnesses.sort_by_cached_key(|w| (indexed_only(w), w.iter().map(weight).sum::<u32>()));
    witnesses.truncate(WITNESSES_KEPT);
}

/// A witness only about `Channel` and `EventID` repeats what the rule set's index checks.
pub(crate) fn indexed_only(w: &Witness) -> bool {
    !w.is_empty() && w.iter().all(|(field, _)| matches!(field.as_deref(), Some("Channel" | "EventID")))
}

fn predicate_fact(field: &Option<String>, test: &Test) -> Option<Fact> {
    match test {
        Test::Str { op, value, cased } => {
            // Lower-casing a cased literal gives the same bytes as in the folded text, except around a few
            // context-dependent Unicode mappings (final sigma): cased tests give a fact only for ASCII literals.
            if *cased && value.parts.iter().any(|p| matches!(p, Part::Lit(s) if !s.is_ascii())) {
                return None;
            }
            let fold = |s: &str| s.to_lowercase();
            let fact = match (op, value.as_plain()) {
                (StrOp::Exact, Some(s)) => Fact::Exact(fold(s)),
                (StrOp::Prefix, Some(s)) => Fact::Prefix(fold(s)),
                (StrOp::Suffix, Some(s)) => Fact::Suffix(fold(s)),
                (StrOp::Contains, Some(s)) => Fact::Contains(fold(s)),
                _ => Fact::Contains(fold(longest_literal(value)?)),
            };
            // An empty prefix, suffix or substring holds for every text: no witness.
            match &fact {
                Fact::Prefix(s) | Fact::Suffix(s) | Fact::Contains(s) if s.is_empty() => None,
                _ => Some(fact),
            }
        }
        Test::Num(n) => {
            let f = n.as_f64();
            if f.fract() != 0.0 || f.abs() > 1e15 {
                return None;
            }
            // A keyword number is matched as text by the matcher (DESIGN.md, "Keywords").
            Some(if field.is_none() { Fact::Exact(n.to_string().to_lowercase()) } else { Fact::Number(f as i64) })
        }
        _ => None,
    }
}

/// Substrings one of which every match of a field regex contains: the literals its matches, or the matches of a
/// tail of its top-level concatenation, start with (`regex-syntax`'s extractor, which spells out the case variants
/// of a case-insensitive regex, `ſ` and the Kelvin sign included), folded. `None` when that set is infinite or unknown, holds an empty literal (a match
/// could start anywhere), or holds a capital sigma (the one letter whose lower case depends on its context, so that
/// a text's folding around it could differ from the literal's).
fn regex_facts(pattern: &str, flags: vigil_compiler::ir::value::RegexFlags) -> Option<Vec<Fact>> {
    use regex_syntax::hir::{Hir, HirKind};
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .build()
        .parse(pattern)
        .ok()?;
    // Every match of a concatenation holds a match of each of its tails: the literals a tail's matches start with
    // witness the regex as well, and an inner literal (`werfaultsecure` in `\.exe\s+[^"]{0,64}werfaultsecure`) is
    // often far rarer than the first one. The best set wins: longest shortest literal, then fewest literals.
    let mut node = &hir;
    while let HirKind::Capture(capture) = node.kind() {
        node = &capture.sub;
    }
    let mut best = literal_facts(&hir);
    if let HirKind::Concat(items) = node.kind() {
        for start in 1..items.len().min(MAX_TAILS) {
            let tail = literal_facts(&Hir::concat(items[start..].to_vec()));
            if score(&tail).0 >= MIN_TAIL_LITERAL && score(&tail) > score(&best) {
                best = tail;
            }
        }
    }
    best
}

/// The shortest literal a tail must give to be used: a character or two is in nearly every text, and scanning for it
/// costs more than evaluating the regex.
const MIN_TAIL_LITERAL: usize = 3;

/// How many tails of a regex's concatenation [`regex_facts`] tries.
const MAX_TAILS: usize = 32;

/// How good a witness a set of substrings is: its shortest literal's length, then the fewer the better.
fn score(facts: &Option<Vec<Fact>>) -> (usize, std::cmp::Reverse<usize>) {
    let Some(facts) = facts else { return (0, std::cmp::Reverse(0)) };
    let shortest = facts.iter().map(|f| match f {
        Fact::Contains(s) => s.chars().count(),
        _ => 0,
    });
    (shortest.min().unwrap_or(0), std::cmp::Reverse(facts.len()))
}

/// The literals the matches of `hir` start with, folded, as substring facts.
fn literal_facts(hir: &regex_syntax::hir::Hir) -> Option<Vec<Fact>> {
    use regex_syntax::hir::literal::Extractor;
    let prefixes = Extractor::new().extract(hir);
    let literals = prefixes.literals()?;
    let mut facts: Vec<Fact> = Vec::new();
    for literal in literals {
        let text = std::str::from_utf8(literal.as_bytes()).ok()?;
        if text.is_empty() || text.contains('Σ') {
            return None;
        }
        let fact = Fact::Contains(text.to_lowercase());
        if !facts.contains(&fact) {
            facts.push(fact);
        }
    }
    // A regex that can match nothing gives no literals: leave it to its program.
    (!facts.is_empty()).then_some(facts)
}

fn longest_literal(value: &SigmaString) -> Option<&str> {
    value
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Lit(s) => Some(s.as_str()),
            _ => None,
        })
        .max_by_key(|s| s.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The IR of a rule with this detection.
    pub(crate) fn rule(text: &str) -> Expr {
        use vigil_compiler::compile::{compile_source, Settings};
        let yaml = format!("title: t\nlogsource: {{product: windows}}\n{text}");
        let file = compile_source("test".into(), yaml.clone(), &Settings::default());
        file.documents[0].rule().unwrap_or_else(|| panic!("not a rule: {yaml}")).rule.expr.clone()
    }

    /// The best witness of `expr`, if any.
    fn witness(expr: &Expr) -> Option<Witness> {
        witnesses(expr).into_iter().next()
    }

    #[test]
    fn and_keeps_every_operand_and_or_combines_the_branches() {
        let image = || (Some("Image".to_string()), Fact::Suffix("\\cmd.exe".into()));
        let command_line = || (Some("CommandLine".to_string()), Fact::Contains("xyz1".into()));
        let event_id = || (Some("EventID".to_string()), Fact::Number(7));
        let expr = rule("detection:\n  a:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: xyz1\n  b:\n    EventID: 7\n  condition: a or b\n");
        // (Image and CommandLine) or EventID: (Image or EventID) and (CommandLine or EventID), the cheaper first.
        assert_eq!(witnesses(&expr), vec![vec![image(), event_id()], vec![command_line(), event_id()]]);
        let expr =
            rule("detection:\n  a:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: xyz1\n  condition: a\n");
        assert_eq!(witnesses(&expr), vec![vec![image()], vec![command_line()]]);
        // A branch without a witness leaves the OR without one.
        let expr =
            rule("detection:\n  a:\n    Image|endswith: '\\cmd.exe'\n  b:\n    User: x\n  condition: a or not b\n");
        assert_eq!(witnesses(&expr), Vec::<Witness>::new());
    }

    /// A rule is admitted only when both of its witnesses hold.
    #[test]
    fn regexes_give_the_literals_their_matches_start_with() {
        let w = witness(&rule("detection:\n  a:\n    Image|re: '(?i)\\\\(Power|Pwsh)Shell'\n  condition: a\n"));
        let mut facts: Vec<String> = w
            .expect("a witness")
            .into_iter()
            .map(|(_, f)| match f {
                Fact::Contains(s) => s,
                other => panic!("{other:?}"),
            })
            .collect();
        facts.sort();
        facts.dedup();
        // `s` also matches the long s, `ſ`, case-insensitively.
        assert_eq!(facts, vec!["\\powers", "\\powerſ", "\\pwshs", "\\pwshſ", "\\pwſhs", "\\pwſhſ"]);
        // No literal every match starts with: no witness.
        assert_eq!(witness(&rule("detection:\n  a:\n    Image|re: '.*x'\n  condition: a\n")), None);
        assert_eq!(witness(&rule("detection:\n  a:\n    Image|re: '[a-z]+\\d'\n  condition: a\n")), None);
    }

    #[test]
    fn negations_give_no_witness() {
        assert_eq!(witness(&rule("detection:\n  a:\n    Image: x\n  condition: not a\n")), None);
        assert_eq!(witness(&rule("detection:\n  a:\n    Image|contains: ''\n  condition: a\n")), None);
    }

    /// The fast paths (lower-cased copies of ASCII text, keywords read from the JSON, numbers measured without
    /// being written) admit what folding the whole text admits.
    #[test]
    fn globs_give_their_longest_literal_folded() {
        let w = witness(&rule("detection:\n  a:\n    Image: 'x?\\PowerShell*.EXE'\n  condition: a\n"));
        assert_eq!(w, Some(vec![(Some("Image".into()), Fact::Contains("\\powershell".into()))]));
    }

    #[test]
    fn regexes_give_an_inner_literal_when_it_is_rarer_than_their_start() {
        let w = witness(&rule(
            "detection:\n  a:\n    CommandLine|re: '(?i)\\.exe\\s+\\S{0,64}werfaultsecure\\.exe'\n  condition: a\n",
        ))
        .expect("a witness");
        assert!(
            w.iter().all(
                |(_, f)| matches!(f, Fact::Contains(s) if s.len() > 4 && "werfaultsecure.exe".contains(s.as_str()))
            ),
            "the inner literal, not `.exe`: {w:?}"
        );
        // The start is kept when no tail does better.
        let w = witness(&rule("detection:\n  a:\n    CommandLine|re: 'powershell.*-enc'\n  condition: a\n"));
        assert_eq!(w, Some(vec![(Some("CommandLine".into()), Fact::Contains("powershell".into()))]));
    }
}
