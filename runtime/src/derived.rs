//! What building a rule set derives from one rule alone (its prefilter witnesses) or one regex alone (its compiled
//! size), kept beside a cached compilation (`vigil hunt`'s compiled rule-set cache) so that a later build over the
//! same rules takes it instead of deriving it again: a fifth of rule loading once the compilation itself comes
//! from the cache. Whatever it lacks (a rule left out of the build that stored it, a pattern it never measured) is
//! derived as before; nothing in it is trusted beyond what it names.

use crate::prefilter::chosen_witnesses;
use crate::program;
use crate::regexes::{Measured, Options, Size};
use crate::witness::Witness;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use vigil_compiler::ir::Expr;

/// The regexes' sizes and each rule's prefilter witnesses, for rules given by their position in their compilation
/// and their expression: taken from `known` when it holds them all, else derived on every core (measuring each
/// distinct regex once). The third value is what to keep: `known` completed, when one was given and it lacked any.
pub(crate) fn derive(
    rules: &[(usize, &Expr)],
    known: Option<Derived>,
) -> (Measured, Vec<Option<Vec<Witness>>>, Option<Derived>) {
    let keep = known.is_some();
    let mut known = known.unwrap_or_default();
    if known.measured && rules.iter().all(|(index, _)| known.witnesses.get(*index).is_some_and(Option::is_some)) {
        let chosen = rules.iter().map(|(index, _)| known.witnesses[*index].take()).collect();
        return (known.measured(), chosen, None);
    }
    let (measured, chosen) = rayon::join(
        || {
            let patterns = rules.par_iter().flat_map_iter(|(_, expr)| {
                let mut out = Vec::new();
                program::regexes(expr, &mut out);
                out
            });
            Measured::new(patterns.collect())
        },
        || rules.par_iter().map(|(_, expr)| Some(chosen_witnesses(expr))).collect::<Vec<_>>(),
    );
    let derived = keep.then(|| {
        for ((index, _), witnesses) in rules.iter().zip(&chosen) {
            known.set_witnesses(*index, witnesses.clone().unwrap_or_default());
        }
        known.set_sizes(&measured);
        known
    });
    (measured, chosen, derived)
}

/// Witnesses by rule and regex sizes by pattern, for one compilation's rules.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Derived {
    /// By the rule's position in its compilation (`RuleInput::index`); `None`: not derived.
    witnesses: Vec<Option<Vec<Witness>>>,
    /// Every measured pattern with its flags, in order.
    sizes: Vec<(String, Options, Size)>,
    /// Whether the regexes were measured (a rule set may have none).
    measured: bool,
}

impl Derived {
    pub fn encode(&self) -> Option<Vec<u8>> {
        postcard::to_stdvec(self).ok()
    }

    /// `None` when `bytes` are not an encoded [`Derived`].
    pub fn decode(bytes: &[u8]) -> Option<Derived> {
        postcard::from_bytes(bytes).ok()
    }

    /// Keeps `measured`'s sizes, in a stable order (the same rules keep the same bytes).
    fn set_sizes(&mut self, measured: &Measured) {
        self.sizes = measured.sizes().collect();
        self.sizes.sort_by(|a, b| {
            let flags = |o: &Options| (o.case_insensitive, o.multi_line, o.dot_matches_new_line);
            a.0.cmp(&b.0).then(flags(&a.1).cmp(&flags(&b.1)))
        });
        self.measured = true;
    }

    fn measured(&self) -> Measured {
        Measured::from_sizes(self.sizes.iter().map(|(p, o, s)| (p.clone(), *o, s.clone())))
    }

    /// Records rule `index`'s witnesses.
    fn set_witnesses(&mut self, index: usize, witnesses: Vec<Witness>) {
        if self.witnesses.len() <= index {
            self.witnesses.resize(index + 1, None);
        }
        self.witnesses[index] = Some(witnesses);
    }
}
