//! Literal witnesses: a cheap pass over an event that rules out most rules before any of them is evaluated.
//!
//! For each rule we derive, from its IR, a set of facts about single field values ("`Image` ends with
//! `\cmd.exe`", "`CommandLine` contains `-enc`", "`EventID` is 4688") such that every event the rule matches
//! satisfies at least one of them. The facts of all rules are merged per field into hash sets and one
//! Aho-Corasick automaton, so one pass over the event's fields tells which rules are still possible. A rule
//! without such a set (a negation or a regex at the top, say) is always a candidate. The facts only ever admit a
//! superset of the matching rules: the rules' own programs still decide.

use crate::bits::RuleBits;
use crate::event::{Event, FieldId, FieldTable, Value};
use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use vigil_compiler::ir::{Expr, StrOp, Test};
use vigil_compiler::rule::value::{Part, SigmaString};

/// A fact about one value (folded to lower case, as uncased tests see it).
#[derive(Debug, Clone, PartialEq)]
enum Fact {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Reads as this integer (a JSON number, or a string that parses as one).
    Number(i64),
}

impl Fact {
    /// A rough guess of how often the fact holds by chance: hash lookups beat scans, long literals beat short.
    fn weight(&self) -> u32 {
        match self {
            Fact::Exact(_) | Fact::Number(_) => 1,
            Fact::Prefix(s) | Fact::Suffix(s) => 2 + if s.len() < 3 { 4 } else { 0 },
            Fact::Contains(s) => 3 + if s.len() < 4 { 6 } else { 0 },
        }
    }
}

/// The field a fact is about; `None` for keywords (any value of the event).
type Witness = Vec<(Option<String>, Fact)>;

/// Facts of which at least one holds on every event matching `expr`; `None` when no such set is known.
fn witness(expr: &Expr) -> Option<Witness> {
    match expr {
        Expr::Const(true) | Expr::Not(_) => None,
        Expr::Const(false) => Some(Vec::new()),
        Expr::Pred(p) => predicate_fact(&p.field, &p.test).map(|f| vec![(p.field.clone(), f)]),
        // Any operand's witness will do: take the one that admits the fewest events. `Channel` and `EventID` come
        // last: the rule set's index has already checked them.
        Expr::And(items) => items.iter().filter_map(witness).min_by_key(|w| {
            let indexed = w.iter().all(|(field, _)| matches!(field.as_deref(), Some("Channel" | "EventID")));
            (indexed, w.iter().map(|(_, f)| f.weight()).sum::<u32>())
        }),
        Expr::Or(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(witness(item)?);
            }
            Some(all)
        }
    }
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

/// Literals of one kind grouped by length: testing a text costs one hash lookup per distinct length.
#[derive(Debug, Default)]
struct ByLength(Vec<(usize, FxHashMap<String, Vec<u32>>)>);

impl ByLength {
    fn insert(&mut self, literal: String, rule: u32) {
        let len = literal.len();
        let slot = match self.0.iter().position(|(l, _)| *l == len) {
            Some(i) => i,
            None => {
                self.0.push((len, FxHashMap::default()));
                self.0.len() - 1
            }
        };
        self.0[slot].1.entry(literal).or_default().push(rule);
    }
}

/// Every fact about one field (or about keywords), merged across rules.
#[derive(Debug)]
struct FieldFacts {
    field: Option<FieldId>,
    exact: FxHashMap<String, Vec<u32>>,
    numbers: FxHashMap<i64, Vec<u32>>,
    prefixes: ByLength,
    suffixes: ByLength,
    /// One automaton over every substring of this field, and the rules each of its patterns admits.
    contains: Option<(AhoCorasick, Vec<Vec<u32>>)>,
}

/// The prefilter of a rule set.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Rules without a witness: always candidates.
    unguarded: RuleBits,
    fields: Vec<FieldFacts>,
}

