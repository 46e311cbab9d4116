//! The Sigma condition language: `selection and not 1 of filter_*`.
//!
//! [`parse`] turns the condition string into a [`Condition`] tree that stays faithful to the text (identifiers are
//! not resolved here); `Display` prints it back with the fewest parentheses that keep the same tree.

mod parser;

pub use parser::parse;

use std::fmt;

/// A parsed condition. `And`/`Or` hold two or more operands in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Ident(String),
    /// `1 of x*`, `any of x*`, `all of them`.
    Selector {
        quantifier: Quantifier,
        target: SelectorTarget,
    },
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// `1 of` and `any of`.
    Any,
    /// `all of`.
    All,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorTarget {
    /// `them`: every detection whose name does not start with `_`.
    Them,
    /// A name pattern where `*` matches any run of characters.
    Pattern(String),
}

impl SelectorTarget {
    /// Whether detection `name` is selected, with the `_` rule: names starting with `_` are only selected by
    /// patterns that themselves start with `_`.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            SelectorTarget::Them => !name.starts_with('_'),
            SelectorTarget::Pattern(pattern) => {
                (pattern.starts_with('_') || !name.starts_with('_')) && glob_match(pattern.as_bytes(), name.as_bytes())
            }
        }
    }
}

/// `*`-only glob matching with backtracking to the last star (linear for practical patterns).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl Condition {
    fn precedence(&self) -> u8 {
        match self {
            Condition::Or(_) => 1,
            Condition::And(_) => 2,
            Condition::Not(_) => 3,
            Condition::Ident(_) | Condition::Selector { .. } => 4,
        }
    }

    fn write_operand(&self, f: &mut fmt::Formatter<'_>, parent: u8) -> fmt::Result {
        // A child of the same precedence is parenthesised too, so that printing then parsing gives the same tree.
        if self.precedence() <= parent && self.precedence() < 3 {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Ident(name) => f.write_str(name),
            Condition::Selector { quantifier, target } => {
                let q = match quantifier {
                    Quantifier::Any => "1",
                    Quantifier::All => "all",
                };
                match target {
                    SelectorTarget::Them => write!(f, "{q} of them"),
                    SelectorTarget::Pattern(p) => write!(f, "{q} of {p}"),
                }
            }
            Condition::Not(inner) => {
                f.write_str("not ")?;
                inner.write_operand(f, 2)
            }
            Condition::And(items) | Condition::Or(items) => {
                let (op, prec) = if matches!(self, Condition::And(_)) { (" and ", 2) } else { (" or ", 1) };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    item.write_operand(f, prec)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscore_names_need_an_underscore_pattern() {
        assert!(SelectorTarget::Them.selects("selection"));
        assert!(!SelectorTarget::Them.selects("_filter"));
        assert!(!SelectorTarget::Pattern("*".into()).selects("_filter"));
        assert!(SelectorTarget::Pattern("_filt*".into()).selects("_filter"));
        assert!(SelectorTarget::Pattern("filter_*".into()).selects("filter_main-x"));
        assert!(SelectorTarget::Pattern("sel*_a*b".into()).selects("sel_1_aXXb"));
        assert!(!SelectorTarget::Pattern("sel".into()).selects("selection"));
    }
}
