//! Literal witnesses: a cheap pass over an event that rules out most rules before any of them is evaluated.
//!
//! For each rule we derive, from its IR, up to two *witnesses* (`witness.rs`): sets of facts about single field
//! values ("`Image` ends with `\cmd.exe`", "`CommandLine` contains `-enc`", "`EventID` is 4688") such that every
//! event the rule matches satisfies at least one fact of each. The facts of all rules are merged per field into hash sets, tries
//! and one substring automaton, so one pass over the event's fields tells which witnesses hold, and a rule stays a
//! candidate when all of its witnesses do. A rule without a witness (a negation or a regex at the top, say) is
//! always a candidate. The facts only ever admit a superset of the matching rules: the rules' own programs still
//! decide.

use crate::bits::RuleBits;
use crate::event::Event;
use crate::fields::{FieldId, FieldTable, Value};
use crate::hex_keys::HexKeys;
use crate::substrings::{Build, Lazy};
use crate::text_screen::{screened, ScreenedText, TextScreen};
use crate::trie::Trie;
use crate::witness::{indexed_only, witnesses, Fact, Witness, WITNESSES_PER_RULE};
use rustc_hash::FxHashMap;
use vigil_compiler::ir::Expr;

/// Prefix (or, reversed, suffix) literals and the rules each admits.
#[derive(Debug, Default)]
struct Affixes {
    trie: Trie,
    rules: FxHashMap<u32, Vec<u32>>,
}

impl Affixes {
    fn insert(&mut self, literal: impl Iterator<Item = u8>, rule: u32) {
        let end = self.trie.insert(literal);
        self.rules.entry(end).or_default().push(rule);
    }

    fn is_empty(&self) -> bool {
        self.trie.is_empty()
    }

    /// Admits the rules of every literal the bytes start with.
    fn walk(&self, bytes: impl Iterator<Item = u8>, admitted: &mut RuleBits) {
        self.trie.walk(bytes, |end| {
            if let Some(rules) = self.rules.get(&end) {
                admitted.insert_all(rules);
            }
            false
        });
    }
}

/// Every fact about one field (or about keywords), merged across rules.
#[derive(Debug)]
struct FieldFacts {
    field: Option<FieldId>,
    /// The rules the substring facts can admit: when none is a candidate, the field's text is not scanned (the
    /// other facts are looked up, which costs less than this check).
    scanned_rules: RuleBits,
    exact: FxHashMap<String, Vec<u32>>,
    /// Per length, the first bytes of the exact literals that long (a bit set of 256), so that most values are
    /// ruled out before they are folded or hashed.
    exact_shapes: Vec<[u64; 4]>,
    /// Exact literals and numbers are all this field's facts.
    only_exact: bool,
    numbers: FxHashMap<i64, Vec<u32>>,
    prefixes: Affixes,
    /// Suffixes, reversed.
    suffixes: Affixes,
    /// Every substring of this field but hashes, and the rules each admits.
    contains: Option<(Lazy, Vec<Vec<u32>>)>,
    /// The substrings that hold a hash, by their hash (`hex_keys.rs`).
    hashes: HexKeys,
}

/// The prefilter of a rule set.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Witnesses not checked (rules with fewer than [`WITNESSES_PER_RULE`]): they always hold.
    unguarded: RuleBits,
    fields: Vec<FieldFacts>,
    /// Per field id, the position of its facts in `fields` (`NO_FACTS` for none): an event's few fields are
    /// looked up here, rather than each of the many fields with facts looked up in the event.
    by_field: Vec<u32>,
    /// The keyword facts (about any value of an event) of some of the rules each: the first those of all rules,
    /// the others those of the rules of some log sources ([`Prefilter::scope_keywords`]).
    keywords: Vec<KeywordScope>,
    /// Every keyword fact, by witness bit, to build scopes from.
    keyword_facts: Vec<(u32, Fact)>,
    /// Per rule with keyword facts, the screen that rules them out from a record's text (`text_screen.rs`); none
    /// for a rule whose facts cannot be screened.
    screens: FxHashMap<u32, TextScreen>,
    /// Witness bits are rule numbers plus a multiple of this.
    stride: usize,
}

