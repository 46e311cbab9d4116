//! Literals in a byte trie, for the prefilter's prefix facts (and, inserted and walked backwards, suffix facts):
//! one walk along a text meets every literal it starts with, however many lengths the literals have (a hash lookup
//! per length cost the prefilter a tenth of its time on the SigmaHQ Windows rules, `bench/matcher.sh`). Rule
//! programs keep a hash set per length: they test a few literals, where long shared prefixes such as
//! `c:\windows\system32\` make a walk slower than a lookup.

#[derive(Debug)]
pub struct Trie {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    edges: Vec<(u8, u32)>,
    /// A literal ends here.
    terminal: bool,
}

impl Default for Trie {
    fn default() -> Trie {
        Trie { nodes: vec![Node::default()] }
    }
}

impl Trie {
    /// Adds a literal; returns the number of the node where it ends (the same for the same literal).
    pub fn insert(&mut self, literal: impl Iterator<Item = u8>) -> u32 {
        let mut node = 0;
        for byte in literal {
            node = match self.nodes[node].edges.iter().find(|(b, _)| *b == byte) {
                Some((_, next)) => *next as usize,
                None => {
                    self.nodes.push(Node::default());
                    let next = self.nodes.len() - 1;
                    self.nodes[node].edges.push((byte, next as u32));
                    next
                }
            };
        }
        self.nodes[node].terminal = true;
        node as u32
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// Calls `found` with the end node of every literal the bytes start with, shortest first, until it returns
    /// `true`; returns whether it did.
    pub fn walk(&self, bytes: impl Iterator<Item = u8>, mut found: impl FnMut(u32) -> bool) -> bool {
        let mut node = &self.nodes[0];
        if node.terminal && found(0) {
            return true;
        }
        for byte in bytes {
            let Some((_, next)) = node.edges.iter().find(|(b, _)| *b == byte) else { return false };
            node = &self.nodes[*next as usize];
            if node.terminal && found(*next) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::Trie;

    #[test]
    fn prefixes_and_reversed_suffixes() {
        let mut prefixes = Trie::default();
        let mut suffixes = Trie::default();
        for literal in ["c:\\windows\\", "c:\\w", "\\cmd.exe"] {
            prefixes.insert(literal.bytes());
            suffixes.insert(literal.bytes().rev());
        }
        let starts = |trie: &Trie, bytes: &mut dyn Iterator<Item = u8>| trie.walk(bytes, |_| true);
        assert!(starts(&prefixes, &mut "c:\\windows\\system32".bytes()));
        assert!(starts(&prefixes, &mut "c:\\w".bytes()));
        assert!(!starts(&prefixes, &mut "c:\\".bytes()));
        assert!(starts(&suffixes, &mut "c:\\x\\cmd.exe".bytes().rev()));
        assert!(!starts(&suffixes, &mut "cmd.exe".bytes().rev()));
        let mut ends = Vec::new();
        prefixes.walk("c:\\windows\\x".bytes(), |n| {
            ends.push(n);
            false
        });
        assert_eq!(ends.len(), 2, "both prefixes, shortest first");
        // The empty literal starts every text.
        let mut empty = Trie::default();
        empty.insert("".bytes());
        assert!(starts(&empty, &mut "anything".bytes()));
    }
}
