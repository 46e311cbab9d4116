//! Ruling keyword facts out from a record's JSON text as it is, without reading the text as JSON.
//!
//! A keyword fact holds when some string or number of a record is, starts with, ends with or contains a literal
//! (folded to lower case). Finding that out reads every value of the record: one more pass of the JSON reader over
//! the whole text, for every record that a keyword rule may match (SigmaHQ's Mimikatz keywords apply to every
//! Windows event: that pass was as long as decoding the record's fields, `bench/matcher.sh`). Most records hold
//! none of the literals anywhere in their text, which one search of the text as it is tells, when the text's
//! spelling of each value is known:
//! - lower-casing the text byte by byte (ASCII letters only) lower-cases every ASCII run of every value as folding
//!   does, and folding a non-ASCII character gives only non-ASCII characters — except for the Kelvin sign (`k`)
//!   and `İ` (`i` and a combining dot), the only two such characters (a test checks it against the Unicode
//!   tables): text holding either is read as JSON. So an ASCII literal in a folded value is in the lower-cased
//!   text; a non-ASCII literal can be only in non-ASCII text, which is then read as JSON;
//! - the text has no `\u` and no `\/` escape, so each character of a string is spelt one way only: itself, or
//!   `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`; a literal spelt that way then occurs in the text, ignoring ASCII
//!   case, wherever it occurs in a value;
//! - no literal could be part of a number's text (only digits, `.`, `e`, `+` and `-`): a number such as `1e3`
//!   reads as `1000.0`, which is not in the text.
//!
//! When the search finds a literal (in a value, a key, or across values), or the text is not of that kind, the
//! record is read as JSON as before: the screen only ever spares reading records that hold no keyword fact.

use crate::substrings::{Build, Lazy};
use memchr::memmem::Finder;
use std::cell::RefCell;
use std::sync::{LazyLock, OnceLock};

thread_local! {
    /// The lower-cased copy of the last text screened, reused.
    static LOWERED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The non-ASCII characters whose lower case holds ASCII ones (`str::to_lowercase`).
const FOLD_TO_ASCII: [char; 2] = ['\u{212a}', '\u{130}'];

/// The largest lower-cased copy kept between records.
const KEPT_COPY: usize = 1 << 20;

/// The literals of one rule's keyword facts, as JSON text spells them.
#[derive(Debug)]
pub(crate) struct TextScreen {
    /// The ASCII literals' spellings.
    spelt: Vec<String>,
    /// Some literal is not ASCII: it never occurs in ASCII text, and may in any other.
    non_ascii: bool,
    /// Their search, built on first use (most inputs never meet most rules' keywords).
    search: OnceLock<Search>,
}

/// How a screen's literals are searched for.
#[derive(Debug)]
enum Search {
    /// Up to 128 literals: SIMD (Teddy) over the whole text. An automaton's prefilter picks a few "rare" bytes
    /// instead, which in Windows event text (`\\`, `:`, `.`) occur everywhere, and then reads the text byte by byte.
    Packed(aho_corasick::packed::Searcher),
    Substrings(Lazy),
}

/// A record's text as screens read it: lower-cased (`screened`), and whether it is ASCII.
pub(crate) struct ScreenedText<'t> {
    lowered: &'t [u8],
    ascii: bool,
}

impl TextScreen {
    /// The screen of facts with these literals (folded); `None` when some literal could be part of a number's
    /// text (the text of a number read from JSON need not be the text it was written as).
    pub(crate) fn new<'l>(literals: impl IntoIterator<Item = &'l str>) -> Option<TextScreen> {
        let (mut spelt, mut non_ascii) = (Vec::new(), false);
        for literal in literals {
            if literal.bytes().all(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'+' | b'-')) {
                return None;
            }
            match literal.is_ascii() {
                true => spelt.push(json_spelling(literal)),
                false => non_ascii = true,
            }
        }
        spelt.sort_unstable();
        spelt.dedup();
        Some(TextScreen { spelt, non_ascii, search: OnceLock::new() })
    }

    /// Whether the record certainly holds none of the literals in any of its values; `false` when it may.
    pub(crate) fn holds_none(&self, text: &ScreenedText<'_>) -> bool {
        // The literals are in lower case, and so is the copy: the automaton's SIMD prefilter works there (it
        // cannot ignore case, and an automaton that does reads the text byte by byte: 4 µs for a Mordor line).
        if self.non_ascii && !text.ascii {
            return false;
        }
        if self.spelt.is_empty() {
            return true;
        }
        let search = self.search.get_or_init(|| match aho_corasick::packed::Searcher::new(&self.spelt) {
            Some(packed) => Search::Packed(packed),
            None => Search::Substrings(Lazy::new(self.spelt.clone(), Build::Fast)),
        });
        match search {
            Search::Packed(packed) => packed.find(text.lowered).is_none(),
            Search::Substrings(substrings) => !substrings.get().is_match(text.lowered),
        }
    }
}