/// The keyword facts of some rules: an event's values are scanned for the keywords of only the rules that can
/// run on it (the keywords of Linux or web server rules are many and common words, and each scan reports every
/// occurrence of every keyword).
#[derive(Debug)]
struct KeywordScope {
    facts: Option<FieldFacts>,
    /// The rules with a keyword fact in a witness: only when one of them is a candidate are an event's values read.
    rules: RuleBits,
}

/// How the prefilter learns an event's keyword facts.
pub(crate) enum KeywordFacts<'a> {
    /// Found already (a record's values read for them).
    Seen(&'a RuleBits),
    /// Read from the event (its JSON tree, or its values), with the facts of this scope.
    FromEvent(usize),
    /// Not needed: no rule with keyword facts is a candidate.
    Skip,
}

const NO_FACTS: u32 = u32::MAX;

/// The witnesses of a rule the prefilter checks: the best, and then the best whose facts are all looked up (a
/// substring fact of a second witness would often start a scan of a field no first witness reads:
/// `bench/matcher.sh` ran 15% slower for fewer candidates). Leaving the index's checks to the index is cheaper than
/// looking their facts up again.
pub(crate) fn chosen_witnesses(expr: &Expr) -> Vec<Witness> {
    let mut found = witnesses(expr).into_iter().filter(|w| !indexed_only(w));
    let mut chosen: Vec<Witness> = found.next().into_iter().collect();
    chosen.extend(found.find(|w| w.iter().all(|(_, f)| !matches!(f, Fact::Contains(_)))));
    chosen
}

impl Prefilter {
    /// Builds the prefilter of rules from their [`chosen_witnesses`], in rule-number order (the IR itself need
    /// not be kept until then); fields must already be interned.
    pub fn build(rules: Vec<Vec<Witness>>, fields: &FieldTable) -> Prefilter {
        // The k-th witness of rule r is bit `r + k * stride` of the set a pass over the event fills.
        let stride = rules.len().next_multiple_of(64);
        let mut unguarded = RuleBits::new(stride * WITNESSES_PER_RULE);
        let mut pending: FxHashMap<FieldId, Pending> = FxHashMap::default();
        let mut keyword_facts = Vec::new();
        for (number, chosen) in rules.into_iter().enumerate() {
            let number = number as u32;
            // A witness not checked always holds.
            for k in chosen.len()..WITNESSES_PER_RULE {
                unguarded.insert(number + (k * stride) as u32);
            }
            for (k, witness) in chosen.into_iter().enumerate() {
                let bit = number + (k * stride) as u32;
                for (field, fact) in witness {
                    // Every field of a rule is interned when it compiles.
                    match field {
                        // Every field of a rule is interned when it compiles.
                        Some(name) => match fields.get(&name) {
                            Some(id) => pending.entry(id).or_default().add(fact, bit),
                            None => unguarded.insert(bit),
                        },
                        None => keyword_facts.push((bit, fact)),
                    }
                }
            }
        }
        let mut facts: Vec<FieldFacts> = pending.into_iter().map(|(id, p)| p.facts(Some(id), stride)).collect();
        facts.sort_by_key(|f| f.field);
        let mut by_field = vec![NO_FACTS; fields.len()];
        for (position, f) in facts.iter().enumerate() {
            if let Some(id) = f.field {
                by_field[id as usize] = position as u32;
            }
        }
        let screens = keyword_screens(&keyword_facts, stride);
        let mut prefilter =
            Prefilter { unguarded, fields: facts, by_field, keywords: Vec::new(), keyword_facts, screens, stride };
        let all = prefilter.keyword_scope(|_| true);
        prefilter.keywords.push(all);
        prefilter
    }

