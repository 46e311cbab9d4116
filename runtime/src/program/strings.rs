//! The string tests of one field (exact, prefix, suffix, substring, glob), on folded text unless cased: a single
//! test kept as its text, several merged into one set (hash sets by length, an automaton for substrings).

use super::{failed, regex_failure, Leaf};
use crate::fields::Value;
use crate::hex_keys::HexKeys;
use crate::regexes::{Budget, LazyRegex, Options};
use crate::substrings::{Build, Lazy};
use rustc_hash::FxHashSet as HashSet;
use vigil_compiler::ir::value::{Part, SigmaString};
use vigil_compiler::ir::StrOp;
use vigil_compiler::{Code, Diagnostic};

/// Literals grouped by length, so that testing a text costs one hash lookup per distinct length.
#[derive(Debug, Default)]
pub(super) struct ByLength(pub(super) Vec<(usize, HashSet<String>)>);

impl ByLength {
    fn insert(&mut self, literal: String) {
        let len = literal.len();
        match self.0.iter_mut().find(|(l, _)| *l == len) {
            Some((_, set)) => drop(set.insert(literal)),
            None => self.0.push((len, std::iter::once(literal).collect())),
        }
    }

    /// How many literals, of every length.
    fn len(&self) -> usize {
        self.0.iter().map(|(_, set)| set.len()).sum()
    }

    /// The literal, when there is just one.
    fn take_one(&mut self) -> Option<String> {
        self.0.pop().and_then(|(_, mut set)| set.drain().next())
    }

    fn any_prefix_of(&self, text: &str) -> bool {
        self.0.iter().any(|(len, set)| text.get(..*len).is_some_and(|p| set.contains(p)))
    }

    fn any_suffix_of(&self, text: &str) -> bool {
        self.0
            .iter()
            .any(|(len, set)| text.len() >= *len && text.get(text.len() - len..).is_some_and(|s| set.contains(s)))
    }
}

/// Substring tests, in an automaton of their own built on first use.
#[derive(Debug)]
pub(super) enum Contains {
    None,
    Own(Lazy),
    /// Many hashes, and perhaps other literals.
    Hashes(Box<Hashes>),
}

/// At least this many hashes among a field's substring tests are looked up rather than put in its automaton.
const MANY_HASHES: usize = 64;

/// Substring tests of which many hold a hash (a list of vulnerable drivers: 4,432 in one SigmaHQ rule, whose
/// automaton took 15 ms to build): those are looked up by their digits (`hex_keys.rs`), and each whose digits
/// occur is then searched for in the text, so that the answer is exact; the others have an automaton.
#[derive(Debug)]
pub(super) struct Hashes {
    /// The position in `hashes` of each literal, by its digits.
    keys: HexKeys,
    hashes: Vec<String>,
    others: Option<Lazy>,
}

impl Contains {
    fn new(literals: Vec<String>) -> Contains {
        if literals.is_empty() {
            return Contains::None;
        }
        // Each literal's key is found once: a hash keeps a copy of its key, for the lookup built below.
        let mut hashes = Vec::new();
        let mut others = Vec::new();
        for literal in literals {
            match HexKeys::key_of(&literal) {
                Some(key) => hashes.push((Box::<str>::from(key), literal)),
                None => others.push(literal),
            }
        }
        if hashes.len() < MANY_HASHES {
            let mut literals: Vec<String> = hashes.into_iter().map(|(_, literal)| literal).collect();
            literals.extend(others);
            return Contains::Own(Lazy::new(literals, Build::Small));
        }
        let mut keys = HexKeys::default();
        for (at, (key, _)) in hashes.iter().enumerate() {
            keys.insert(key, &[at as u32]);
        }
        let hashes = hashes.into_iter().map(|(_, literal)| literal).collect();
        let others = (!others.is_empty()).then(|| Lazy::new(others, Build::Small));
        Contains::Hashes(Box::new(Hashes { keys, hashes, others }))
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Contains::None => false,
            Contains::Own(literals) => literals.get().is_match(text),
            Contains::Hashes(set) => {
                let occurs = |at: &u32| memchr::memmem::find(text.as_bytes(), set.hashes[*at as usize].as_bytes());
                set.keys.any_found(text, |found| found.iter().any(|at| occurs(at).is_some()))
                    || set.others.as_ref().is_some_and(|others| others.get().is_match(text))
            }
        }
    }
}

/// The string tests of one field: a single test (three leaves in four over the SigmaHQ corpus) kept as its text
/// alone, several in one [`StrSet`]. A set for every single value took a quarter of the matcher's memory (its hash
/// sets, vectors and box: some 400 bytes per value, 20,000 values over the corpus).
#[derive(Debug)]
pub enum StrMatch {
    One(OneStr),
    Set(Box<StrSet>),
}

/// One exact, prefix, suffix or substring test, on folded text unless `cased`.
#[derive(Debug)]
pub struct OneStr {
    op: StrOp,
    cased: bool,
    text: Box<str>,
}

