//! What building a rule set derives from one rule alone (its prefilter witnesses) or one regex alone (its compiled
//! size), kept beside a cached compilation (`vigil hunt`'s compiled rule-set cache) so that a later build over the
//! same rules takes it instead of deriving it again: a fifth of rule loading once the compilation itself comes
//! from the cache. Whatever it lacks (a rule left out of the build that stored it, a pattern it never measured) is
//! derived as before; nothing in it is trusted beyond what it names.

use crate::regexes::{Measured, Options, Size};
use crate::witness::Witness;
use serde::{Deserialize, Serialize};

/// Witnesses by rule and regex sizes by pattern, for one compilation's rules.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Derived {
    /// By the rule's position in its compilation (`RuleInput::index`); `None`: not derived.
    pub(crate) witnesses: Vec<Option<Vec<Witness>>>,
    /// Every measured pattern with its flags, in order.
    pub(crate) sizes: Vec<(String, Options, Size)>,
    /// Whether the regexes were measured (a rule set may have none).
    pub(crate) measured: bool,
}

impl Derived {
    pub fn encode(&self) -> Option<Vec<u8>> {
        postcard::to_stdvec(self).ok()
    }

    /// `None` when `bytes` are not an encoded [`Derived`].
    pub fn decode(bytes: &[u8]) -> Option<Derived> {
        postcard::from_bytes(bytes).ok()
    }

    /// Whether its build measured the regexes (then none need be listed and measured again).
    pub(crate) fn has_sizes(&self) -> bool {
        self.measured
    }

    /// Keeps `measured`'s sizes, in a stable order (the same rules keep the same bytes).
    pub(crate) fn set_sizes(&mut self, measured: &Measured) {
        self.sizes = measured.sizes().collect();
        self.sizes.sort_by(|a, b| {
            let flags = |o: &Options| (o.case_insensitive, o.multi_line, o.dot_matches_new_line);
            a.0.cmp(&b.0).then(flags(&a.1).cmp(&flags(&b.1)))
        });
        self.measured = true;
    }

    pub(crate) fn measured(&self) -> Measured {
        Measured::from_sizes(self.sizes.iter().map(|(p, o, s)| (p.clone(), *o, s.clone())))
    }

    /// Records rule `index`'s witnesses.
    pub(crate) fn set_witnesses(&mut self, index: usize, witnesses: Vec<Witness>) {
        if self.witnesses.len() <= index {
            self.witnesses.resize(index + 1, None);
        }
        self.witnesses[index] = Some(witnesses);
    }
}
