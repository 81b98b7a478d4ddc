//! Tokens of ES|QL. After `FROM` (and `TS`) the lexer switches to source mode, where index
//! patterns (`logs-endpoint.events.*`, `-excluded`, `"quoted"`) are single tokens, until
//! `METADATA` or the next `|`.

use super::ast::Span;
use super::error::EsqlError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword (`where`, `emp_no`, `@timestamp`, `emp*`).
    Ident(String),
    /// A back-quoted identifier (`` `a.b` ``), never a keyword.
    Quoted(String),
    /// An index pattern in source mode.
    Source(String),
    Int(String),
    Decimal(String),
    Str(String),
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

const OPS: [&str; 26] = [
    "{", "}", ";", "?", "::", "==", "!=", "<=", ">=", "=~", "<", ">", "=", "+", "-", "*", "/", "%",
    "(", ")", "[", "]", ",", ":", "|", ".",
];

pub fn tokenize(src: &str) -> Result<Vec<Token>, EsqlError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: start..self.pos,
        });
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), EsqlError> {
        loop {
            let r = self.rest();
            let trimmed = r.trim_start();
            self.pos += r.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                match body.find("*/") {
                    Some(i) => self.pos += i + 4,
                    None => {
                        return Err(EsqlError::lex(
                            "unterminated comment",
                            self.pos..self.src.len(),
                        ));
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    fn at_command_start(&self) -> bool {
        match self.out.last() {
            None => true,
            Some(t) => t.tok == Tok::Op("|") || t.tok == Tok::Op(";"),
        }
    }

    fn run(&mut self) -> Result<(), EsqlError> {
        loop {
            self.skip_trivia()?;
            let start = self.pos;
            let Some(c) = self.rest().chars().next() else {
                self.push(Tok::Eof, start);
                return Ok(());
            };
            if c == '"' {
                let s = self.string()?;
                self.push(Tok::Str(s), start);
            } else if c == '`' {
                let s = self.quoted()?;
                self.push(Tok::Quoted(s), start);
            } else if c.is_ascii_digit()
                || (c == '.' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit()))
            {
                let t = self.number();
                self.push(t, start);
            } else if c.is_alphabetic() || c == '_' || c == '@' {
                let word = self.ident();
                let source = self.at_command_start()
                    && (word.eq_ignore_ascii_case("from") || word.eq_ignore_ascii_case("ts"));
                self.push(Tok::Ident(word), start);
                if source {
                    self.sources()?;
                }
            } else if let Some(op) = OPS.iter().find(|o| self.rest().starts_with(**o)) {
                self.pos += op.len();
                self.push(Tok::Op(op), start);
            } else {
                self.pos += c.len_utf8();
                return Err(EsqlError::lex(
                    format!("token recognition error at: '{c}'"),
                    start..self.pos,
                ));
            }
        }
    }

    fn ident(&mut self) -> String {
        let r = self.rest();
        let len = r
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '@'))
            .map_or(r.len(), |(i, _)| i);
        let w = r[..len].to_string();
        self.pos += len;
        w
    }

    fn number(&mut self) -> Tok {
        let r = self.rest().as_bytes();
        let mut i = 0;
        while i < r.len() && r[i].is_ascii_digit() {
            i += 1;
        }
        let mut decimal = false;
        if i < r.len() && r[i] == b'.' && r.get(i + 1).is_some_and(|b| b.is_ascii_digit()) {
            decimal = true;
            i += 1;
            while i < r.len() && r[i].is_ascii_digit() {
                i += 1;
            }
        } else if i < r.len()
            && r[i] == b'.'
            && !r
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            // `1.` is a decimal.
            decimal = true;
            i += 1;
        }
        if i < r.len() && (r[i] == b'e' || r[i] == b'E') {
            let mut j = i + 1;
            if j < r.len() && (r[j] == b'+' || r[j] == b'-') {
                j += 1;
            }
            if j < r.len() && r[j].is_ascii_digit() {
                while j < r.len() && r[j].is_ascii_digit() {
                    j += 1;
                }
                decimal = true;
                i = j;
            }
        }
        let text = self.rest()[..i].to_string();
        self.pos += i;
        if decimal {
            Tok::Decimal(text)
        } else {
            Tok::Int(text)
        }
    }

    fn string(&mut self) -> Result<String, EsqlError> {
        let start = self.pos;
        if self.rest().starts_with("\"\"\"") {
            let body = &self.rest()[3..];
            let Some(end) = body.find("\"\"\"") else {
                return Err(EsqlError::lex("unterminated string", start..self.src.len()));
            };
            // `""""` closes with the last run of quotes: extra quotes belong to the body.
            let mut end = end;
            while body[end + 3..].starts_with('"') {
                end += 1;
            }
            let s = body[..end].to_string();
            self.pos += end + 6;
            return Ok(s);
        }
        let mut out = String::new();
        let mut chars = self.rest()[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 2;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((j, e)) => {
                        let at = start + 1 + j;
                        return Err(EsqlError::lex(
                            format!("invalid escape sequence '\\{e}'"),
                            at - 1..at + e.len_utf8(),
                        ));
                    }
                    None => break,
                },
                '\n' | '\r' => {
                    return Err(EsqlError::lex("unterminated string", start..start + 1 + i));
                }
                c => out.push(c),
            }
        }
        Err(EsqlError::lex("unterminated string", start..self.src.len()))
    }

    fn quoted(&mut self) -> Result<String, EsqlError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.rest()[1..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().is_some_and(|&(_, n)| n == '`') {
                    chars.next();
                    out.push('`');
                    continue;
                }
                self.pos += i + 2;
                return Ok(out);
            }
            out.push(c);
        }
        Err(EsqlError::lex(
            "unterminated quoted identifier",
            start..self.src.len(),
        ))
    }

    /// Source mode: index patterns separated by commas, up to `|`, `METADATA` or the end.
    fn sources(&mut self) -> Result<(), EsqlError> {
        loop {
            self.skip_trivia()?;
            let start = self.pos;
            let r = self.rest();
            let Some(c) = r.chars().next() else {
                return Ok(());
            };
            match c {
                '|' => return Ok(()),
                ',' => {
                    self.pos += 1;
                    self.push(Tok::Op(","), start);
                }
                '"' => {
                    let s = self.string()?;
                    self.push(Tok::Source(s), start);
                }
                _ => {
                    let len = r
                        .char_indices()
                        .find(|&(_, c)| c.is_whitespace() || c == ',' || c == '|' || c == '"')
                        .map_or(r.len(), |(i, _)| i);
                    let len = if r[..len].contains("/*") || r[..len].contains("//") {
                        r[..len]
                            .find("/*")
                            .into_iter()
                            .chain(r[..len].find("//"))
                            .min()
                            .unwrap_or(len)
                    } else {
                        len
                    };
                    if len == 0 {
                        self.pos += c.len_utf8();
                        return Err(EsqlError::lex(
                            format!("token recognition error at: '{c}'"),
                            start..self.pos,
                        ));
                    }
                    let word = r[..len].to_string();
                    self.pos += len;
                    if word.eq_ignore_ascii_case("metadata") {
                        self.push(Tok::Ident(word), start);
                        return Ok(());
                    }
                    self.push(Tok::Source(word), start);
                }
            }
        }
    }
}