impl OneStr {
    pub(super) fn is_match(&self, text: &str) -> bool {
        let literal: &str = &self.text;
        match self.op {
            StrOp::Exact => text == literal,
            StrOp::Prefix => text.starts_with(literal),
            StrOp::Suffix => text.ends_with(literal),
            // Contains (a glob is never a single test: it is a regex).
            _ => memchr::memmem::find(text.as_bytes(), literal.as_bytes()).is_some(),
        }
    }
}

impl StrMatch {
    fn cased(&self) -> bool {
        match self {
            StrMatch::One(one) => one.cased,
            StrMatch::Set(set) => set.cased,
        }
    }

    pub(super) fn is_cheap(&self) -> bool {
        match self {
            StrMatch::One(one) => matches!(one.op, StrOp::Exact | StrOp::Prefix | StrOp::Suffix),
            StrMatch::Set(set) => set.is_cheap(),
        }
    }

    pub(super) fn is_match(&self, text: &str) -> bool {
        match self {
            StrMatch::One(one) => one.is_match(text),
            StrMatch::Set(set) => set.is_match(text),
        }
    }

    pub(super) fn matches_value(&self, value: &Value<'_>) -> bool {
        any_text(value, self.cased(), &|text| self.is_match(text))
    }
}

/// Whether `is_match` holds on a value's text (folded unless `cased`), on any element of a list, or on a boolean's
/// text (`true`, `false`).
fn any_text(value: &Value<'_>, cased: bool, is_match: &impl Fn(&str) -> bool) -> bool {
    match value {
        Value::List(items) => items.iter().any(|v| any_text(v, cased, is_match)),
        Value::Bool(b) => is_match(if *b { "true" } else { "false" }),
        _ => {
            let text = if cased { value.text() } else { value.folded() };
            text.is_some_and(is_match)
        }
    }
}

/// String tests, on folded text unless `cased`.
#[derive(Debug)]
pub struct StrSet {
    pub(super) cased: bool,
    pub(super) exact: HashSet<String>,
    pub(super) prefixes: ByLength,
    pub(super) suffixes: ByLength,
    pub(super) contains: Contains,
    pub(super) globs: Vec<LazyRegex>,
}

impl StrSet {
    /// Exact values, prefixes and suffixes only: no scan through the text.
    pub(super) fn is_cheap(&self) -> bool {
        matches!(self.contains, Contains::None) && self.globs.is_empty()
    }

    pub(super) fn is_match(&self, text: &str) -> bool {
        self.exact.contains(text)
            || self.prefixes.any_prefix_of(text)
            || self.suffixes.any_suffix_of(text)
            || self.contains.is_match(text)
            || self.globs.iter().any(|g| g.is_match(text))
    }

    pub(super) fn matches_value(&self, value: &Value<'_>) -> bool {
        any_text(value, self.cased, &|text| self.is_match(text))
    }
}

fn literal(value: &SigmaString) -> Result<String, Diagnostic> {
    let mut out = String::new();
    for part in &value.parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Placeholder(name) => {
                return Err(failed(
                    Code::UnsupportedPlaceholder,
                    format!("unresolved placeholder `%{name}%`: resolve it with a pipeline (value_placeholders, wildcard_placeholders)"),
                ))
            }
            Part::AnyRun | Part::AnyChar => out.push(if matches!(part, Part::AnyRun) { '*' } else { '?' }),
        }
    }
    Ok(out)
}

fn glob_regex(value: &SigmaString, cased: bool, budget: &mut Budget) -> Result<LazyRegex, Diagnostic> {
    let pattern = glob_pattern(value, cased)?;
    LazyRegex::new(pattern, Options::default(), budget).map_err(|e| regex_failure(&format!("glob `{value}`"), e))
}

/// The regex a glob compiles to (flags: [`Options::default`]).
pub(super) fn glob_pattern(value: &SigmaString, cased: bool) -> Result<String, Diagnostic> {
    let mut pattern = String::from("(?s)^");
    for part in &value.parts {
        match part {
            Part::Lit(s) => {
                let s = if cased { s.clone() } else { s.to_lowercase() };
                pattern.push_str(&regex::escape(&s));
            }
            Part::AnyRun => pattern.push_str(".*"),
            Part::AnyChar => pattern.push('.'),
            Part::Placeholder(name) => {
                return Err(failed(
                    Code::UnsupportedPlaceholder,
                    format!("unresolved placeholder `%{name}%`: resolve it with a pipeline"),
                ))
            }
        }
    }
    pattern.push('$');
    Ok(pattern)
}

/// Collects string tests into one matcher.
#[derive(Default)]
pub(super) struct StrBuilder {
    pub(super) exact: HashSet<String>,
    pub(super) prefixes: ByLength,
    pub(super) suffixes: ByLength,
    pub(super) contains: Vec<String>,
    pub(super) globs: Vec<LazyRegex>,
}

impl StrBuilder {
    pub(super) fn add(
        &mut self,
        op: StrOp,
        value: &SigmaString,
        cased: bool,
        budget: &mut Budget,
    ) -> Result<(), Diagnostic> {
        if op == StrOp::Glob {
            self.globs.push(glob_regex(value, cased, budget)?);
            return Ok(());
        }
        let text = literal(value)?;
        let text = if cased { text } else { text.to_lowercase() };
        match op {
            StrOp::Exact => drop(self.exact.insert(text)),
            StrOp::Prefix => self.prefixes.insert(text),
            StrOp::Suffix => self.suffixes.insert(text),
            _ => self.contains.push(text),
        }
        Ok(())
    }

