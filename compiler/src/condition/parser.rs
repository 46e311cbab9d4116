//! Condition parser: a nom lexer, then precedence climbing over the tokens (`not` > `and` > `or`).
//!
//! Keywords are whole words, so `notepad` and `order_1` are identifiers. Upper-case operators are accepted with a
//! warning. The legacy pipe syntax gets its own error telling the author to write a correlation rule.

use super::{Condition, Quantifier, SelectorTarget};
use crate::codes::Code;
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::character::complete::{char, multispace0};
use nom::combinator::map;
use nom::{IResult, Parser};

/// Parentheses and `not` nested deeper than this are rejected.
pub const MAX_DEPTH: usize = 64;

/// A condition that does not parse. `offset` counts characters from the start of the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub code: Code,
    pub offset: usize,
    pub message: String,
}

/// Something accepted but worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub code: Code,
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Open,
    Close,
    /// `|`: the legacy aggregation syntax.
    Pipe,
    /// Any other character; reported when the parser reaches it, so errors come in source order.
    Other(char),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    /// Character offset in the condition.
    offset: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.')
}

fn token(input: &str) -> IResult<&str, Tok<'_>> {
    alt((
        map(char('('), |_| Tok::Open),
        map(char(')'), |_| Tok::Close),
        map(char('|'), |_| Tok::Pipe),
        map(take_while1(is_word_char), Tok::Word),
    ))
    .parse(input)
}

/// The longest condition read, in characters (SigmaHQ's longest is under 1,000): beyond, `too-large`.
pub const MAX_LENGTH: usize = 100_000;

fn lex(source: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = source;
    // Character offsets counted as the text is consumed: counting from the start for each token would be quadratic.
    let (mut offset, mut counted_to) = (0, 0);
    loop {
        let (after_space, _) = multispace0::<&str, nom::error::Error<&str>>(rest).unwrap_or((rest, ""));
        rest = after_space;
        let Some(c) = rest.chars().next() else {
            return tokens;
        };
        let at = source.len() - rest.len();
        offset += source[counted_to..at].chars().count();
        counted_to = at;
        match token(rest) {
            Ok((next, tok)) => {
                tokens.push(Token { tok, offset });
                rest = next;
            }
            Err(_) => {
                tokens.push(Token { tok: Tok::Other(c), offset });
                rest = &rest[c.len_utf8()..];
            }
        }
    }
}

const AGGREGATIONS: [&str; 5] = ["count", "min", "max", "avg", "sum"];

fn legacy_aggregation(offset: usize) -> ParseError {
    ParseError {
        code: Code::LegacyAggregation,
        offset,
        message: "the legacy aggregation syntax (`| count() ...`, `| near ...`) is not part of Sigma v2: \
                  write a correlation rule instead"
            .into(),
    }
}

/// The legacy pipe or an aggregation call anywhere in the condition explains any other error, so it is
/// reported first.
fn find_legacy_aggregation(tokens: &[Token<'_>]) -> Option<ParseError> {
    tokens.iter().enumerate().find_map(|(i, token)| match token.tok {
        Tok::Pipe => Some(legacy_aggregation(token.offset)),
        Tok::Word(w)
            if AGGREGATIONS.contains(&w) && matches!(tokens.get(i + 1), Some(Token { tok: Tok::Open, .. })) =>
        {
            Some(legacy_aggregation(token.offset))
        }
        _ => None,
    })
}

/// Parses a condition string. Warnings (upper-case operators) come back beside the tree.
pub fn parse(source: &str) -> Result<(Condition, Vec<ParseWarning>), ParseError> {
    if source.len() > MAX_LENGTH && source.chars().count() > MAX_LENGTH {
        return Err(ParseError {
            code: Code::TooLarge,
            offset: 0,
            message: format!("the condition is longer than {MAX_LENGTH} characters"),
        });
    }
    let tokens = lex(source);
    if let Some(error) = find_legacy_aggregation(&tokens) {
        return Err(error);
    }
    let mut parser = TokenParser { tokens, at: 0, warnings: Vec::new(), end: source.chars().count() };
    if parser.tokens.is_empty() {
        return Err(ParseError { code: Code::ConditionSyntax, offset: 0, message: "the condition is empty".into() });
    }
    let condition = parser.or(0)?;
    if let Some(token) = parser.peek() {
        return Err(parser.unexpected(token, "`and`, `or` or the end of the condition"));
    }
    Ok((condition, parser.warnings))
}

struct TokenParser<'a> {
    tokens: Vec<Token<'a>>,
    at: usize,
    warnings: Vec<ParseWarning>,
    end: usize,
}