    /// The keyword facts of the rules of `rules` (by rule number), among the scopes built so far or a new one:
    /// which facts to read the values of events with when only these rules can run on them. The first scope
    /// (number 0) has every rule's.
    pub(crate) fn scope_keywords(&mut self, rules: &RuleBits) -> usize {
        let wanted = self.keywords[0].rules.intersection(rules);
        if let Some(found) = self.keywords.iter().position(|k| k.rules == wanted) {
            return found;
        }
        let scope = self.keyword_scope(|rule| wanted.contains(rule));
        self.keywords.push(scope);
        self.keywords.len() - 1
    }

    /// The keyword facts of the rules `keep` keeps.
    fn keyword_scope(&self, keep: impl Fn(u32) -> bool) -> KeywordScope {
        let stride = self.stride as u32;
        let mut pending = Pending::default();
        let mut rules = RuleBits::new(self.stride);
        for (bit, fact) in self.keyword_facts.iter().filter(|(bit, _)| keep(bit % stride)) {
            pending.add(fact.clone(), *bit);
            rules.insert(bit % stride);
        }
        let facts = (!self.keyword_facts.is_empty()).then(|| pending.facts(None, self.stride));
        KeywordScope { facts, rules }
    }

    /// The rules that may match `event`: those each of whose witnesses holds (a rule without witnesses always
    /// does).
    #[cfg(test)]
    pub fn admitted(&self, event: &Event<'_>) -> RuleBits {
        self.witnessed(event, KeywordFacts::FromEvent(0), None).intersect_parts(WITNESSES_PER_RULE)
    }

    /// [`Prefilter::admitted`] among `candidates` (the index's): a field whose substring facts admit none of them
    /// is not scanned (Sysmon's `Hashes` are searched for thousands of driver hashes only when a driver rule is a
    /// candidate). Rules outside `candidates` may or may not be in the answer.
    pub(crate) fn admitted_among(
        &self,
        event: &Event<'_>,
        keywords: KeywordFacts<'_>,
        candidates: &RuleBits,
    ) -> RuleBits {
        self.witnessed(event, keywords, Some(candidates)).intersect_parts(WITNESSES_PER_RULE)
    }

    /// Whether a rule with keyword facts in `scope` is among `candidates` (else the keyword facts need not be
    /// checked).
    pub(crate) fn needs_keywords(&self, candidates: &RuleBits, scope: usize) -> bool {
        self.keywords.get(scope).is_some_and(|k| k.facts.is_some() && k.rules.intersects(candidates))
    }

    /// Whether a record's JSON text certainly holds none of the keyword facts of the rules of `scope` among
    /// `candidates` (`text_screen.rs`): its values need not be read for them.
    pub(crate) fn keywords_ruled_out(&self, text: &str, candidates: &RuleBits, scope: usize) -> bool {
        let Some(scope) = self.keywords.get(scope) else { return false };
        let rules = scope.rules.intersection(candidates);
        let holds_none = |text: &ScreenedText<'_>| {
            rules.iter().all(|rule| self.screens.get(&rule).is_some_and(|screen| screen.holds_none(text)))
        };
        screened(text, holds_none).unwrap_or(false)
    }

    /// An empty set of witnesses, for [`Prefilter::visit_keyword`].
    pub(crate) fn no_witnesses(&self) -> RuleBits {
        RuleBits::empty_like(&self.unguarded)
    }

    /// Adds the keyword witnesses `value` satisfies to `seen`: a record's values are visited as its text is read
    /// again, rather than listed for [`Prefilter::admitted`].
    pub(crate) fn visit_keyword(&self, value: &Value<'_>, seen: &mut RuleBits, scope: usize) {
        if let Some(facts) = self.keywords.get(scope).and_then(|k| k.facts.as_ref()) {
            facts.visit(value, seen, true);
        }
    }

    /// Which witnesses hold on `event` (or are not checked), one bit per rule and witness.
    fn witnessed(&self, event: &Event<'_>, keywords: KeywordFacts<'_>, among: Option<&RuleBits>) -> RuleBits {
        let mut admitted = self.unguarded.clone();
        for (field, value) in event.fields() {
            let position = self.by_field.get(field as usize).copied().unwrap_or(NO_FACTS);
            if position != NO_FACTS {
                let facts = &self.fields[position as usize];
                let scan = facts.has_substrings() && among.is_none_or(|c| facts.scanned_rules.intersects(c));
                facts.visit(value, &mut admitted, scan);
            }
        }
        let keywords = match keywords {
            KeywordFacts::Seen(seen) => {
                admitted.union_with(seen);
                None
            }
            KeywordFacts::Skip => None,
            KeywordFacts::FromEvent(scope) => self.keywords.get(scope).and_then(|k| k.facts.as_ref()),
        };
        if let Some(facts) = keywords {
            let tree = event.json_tree().filter(|_| facts.only_exact && facts.numbers.is_empty());
            if let Some(json) = tree {
                // Exact keywords only: the event's texts are read straight from its JSON, and only those as long
                // as some keyword are folded and looked up.
                facts.visit_json(json, &mut admitted);
            } else {
                event.all_values().iter().for_each(|v| facts.visit(v, &mut admitted, true));
            }
        }
        admitted
    }
}