    /// The tests of a field: one test on its own, more in a set.
    pub(super) fn build_leaf(mut self, cased: bool) -> Leaf {
        let (exact, prefixes, suffixes) = (self.exact.len(), self.prefixes.len(), self.suffixes.len());
        if exact + prefixes + suffixes + self.contains.len() != 1 || !self.globs.is_empty() {
            return Leaf::Str(StrMatch::Set(Box::new(self.build(cased))));
        }
        let (op, text) = if exact == 1 {
            (StrOp::Exact, self.exact.drain().next())
        } else if prefixes == 1 {
            (StrOp::Prefix, self.prefixes.take_one())
        } else if suffixes == 1 {
            (StrOp::Suffix, self.suffixes.take_one())
        } else {
            (StrOp::Contains, self.contains.pop())
        };
        let text = text.unwrap_or_default().into_boxed_str();
        Leaf::Str(StrMatch::One(OneStr { op, cased, text }))
    }

    pub(super) fn build(self, cased: bool) -> StrSet {
        // `contains ''` matches any text: an empty pattern is a match everywhere.
        let contains = Contains::new(self.contains);
        StrSet {
            cased,
            exact: self.exact,
            prefixes: self.prefixes,
            suffixes: self.suffixes,
            contains,
            globs: self.globs,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Folded;

    /// A single test kept as its text answers as the same test in a set would, for every operator, case mode,
    /// empty literal and non-ASCII text.
    #[test]
    fn one_test_alone_answers_as_in_a_set() {
        let literals = ["", "abc", "ab", "bc", "ÄbC", "c:\\windows\\"];
        let texts = ["", "abc", "xabcx", "ab", "bc", "äbc", "ÄbC", "c:\\windows\\system32", "C:\\Windows\\"];
        for op in [StrOp::Exact, StrOp::Prefix, StrOp::Suffix, StrOp::Contains] {
            for cased in [false, true] {
                for literal in literals {
                    let value = SigmaString::literal(literal.to_string());
                    let built = |alone: bool| {
                        let mut builder = StrBuilder::default();
                        builder.add(op, &value, cased, &mut Budget::default()).expect("a literal");
                        if alone {
                            builder.build_leaf(cased)
                        } else {
                            Leaf::Str(StrMatch::Set(Box::new(builder.build(cased))))
                        }
                    };
                    let (Leaf::Str(one), Leaf::Str(set)) = (built(true), built(false)) else { panic!("string leaves") };
                    assert!(matches!(one, StrMatch::One(_)), "{op:?} {literal:?} is kept alone");
                    assert_eq!(one.is_cheap(), set.is_cheap(), "{op:?}");
                    for text in texts {
                        let value = Value::Str(text.into(), Folded::default());
                        assert_eq!(
                            one.matches_value(&value),
                            set.matches_value(&value),
                            "{op:?} cased={cased} {literal:?} on {text:?}"
                        );
                    }
                }
            }
        }
    }

    /// Many hashes are looked up by their digits (`Contains::Hashes`): the answers are those of searching for each
    /// literal, for hashes inside longer runs of digits, in either case, for digits that occur under another
    /// name (`SHA1=` for `MD5=`: no match), and for the other literals beside them.
    #[test]
    fn many_hashes_answer_as_a_search_for_each() {
        let hash =
            |n: usize| format!("{:032x}", (n as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
        let mut literals: Vec<String> = (0..MANY_HASHES).map(|n| format!("MD5={}", hash(n).to_uppercase())).collect();
        literals.push(hash(1000));
        literals.push("\\mimikatz.sys".to_string());
        let texts = [
            format!("SHA1=00,MD5={},IMPHASH=11", hash(7).to_uppercase()),
            format!("md5=0{}", hash(3)),
            format!("SHA1={}", hash(7)),
            format!("x{}x", hash(1000)),
            hash(1000)[1..].to_string(),
            "C:\\Windows\\mimikatz.sys".to_string(),
            "MD5=".to_string(),
        ];
        for cased in [false, true] {
            let mut builder = StrBuilder::default();
            for literal in &literals {
                let value = SigmaString::literal(literal.clone());
                builder.add(StrOp::Contains, &value, cased, &mut Budget::default()).expect("a literal");
            }
            let set = builder.build(cased);
            // Cased, upper-case digits are not a hash's (the key is lower-case): those literals are searched for.
            assert_eq!(matches!(set.contains, Contains::Hashes(_)), !cased, "looked up");
            for text in &texts {
                let folded = if cased { text.clone() } else { text.to_lowercase() };
                let expected = literals
                    .iter()
                    .map(|l| if cased { l.clone() } else { l.to_lowercase() })
                    .any(|l| folded.contains(&l));
                let value = Value::Str(text.as_str().into(), Folded::default());
                assert_eq!(set.matches_value(&value), expected, "cased={cased} on {text:?}");
            }
        }
    }
}
