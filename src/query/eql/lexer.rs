//! Tokens of EQL, each with its byte span.
//!
//! Keywords are lower-case only (`AND` is an identifier). Dotted field names are one token
//! (`event.sequence` is a field even though `sequence` is a keyword); back-ticks quote a segment.

use super::error::EqlError;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A field or function name, dots included; `quoted` when any segment used back-ticks.
    Ident {
        name: String,
        quoted: bool,
    },
    /// A string literal, escapes resolved; `raw` for `"""…"""`.
    Str {
        value: String,
        raw: bool,
    },
    Int(i64),
    Float(f64),
    // keywords
    And,
    Any,
    By,
    False,
    In,
    InCi,
    Like,
    LikeCi,
    Maxspan,
    Not,
    Null,
    Or,
    Regex,
    RegexCi,
    Sample,
    Sequence,
    True,
    Until,
    Where,
    With,
    /// `join`, `of`, `fork`: parsed by old grammars, rejected by Elasticsearch.
    Reserved(&'static str),
    // punctuation
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `![`, opening a missing-event stage.
    BangBracket,
    Comma,
    Pipe,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `=`, only valid in `maxspan=` and `runs=`.
    Assign,
    Question,
    Tilde,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident { name, .. } => format!("identifier `{name}`"),
            Tok::Str { .. } => "string".into(),
            Tok::Int(v) => format!("number `{v}`"),
            Tok::Float(v) => format!("number `{v}`"),
            Tok::Reserved(w) => format!("`{w}`"),
            Tok::Eof => "end of query".into(),
            other => format!("`{}`", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::And => "and",
            Tok::Any => "any",
            Tok::By => "by",
            Tok::False => "false",
            Tok::In => "in",
            Tok::InCi => "in~",
            Tok::Like => "like",
            Tok::LikeCi => "like~",
            Tok::Maxspan => "maxspan",
            Tok::Not => "not",
            Tok::Null => "null",
            Tok::Or => "or",
            Tok::Regex => "regex",
            Tok::RegexCi => "regex~",
            Tok::Sample => "sample",
            Tok::Sequence => "sequence",
            Tok::True => "true",
            Tok::Until => "until",
            Tok::Where => "where",
            Tok::With => "with",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::BangBracket => "![",
            Tok::Comma => ",",
            Tok::Pipe => "|",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Colon => ":",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Assign => "=",
            Tok::Question => "?",
            Tok::Tilde => "~",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, EqlError> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Vec<Token>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'@'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@'
}

impl<'a> Lexer<'a> {
    fn peek_at(&self, off: usize) -> Option<u8> {
        self.bytes.get(self.pos + off).copied()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: start..self.pos,
        });
    }

    fn run(&mut self) -> Result<(), EqlError> {
        loop {
            self.skip_trivia()?;
            let start = self.pos;
            let Some(b) = self.peek_at(0) else {
                self.push(Tok::Eof, start);
                return Ok(());
            };
            match b {
                b'"' => self.string(start)?,
                b'\'' => {
                    return Err(EqlError::lex(
                        "use double quotes [\"] to define string literals, not single quotes [']",
                        start..start + 1,
                    ));
                }
                b'`' => self.ident(start)?,
                b'0'..=b'9' => self.number(start)?,
                b'.' if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                    self.number(start)?
                }
                b if is_ident_start(b) => self.ident(start)?,
                _ => self.punct(start)?,
            }
        }
    }

    fn skip_trivia(&mut self) -> Result<(), EqlError> {
        loop {
            match self.peek_at(0) {
                Some(b) if b.is_ascii_whitespace() => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'/') => {
                    while let Some(b) = self.peek_at(0) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    let start = self.pos;
                    match self.src[self.pos + 2..].find("*/") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => {
                            return Err(EqlError::lex(
                                "unterminated comment",
                                start..self.src.len(),
                            ));
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn punct(&mut self, start: usize) -> Result<(), EqlError> {
        let b = self.bytes[self.pos];
        let next = self.peek_at(1);
        let (tok, len) = match (b, next) {
            (b'=', Some(b'=')) => (Tok::EqEq, 2),
            (b'!', Some(b'=')) => (Tok::NotEq, 2),
            (b'!', Some(b'[')) => (Tok::BangBracket, 2),
            (b'<', Some(b'=')) => (Tok::Le, 2),
            (b'>', Some(b'=')) => (Tok::Ge, 2),
            (b'=', _) => (Tok::Assign, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'|', _) => (Tok::Pipe, 1),
            (b':', _) => (Tok::Colon, 1),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Star, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', _) => (Tok::Percent, 1),
            (b'~', _) => (Tok::Tilde, 1),
            (b'?', Some(b'"')) => {
                return Err(EqlError::lex(
                    "Endgame raw strings ?\"…\" are not supported; use \"\"\"…\"\"\"",
                    start..start + 2,
                ));
            }
            (b'?', _) => (Tok::Question, 1),
            _ => {
                let ch = self.src[self.pos..].chars().next().unwrap_or('?');
                return Err(EqlError::lex(
                    format!("unexpected character {ch:?}"),
                    start..start + ch.len_utf8(),
                ));
            }
        };
        self.pos += len;
        self.push(tok, start);
        Ok(())
    }

    fn ident(&mut self, start: usize) -> Result<(), EqlError> {
        let mut name = String::new();
        let mut quoted = false;
        let mut segments = 0;
        loop {
            if self.peek_at(0) == Some(b'`') {
                quoted = true;
                self.pos += 1;
                loop {
                    match self.peek_at(0) {
                        None => {
                            return Err(EqlError::lex(
                                "unterminated quoted identifier",
                                start..self.src.len(),
                            ));
                        }
                        Some(b'`') if self.peek_at(1) == Some(b'`') => {
                            name.push('`');
                            self.pos += 2;
                        }
                        Some(b'`') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
                            name.push(ch);
                            self.pos += ch.len_utf8();
                        }
                    }
                }
            } else {
                let s = self.pos;
                while self.peek_at(0).is_some_and(is_ident_continue) {
                    self.pos += 1;
                }
                name.push_str(&self.src[s..self.pos]);
            }
            segments += 1;
            // Another segment only when a dot is directly followed by a name start.
            if self.peek_at(0) == Some(b'.')
                && self
                    .peek_at(1)
                    .is_some_and(|c| is_ident_start(c) || c == b'`')
            {
                name.push('.');
                self.pos += 1;
            } else {
                break;
            }
        }
        let tilde = self.peek_at(0) == Some(b'~');
        let tok = if quoted || segments > 1 {
            Tok::Ident { name, quoted }
        } else {
            match name.as_str() {
                "and" => Tok::And,
                "any" => Tok::Any,
                "by" => Tok::By,
                "false" => Tok::False,
                "in" if tilde => {
                    self.pos += 1;
                    Tok::InCi
                }
                "in" => Tok::In,
                "like" if tilde => {
                    self.pos += 1;
                    Tok::LikeCi
                }
                "like" => Tok::Like,
                "maxspan" => Tok::Maxspan,
                "not" => Tok::Not,
                "null" => Tok::Null,
                "or" => Tok::Or,
                "regex" if tilde => {
                    self.pos += 1;
                    Tok::RegexCi
                }
                "regex" => Tok::Regex,
                "sample" => Tok::Sample,
                "sequence" => Tok::Sequence,
                "true" => Tok::True,
                "until" => Tok::Until,
                "where" => Tok::Where,
                "with" => Tok::With,
                "join" => Tok::Reserved("join"),
                "of" => Tok::Reserved("of"),
                "fork" => Tok::Reserved("fork"),
                _ => Tok::Ident { name, quoted },
            }
        };
        self.push(tok, start);
        Ok(())
    }

    fn number(&mut self, start: usize) -> Result<(), EqlError> {
        let mut is_float = false;
        while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.peek_at(0) == Some(b'.') {
            is_float = true;
            self.pos += 1;
            while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek_at(0), Some(b'e' | b'E')) {
            let digits_at = match self.peek_at(1) {
                Some(b'+' | b'-') => 2,
                _ => 1,
            };
            if self.peek_at(digits_at).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos += digits_at;
                while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        let text = &self.src[start..self.pos];
        let tok = if is_float {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Tok::Float(v),
                _ => {
                    return Err(EqlError::lex(
                        format!("number [{text}] is too large"),
                        start..self.pos,
                    ));
                }
            }
        } else {
            match text.parse::<i64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => {
                    return Err(EqlError::lex(
                        format!("number [{text}] is too large"),
                        start..self.pos,
                    ));
                }
            }
        };
        self.push(tok, start);
        Ok(())
    }

    fn string(&mut self, start: usize) -> Result<(), EqlError> {
        if self.src[self.pos..].starts_with("\"\"\"") {
            let body = self.pos + 3;
            return match self.src[body..].find("\"\"\"") {
                Some(i) => {
                    let value = self.src[body..body + i].to_string();
                    self.pos = body + i + 3;
                    self.push(Tok::Str { value, raw: true }, start);
                    Ok(())
                }
                None => Err(EqlError::lex(
                    "unterminated raw string",
                    start..self.src.len(),
                )),
            };
        }
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(b) = self.peek_at(0) else {
                return Err(EqlError::lex("unterminated string", start..self.src.len()));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    let esc_start = self.pos;
                    let Some(e) = self.peek_at(1) else {
                        return Err(EqlError::lex("unterminated string", start..self.src.len()));
                    };
                    self.pos += 2;
                    match e {
                        b'n' => value.push('\n'),
                        b'r' => value.push('\r'),
                        b't' => value.push('\t'),
                        b'b' => value.push('\u{8}'),
                        b'f' => value.push('\u{c}'),
                        b'\\' => value.push('\\'),
                        b'"' => value.push('"'),
                        b'\'' => value.push('\''),
                        b'u' => value.push(self.unicode_escape(esc_start)?),
                        _ => {
                            let ch = self.src[esc_start + 1..].chars().next().unwrap_or('?');
                            return Err(EqlError::lex(
                                format!("illegal escape sequence \\{ch}"),
                                esc_start..esc_start + 1 + ch.len_utf8(),
                            ));
                        }
                    }
                }
                b'\n' | b'\r' => {
                    return Err(EqlError::lex(
                        "line break inside a string; use \\n or a raw string \"\"\"…\"\"\"",
                        self.pos..self.pos + 1,
                    ));
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
                    value.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        self.push(Tok::Str { value, raw: false }, start);
        Ok(())
    }

    /// `\u{XXXX}`: 2 to 8 hex digits, a valid Unicode scalar value. `pos` is just after `\u`.
    fn unicode_escape(&mut self, esc_start: usize) -> Result<char, EqlError> {
        let bad =
            |end: usize, why: &str| EqlError::lex(format!("{why} in \\u escape"), esc_start..end);
        if self.peek_at(0) != Some(b'{') {
            return Err(bad(self.pos, "expected {"));
        }
        let digits_start = self.pos + 1;
        let mut end = digits_start;
        while self.bytes.get(end).is_some_and(|c| c.is_ascii_hexdigit()) {
            end += 1;
        }
        if self.bytes.get(end) != Some(&b'}') {
            return Err(bad(end.min(self.src.len()), "expected hex digits and }"));
        }
        let n = end - digits_start;
        if !(2..=8).contains(&n) {
            return Err(bad(end + 1, "expected 2 to 8 hex digits"));
        }
        let code = u32::from_str_radix(&self.src[digits_start..end], 16)
            .map_err(|_| bad(end + 1, "invalid code point"))?;
        let ch = char::from_u32(code).ok_or_else(|| bad(end + 1, "invalid code point"))?;
        self.pos = end + 1;
        Ok(ch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn dotted_names_with_keyword_segments_are_identifiers() {
        assert_eq!(
            toks("event.sequence in~"),
            vec![
                Tok::Ident {
                    name: "event.sequence".into(),
                    quoted: false
                },
                Tok::InCi,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#""a\tb\u{41}\"" """C:\x\*""""#),
            vec![
                Tok::Str {
                    value: "a\tbA\"".into(),
                    raw: false
                },
                Tok::Str {
                    value: r"C:\x\*".into(),
                    raw: true
                },
                Tok::Eof
            ]
        );
        assert!(tokenize(r#""\q""#).is_err());
        assert!(tokenize("'x'").is_err());
        assert!(tokenize("?\"x\"").is_err());
        assert_eq!(
            toks(r#""""#),
            vec![
                Tok::Str {
                    value: String::new(),
                    raw: false
                },
                Tok::Eof
            ]
        );
    }

    #[test]
    fn numbers_comments_and_spans() {
        assert_eq!(
            toks("1 2.5 .5 1e3 // c\n /* d */ 30s"),
            vec![
                Tok::Int(1),
                Tok::Float(2.5),
                Tok::Float(0.5),
                Tok::Float(1000.0),
                Tok::Int(30),
                Tok::Ident {
                    name: "s".into(),
                    quoted: false
                },
                Tok::Eof
            ]
        );
        let t = tokenize("a  ==  `b-c`.d").unwrap();
        assert_eq!(t[1].span, 3..5);
        assert_eq!(
            t[2].tok,
            Tok::Ident {
                name: "b-c.d".into(),
                quoted: true
            }
        );
        assert_eq!(t[2].span, 7..14);
    }
}