const KEYWORDS: [&str; 4] = ["and", "or", "not", "of"];

impl<'a> TokenParser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<Token<'a>> {
        self.tokens.get(self.at + ahead).copied()
    }

    /// Whether the next token is `keyword` (any case); upper-case use gets a warning once consumed.
    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
    }

    fn take_keyword(&mut self, keyword: &str) -> bool {
        let Some(Token { tok: Tok::Word(word), offset }) = self.peek() else {
            return false;
        };
        if !word.eq_ignore_ascii_case(keyword) {
            return false;
        }
        if word != keyword {
            self.warnings.push(ParseWarning {
                code: Code::UppercaseOperator,
                offset,
                message: format!("`{word}` is accepted, but Sigma operators are lower case (`{keyword}`)"),
            });
        }
        self.at += 1;
        true
    }

    fn unexpected(&self, token: Token<'_>, expected: &str) -> ParseError {
        let found = match token.tok {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Pipe => "`|`".into(),
            Tok::Other(c) => format!("`{c}`"),
        };
        ParseError {
            code: Code::ConditionSyntax,
            offset: token.offset,
            message: format!("expected {expected}, found {found}"),
        }
    }

    fn end_error(&self, expected: &str) -> ParseError {
        ParseError {
            code: Code::ConditionSyntax,
            offset: self.end,
            message: format!("expected {expected}, found the end of the condition"),
        }
    }

    fn check_depth(&self, depth: usize, offset: usize) -> Result<(), ParseError> {
        if depth >= MAX_DEPTH {
            return Err(ParseError {
                code: Code::NestingTooDeep,
                offset,
                message: format!("the condition nests deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }

    fn or(&mut self, depth: usize) -> Result<Condition, ParseError> {
        let mut items = vec![self.and(depth)?];
        while self.take_keyword("or") {
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Condition::Or(Vec::new())) } else { Condition::Or(items) })
    }

    fn and(&mut self, depth: usize) -> Result<Condition, ParseError> {
        let mut items = vec![self.not(depth)?];
        while self.take_keyword("and") {
            items.push(self.not(depth)?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Condition::And(Vec::new())) } else { Condition::And(items) })
    }

    fn not(&mut self, depth: usize) -> Result<Condition, ParseError> {
        if self.at_keyword("not") {
            let offset = self.peek().map_or(0, |t| t.offset);
            self.check_depth(depth, offset)?;
            self.take_keyword("not");
            return Ok(Condition::Not(Box::new(self.not(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Condition, ParseError> {
        const OPERAND: &str = "a detection name, `(`, `not`, `1 of` or `all of`";
        let Some(token) = self.peek() else {
            return Err(self.end_error(OPERAND));
        };
        match token.tok {
            Tok::Open => {
                self.check_depth(depth, token.offset)?;
                self.at += 1;
                let inner = self.or(depth + 1)?;
                match self.peek() {
                    Some(Token { tok: Tok::Close, .. }) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    Some(other) => Err(self.unexpected(other, "`)`")),
                    None => Err(ParseError {
                        code: Code::ConditionSyntax,
                        offset: token.offset,
                        message: "this `(` is never closed".into(),
                    }),
                }
            }
            Tok::Close | Tok::Pipe | Tok::Other(_) => Err(self.unexpected(token, OPERAND)),
            Tok::Word(word) => {
                let followed_by_of =
                    matches!(self.peek_at(1), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case("of"));
                if followed_by_of {
                    return self.selector(word, token.offset);
                }
                if KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    return Err(self.unexpected(token, OPERAND));
                }
                if word.contains('*') {
                    return Err(ParseError {
                        code: Code::ConditionSyntax,
                        offset: token.offset,
                        message: format!("`{word}`: a wildcard pattern needs `1 of` or `all of` before it"),
                    });
                }
                self.at += 1;
                Ok(Condition::Ident(word.to_string()))
            }
        }
    }

    fn selector(&mut self, word: &str, offset: usize) -> Result<Condition, ParseError> {
        let quantifier = if word == "1" || word.eq_ignore_ascii_case("any") {
            Quantifier::Any
        } else if word.eq_ignore_ascii_case("all") {
            Quantifier::All
        } else if word.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError {
                code: Code::UnsupportedQuantifier,
                offset,
                message: format!("`{word} of` is not Sigma: only `1 of`, `any of` and `all of` exist"),
            });
        } else {
            return Err(ParseError {
                code: Code::ConditionSyntax,
                offset,
                message: format!("expected `1`, `any` or `all` before `of`, found `{word}`"),
            });
        };
        if word != word.to_ascii_lowercase() {
            self.warnings.push(ParseWarning {
                code: Code::UppercaseOperator,
                offset,
                message: format!("`{word}` is accepted, but Sigma keywords are lower case"),
            });
        }
        self.at += 1;
        self.take_keyword("of");
        let Some(token) = self.peek() else {
            return Err(self.end_error("`them` or a name pattern after `of`"));
        };
        let Tok::Word(target) = token.tok else {
            return Err(self.unexpected(token, "`them` or a name pattern after `of`"));
        };
        if KEYWORDS.iter().any(|k| target.eq_ignore_ascii_case(k)) {
            return Err(self.unexpected(token, "`them` or a name pattern after `of`"));
        }
        let target = if target.eq_ignore_ascii_case("them") {
            if target != "them" {
                self.warnings.push(ParseWarning {
                    code: Code::UppercaseOperator,
                    offset: token.offset,
                    message: format!("`{target}` is accepted, but Sigma keywords are lower case (`them`)"),
                });
            }
            SelectorTarget::Them
        } else {
            SelectorTarget::Pattern(target.to_string())
        };
        self.at += 1;
        Ok(Condition::Selector { quantifier, target })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(source: &str) -> Condition {
        parse(source).unwrap_or_else(|e| panic!("{source}: {e:?}")).0
    }

    fn ident(name: &str) -> Condition {
        Condition::Ident(name.to_string())
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(
            tree("a or b and not c"),
            Condition::Or(vec![ident("a"), Condition::And(vec![ident("b"), Condition::Not(Box::new(ident("c")))])])
        );
        assert_eq!(tree("(a or b) and c").to_string(), "(a or b) and c");
    }

    #[test]
    fn keywords_only_on_word_boundaries() {
        assert_eq!(tree("notepad and order_1"), Condition::And(vec![ident("notepad"), ident("order_1")]));
        assert_eq!(tree("sel-1 or android"), Condition::Or(vec![ident("sel-1"), ident("android")]));
    }

    #[test]
    fn selectors() {
        assert_eq!(
            tree("1 of sel-*"),
            Condition::Selector { quantifier: Quantifier::Any, target: SelectorTarget::Pattern("sel-*".into()) }
        );
        assert_eq!(
            tree("any of them"),
            Condition::Selector { quantifier: Quantifier::Any, target: SelectorTarget::Them }
        );
        assert_eq!(tree("all of *a*b*").to_string(), "all of *a*b*");
    }

    #[test]
    fn uppercase_operators_warn() {
        let (condition, warnings) = parse("a AND NOT b").unwrap();
        assert_eq!(condition, Condition::And(vec![ident("a"), Condition::Not(Box::new(ident("b")))]));
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[0].offset, 2);
    }

    #[test]
    fn errors_have_codes_and_offsets() {
        let e = parse("selection | count() by x > 5").unwrap_err();
        assert_eq!((e.code, e.offset), (Code::LegacyAggregation, 10));
        let e = parse("count(x) by y > 5").unwrap_err();
        assert_eq!((e.code, e.offset), (Code::LegacyAggregation, 0));
        let e = parse("a and b > 5").unwrap_err();
        assert_eq!((e.code, e.offset), (Code::ConditionSyntax, 8));
        let e = parse("a and").unwrap_err();
        assert_eq!((e.code, e.offset), (Code::ConditionSyntax, 5));
        let e = parse("2 of sel*").unwrap_err();
        assert_eq!(e.code, Code::UnsupportedQuantifier);
        let e = parse("(a or b").unwrap_err();
        assert_eq!((e.code, e.offset), (Code::ConditionSyntax, 0));
        let e = parse("a b").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = parse("sel*").unwrap_err();
        assert_eq!(e.code, Code::ConditionSyntax);
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(parse(&deep).unwrap_err().code, Code::NestingTooDeep);
        let nots = format!("{}a", "not ".repeat(100));
        assert_eq!(parse(&nots).unwrap_err().code, Code::NestingTooDeep);
    }

    #[test]
    fn print_then_parse_is_identity() {
        for source in [
            "a",
            "a and b or c",
            "a and (b or c)",
            "not (a and b)",
            "not not a",
            "a and (b and c)",
            "(a or b) or c",
            "1 of sel* and not all of filter_*",
            "all of them or (x and not 1 of _f*)",
        ] {
            let first = tree(source);
            let printed = first.to_string();
            assert_eq!(tree(&printed), first, "{source} -> {printed}");
        }
    }
}