/// The screen of each rule's keyword facts (those of all its witnesses: a rule none of whose keyword facts holds
/// has its keyword witnesses unmet, as when they are looked up).
fn keyword_screens(keyword_facts: &[(u32, Fact)], stride: usize) -> FxHashMap<u32, TextScreen> {
    let mut literals: FxHashMap<u32, Option<Vec<&str>>> = FxHashMap::default();
    for (bit, fact) in keyword_facts {
        let rule = literals.entry(bit % stride as u32).or_insert_with(|| Some(Vec::new()));
        match (fact, rule.as_mut()) {
            (Fact::Exact(s) | Fact::Prefix(s) | Fact::Suffix(s) | Fact::Contains(s), Some(rule)) => rule.push(s),
            // A number reads as a text its JSON need not spell.
            (Fact::Number(_), _) => *rule = None,
            (_, None) => {}
        }
    }
    literals.into_iter().filter_map(|(rule, literals)| Some((rule, TextScreen::new(literals?)?))).collect()
}

/// The facts of one field (or keywords) as they are gathered from the rules' witnesses.
#[derive(Default)]
struct Pending {
    exact: FxHashMap<String, Vec<u32>>,
    numbers: FxHashMap<i64, Vec<u32>>,
    prefixes: Affixes,
    suffixes: Affixes,
    contains: FxHashMap<String, Vec<u32>>,
}

impl Pending {
    fn add(&mut self, fact: Fact, bit: u32) {
        match fact {
            Fact::Exact(s) => self.exact.entry(s).or_default().push(bit),
            Fact::Number(n) => self.numbers.entry(n).or_default().push(bit),
            Fact::Prefix(s) => self.prefixes.insert(s.bytes(), bit),
            Fact::Suffix(s) => self.suffixes.insert(s.bytes().rev(), bit),
            Fact::Contains(s) => self.contains.entry(s).or_default().push(bit),
        }
    }

    /// The merged facts, for lookups.
    fn facts(self, field: Option<FieldId>, stride: usize) -> FieldFacts {
        // The rules the substring facts can admit (a witness bit is a rule number plus a multiple of `stride`).
        let mut scanned_rules = RuleBits::new(stride);
        for bits in self.contains.values() {
            bits.iter().for_each(|bit| scanned_rules.insert(bit % stride as u32));
        }
        let mut hashes = HexKeys::default();
        let mut others = Vec::new();
        for (literal, bits) in self.contains {
            match HexKeys::key_of(&literal) {
                Some(key) => hashes.insert(key, &bits),
                None => others.push((literal, bits)),
            }
        }
        let mut contains = None;
        if !others.is_empty() {
            let (literals, rules): (Vec<String>, Vec<Vec<u32>>) = others.into_iter().unzip();
            contains = Some((Lazy::new(literals, Build::Fast), rules));
        }
        let mut exact_shapes = vec![[0u64; 4]; self.exact.keys().map(String::len).max().map_or(0, |n| n + 1)];
        for literal in self.exact.keys() {
            let first = literal.bytes().next().unwrap_or(0);
            exact_shapes[literal.len()][(first / 64) as usize] |= 1 << (first % 64);
        }
        let only_exact =
            contains.is_none() && hashes.is_empty() && self.prefixes.is_empty() && self.suffixes.is_empty();
        FieldFacts {
            field,
            scanned_rules,
            exact_shapes,
            only_exact,
            exact: self.exact,
            numbers: self.numbers,
            prefixes: self.prefixes,
            suffixes: self.suffixes,
            contains,
            hashes,
        }
    }
}