impl Prefilter {
    /// Builds the prefilter of `rules` (their IR, in rule-number order); fields must already be interned.
    pub fn build<'a>(rules: impl Iterator<Item = &'a Expr>, fields: &FieldTable) -> Prefilter {
        #[derive(Default)]
        struct Pending {
            exact: FxHashMap<String, Vec<u32>>,
            numbers: FxHashMap<i64, Vec<u32>>,
            prefixes: ByLength,
            suffixes: ByLength,
            contains: FxHashMap<String, Vec<u32>>,
        }
        let mut unguarded = Vec::new();
        let mut count = 0;
        let mut pending: FxHashMap<Option<FieldId>, Pending> = FxHashMap::default();
        for (number, expr) in rules.enumerate() {
            let number = number as u32;
            count += 1;
            let witness = witness(expr).and_then(|w| {
                // Every field of a rule is interned when it compiles; a miss means the rule was not compiled.
                w.into_iter()
                    .map(|(field, fact)| match field {
                        Some(name) => fields.get(&name).map(|id| (Some(id), fact)),
                        None => Some((None, fact)),
                    })
                    .collect::<Option<Vec<_>>>()
            });
            let Some(witness) = witness else {
                unguarded.push(number);
                continue;
            };
            for (field, fact) in witness {
                let p = pending.entry(field).or_default();
                match fact {
                    Fact::Exact(s) => p.exact.entry(s).or_default().push(number),
                    Fact::Number(n) => p.numbers.entry(n).or_default().push(number),
                    Fact::Prefix(s) => p.prefixes.insert(s, number),
                    Fact::Suffix(s) => p.suffixes.insert(s, number),
                    Fact::Contains(s) => p.contains.entry(s).or_default().push(number),
                }
            }
        }
        let mut facts = Vec::with_capacity(pending.len());
        for (field, p) in pending {
            let mut contains = None;
            if !p.contains.is_empty() {
                let (literals, rules): (Vec<String>, Vec<Vec<u32>>) = p.contains.into_iter().unzip();
                // A contiguous NFA: a DFA over thousands of literals scans a little faster but takes most of a
                // second to build (`bench/peers.sh`).
                let built = AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build(&literals)
                    .or_else(|_| AhoCorasick::new(&literals));
                match built {
                    Ok(ac) => contains = Some((ac, rules)),
                    // An automaton too large to build (far beyond any rule set seen) leaves its rules unguarded.
                    Err(_) => unguarded.extend(rules.into_iter().flatten()),
                }
            }
            facts.push(FieldFacts {
                field,
                exact: p.exact,
                numbers: p.numbers,
                prefixes: p.prefixes,
                suffixes: p.suffixes,
                contains,
            });
        }
        facts.sort_by_key(|f| f.field);
        let mut bits = RuleBits::new(count);
        bits.insert_all(&unguarded);
        Prefilter { unguarded: bits, fields: facts }
    }

    /// The rules that may match `event`: the unguarded ones and those whose witness holds.
    pub fn admitted(&self, event: &Event<'_>) -> RuleBits {
        let mut admitted = self.unguarded.clone();
        for facts in &self.fields {
            match facts.field {
                Some(field) => {
                    if let Some(value) = event.get(field) {
                        facts.visit(value, &mut admitted);
                    }
                }
                None => event.all_values.iter().for_each(|v| facts.visit(v, &mut admitted)),
            }
        }
        admitted
    }
}

impl FieldFacts {
    fn visit(&self, value: &Value<'_>, admitted: &mut RuleBits) {
        if let Value::List(items) = value {
            return items.iter().for_each(|v| self.visit(v, admitted));
        }
        if !self.numbers.is_empty() {
            let number = match value {
                Value::Num(n, _, _) => Some(*n),
                Value::Str(s, _) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            if let Some(rules) = number.filter(|n| n.fract() == 0.0).and_then(|n| self.numbers.get(&(n as i64))) {
                admitted.insert_all(rules);
            }
        }
        let Some(text) = value.folded() else { return };
        if let Some(rules) = self.exact.get(text) {
            admitted.insert_all(rules);
        }
        for (len, set) in &self.prefixes.0 {
            if let Some(rules) = text.get(..*len).and_then(|p| set.get(p)) {
                admitted.insert_all(rules);
            }
        }
        for (len, set) in &self.suffixes.0 {
            let suffix = text.len().checked_sub(*len).and_then(|start| text.get(start..));
            if let Some(rules) = suffix.and_then(|s| set.get(s)) {
                admitted.insert_all(rules);
            }
        }
        if let Some((ac, rules)) = &self.contains {
            for found in ac.find_overlapping_iter(text) {
                admitted.insert_all(&rules[found.pattern().as_usize()]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Expr {
        let yaml = format!("title: t\nlogsource: {{product: windows}}\n{text}");
        let Some(vigil_compiler::Content::Rule(rule)) = vigil_compiler::load_str(&yaml).remove(0).content else {
            panic!("not a rule: {yaml}")
        };
        vigil_compiler::lower(rule).expr
    }

    #[test]
    fn and_takes_the_cheapest_operand_and_or_takes_all() {
        let expr = rule("detection:\n  a:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: x\n  b:\n    EventID: 7\n  condition: a or b\n");
        let w = witness(&expr).expect("a witness");
        assert_eq!(
            w,
            vec![(Some("Image".into()), Fact::Suffix("\\cmd.exe".into())), (Some("EventID".into()), Fact::Number(7))]
        );
    }

    #[test]
    fn negations_and_regexes_give_no_witness() {
        assert_eq!(witness(&rule("detection:\n  a:\n    Image: x\n  condition: not a\n")), None);
        assert_eq!(witness(&rule("detection:\n  a:\n    Image|re: x\n  condition: a\n")), None);
        assert_eq!(witness(&rule("detection:\n  a:\n    Image|contains: ''\n  condition: a\n")), None);
    }

    #[test]
    fn globs_give_their_longest_literal_folded() {
        let w = witness(&rule("detection:\n  a:\n    Image: 'x?\\PowerShell*.EXE'\n  condition: a\n"));
        assert_eq!(w, Some(vec![(Some("Image".into()), Fact::Contains("\\powershell".into()))]));
    }
}
