//! Substring facts about hashes (`Hashes|contains: 'SHA256=2fb6…'`: SigmaHQ's Windows rules hold 5,599 such
//! literals for Sysmon's `Hashes` field, 277 KB of text), looked up rather than scanned for: an Aho-Corasick
//! automaton over them took 27 ms to build, a tenth of a hunt over the 277 EVTX files of `../shared/evtx`, and
//! several MB of memory.
//!
//! Each such literal is keyed by its longest run of hexadecimal digits, when that is at least [`MIN_KEY`] long (a
//! hash). A text holds the literal only if it holds the key; the key, being all digits, then lies within one of
//! the text's maximal runs of digits, at some offset: every window of every key length in every run of the text is
//! looked up. A key found admits the rules of every literal with that key, a superset of those whose literal
//! occurs, which is all a prefilter fact needs. A Sysmon `Hashes` value has four runs (40, 32, 64 and 32 digits):
//! about a hundred windows, most ruled out by their first four digits in a bit set of the keys' (5,599 keys set
//! a twelfth of its bits) before any is hashed (hashing every window made `bench/matcher.sh` 30 ms slower).

use rustc_hash::FxHashMap;

/// The shortest run of hexadecimal digits taken as a key (an MD5 digest): shorter ones are common in other text.
pub const MIN_KEY: usize = 32;

/// Hexadecimal keys and the witness bits each admits.
#[derive(Debug, Default)]
pub struct HexKeys {
    keys: FxHashMap<Box<[u8]>, Vec<u32>>,
    /// The lengths of the keys, ascending, without repeats.
    lengths: Vec<usize>,
    /// The value of the first four digits of each key, as a bit set.
    starts: Vec<u64>,
}

impl HexKeys {
    /// The key of a (folded) literal: its longest run of hexadecimal digits, if that is at least [`MIN_KEY`] long.
    pub fn key_of(literal: &str) -> Option<&str> {
        if literal.len() < MIN_KEY {
            return None;
        }
        let longest = hex_runs(literal.as_bytes()).max_by_key(|run| run.len())?;
        // A run of ASCII digits and letters is a whole `str` of its own.
        (longest.len() >= MIN_KEY).then(|| std::str::from_utf8(longest).ok()).flatten()
    }

    /// Adds a key and the bits it admits.
    pub fn insert(&mut self, key: &str, bits: &[u32]) {
        self.keys.entry(key.as_bytes().into()).or_default().extend_from_slice(bits);
        if self.starts.is_empty() {
            self.starts = vec![0; (1 << 16) / 64];
        }
        let start = key.bytes().take(4).fold(0, |value, b| value << 4 | digit(b));
        self.starts[start / 64] |= 1 << (start % 64);
        if let Err(at) = self.lengths.binary_search(&key.len()) {
            self.lengths.insert(at, key.len());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Calls `found` with the bits of every key that occurs in `text` (folded), possibly more than once.
    pub fn each_found(&self, text: &str, mut found: impl FnMut(&[u32])) {
        self.any_found(text, |bits| {
            found(bits);
            false
        });
    }

    /// Whether `holds` says yes to the bits of some key that occurs in `text`; the keys found are offered to it
    /// until it does.
    pub fn any_found(&self, text: &str, mut holds: impl FnMut(&[u32]) -> bool) -> bool {
        let Some(&shortest) = self.lengths.first() else { return false };
        for run in hex_runs(text.as_bytes()).filter(|run| run.len() >= shortest) {
            // The value of the four digits at `at`, rolled along the run.
            let mut start = run[..3].iter().fold(0, |value, &b| value << 4 | digit(b));
            for at in 0..=run.len() - shortest {
                start = (start << 4 | digit(run[at + 3])) & 0xFFFF;
                if self.starts[start / 64] & (1 << (start % 64)) == 0 {
                    continue;
                }
                for &length in self.lengths.iter().take_while(|&&length| at + length <= run.len()) {
                    if self.keys.get(&run[at..at + length]).is_some_and(|bits| holds(bits)) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// The value of a (lower-case) hexadecimal digit.
fn digit(b: u8) -> usize {
    match b {
        b'0'..=b'9' => usize::from(b - b'0'),
        _ => usize::from(b - b'a' + 10),
    }
}

/// The maximal runs of (lower-case) hexadecimal digits of `text`.
fn hex_runs(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')).filter(|run| !run.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "37777a96245a3c74eb217308f3546f4c";
    const SHA256: &str = "2fb6c04c4f95fb8d158af94c137f90ac820716deaf88d8ebec956254e046cb29";

    fn found(keys: &HexKeys, text: &str) -> Vec<u32> {
        let mut bits = Vec::new();
        keys.each_found(text, |b| bits.extend_from_slice(b));
        bits.sort_unstable();
        bits.dedup();
        bits
    }

    #[test]
    fn a_literal_is_keyed_by_its_longest_run_of_digits_when_that_is_a_hash() {
        assert_eq!(HexKeys::key_of(&format!("imphash={MD5}")), Some(MD5));
        assert_eq!(HexKeys::key_of(&format!("sha256={SHA256},")), Some(SHA256));
        assert_eq!(HexKeys::key_of(&MD5[1..]), None, "31 digits are not a hash");
        assert_eq!(HexKeys::key_of("\\windows\\system32\\cmd.exe"), None);
    }

    #[test]
    fn keys_are_found_at_any_offset_of_any_run() {
        let mut keys = HexKeys::default();
        keys.insert(MD5, &[1]);
        keys.insert(SHA256, &[2, 3]);
        let sysmon = format!("SHA1=1234567890123456789012345678901234567890,MD5={MD5},SHA256={SHA256},IMPHASH=00");
        assert_eq!(found(&keys, &sysmon.to_lowercase()), vec![1, 2, 3]);
        // Inside a longer run, at its start, middle and end: the literal occurs there too.
        for text in [format!("{MD5}00"), format!("0{MD5}0"), format!("abc{MD5}")] {
            assert_eq!(found(&keys, &text), vec![1], "{text}");
        }
        assert_eq!(found(&keys, &format!("md5={}", &MD5[..31])), Vec::<u32>::new());
        assert_eq!(found(&keys, &format!("{}x{}", &MD5[..16], &MD5[16..])), Vec::<u32>::new());
        assert_eq!(found(&keys, ""), Vec::<u32>::new());
    }
}