impl FieldFacts {
    /// Whether some fact is about a substring of the field.
    fn has_substrings(&self) -> bool {
        self.contains.is_some() || !self.hashes.is_empty()
    }

    /// Whether `text` (ASCII, or folded) has the length and first byte of some exact literal.
    fn may_be_exact(&self, text: &str) -> bool {
        let first = text.bytes().next().map_or(0, |b| b.to_ascii_lowercase());
        self.exact_shapes.get(text.len()).is_some_and(|s| s[(first / 64) as usize] & (1 << (first % 64)) != 0)
    }

    /// [`FieldFacts::visit`] for exact literals over every string and number of a JSON value.
    fn visit_json(&self, json: &serde_json::Value, admitted: &mut RuleBits) {
        use serde_json::Value as J;
        match json {
            J::String(s) => {
                // Folding keeps the length of ASCII text and at most divides another's by 3 (the Kelvin sign, 3
                // bytes, folds to `k`): most texts are ruled out by their length and first byte unfolded.
                if s.len() >= self.exact_shapes.len() * 3 {
                    return;
                }
                if s.is_ascii() {
                    let mut buffer = [0u8; SHORT];
                    if self.may_be_exact(s) {
                        let rules = match lower(s, &mut buffer) {
                            Some(t) => self.exact.get(t),
                            None => self.exact.get(&s.to_ascii_lowercase()),
                        };
                        if let Some(rules) = rules {
                            admitted.insert_all(rules);
                        }
                    }
                } else {
                    self.visit(&Value::Str(s.into(), Default::default()), admitted, true);
                }
            }
            J::Number(n) => {
                let text = crate::fields::NumberText::new(n.clone());
                if self.exact_shapes.get(text.text_len()).is_some_and(|s| *s != [0; 4]) {
                    if let Some(rules) = self.exact.get(text.get()) {
                        admitted.insert_all(rules);
                    }
                }
            }
            J::Array(items) => items.iter().for_each(|v| self.visit_json(v, admitted)),
            J::Object(map) => map.values().for_each(|v| self.visit_json(v, admitted)),
            J::Bool(_) | J::Null => {}
        }
    }

