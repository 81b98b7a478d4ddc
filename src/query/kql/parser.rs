//! A hand-written recursive-descent parser that follows the Kibana KQL grammar's rules
//! (see `reference/kql.md` §1): keywords need surrounding whitespace, unquoted literals stop
//! where a keyword begins, `not` binds one sub-query, value lists carry their own boolean
//! structure. Nesting is bounded by [`MAX_DEPTH`] so hostile input cannot overflow the stack.

use super::ast::{Literal, LiteralValue, Node, NodeKind, Part, RangeOp, ValueKind, ValueNode};
use super::error::{KqlError, KqlErrorKind};

/// Maximum nesting of parentheses, `not`s and nested `{}` queries together.
pub const MAX_DEPTH: usize = 128;

/// KQL whitespace: space, tab, CR, LF and NO-BREAK SPACE.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{a0}')
}

/// Characters that end an unquoted literal unless escaped (`*` is the wildcard).
fn is_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}'
    )
}

/// Whitespace removed by JavaScript's `String.prototype.trim` (Kibana trims unquoted literals).
pub(crate) fn is_js_trim_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    /// `Space* or_query? Space* EOF`. `None` is the empty query.
    pub(crate) fn parse_query(mut self) -> Result<Option<Node>, KqlError> {
        self.pos = self.spaces_end(0);
        if self.pos == self.src.len() {
            return Ok(None);
        }
        let node = self.or_query()?;
        self.pos = self.spaces_end(self.pos);
        if self.pos != self.src.len() {
            return Err(self.unexpected("`and`, `or` or the end of the query"));
        }
        Ok(Some(node))
    }

    // ---- low-level scanning ----

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|s| s.chars().next())
    }

    fn spaces_end(&self, mut pos: usize) -> usize {
        while let Some(c) = self.char_at(pos) {
            if !is_space(c) {
                break;
            }
            pos += c.len_utf8();
        }
        pos
    }

    fn word_at(&self, pos: usize, word: &str) -> bool {
        self.src
            .as_bytes()
            .get(pos..pos + word.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// `Space+ word Space+` at `pos` (the `or` / `and` keywords); returns its end.
    fn infix_keyword_at(&self, pos: usize, word: &str) -> Option<usize> {
        let p = self.spaces_end(pos);
        if p == pos || !self.word_at(p, word) {
            return None;
        }
        let q = p + word.len();
        let r = self.spaces_end(q);
        (r > q).then_some(r)
    }

    /// `not Space+` at `pos`; returns its end.
    fn not_at(&self, pos: usize) -> Option<usize> {
        if !self.word_at(pos, "not") {
            return None;
        }
        let r = self.spaces_end(pos + 3);
        (r > pos + 3).then_some(r)
    }

    fn keyword_at(&self, pos: usize) -> bool {
        self.infix_keyword_at(pos, "or").is_some()
            || self.infix_keyword_at(pos, "and").is_some()
            || self.not_at(pos).is_some()
    }

    fn enter(&mut self, at: usize) -> Result<(), KqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(KqlError::new(
                KqlErrorKind::TooDeep,
                format!("query nests parentheses, `not`s or `{{}}` more than {MAX_DEPTH} deep"),
                at..at + 1,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// An error at the current position saying what was expected and what was found.
    fn unexpected(&self, expected: &str) -> KqlError {
        let pos = self.pos;
        let Some(c) = self.char_at(pos) else {
            return KqlError::new(
                KqlErrorKind::UnexpectedEnd,
                format!("expected {expected}, found the end of the query"),
                pos..pos,
            );
        };
        if self.not_at(pos).is_some() {
            return KqlError::new(
                KqlErrorKind::UnexpectedToken,
                format!(
                    "expected {expected}, found the keyword `not` (an unquoted value ends where \
                     `not ` begins; quote the value, or write `and not`)"
                ),
                pos..pos + 3,
            );
        }
        if c == '\\' {
            let end = self
                .char_at(pos + 1)
                .map_or(pos + 1, |n| pos + 1 + n.len_utf8());
            return KqlError::new(
                KqlErrorKind::InvalidEscape,
                format!(
                    "invalid escape `{}` in an unquoted value (allowed: \\t \\r \\n \\uXXXX, \
                     \\ before one of \\():<>\"*{{}}, and \\or \\and \\not); quote the value",
                    &self.src[pos..end]
                ),
                pos..end,
            );
        }
        if c == ':' {
            return KqlError::new(
                KqlErrorKind::UnexpectedToken,
                format!(
                    "expected {expected}, found `:` (a `:` inside a value must be escaped as `\\:` \
                     or the value quoted)"
                ),
                pos..pos + 1,
            );
        }
        // Show the rest of the current word.
        let mut end = pos + c.len_utf8();
        while let Some(n) = self.char_at(end) {
            if is_space(n) || end - pos >= 40 || !c.is_alphanumeric() {
                break;
            }
            end += n.len_utf8();
        }
        KqlError::new(
            KqlErrorKind::UnexpectedToken,
            format!("expected {expected}, found `{}`", &self.src[pos..end]),
            pos..end,
        )
    }

    fn expect_char(&mut self, c: char, expected: &str) -> Result<(), KqlError> {
        if self.char_at(self.pos) == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    // ---- query level ----

    fn or_query(&mut self) -> Result<Node, KqlError> {
        let start = self.pos;
        let first = self.and_query()?;
        let mut items = vec![first];
        while let Some(end) = self.infix_keyword_at(self.pos, "or") {
            self.pos = end;
            items.push(self.and_query()?);
        }
        Ok(join(items, start, NodeKind::Or))
    }

    fn and_query(&mut self) -> Result<Node, KqlError> {
        let start = self.pos;
        let first = self.not_query()?;
        let mut items = vec![first];
        while let Some(end) = self.infix_keyword_at(self.pos, "and") {
            self.pos = end;
            items.push(self.not_query()?);
        }
        Ok(join(items, start, NodeKind::And))
    }

    fn not_query(&mut self) -> Result<Node, KqlError> {
        let start = self.pos;
        if let Some(end) = self.not_at(self.pos) {
            self.enter(start)?;
            self.pos = end;
            if self.not_at(end).is_some() {
                return Err(KqlError::new(
                    KqlErrorKind::UnexpectedToken,
                    "`not not` is not allowed: `not` applies to one clause (write `not (not …)`)",
                    end..end + 3,
                ));
            }
            let inner = self.sub_query()?;
            self.leave();
            let span = start..inner.span.end;
            return Ok(Node {
                kind: NodeKind::Not(Box::new(inner)),
                span,
            });
        }
        self.sub_query()
    }

    fn sub_query(&mut self) -> Result<Node, KqlError> {
        if self.char_at(self.pos) == Some('(') {
            let open = self.pos;
            self.enter(open)?;
            self.pos = self.spaces_end(open + 1);
            let inner = self.or_query()?;
            self.pos = self.spaces_end(self.pos);
            self.expect_char(')', "`)`, `and` or `or`")?;
            self.leave();
            return Ok(inner);
        }
        self.expression()
    }

    fn expression(&mut self) -> Result<Node, KqlError> {
        let start = self.pos;
        let Some(lit) = self.literal()? else {
            return Err(self.unexpected("a field, a value, `not` or `(`"));
        };
        let after = self.pos;
        let q = self.spaces_end(after);
        if let Some((op, end)) = self.range_op_at(q) {
            self.pos = self.spaces_end(end);
            let Some(value) = self.literal()? else {
                return Err(self.unexpected(&format!("a value after `{}`", op.as_str())));
            };
            let span = start..value.span.end;
            return Ok(Node {
                kind: NodeKind::Range {
                    field: lit,
                    op,
                    value,
                },
                span,
            });
        }
        if self.char_at(q) == Some(':') {
            self.pos = self.spaces_end(q + 1);
            if self.char_at(self.pos) == Some('{') {
                let open = self.pos;
                self.enter(open)?;
                self.pos = self.spaces_end(open + 1);
                let inner = self.or_query()?;
                self.pos = self.spaces_end(self.pos);
                self.expect_char('}', "`}`, `and` or `or`")?;
                self.leave();
                return Ok(Node {
                    kind: NodeKind::Nested {
                        path: lit,
                        query: Box::new(inner),
                    },
                    span: start..self.pos,
                });
            }
            let values = self.list_of_values()?;
            let span = start..values.span.end;
            return Ok(Node {
                kind: NodeKind::Is { field: lit, values },
                span,
            });
        }
        self.pos = after;
        let span = lit.span.clone();
        Ok(Node {
            kind: NodeKind::FreeText(lit),
            span,
        })
    }

    fn range_op_at(&self, pos: usize) -> Option<(RangeOp, usize)> {
        let rest = self.src.get(pos..)?;
        if rest.starts_with("<=") {
            Some((RangeOp::Lte, pos + 2))
        } else if rest.starts_with(">=") {
            Some((RangeOp::Gte, pos + 2))
        } else if rest.starts_with('<') {
            Some((RangeOp::Lt, pos + 1))
        } else if rest.starts_with('>') {
            Some((RangeOp::Gt, pos + 1))
        } else {
            None
        }
    }

    // ---- value lists ----

    fn list_of_values(&mut self) -> Result<ValueNode, KqlError> {
        if self.char_at(self.pos) == Some('(') {
            let open = self.pos;
            self.enter(open)?;
            self.pos = self.spaces_end(open + 1);
            let mut inner = self.or_values()?;
            self.pos = self.spaces_end(self.pos);
            self.expect_char(')', "`)`, `and` or `or`")?;
            self.leave();
            inner.span = open..self.pos;
            return Ok(inner);
        }
        match self.literal()? {
            Some(lit) => {
                let span = lit.span.clone();
                Ok(ValueNode {
                    kind: ValueKind::Value(lit),
                    span,
                })
            }
            None => Err(self.unexpected("a value or `(`")),
        }
    }

    fn or_values(&mut self) -> Result<ValueNode, KqlError> {
        let start = self.pos;
        let mut items = vec![self.and_values()?];
        while let Some(end) = self.infix_keyword_at(self.pos, "or") {
            self.pos = end;
            items.push(self.and_values()?);
        }
        Ok(join_values(items, start, ValueKind::Or))
    }

    fn and_values(&mut self) -> Result<ValueNode, KqlError> {
        let start = self.pos;
        let mut items = vec![self.not_values()?];
        while let Some(end) = self.infix_keyword_at(self.pos, "and") {
            self.pos = end;
            items.push(self.not_values()?);
        }
        Ok(join_values(items, start, ValueKind::And))
    }

    fn not_values(&mut self) -> Result<ValueNode, KqlError> {
        let start = self.pos;
        if let Some(end) = self.not_at(self.pos) {
            self.enter(start)?;
            self.pos = end;
            let inner = self.list_of_values()?;
            self.leave();
            let span = start..inner.span.end;
            return Ok(ValueNode {
                kind: ValueKind::Not(Box::new(inner)),
                span,
            });
        }
        self.list_of_values()
    }

    // ---- literals ----

    /// A quoted or unquoted literal at the current position; `None` when none starts here.
    fn literal(&mut self) -> Result<Option<Literal>, KqlError> {
        if self.char_at(self.pos) == Some('"') {
            return self.quoted().map(Some);
        }
        self.unquoted()
    }

    fn hex4(&self, pos: usize) -> Option<u32> {
        let h = self.src.get(pos..pos + 4)?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    }

    /// `\uXXXX` at `pos` (pointing at the backslash), joining a UTF-16 surrogate pair written
    /// as two escapes. Returns the character and the end, `Ok(None)` if no `\u` + 4 hex digits.
    fn unicode_escape(&self, pos: usize) -> Result<Option<(char, usize)>, KqlError> {
        if self.char_at(pos + 1) != Some('u') {
            return Ok(None);
        }
        let Some(unit) = self.hex4(pos + 2) else {
            return Ok(None);
        };
        let mut end = pos + 6;
        let code = if (0xD800..0xDC00).contains(&unit) {
            let low = (self.src.get(end..end + 2) == Some("\\u"))
                .then(|| self.hex4(end + 2))
                .flatten()
                .filter(|l| (0xDC00..0xE000).contains(l));
            match low {
                Some(low) => {
                    end += 6;
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                None => unit,
            }
        } else {
            unit
        };
        match char::from_u32(code) {
            Some(c) => Ok(Some((c, end))),
            None => Err(KqlError::new(
                KqlErrorKind::InvalidEscape,
                format!("`{}` is a lone UTF-16 surrogate", &self.src[pos..end]),
                pos..end,
            )),
        }
    }

    fn quoted(&mut self) -> Result<Literal, KqlError> {
        let start = self.pos;
        let mut pos = start + 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.char_at(pos) else {
                return Err(KqlError::new(
                    KqlErrorKind::UnterminatedString,
                    "unterminated quoted string: add the closing `\"`",
                    start..self.src.len(),
                ));
            };
            match c {
                '"' => {
                    pos += 1;
                    break;
                }
                '\\' => {
                    let next = self.char_at(pos + 1);
                    let simple = match next {
                        Some('t') => Some('\t'),
                        Some('r') => Some('\r'),
                        Some('n') => Some('\n'),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        pos += 2;
                    } else if let Some((u, end)) = self.unicode_escape(pos)? {
                        out.push(u);
                        pos = end;
                    } else if let Some(n @ ('\\' | '"')) = next {
                        out.push(n);
                        pos += 2;
                    } else {
                        // Any other backslash is an ordinary character.
                        out.push('\\');
                        pos += 1;
                    }
                }
                c => {
                    out.push(c);
                    pos += c.len_utf8();
                }
            }
        }
        self.pos = pos;
        Ok(Literal {
            value: LiteralValue::Str(out),
            quoted: true,
            span: start..pos,
        })
    }

    fn unquoted(&mut self) -> Result<Option<Literal>, KqlError> {
        let start = self.pos;
        let mut pos = start;
        let mut parts: Vec<Part> = Vec::new();
        let mut cur = String::new();
        while let Some(c) = self.char_at(pos) {
            if c == '\\' {
                let next = self.char_at(pos + 1);
                match next {
                    Some('t') => cur.push('\t'),
                    Some('r') => cur.push('\r'),
                    Some('n') => cur.push('\n'),
                    Some(n) if is_special(n) => cur.push(n),
                    _ => {
                        if let Some((u, end)) = self.unicode_escape(pos)? {
                            cur.push(u);
                            pos = end;
                            continue;
                        }
                        let kw = ["or", "and", "not"]
                            .into_iter()
                            .find(|w| self.word_at(pos + 1, w));
                        if let Some(w) = kw {
                            cur.push_str(&self.src[pos + 1..pos + 1 + w.len()]);
                            pos += 1 + w.len();
                            continue;
                        }
                        // Not an escape: the literal ends here and the parser reports it.
                        break;
                    }
                }
                pos += 1 + next.map_or(0, char::len_utf8);
            } else if c == '*' {
                if !cur.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut cur)));
                }
                parts.push(Part::Star);
                pos += 1;
            } else if is_special(c) || self.keyword_at(pos) {
                break;
            } else {
                cur.push(c);
                pos += c.len_utf8();
            }
        }
        if pos == start {
            return Ok(None);
        }
        self.pos = pos;
        if !cur.is_empty() {
            parts.push(Part::Text(cur));
        }
        // Trim like JavaScript's trim() on the joined text: only text at either end.
        if let Some(Part::Text(t)) = parts.first_mut() {
            *t = t.trim_start_matches(is_js_trim_space).to_string();
        }
        if let Some(Part::Text(t)) = parts.last_mut() {
            *t = t.trim_end_matches(is_js_trim_space).to_string();
        }
        parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
        let raw = &self.src[start..pos];
        let lead = raw.len() - raw.trim_start_matches(is_js_trim_space).len();
        let trail = raw.len() - raw.trim_end_matches(is_js_trim_space).len();
        let span = (start + lead)..(pos - trail).max(start + lead);
        let value = if parts.contains(&Part::Star) {
            LiteralValue::Wildcard(parts)
        } else {
            let text = match parts.pop() {
                Some(Part::Text(t)) => t,
                _ => String::new(),
            };
            match text.as_str() {
                "true" => LiteralValue::Bool(true),
                "false" => LiteralValue::Bool(false),
                "null" => LiteralValue::Null,
                _ => LiteralValue::Str(text),
            }
        };
        Ok(Some(Literal {
            value,
            quoted: false,
            span,
        }))
    }
}

