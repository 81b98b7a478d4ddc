//! A recursive-descent parser for the Lucene classic query-string syntax as Elasticsearch's
//! `query_string` reads it (`reference/kql.md` §7): default operator OR, `AND`/`OR`/`NOT` (and
//! `&&`, `||`, `!`), `+`/`-` modifiers with Lucene's clause-occurrence rules, fields and field
//! groups, wildcards `*` `?`, `/regex/`, `~` fuzziness and phrase slop, `^` boosts, ranges in
//! brackets or with `>=` style prefixes, and `_exists_:`.

use super::ast::{Field, Node, NodeKind, Occur, TermPart};
use crate::query::kql::{KqlError, KqlErrorKind, MAX_DEPTH};

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{3000}')
}

/// Characters that cannot start a term (besides whitespace).
fn not_term_start(c: char) -> bool {
    matches!(
        c,
        '+' | '-'
            | '!'
            | '('
            | ')'
            | ':'
            | '^'
            | '['
            | ']'
            | '"'
            | '{'
            | '}'
            | '~'
            | '*'
            | '?'
            | '\\'
            | '/'
    )
}

/// Characters that end a term (besides whitespace); `+` and `-` may continue one.
fn ends_term(c: char) -> bool {
    matches!(
        c,
        '!' | '(' | ')' | ':' | '^' | '[' | ']' | '"' | '{' | '}' | '~' | '/'
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    And,
    Or,
    Not,
    Plus,
    Minus,
    LParen,
    RParen,
    Colon,
    Caret,
    Tilde,
    RangeOpen(bool),
    Quoted(String),
    Regex(String),
    /// A term; `raw` is the source text (escapes kept), `parts` the unescaped pieces.
    Term {
        raw: String,
        parts: Vec<TermPart>,
    },
    Other(char),
    Eof,
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

type Spanned = (Tok, usize, usize);

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub(crate) fn parse_query(mut self) -> Result<Option<Node>, KqlError> {
        if self.peek()?.0 == Tok::Eof {
            return Ok(None);
        }
        let node = self.query(&None)?;
        let (tok, s, e) = self.peek()?;
        if tok != Tok::Eof {
            return Err(self.unexpected(&tok, s, e, "an operator, a clause or the end"));
        }
        Ok(Some(node))
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn skip_ws(&self, mut pos: usize) -> usize {
        while let Some(c) = self.char_at(pos) {
            if !is_ws(c) {
                break;
            }
            pos += c.len_utf8();
        }
        pos
    }

    /// The next token without consuming it.
    fn peek(&self) -> Result<Spanned, KqlError> {
        let start = self.skip_ws(self.pos);
        let Some(c) = self.char_at(start) else {
            return Ok((Tok::Eof, start, start));
        };
        let one = |t: Tok| Ok((t, start, start + c.len_utf8()));
        match c {
            '(' => one(Tok::LParen),
            ')' => one(Tok::RParen),
            ':' => one(Tok::Colon),
            '^' => one(Tok::Caret),
            '~' => one(Tok::Tilde),
            '+' => one(Tok::Plus),
            '-' => one(Tok::Minus),
            '!' => one(Tok::Not),
            '[' => one(Tok::RangeOpen(true)),
            '{' => one(Tok::RangeOpen(false)),
            ']' | '}' => one(Tok::Other(c)),
            '"' => self.quoted(start),
            '/' => self.regex(start),
            _ => self.term(start),
        }
    }

    fn bump(&mut self, end: usize) {
        self.pos = end;
    }

    fn quoted(&self, start: usize) -> Result<Spanned, KqlError> {
        let mut pos = start + 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.char_at(pos) else {
                return Err(KqlError::new(
                    KqlErrorKind::UnterminatedString,
                    "unterminated quoted phrase: add the closing `\"`",
                    start..self.src.len(),
                ));
            };
            pos += c.len_utf8();
            match c {
                '"' => return Ok((Tok::Quoted(out), start, pos)),
                '\\' => {
                    let Some(n) = self.char_at(pos) else {
                        continue;
                    };
                    out.push(n);
                    pos += n.len_utf8();
                }
                c => out.push(c),
            }
        }
    }

    fn regex(&self, start: usize) -> Result<Spanned, KqlError> {
        let mut pos = start + 1;
        loop {
            let Some(c) = self.char_at(pos) else {
                return Err(KqlError::new(
                    KqlErrorKind::UnterminatedString,
                    "unterminated regular expression: add the closing `/`",
                    start..self.src.len(),
                ));
            };
            if c == '\\' && self.char_at(pos + 1) == Some('/') {
                pos += 2;
                continue;
            }
            pos += c.len_utf8();
            if c == '/' {
                let body = self.src[start + 1..pos - 1].to_string();
                return Ok((Tok::Regex(body), start, pos));
            }
        }
    }

    fn term(&self, start: usize) -> Result<Spanned, KqlError> {
        let mut pos = start;
        let mut parts: Vec<TermPart> = Vec::new();
        let mut cur = String::new();
        while let Some(c) = self.char_at(pos) {
            let first = pos == start;
            if c == '\\' {
                let Some(n) = self.char_at(pos + 1) else {
                    return Err(KqlError::new(
                        KqlErrorKind::InvalidEscape,
                        "a backslash at the end of the query escapes nothing",
                        pos..pos + 1,
                    ));
                };
                cur.push(n);
                pos += 1 + n.len_utf8();
                continue;
            }
            if c == '*' || c == '?' {
                if !cur.is_empty() {
                    parts.push(TermPart::Text(std::mem::take(&mut cur)));
                }
                parts.push(if c == '*' {
                    TermPart::Star
                } else {
                    TermPart::One
                });
                pos += 1;
                continue;
            }
            if is_ws(c) || ends_term(c) || (first && not_term_start(c)) {
                break;
            }
            cur.push(c);
            pos += c.len_utf8();
        }
        if pos == start {
            let c = self.char_at(start).unwrap_or(' ');
            return Ok((Tok::Other(c), start, start + c.len_utf8()));
        }
        if !cur.is_empty() {
            parts.push(TermPart::Text(cur));
        }
        let raw = &self.src[start..pos];
        let tok = match raw {
            "AND" | "&&" => Tok::And,
            "OR" | "||" => Tok::Or,
            "NOT" => Tok::Not,
            _ => Tok::Term {
                raw: raw.to_string(),
                parts,
            },
        };
        Ok((tok, start, pos))
    }

    fn unexpected(&self, tok: &Tok, s: usize, e: usize, expected: &str) -> KqlError {
        if *tok == Tok::Eof {
            return KqlError::new(
                KqlErrorKind::UnexpectedEnd,
                format!("expected {expected}, found the end of the query"),
                s..s,
            );
        }
        KqlError::new(
            KqlErrorKind::UnexpectedToken,
            format!("expected {expected}, found `{}`", &self.src[s..e]),
            s..e,
        )
    }

    fn enter(&mut self, at: usize) -> Result<(), KqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(KqlError::new(
                KqlErrorKind::TooDeep,
                format!("query nests parentheses more than {MAX_DEPTH} deep"),
                at..at + 1,
            ));
        }
        Ok(())
    }

    /// Clauses up to `)` or the end, combined with Lucene's occurrence rules (default OR).
    fn query(&mut self, field: &Field) -> Result<Node, KqlError> {
        let start = self.skip_ws(self.pos);
        let mut clauses: Vec<(Occur, Node)> = Vec::new();
        let mut first_plain = false;
        loop {
            let (tok, s, e) = self.peek()?;
            if matches!(tok, Tok::Eof | Tok::RParen) {
                break;
            }
            let mut and = false;
            if matches!(tok, Tok::And | Tok::Or) {
                if clauses.is_empty() {
                    return Err(self.unexpected(&tok, s, e, "a clause before the operator"));
                }
                and = tok == Tok::And;
                self.bump(e);
            }
            let (tok, _, e) = self.peek()?;
            let modifier = match tok {
                Tok::Plus => Some(Occur::Must),
                Tok::Minus | Tok::Not => Some(Occur::MustNot),
                _ => None,
            };
            if modifier.is_some() {
                self.bump(e);
            }
            let clause = self.clause(field)?;
            // `a AND b`: the previous clause becomes required unless prohibited.
            if and {
                if let Some(last) = clauses.last_mut() {
                    if last.0 != Occur::MustNot {
                        last.0 = Occur::Must;
                    }
                }
            }
            let occur = match modifier {
                Some(Occur::MustNot) => Occur::MustNot,
                Some(_) => Occur::Must,
                None if and => Occur::Must,
                None => Occur::Should,
            };
            if clauses.is_empty() {
                first_plain = modifier.is_none();
            }
            clauses.push((occur, clause));
        }
        let end = clauses.last().map_or(start, |(_, n)| n.span.end);
        match clauses.len() {
            0 => {
                let (tok, s, e) = self.peek()?;
                Err(self.unexpected(&tok, s, e, "a term, a phrase or `(`"))
            }
            1 if first_plain && clauses[0].0 == Occur::Should => {
                Ok(clauses.pop().expect("one clause").1)
            }
            _ => Ok(Node {
                kind: NodeKind::Bool(clauses),
                span: start..end,
            }),
        }
    }

    fn clause(&mut self, field: &Field) -> Result<Node, KqlError> {
        let (tok, s, e) = self.peek()?;
        let mut field = field.clone();
        let mut start = s;
        if let Tok::Term { raw, parts } = &tok {
            let after = self.skip_ws(e);
            if self.char_at(after) == Some(':') {
                let has_wild = parts.iter().any(|p| !matches!(p, TermPart::Text(_)));
                if has_wild && raw != "*" {
                    return Err(KqlError::new(
                        KqlErrorKind::UnexpectedToken,
                        format!(
                            "`{raw}` cannot be a field name: escape its wildcards (`{}`)",
                            raw.replace('*', "\\*").replace('?', "\\?")
                        ),
                        s..e,
                    ));
                }
                let name = super::ast::parts_text(parts);
                self.bump(after + 1);
                if raw == "*" {
                    field = Some("*".to_string());
                } else if name == "_exists_" {
                    let (tok, ts, te) = self.peek()?;
                    let Tok::Term { parts, .. } = tok else {
                        return Err(self.unexpected(
                            &tok,
                            ts,
                            te,
                            "a field name after `_exists_:`",
                        ));
                    };
                    self.bump(te);
                    return Ok(Node {
                        kind: NodeKind::Exists(super::ast::parts_text(&parts)),
                        span: s..te,
                    });
                } else {
                    field = Some(name);
                }
                start = s;
            }
        }
        let (tok, s, e) = self.peek()?;
        if tok == Tok::LParen {
            self.enter(s)?;
            self.bump(e);
            let mut inner = self.query(&field)?;
            let (tok, rs, re) = self.peek()?;
            if tok != Tok::RParen {
                return Err(self.unexpected(&tok, rs, re, "`)`"));
            }
            self.bump(re);
            self.depth -= 1;
            self.boost()?;
            inner.span = start.min(s)..re;
            return Ok(inner);
        }
        let mut node = self.term_node(&field, tok, s, e)?;
        node.span.start = start.min(node.span.start);
        Ok(node)
    }

    /// `^2`, `^0.5`: boosts change scores, not matches, so they are read and dropped.
    fn boost(&mut self) -> Result<(), KqlError> {
        if self.char_at(self.pos) != Some('^') {
            return Ok(());
        }
        let s = self.pos;
        let mut p = s + 1;
        while self
            .char_at(p)
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        {
            p += 1;
        }
        if p == s + 1 {
            return Err(KqlError::new(
                KqlErrorKind::UnexpectedToken,
                "expected a number after `^`",
                s..p,
            ));
        }
        self.pos = p;
        Ok(())
    }

    /// `~` and an optional number directly after a term or phrase.
    fn tilde(&mut self) -> Option<Option<f64>> {
        if self.char_at(self.pos) != Some('~') {
            return None;
        }
        let mut p = self.pos + 1;
        while self
            .char_at(p)
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        {
            p += 1;
        }
        let num = self.src[self.pos + 1..p].parse::<f64>().ok();
        self.pos = p;
        Some(num)
    }

    fn term_node(&mut self, field: &Field, tok: Tok, s: usize, e: usize) -> Result<Node, KqlError> {
        let kind = match tok {
            Tok::Term { raw, parts } => {
                self.bump(e);
                let lone_star = raw == "*";
                if lone_star {
                    match field.as_deref() {
                        None | Some("*") => NodeKind::MatchAll,
                        Some(f) => NodeKind::Exists(f.to_string()),
                    }
                } else if let Some(fuzz) = self.tilde() {
                    if parts.iter().any(|p| !matches!(p, TermPart::Text(_))) {
                        return Err(KqlError::new(
                            KqlErrorKind::Unsupported,
                            "a term cannot be both a wildcard and fuzzy",
                            s..self.pos,
                        ));
                    }
                    let distance = match fuzz {
                        None => 2,
                        // Lucene's legacy similarity (0..1) maps to distance; cap at 2.
                        Some(n) if n < 1.0 => 2,
                        Some(n) => (n as u32).min(2),
                    };
                    NodeKind::Fuzzy {
                        field: field.clone(),
                        text: super::ast::parts_text(&parts),
                        distance,
                    }
                } else if let Some(range) = prefix_range(field, &raw, &parts) {
                    range
                } else {
                    NodeKind::Term {
                        field: field.clone(),
                        parts,
                    }
                }
            }
            Tok::Quoted(text) => {
                self.bump(e);
                let slop = match self.tilde() {
                    Some(Some(n)) => n as u32,
                    Some(None) | None => 0,
                };
                NodeKind::Phrase {
                    field: field.clone(),
                    text,
                    slop,
                }
            }
            Tok::Regex(pattern) => {
                self.bump(e);
                NodeKind::Regex {
                    field: field.clone(),
                    pattern,
                }
            }
            Tok::RangeOpen(include_lower) => {
                self.bump(e);
                self.range(field, include_lower)?
            }
            other => return Err(self.unexpected(&other, s, e, "a term, a phrase or `(`")),
        };
        self.boost()?;
        Ok(Node {
            kind,
            span: s..self.pos,
        })
    }

    /// One bound inside `[ … ]`: a quoted string or a run without space, `]` or `}`.
    fn range_bound(&mut self) -> Result<(String, bool), KqlError> {
        self.pos = self.skip_ws(self.pos);
        if self.char_at(self.pos) == Some('"') {
            let (tok, _, e) = self.quoted(self.pos)?;
            self.pos = e;
            if let Tok::Quoted(t) = tok {
                return Ok((t, true));
            }
        }
        let start = self.pos;
        let mut out = String::new();
        while let Some(c) = self.char_at(self.pos) {
            if c == ' ' || c == ']' || c == '}' {
                break;
            }
            if c == '\\' {
                if let Some(n) = self.char_at(self.pos + 1) {
                    out.push(n);
                    self.pos += 1 + n.len_utf8();
                    continue;
                }
            }
            out.push(c);
            self.pos += c.len_utf8();
        }
        if self.pos == start {
            let tok = if self.pos >= self.src.len() {
                Tok::Eof
            } else {
                Tok::Other(' ')
            };
            return Err(self.unexpected(&tok, self.pos, self.pos + 1, "a range bound"));
        }
        Ok((out, false))
    }

    fn range(&mut self, field: &Field, include_lower: bool) -> Result<NodeKind, KqlError> {
        let (lower, lq) = self.range_bound()?;
        self.pos = self.skip_ws(self.pos);
        if !self.src[self.pos..].starts_with("TO") {
            let (tok, s, e) = self.peek()?;
            return Err(self.unexpected(&tok, s, e, "`TO` in the range"));
        }
        self.pos += 2;
        let (upper, uq) = self.range_bound()?;
        self.pos = self.skip_ws(self.pos);
        let include_upper = match self.char_at(self.pos) {
            Some(']') => true,
            Some('}') => false,
            _ => {
                let (tok, s, e) = self.peek()?;
                return Err(self.unexpected(&tok, s, e, "`]` or `}` closing the range"));
            }
        };
        self.pos += 1;
        let open = |v: String, quoted: bool| (quoted || v != "*").then_some(v);
        Ok(NodeKind::Range {
            field: field.clone(),
            lower: open(lower, lq),
            upper: open(upper, uq),
            include_lower,
            include_upper,
        })
    }
}

/// Elasticsearch's `f:>=5`, `f:>5`, `f:<=5`, `f:<5` (only with an explicit field).
fn prefix_range(field: &Field, raw: &str, parts: &[TermPart]) -> Option<NodeKind> {
    let f = field.clone().filter(|f| f != "*")?;
    let text = super::ast::parts_text(parts);
    let (rest, lower, inclusive) = if let Some(r) = raw.strip_prefix(">=") {
        (r, true, true)
    } else if let Some(r) = raw.strip_prefix('>') {
        (r, true, false)
    } else if let Some(r) = raw.strip_prefix("<=") {
        (r, false, true)
    } else if let Some(r) = raw.strip_prefix('<') {
        (r, false, false)
    } else {
        return None;
    };
    // The bound is the unescaped text after the operator.
    let skip = raw.len() - rest.len();
    let bound = text.get(skip..)?.to_string();
    Some(if lower {
        NodeKind::Range {
            field: Some(f),
            lower: Some(bound),
            upper: None,
            include_lower: inclusive,
            include_upper: false,
        }
    } else {
        NodeKind::Range {
            field: Some(f),
            lower: None,
            upper: Some(bound),
            include_lower: false,
            include_upper: inclusive,
        }
    })
}