    /// Adds the witnesses `value` satisfies; substring facts only when `scan` (none of their rules is a candidate
    /// otherwise).
    fn visit(&self, value: &Value<'_>, admitted: &mut RuleBits, scan: bool) {
        match value {
            Value::List(items) => return items.iter().for_each(|v| self.visit(v, admitted, scan)),
            // String tests read a boolean as its text (`Initiated: 'true'` matches the JSON `true` of an EVTX record).
            Value::Bool(b) => {
                let text = if *b { "true" } else { "false" };
                return self.visit(&Value::Str(text.into(), Default::default()), admitted, scan);
            }
            _ => {}
        }
        if !self.numbers.is_empty() {
            let number = match value {
                Value::Num(n, _) => Some(*n),
                Value::Str(s, _) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            if let Some(rules) = number.filter(|n| n.fract() == 0.0).and_then(|n| self.numbers.get(&(n as i64))) {
                admitted.insert_all(rules);
            }
        }
        let sized = |len: usize| self.exact_shapes.get(len).is_some_and(|s| *s != [0; 4]);
        // Exact literals only (keywords, usually): a text too long to fold to any of them (folding at most divides
        // a text's length by 3) is not even scanned for being ASCII.
        if let Value::Str(raw, _) = value {
            if self.only_exact && self.numbers.is_empty() && raw.len() >= self.exact_shapes.len() * 3 {
                return;
            }
        }
        // ASCII text (nearly all log text) folds byte for byte, keeping its length: exact literals are looked up
        // in a lower-cased copy on the stack, prefixes and suffixes walked byte by byte, lower-cased on the way,
        // and the whole text is folded only for substring literals.
        let raw_ascii = match value {
            Value::Str(raw, _) if raw.is_ascii() => Some(raw.as_ref()),
            _ => None,
        };
        if let Some(raw) = raw_ascii {
            if self.may_be_exact(raw) {
                let mut buffer = [0u8; SHORT];
                let rules = match lower(raw, &mut buffer) {
                    Some(t) => self.exact.get(t),
                    None => value.folded().and_then(|t| self.exact.get(t)),
                };
                if let Some(rules) = rules {
                    admitted.insert_all(rules);
                }
            }
            if !self.prefixes.is_empty() {
                self.prefixes.walk(raw.bytes().map(|b| b.to_ascii_lowercase()), admitted);
            }
            if !self.suffixes.is_empty() {
                self.suffixes.walk(raw.bytes().rev().map(|b| b.to_ascii_lowercase()), admitted);
            }
            if !self.has_substrings() || !scan {
                return;
            }
        }
        if self.only_exact {
            if let Value::Num(_, text) = value {
                if !sized(text.text_len()) {
                    return;
                }
            }
        }
        let Some(text) = value.folded() else { return };
        if raw_ascii.is_none() {
            if self.may_be_exact(text) {
                if let Some(rules) = self.exact.get(text) {
                    admitted.insert_all(rules);
                }
            }
            self.prefixes.walk(text.bytes(), admitted);
            self.suffixes.walk(text.bytes().rev(), admitted);
        }
        if !scan {
            return;
        }
        if let Some((substrings, rules)) = &self.contains {
            substrings.get().each_found(text, |i| admitted.insert_all(&rules[i]));
        }
        self.hashes.each_found(text, |rules| admitted.insert_all(rules));
    }
}

/// Literals longer than this are looked up in the folded text rather than a lower-cased copy.
const SHORT: usize = 256;

/// ASCII `text` lower-cased into `buffer`; `None` when it does not fit.
fn lower<'b>(text: &str, buffer: &'b mut [u8; SHORT]) -> Option<&'b str> {
    let out = buffer.get_mut(..text.len())?;
    for (o, b) in out.iter_mut().zip(text.bytes()) {
        *o = b.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::witness::tests::rule;

    /// The rules `exprs`' prefilter admits for an event, with `fields` interned (`keywords`: events keep their
    /// values for keywords).
    fn admitted_by(exprs: &[Expr], fields: &[&str], keywords: bool) -> impl Fn(serde_json::Value) -> Vec<u32> {
        let mut table = FieldTable::default();
        for field in fields {
            table.intern(field);
        }
        let prefilter = Prefilter::build(exprs.iter().map(chosen_witnesses).collect(), &table);
        move |json| prefilter.admitted(&Event::new(&json, &table, keywords)).iter().collect()
    }

    #[test]
    fn both_witnesses_of_a_rule_must_hold() {
        let exprs = [rule(
            "detection:\n  a:\n    Image|endswith: '\\csi.exe'\n  b:\n    Company: 'Microsoft Corporation'\n  condition: a and b\n",
        )];
        let admitted = admitted_by(&exprs, &["Image", "Company"], false);
        assert_eq!(admitted(serde_json::json!({"Image": "C:\\csi.exe", "Company": "microsoft corporation"})), vec![0]);
        assert_eq!(
            admitted(serde_json::json!({"Image": "C:\\cmd.exe", "Company": "Microsoft Corporation"})),
            Vec::<u32>::new()
        );
        assert_eq!(admitted(serde_json::json!({"Image": "C:\\CSI.exe"})), Vec::<u32>::new());
    }

    /// String tests read booleans as their text, and so do the facts.
    #[test]
    fn booleans_are_admitted_by_their_text() {
        let exprs = [rule("detection:\n  a:\n    Initiated: 'true'\n  condition: a\n")];
        let admitted = admitted_by(&exprs, &["Initiated"], false);
        assert_eq!(admitted(serde_json::json!({"Initiated": true})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"Initiated": [false, true]})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"Initiated": false})), Vec::<u32>::new());
    }

    #[test]
    fn admits_by_case_insensitive_exact_prefix_suffix_and_keyword_facts() {
        let exprs = [
            rule("detection:\n  k:\n    - 'MimiKatz'\n    - 'ÄBC'\n    - 4688\n  condition: k\n"),
            rule("detection:\n  a:\n    Image|endswith: '\\CMD.exe'\n  condition: a\n"),
            rule("detection:\n  a:\n    Image|startswith: 'C:\\Temp\\'\n  condition: a\n"),
            rule("detection:\n  a:\n    User: 'Ödön'\n  condition: a\n"),
        ];
        let admitted = admitted_by(&exprs, &["Image", "User"], true);
        assert_eq!(admitted(serde_json::json!({"x": {"y": ["mimikatz"]}})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"x": "äbc"})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"x": 4688})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"x": 46880, "y": "mimikatz!"})), Vec::<u32>::new());
        assert_eq!(admitted(serde_json::json!({"Image": "D:\\x\\cmd.EXE"})), vec![1]);
        assert_eq!(admitted(serde_json::json!({"Image": "c:\\TEMP\\cmd.exe"})), vec![1, 2]);
        assert_eq!(admitted(serde_json::json!({"Image": "c:\\TEMP"})), Vec::<u32>::new());
        assert_eq!(admitted(serde_json::json!({"User": "ÖDÖN"})), vec![3]);
    }

    /// Hash literals are looked up by their digits (`hex_keys.rs`): found whatever their case, beside other
    /// substring facts of the same field, and not without every digit.
    #[test]
    fn hash_substrings_are_admitted() {
        let md5 = "37777A96245A3C74EB217308F3546F4C";
        let exprs = [
            rule(&format!("detection:\n  a:\n    Hashes|contains: 'IMPHASH={md5}'\n  condition: a\n")),
            rule("detection:\n  a:\n    Hashes|contains: 'SHA1=AB'\n  condition: a\n"),
        ];
        let admitted = admitted_by(&exprs, &["Hashes"], false);
        let lower = md5.to_lowercase();
        assert_eq!(admitted(serde_json::json!({"Hashes": format!("SHA1=AB12,IMPHASH={md5}")})), vec![0, 1]);
        assert_eq!(admitted(serde_json::json!({"Hashes": format!("imphash={lower}")})), vec![0]);
        assert_eq!(admitted(serde_json::json!({"Hashes": format!("IMPHASH={}", &md5[..31])})), Vec::<u32>::new());
    }

    /// Literals longer than the stack copy are looked up in the folded text.
    #[test]
    fn long_exact_literals_are_admitted() {
        let long = "A".repeat(SHORT + 44);
        let exprs = [
            rule(&format!("detection:\n  a:\n    Image: '{long}'\n  condition: a\n")),
            rule(&format!("detection:\n  k:\n    - '{long}'\n  condition: k\n")),
        ];
        let mut table = FieldTable::default();
        table.intern("Image");
        let prefilter = Prefilter::build(exprs.iter().map(chosen_witnesses).collect(), &table);
        let json = serde_json::json!({"Image": long.to_lowercase()});
        let event = Event::new(&json, &table, true);
        assert_eq!(prefilter.admitted(&event).iter().collect::<Vec<_>>(), vec![0, 1]);
    }
}