fn join(mut items: Vec<Node>, start: usize, make: fn(Vec<Node>) -> NodeKind) -> Node {
    if items.len() == 1 {
        return items.pop().expect("one item");
    }
    let end = items.last().map_or(start, |n| n.span.end);
    Node {
        kind: make(items),
        span: start..end,
    }
}

fn join_values(
    mut items: Vec<ValueNode>,
    start: usize,
    make: fn(Vec<ValueNode>) -> ValueKind,
) -> ValueNode {
    if items.len() == 1 {
        return items.pop().expect("one item");
    }
    let end = items.last().map_or(start, |n| n.span.end);
    ValueNode {
        kind: make(items),
        span: start..end,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FieldTypes, parse};
    use super::*;

    fn kind(src: &str) -> KqlErrorKind {
        parse(src).expect_err(src).kind
    }

    #[test]
    fn precedence_shapes() {
        let q = parse("not a:1 or b:2 and c:3").unwrap();
        let NodeKind::Or(items) = &q.root.as_ref().unwrap().kind else {
            panic!("or at the top");
        };
        assert!(matches!(items[0].kind, NodeKind::Not(_)));
        assert!(matches!(items[1].kind, NodeKind::And(_)));
    }

    #[test]
    fn literal_values_and_spans() {
        let src = r#"  f : foo bar  and g:"x\ty" and h:a*b\*"#;
        let q = parse(src).unwrap();
        let NodeKind::And(items) = &q.root.as_ref().unwrap().kind else {
            panic!("and");
        };
        let NodeKind::Is { field, values } = &items[0].kind else {
            panic!("is");
        };
        assert_eq!(&src[field.span.clone()], "f");
        let ValueKind::Value(v) = &values.kind else {
            panic!("value");
        };
        assert_eq!(v.value, LiteralValue::Str("foo bar".into()));
        assert_eq!(&src[v.span.clone()], "foo bar");
        let NodeKind::Is { values, .. } = &items[1].kind else {
            panic!("is");
        };
        let ValueKind::Value(v) = &values.kind else {
            panic!("value");
        };
        assert_eq!(v.value, LiteralValue::Str("x\ty".into()));
        assert!(v.quoted);
        let NodeKind::Is { values, .. } = &items[2].kind else {
            panic!("is");
        };
        let ValueKind::Value(v) = &values.kind else {
            panic!("value");
        };
        assert_eq!(
            v.value,
            LiteralValue::Wildcard(vec![
                Part::Text("a".into()),
                Part::Star,
                Part::Text("b*".into())
            ])
        );
    }

    #[test]
    fn bare_words() {
        let q = parse("f:true or f:\"true\" or f:null").unwrap();
        let NodeKind::Or(items) = &q.root.unwrap().kind else {
            panic!("or");
        };
        let lit = |n: &Node| match &n.kind {
            NodeKind::Is { values, .. } => match &values.kind {
                ValueKind::Value(l) => l.value.clone(),
                _ => panic!("value"),
            },
            _ => panic!("is"),
        };
        assert_eq!(lit(&items[0]), LiteralValue::Bool(true));
        assert_eq!(lit(&items[1]), LiteralValue::Str("true".into()));
        assert_eq!(lit(&items[2]), LiteralValue::Null);
    }

    #[test]
    fn errors_have_kinds_and_spans() {
        assert_eq!(kind("f:\"abc"), KqlErrorKind::UnterminatedString);
        assert_eq!(kind(r"f:C\:\Windows"), KqlErrorKind::InvalidEscape);
        assert_eq!(kind("not not a"), KqlErrorKind::UnexpectedToken);
        assert_eq!(kind("f: cannot login"), KqlErrorKind::UnexpectedToken);
        assert_eq!(kind("f:"), KqlErrorKind::UnexpectedEnd);
        assert_eq!(kind("(a"), KqlErrorKind::UnexpectedEnd);
        let e = parse("f: cannot login").unwrap_err();
        assert_eq!(&"f: cannot login"[e.span.clone()], "not");
        let e = parse(r"f:C\:\Windows").unwrap_err();
        assert_eq!(&r"f:C\:\Windows"[e.span.clone()], r"\W");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let n = 10_000;
        for src in [
            format!("{}a:1{}", "(".repeat(n), ")".repeat(n)),
            format!("{}a:1{}", "not (".repeat(n), ")".repeat(n)),
            format!("f:{}a{}", "(".repeat(n), ")".repeat(n)),
            format!("f:{}a{}", "(not ".repeat(n), ")".repeat(n)),
            format!("{}a:1{}", "a:{".repeat(n), "}".repeat(n)),
        ] {
            assert_eq!(kind(&src), KqlErrorKind::TooDeep, "{}", &src[..20]);
        }
        // `not not` is a syntax error before it gets deep.
        assert_eq!(kind(&"not ".repeat(n)), KqlErrorKind::UnexpectedToken);
        // At the limit it still parses and compiles.
        let ok = format!("{}a:1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        parse(&ok).unwrap().compile(&FieldTypes::ecs()).unwrap();
    }

    #[test]
    fn long_flat_chains_do_not_recurse() {
        let src = vec!["process.name:a"; 50_000].join(" or ");
        let m = parse(&src).unwrap().compile(&FieldTypes::ecs()).unwrap();
        assert!(m.matches(&serde_json::json!({"process": {"name": "a"}})));
        let list = format!("process.args:({})", vec!["x"; 50_000].join(" and "));
        parse(&list).unwrap().compile(&FieldTypes::ecs()).unwrap();
    }

    /// Random input never panics: parse, compile and match whatever parses.
    #[test]
    fn no_panics_on_random_input() {
        let alphabet: Vec<&str> = vec![
            "a",
            "f",
            ":",
            " ",
            "(",
            ")",
            "{",
            "}",
            "\"",
            "\\",
            "*",
            "<",
            ">",
            "=",
            "or",
            "and",
            "not",
            "\\u00e9",
            "\\ud800",
            "é",
            "\u{a0}",
            "\t",
            "\\n",
            "\\t",
            "process.pid",
            "@timestamp",
            "source.ip",
            "10.0.0.0/8",
            "now-1d/d",
            "true",
            "null",
            "1",
            "-",
            ".",
            "?",
        ];
        let types = FieldTypes::ecs();
        let event = serde_json::json!({"a": ["x", 1, null, {"b": true}], "process": {"pid": 3}});
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let src: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            match parse(&src) {
                Ok(q) => {
                    let _ = q.fields();
                    if let Ok(m) = q.compile(&types) {
                        let _ = m.matches(&event);
                    }
                }
                Err(e) => {
                    assert!(
                        e.span.start <= e.span.end && e.span.end <= src.len(),
                        "{src:?}"
                    );
                    assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
                }
            }
        }
    }
}