/// Runs `screen` on `text` (a whole record's JSON text, known to be JSON) lower-cased, when its values are spelt
/// one way only; `None` when they may not be (the screens cannot rule anything out).
pub(crate) fn screened<R>(text: &str, screen: impl FnOnce(&ScreenedText<'_>) -> R) -> Option<R> {
    if !one_spelling(text.as_bytes()) {
        return None;
    }
    LOWERED.with_borrow_mut(|lowered| {
        // Lower-cased and checked for ASCII in one pass (the compiler makes it SIMD).
        lowered.resize(text.len(), 0);
        let mut high = 0u8;
        for (low, byte) in lowered.iter_mut().zip(text.as_bytes()) {
            high |= byte;
            *low = byte.to_ascii_lowercase();
        }
        let ascii = high < 0x80;
        let folds_to_ascii = !ascii && FOLD_TO_ASCII.iter().any(|c| text.contains(*c));
        let result = (!folds_to_ascii).then(|| screen(&ScreenedText { lowered, ascii }));
        if lowered.capacity() > KEPT_COPY {
            // A huge record's copy is not kept for the records after it.
            *lowered = Vec::new();
        }
        result
    })
}

/// `literal` as a JSON string spells it when it escapes only what it must (`"`, `\`, control characters; those
/// with a short escape by it), as serde_json writes it.
fn json_spelling(literal: &str) -> String {
    let quoted = serde_json::to_string(literal).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_string()
}

/// Whether JSON text has neither a `\u` nor a `\/` escape. Each `\u` or `\/` found is an escape when an odd
/// number of backslashes ends at it (`\\users` is an escaped backslash, then `users`); found with SIMD, as Windows
/// text holds a backslash every few bytes.
fn one_spelling(text: &[u8]) -> bool {
    static ESCAPES: LazyLock<[Finder<'static>; 2]> = LazyLock::new(|| [Finder::new(b"\\u"), Finder::new(b"\\/")]);
    let escapes = |at: usize| text[..=at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1;
    ESCAPES.iter().all(|finder| !finder.find_iter(text).any(escapes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LITERALS: &[&str] = &["sekurlsa::", "\\mimilib.dll", "say \"hi\""];

    /// Whether a screen of `literals` rules `text` out.
    fn rules_out(literals: &[&str], text: &str) -> bool {
        let screen = TextScreen::new(literals.iter().copied()).expect("screened");
        screened(text, |t| screen.holds_none(t)).unwrap_or(false)
    }

    #[test]
    fn literals_are_found_as_json_spells_them_in_any_case() {
        assert!(!rules_out(LITERALS, r#"{"CommandLine": "x SEKURLSA::logonpasswords"}"#));
        assert!(!rules_out(LITERALS, r#"{"ImageLoaded": "C:\\Temp\\MimiLib.dll"}"#));
        assert!(!rules_out(LITERALS, r#"{"a": "Say \"HI\""}"#));
        assert!(rules_out(LITERALS, r#"{"CommandLine": "C:\\Windows\\System32\\cmd.exe", "n": 4688}"#));
        assert!(rules_out(LITERALS, r#"{"a": "mimilib.dll"}"#), "the backslash is part of the literal");
    }

    #[test]
    fn text_spelt_more_than_one_way_is_never_ruled_out() {
        assert!(!rules_out(&["mimikatz"], r#"{"a": "\u006dimikatz"}"#));
        assert!(!rules_out(&["mimikatz"], r#"{"a": "x\/y"}"#));
        assert!(!rules_out(&["mimikatz"], "{\"a\": \"mimi\u{212a}atz\"}"), "non-ASCII text folds beyond ASCII");
        // `\\u` is an escaped backslash and then a letter.
        assert!(rules_out(&["mimikatz"], r#"{"a": "C:\\users\\x"}"#));
        assert!(rules_out(&["mimikatz"], r#"{"a": "x\\"}"#));
        assert!(rules_out(&["mimikatz"], r#"{"a": "\\\\u\\\\/"}"#), "two escaped backslashes, then `u`");
        assert!(!rules_out(&["mimikatz"], r#"{"a": "\\\u006dimikatz"}"#), "an escaped backslash, then `\\u`");
        assert!(!rules_out(&["mimikatz"], r#"{"a": "\\\/"}"#));
    }

    #[test]
    fn only_two_characters_fold_to_ascii() {
        let folding: Vec<char> = (0x80..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(folding, {
            let mut expected = FOLD_TO_ASCII.to_vec();
            expected.sort();
            expected
        });
    }

    #[test]
    fn non_ascii_text_is_screened_for_ascii_literals() {
        assert!(rules_out(LITERALS, r#"{"User": "Ödön", "a": "C:\\x"}"#));
        assert!(!rules_out(LITERALS, r#"{"User": "Ödön", "a": "SEKURLSA::x"}"#));
        assert!(!rules_out(&["mimikatz"], "{\"a\": \"ÄmimikatzÄ\"}"));
        assert!(!rules_out(&["ödön", "x"], r#"{"User": "Ödön"}"#), "a non-ASCII literal may be in non-ASCII text");
        assert!(!rules_out(&["mimikatz"], "{\"a\": \"Ä mimi\u{212a}atz\"}"));
        assert!(!rules_out(&["xi"], "{\"a\": \"X\u{130}\"}"), "İ folds to i and a combining dot");
    }

    #[test]
    fn literals_a_number_could_spell_are_not_screened() {
        assert!(TextScreen::new(["1000.0"]).is_none());
        assert!(TextScreen::new(["4688"]).is_none());
        assert!(TextScreen::new(["4688a"]).is_some());
    }

    #[test]
    fn non_ascii_literals_never_occur_in_ascii_text_and_control_characters_use_short_escapes() {
        assert!(rules_out(&["ödön"], r#"{"a": "odon"}"#));
        assert!(!rules_out(&["ödön"], r#"{"a": "Ödön"}"#));
        assert!(!rules_out(&["a\tb"], r#"{"a": "A\tB"}"#));
        assert!(rules_out(&["a\tb"], r#"{"a": "a b"}"#));
    }
}
