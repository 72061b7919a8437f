//! The policy language, as oslo.policy's parser reads it.
//!
//! A check string is split on whitespace; parentheses at the start or end of a
//! word are separate tokens (those inside, as in `%(project_id)s`, belong to the
//! check); `and`, `or`, `not` are keywords in any letter case. `not` binds
//! tightest, then `and`, then `or`. oslo reduces tokens with a shift-reduce
//! table; the recursive descent here accepts the same strings and builds trees
//! that evaluate the same way. What oslo fails to parse (and then treats as "deny
//! everything") is an error here.

use super::check::Check;
use super::interpolation::MatchTemplate;
use super::python_literal::classify_left_side;

#[derive(Debug)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Check(Check),
    /// A whole word in quotes. oslo has a token for it but no rule using it, so
    /// it always makes the parse fail.
    Quoted(String),
}

/// Parses a check string. The empty string allows everything.
pub(crate) fn parse_check_str(text: &str) -> Result<Check, String> {
    if text.is_empty() {
        return Ok(Check::Always);
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("the check string is blank (use \"\" to allow everyone)".into());
    }
    let mut parser = Parser { tokens, pos: 0 };
    let check = parser.or_expression()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(check),
        Some(token) => Err(format!("unexpected {}", describe(token))),
    }
}

/// The legacy list-of-lists syntax of old policy.json files: the outer list is
/// OR, each inner list is AND, each string a single check (not an expression).
/// An empty outer list allows everything; if every inner list is empty nothing
/// is allowed.
pub(crate) fn parse_legacy_rule(alternatives: &[Vec<String>]) -> Result<Check, String> {
    if alternatives.is_empty() {
        return Ok(Check::Always);
    }
    let mut any = Vec::new();
    for alternative in alternatives.iter().filter(|a| !a.is_empty()) {
        let mut all = alternative
            .iter()
            .map(|s| parse_single_check(s))
            .collect::<Result<Vec<_>, _>>()?;
        any.push(if all.len() == 1 {
            all.remove(0)
        } else {
            Check::And(all)
        });
    }
    Ok(match any.len() {
        0 => Check::Never,
        1 => any.remove(0),
        _ => Check::Or(any),
    })
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    for word in text.split_whitespace() {
        let inner = word.trim_start_matches('(');
        tokens.extend((0..word.len() - inner.len()).map(|_| Token::Open));
        if inner.is_empty() {
            continue;
        }
        let clean = inner.trim_end_matches(')');
        let closing = inner.len() - clean.len();
        match clean.to_lowercase().as_str() {
            "and" => tokens.push(Token::And),
            "or" => tokens.push(Token::Or),
            "not" => tokens.push(Token::Not),
            _ if clean.is_empty() => {}
            // oslo tests the quotes on the word with its closing parentheses
            // still attached, so `'x')` is a check (and fails below), not a quote.
            _ if is_quoted(inner) => tokens.push(Token::Quoted(inner[1..inner.len() - 1].into())),
            _ => tokens.push(Token::Check(parse_single_check(clean)?)),
        }
        tokens.extend((0..closing).map(|_| Token::Close));
    }
    Ok(tokens)
}

fn is_quoted(word: &str) -> bool {
    word.len() >= 2
        && ((word.starts_with('"') && word.ends_with('"'))
            || (word.starts_with('\'') && word.ends_with('\'')))
}

/// One `kind:match` check (or `!` / `@`).
fn parse_single_check(text: &str) -> Result<Check, String> {
    match text {
        "!" => return Ok(Check::Never),
        "@" => return Ok(Check::Always),
        _ => {}
    }
    let Some((kind, right)) = text.split_once(':') else {
        return Err(format!(
            "{text:?} is not a check: expected kind:match, \"!\" or \"@\""
        ));
    };
    let in_check = |e: String| format!("in {text:?}: {e}");
    Ok(match kind {
        "rule" => Check::Rule(right.to_string()),
        "role" => Check::Role(MatchTemplate::parse(right).map_err(in_check)?),
        "http" | "https" => Check::Remote {
            kind: kind.into(),
            url: right.into(),
        },
        _ => Check::Generic {
            kind: kind.to_string(),
            left: classify_left_side(kind).map_err(in_check)?,
            right: MatchTemplate::parse(right).map_err(in_check)?,
        },
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next_if(&mut self, wanted: fn(&Token) -> bool) -> bool {
        let hit = self.tokens.get(self.pos).is_some_and(wanted);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn or_expression(&mut self) -> Result<Check, String> {
        let mut items = vec![self.and_expression()?];
        while self.next_if(|t| matches!(t, Token::Or)) {
            items.push(self.and_expression()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Check::Or(items)
        })
    }

    fn and_expression(&mut self) -> Result<Check, String> {
        let mut items = vec![self.unary()?];
        while self.next_if(|t| matches!(t, Token::And)) {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Check::And(items)
        })
    }

    fn unary(&mut self) -> Result<Check, String> {
        if self.next_if(|t| matches!(t, Token::Not)) {
            return Ok(Check::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Check, String> {
        let Some(token) = self.tokens.get_mut(self.pos) else {
            return Err("the check string ends where a check was expected".into());
        };
        match token {
            Token::Check(check) => {
                let check = std::mem::replace(check, Check::Never);
                self.pos += 1;
                Ok(check)
            }
            Token::Open => {
                self.pos += 1;
                let inner = self.or_expression()?;
                if self.next_if(|t| matches!(t, Token::Close)) {
                    Ok(inner)
                } else {
                    Err("a '(' is not closed".into())
                }
            }
            other => Err(format!(
                "unexpected {} where a check was expected",
                describe(other)
            )),
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::And => "'and'".into(),
        Token::Or => "'or'".into(),
        Token::Not => "'not'".into(),
        Token::Check(check) => format!("check {check}"),
        Token::Quoted(text) => format!("quoted word {text:?}, which is not a check"),
    }
}
