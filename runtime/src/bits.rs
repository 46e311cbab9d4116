//! A fixed-size set of rule numbers, as bits: the index's and the prefilter's answers are combined word by word.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleBits(Vec<u64>);

impl RuleBits {
    /// An empty set for rules `0..len`.
    pub fn new(len: usize) -> RuleBits {
        RuleBits(vec![0; len.div_ceil(64)])
    }

    /// An empty set of the same size as `other`.
    pub fn empty_like(other: &RuleBits) -> RuleBits {
        RuleBits(vec![0; other.0.len()])
    }

    pub fn insert(&mut self, rule: u32) {
        self.0[(rule / 64) as usize] |= 1 << (rule % 64);
    }

    pub fn insert_all(&mut self, rules: &[u32]) {
        for &r in rules {
            self.insert(r);
        }
    }

    pub fn contains(&self, rule: u32) -> bool {
        self.0.get((rule / 64) as usize).is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }

    pub fn union_with(&mut self, other: &RuleBits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }

    pub fn intersect_with(&mut self, other: &RuleBits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a &= b);
    }

    /// The rules in every one of the set's `parts` equal parts (of a multiple of 64 rules each), numbered from 0
    /// in each part.
    pub fn intersect_parts(&self, parts: usize) -> RuleBits {
        let words = self.0.len() / parts;
        if words == 0 {
            return RuleBits(Vec::new());
        }
        let mut out = RuleBits(self.0[..words].to_vec());
        for part in self.0.chunks_exact(words).skip(1) {
            out.0.iter_mut().zip(part).for_each(|(a, b)| *a &= b);
        }
        out
    }

    /// The rules in both sets.
    pub fn intersection(&self, other: &RuleBits) -> RuleBits {
        RuleBits(self.0.iter().zip(&other.0).map(|(a, b)| a & b).collect())
    }

    /// Whether the two sets share a rule.
    pub fn intersects(&self, other: &RuleBits) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The rules in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    i as u32 * 64 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RuleBits;

    #[test]
    fn set_operations_and_ordered_iteration() {
        let mut a = RuleBits::new(130);
        a.insert_all(&[129, 3, 64, 3]);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![3, 64, 129]);
        assert_eq!(a.len(), 3);
        let mut b = RuleBits::new(130);
        b.insert_all(&[64, 100]);
        let mut union = a.clone();
        union.union_with(&b);
        assert_eq!(union.iter().collect::<Vec<_>>(), vec![3, 64, 100, 129]);
        a.intersect_with(&b);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![64]);
        assert!(!a.contains(3) && a.contains(64) && !a.contains(5000));
        assert!(RuleBits::new(10).is_empty());
        let mut halves = RuleBits::new(128);
        halves.insert_all(&[1, 2, 64 + 2, 64 + 3]);
        assert_eq!(halves.intersect_parts(2).iter().collect::<Vec<_>>(), vec![2]);
        assert!(union.intersects(&b) && !RuleBits::new(130).intersects(&union));
    }
}
