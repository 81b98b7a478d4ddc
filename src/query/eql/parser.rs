//! Recursive-descent parser from tokens to the [`ast`](super::ast), with a nesting limit.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparisons (`== != < <= > >= : in like
//! regex`, not chainable), `+ -`, `* / %`, unary `- +`, primary.

use super::ast::*;
use super::error::{EqlError, EqlErrorKind};
use super::lexer::{Tok, Token, tokenize};

/// Deepest nesting of parentheses, `not`s, unary signs, calls and operator chains accepted.
/// Hostile input (10,000 nested parentheses) gets an error instead of a stack overflow.
pub const MAX_NESTING: usize = 128;

/// Most stages (after `runs` expansion) a sequence or sample may have.
pub const MAX_STAGES: i64 = 1024;

pub fn parse_statement(src: &str) -> Result<Statement, EqlError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let stmt = p.statement()?;
    Ok(stmt)
}

/// Parses a lone expression (used by the function fold tests and by unit tests).
pub fn parse_expression(src: &str) -> Result<Expr, EqlError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span.clone()
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> EqlError {
        EqlError::syntax(
            format!("expected {expected}, found {}", self.peek().describe()),
            self.span(),
        )
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> Result<Token, EqlError> {
        if self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn expect_eof(&self) -> Result<(), EqlError> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.unexpected("end of query"))
        }
    }

    fn enter(&mut self) -> Result<(), EqlError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(EqlError::new(
                EqlErrorKind::NestingLimit,
                format!("expression nested deeper than {MAX_NESTING} levels"),
                self.span(),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- statements ------------------------------------------------------------------------

    fn statement(&mut self) -> Result<Statement, EqlError> {
        let start = self.span().start;
        let query = match self.peek() {
            Tok::Sequence => QueryAst::Sequence(self.sequence()?),
            Tok::Sample => QueryAst::Sample(self.sample()?),
            Tok::Reserved("join") => {
                return Err(EqlError::unsupported("join is not supported", self.span()));
            }
            _ => QueryAst::Event(self.event_query()?),
        };
        let mut pipes = Vec::new();
        while *self.peek() == Tok::Pipe {
            pipes.push(self.pipe()?);
        }
        self.expect_eof()?;
        Ok(Statement {
            query,
            pipes,
            span: start..self.prev_end(),
        })
    }

    fn pipe(&mut self) -> Result<Pipe, EqlError> {
        let start = self.bump().span.start;
        let name_span = self.span();
        let kind = match self.peek() {
            Tok::Ident {
                name,
                quoted: false,
            } if name == "head" => PipeKind::Head,
            Tok::Ident {
                name,
                quoted: false,
            } if name == "tail" => PipeKind::Tail,
            Tok::Ident {
                name,
                quoted: false,
            } => {
                return Err(EqlError::unsupported(
                    format!("pipe [{name}] is not supported; only head and tail are"),
                    name_span,
                ));
            }
            _ => return Err(self.unexpected("a pipe name (head or tail)")),
        };
        self.bump();
        let count = match *self.peek() {
            Tok::Int(n) => {
                self.bump();
                n
            }
            _ => return Err(self.unexpected("a non-negative integer")),
        };
        Ok(Pipe {
            kind,
            count,
            span: start..self.prev_end(),
        })
    }

    fn event_query(&mut self) -> Result<EventQuery, EqlError> {
        let start = self.span().start;
        let category = match self.peek().clone() {
            Tok::Any => {
                self.bump();
                None
            }
            Tok::Ident { name, .. } => {
                let t = self.bump();
                Some((name, t.span))
            }
            Tok::Str { value, .. } => {
                let t = self.bump();
                Some((value, t.span))
            }
            _ => return Err(self.unexpected("an event category, `any`, `sequence` or `sample`")),
        };
        self.expect(&Tok::Where, "`where`")?;
        let condition = self.expr()?;
        Ok(EventQuery {
            category,
            condition,
            span: start..self.prev_end(),
        })
    }

    fn join_keys(&mut self) -> Result<Vec<Expr>, EqlError> {
        let mut keys = vec![self.additive()?];
        while self.eat(&Tok::Comma) {
            keys.push(self.additive()?);
        }
        Ok(keys)
    }

    fn sequence(&mut self) -> Result<SequenceAst, EqlError> {
        let start = self.bump().span.start;
        let mut by = Vec::new();
        let mut maxspan = None;
        if self.eat(&Tok::By) {
            by = self.join_keys()?;
        }
        if self.eat(&Tok::With) {
            self.expect(&Tok::Maxspan, "`maxspan`")?;
            self.expect(&Tok::Assign, "`=`")?;
            maxspan = Some(self.duration()?);
            if *self.peek() == Tok::By {
                return Err(EqlError::syntax(
                    "`by` must come before `with maxspan` in a sequence",
                    self.span(),
                ));
            }
        }
        let mut stages = Vec::new();
        while matches!(self.peek(), Tok::LBracket | Tok::BangBracket) {
            stages.push(self.stage()?);
        }
        let total: i64 = stages
            .iter()
            .map(|s| s.runs.as_ref().map_or(1, |r| r.0.max(1)))
            .fold(0i64, i64::saturating_add);
        if total > MAX_STAGES {
            return Err(EqlError::new(
                EqlErrorKind::NestingLimit,
                format!("more than {MAX_STAGES} sequence stages"),
                start..self.prev_end(),
            ));
        }
        if total < 2 {
            return Err(if stages.is_empty() {
                self.unexpected("a bracketed sequence stage `[…]`")
            } else {
                EqlError::syntax(
                    "a sequence needs at least two stages",
                    start..self.prev_end(),
                )
            });
        }
        let until = if self.eat(&Tok::Until) {
            if *self.peek() != Tok::LBracket {
                return Err(self.unexpected("`[` after `until`"));
            }
            Some(self.stage()?)
        } else {
            None
        };
        Ok(SequenceAst {
            by,
            maxspan,
            stages,
            until,
            span: start..self.prev_end(),
        })
    }

    fn sample(&mut self) -> Result<SampleAst, EqlError> {
        let start = self.bump().span.start;
        let mut by = Vec::new();
        if self.eat(&Tok::By) {
            by = self.join_keys()?;
        }
        if *self.peek() == Tok::With {
            return Err(EqlError::verify(
                "sample does not support `with maxspan`",
                self.span(),
            ));
        }
        let mut stages = Vec::new();
        while matches!(self.peek(), Tok::LBracket | Tok::BangBracket) {
            stages.push(self.stage()?);
        }
        if stages.is_empty() {
            return Err(self.unexpected("a bracketed sample filter `[…]`"));
        }
        if stages.len() as i64 > MAX_STAGES {
            return Err(EqlError::new(
                EqlErrorKind::NestingLimit,
                format!("more than {MAX_STAGES} sample filters"),
                start..self.prev_end(),
            ));
        }
        if *self.peek() == Tok::Until {
            return Err(EqlError::verify(
                "sample does not support `until`",
                self.span(),
            ));
        }
        Ok(SampleAst {
            by,
            stages,
            span: start..self.prev_end(),
        })
    }

    fn stage(&mut self) -> Result<Stage, EqlError> {
        let open = self.bump();
        let missing = open.tok == Tok::BangBracket;
        let query = self.event_query()?;
        self.expect(&Tok::RBracket, "`]`")?;
        let mut by = Vec::new();
        let mut runs = None;
        if self.eat(&Tok::By) {
            by = self.join_keys()?;
        }
        if *self.peek() == Tok::With
            && matches!(self.peek_at(1), Tok::Ident { name, .. } if name == "runs")
        {
            self.bump();
            self.bump();
            self.expect(&Tok::Assign, "`=`")?;
            let span = self.span();
            match *self.peek() {
                Tok::Int(n) => {
                    self.bump();
                    runs = Some((n, span));
                }
                _ => return Err(self.unexpected("an integer")),
            }
        }
        Ok(Stage {
            query,
            by,
            runs,
            missing,
            span: open.span.start..self.prev_end(),
        })
    }

    /// `<int><unit>` with unit `ms`, `s`, `m`, `h` or `d`, as milliseconds.
    fn duration(&mut self) -> Result<(i64, Span), EqlError> {
        let span = self.span();
        let n = match *self.peek() {
            Tok::Int(n) => n,
            _ => return Err(self.unexpected("a duration such as `30s`")),
        };
        self.bump();
        let unit = match self.peek() {
            Tok::Ident {
                name,
                quoted: false,
            } => name.clone(),
            _ => {
                return Err(EqlError::syntax(
                    "a duration needs a time unit (ms, s, m, h, d)",
                    span.start..self.prev_end(),
                ));
            }
        };
        let unit_span = self.bump().span;
        let factor: i64 = match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                return Err(EqlError::syntax(
                    format!("unknown time unit [{unit}]; expected ms, s, m, h or d"),
                    unit_span,
                ));
            }
        };
        let ms = n
            .checked_mul(factor)
            .ok_or_else(|| EqlError::syntax("duration too large", span.start..unit_span.end))?;
        Ok((ms, span.start..unit_span.end))
    }

    // ---- expressions -----------------------------------------------------------------------

    pub(crate) fn expr(&mut self) -> Result<Expr, EqlError> {
        self.enter()?;
        let r = self.or();
        self.leave();
        r
    }

    fn or(&mut self) -> Result<Expr, EqlError> {
        let first = self.and()?;
        if *self.peek() != Tok::Or {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat(&Tok::Or) {
            items.push(self.and()?);
        }
        Ok(Expr {
            kind: ExprKind::Or(items),
            span: start..self.prev_end(),
        })
    }

    fn and(&mut self) -> Result<Expr, EqlError> {
        let first = self.not()?;
        if *self.peek() != Tok::And {
            return Ok(first);
        }
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat(&Tok::And) {
            items.push(self.not()?);
        }
        Ok(Expr {
            kind: ExprKind::And(items),
            span: start..self.prev_end(),
        })
    }

    fn not(&mut self) -> Result<Expr, EqlError> {
        if *self.peek() == Tok::Not {
            let start = self.bump().span.start;
            self.enter()?;
            let inner = self.not();
            self.leave();
            let inner = inner?;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span: start..self.prev_end(),
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, EqlError> {
        let left = self.additive()?;
        let start = left.span.start;
        let cmp = |t: &Tok| match t {
            Tok::EqEq => Some(CmpOp::Eq),
            Tok::NotEq => Some(CmpOp::Neq),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        let kind = match self.peek().clone() {
            t if cmp(&t).is_some() => {
                let op = cmp(&t).unwrap_or(CmpOp::Eq);
                self.bump();
                let right = self.additive()?;
                if cmp(self.peek()).is_some() {
                    return Err(EqlError::syntax(
                        "comparisons cannot be chained; combine them with `and`",
                        self.span(),
                    ));
                }
                ExprKind::Cmp {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                }
            }
            Tok::Assign => {
                return Err(EqlError::syntax(
                    "`=` is not an operator; use `==` to compare",
                    self.span(),
                ));
            }
            Tok::Not if matches!(self.peek_at(1), Tok::In | Tok::InCi) => {
                self.bump();
                let insensitive = self.bump().tok == Tok::InCi;
                let list = self.paren_list()?;
                ExprKind::In {
                    expr: Box::new(left),
                    list,
                    negated: true,
                    insensitive,
                }
            }
            Tok::In | Tok::InCi => {
                let insensitive = self.bump().tok == Tok::InCi;
                let list = self.paren_list()?;
                ExprKind::In {
                    expr: Box::new(left),
                    list,
                    negated: false,
                    insensitive,
                }
            }
            Tok::Colon | Tok::Like | Tok::LikeCi | Tok::Regex | Tok::RegexCi => {
                let t = self.bump().tok;
                let (kind, insensitive) = match t {
                    Tok::Colon => (MatchKind::Seq, true),
                    Tok::Like => (MatchKind::Like, false),
                    Tok::LikeCi => (MatchKind::Like, true),
                    Tok::Regex => (MatchKind::Regex, false),
                    _ => (MatchKind::Regex, true),
                };
                let patterns = if *self.peek() == Tok::LParen {
                    self.paren_list()?
                } else {
                    vec![self.additive()?]
                };
                ExprKind::Match {
                    expr: Box::new(left),
                    kind,
                    insensitive,
                    patterns,
                }
            }
            _ => return Ok(left),
        };
        Ok(Expr {
            kind,
            span: start..self.prev_end(),
        })
    }

    fn paren_list(&mut self) -> Result<Vec<Expr>, EqlError> {
        self.expect(&Tok::LParen, "`(`")?;
        self.enter()?;
        let r = self.paren_list_items();
        self.leave();
        r
    }

    fn paren_list_items(&mut self) -> Result<Vec<Expr>, EqlError> {
        let mut items = vec![self.additive()?];
        while self.eat(&Tok::Comma) {
            items.push(self.additive()?);
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        Ok(items)
    }

    /// A left-associative chain of binary operators; each link counts as one nesting level.
    fn chain(
        &mut self,
        ops: fn(&Tok) -> Option<ArithOp>,
        next: fn(&mut Self) -> Result<Expr, EqlError>,
    ) -> Result<Expr, EqlError> {
        let mut left = next(self)?;
        if ops(self.peek()).is_none() {
            return Ok(left);
        }
        let saved = self.depth;
        self.depth += left.depth();
        let result = self.chain_links(&mut left, ops, next);
        self.depth = saved;
        result.map(|()| left)
    }

    fn chain_links(
        &mut self,
        left: &mut Expr,
        ops: fn(&Tok) -> Option<ArithOp>,
        next: fn(&mut Self) -> Result<Expr, EqlError>,
    ) -> Result<(), EqlError> {
        while let Some(op) = ops(self.peek()) {
            self.bump();
            self.enter()?;
            let right = next(self)?;
            let start = left.span.start;
            let l = std::mem::replace(
                left,
                Expr {
                    kind: ExprKind::Literal(Literal::Null),
                    span: 0..0,
                },
            );
            *left = Expr {
                kind: ExprKind::Arith {
                    op,
                    left: Box::new(l),
                    right: Box::new(right),
                },
                span: start..self.prev_end(),
            };
        }
        Ok(())
    }

    fn additive(&mut self) -> Result<Expr, EqlError> {
        self.chain(
            |t| match t {
                Tok::Plus => Some(ArithOp::Add),
                Tok::Minus => Some(ArithOp::Sub),
                _ => None,
            },
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> Result<Expr, EqlError> {
        self.chain(
            |t| match t {
                Tok::Star => Some(ArithOp::Mul),
                Tok::Slash => Some(ArithOp::Div),
                Tok::Percent => Some(ArithOp::Mod),
                _ => None,
            },
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Expr, EqlError> {
        match self.peek() {
            Tok::Minus | Tok::Plus => {
                let t = self.bump();
                self.enter()?;
                let inner = self.unary();
                self.leave();
                let inner = inner?;
                let span = t.span.start..self.prev_end();
                if t.tok == Tok::Plus {
                    return Ok(Expr {
                        kind: inner.kind,
                        span,
                    });
                }
                let kind = match inner.kind {
                    ExprKind::Literal(Literal::Int(v)) => {
                        ExprKind::Literal(Literal::Int(v.wrapping_neg()))
                    }
                    ExprKind::Literal(Literal::Float(v)) => ExprKind::Literal(Literal::Float(-v)),
                    other => ExprKind::Neg(Box::new(Expr {
                        kind: other,
                        span: inner.span,
                    })),
                };
                Ok(Expr { kind, span })
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, EqlError> {
        let t = self.span();
        let lit = |l: Literal| ExprKind::Literal(l);
        let kind = match self.peek().clone() {
            Tok::Str { value, .. } => {
                self.bump();
                lit(Literal::Str(value))
            }
            Tok::Int(v) => {
                self.bump();
                lit(Literal::Int(v))
            }
            Tok::Float(v) => {
                self.bump();
                lit(Literal::Float(v))
            }
            Tok::True => {
                self.bump();
                lit(Literal::Bool(true))
            }
            Tok::False => {
                self.bump();
                lit(Literal::Bool(false))
            }
            Tok::Null => {
                self.bump();
                lit(Literal::Null)
            }
            Tok::Question => {
                self.bump();
                match self.peek().clone() {
                    Tok::Ident { name, .. } if self.span().start == t.end => {
                        self.bump();
                        self.no_index()?;
                        ExprKind::Field {
                            name,
                            optional: true,
                        }
                    }
                    _ => return Err(self.unexpected("a field name right after `?`")),
                }
            }
            Tok::Ident { name, .. } => {
                let name_tok = self.bump();
                let adjacent_tilde =
                    *self.peek() == Tok::Tilde && self.span().start == name_tok.span.end;
                if adjacent_tilde && *self.peek_at(1) == Tok::LParen {
                    self.bump();
                    return self.call(name, name_tok.span, true);
                }
                if *self.peek() == Tok::LParen {
                    return self.call(name, name_tok.span, false);
                }
                if *self.peek() == Tok::Reserved("of") {
                    return Err(EqlError::unsupported(
                        "lineage (descendant of, child of, event of) is not supported",
                        name_tok.span.start..self.span().end,
                    ));
                }
                self.no_index()?;
                ExprKind::Field {
                    name,
                    optional: false,
                }
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: t.start..self.prev_end(),
                });
            }
            Tok::Reserved(w) => {
                return Err(EqlError::unsupported(format!("`{w}` is not supported"), t));
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr {
            kind,
            span: t.start..self.prev_end(),
        })
    }

    /// `field[0]` parses in Elasticsearch's grammar only to be rejected.
    fn no_index(&mut self) -> Result<(), EqlError> {
        if *self.peek() == Tok::LBracket
            && self.span().start == self.prev_end()
            && matches!(self.peek_at(1), Tok::Int(_))
        {
            let start = self.span().start;
            return Err(EqlError::unsupported(
                "array indexes are not supported",
                start
                    ..self.tokens[(self.pos + 2).min(self.tokens.len() - 1)]
                        .span
                        .end,
            ));
        }
        Ok(())
    }

    fn call(&mut self, name: String, name_span: Span, insensitive: bool) -> Result<Expr, EqlError> {
        self.expect(&Tok::LParen, "`(`")?;
        self.enter()?;
        let args = (|| {
            let mut args = Vec::new();
            if *self.peek() != Tok::RParen {
                args.push(self.expr()?);
                while self.eat(&Tok::Comma) {
                    args.push(self.expr()?);
                }
            }
            self.expect(&Tok::RParen, "`,` or `)`")?;
            Ok(args)
        })();
        self.leave();
        let args = args?;
        Ok(Expr {
            span: name_span.start..self.prev_end(),
            kind: ExprKind::Call {
                name,
                name_span,
                insensitive,
                args,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Statement {
        parse_statement(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn err(s: &str) -> EqlError {
        parse_statement(s).expect_err(s)
    }

    #[test]
    fn precedence_and_spans() {
        let st = parse("process where a == 1 or not b : \"x\" and c in (1, 2)");
        let QueryAst::Event(q) = &st.query else {
            panic!()
        };
        let ExprKind::Or(items) = &q.condition.kind else {
            panic!("{:?}", q.condition)
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1].kind, ExprKind::And(_)));
        assert_eq!(q.category.as_ref().map(|c| c.1.clone()), Some(0..7));
        assert_eq!(items[0].span, 14..20);
    }

    #[test]
    fn sequences_and_pipes() {
        let st = parse(
            "sequence by host.id with maxspan=30s [process where true] by a with runs=2 \
             ![file where true] until [process where false] | head 3 | tail 1",
        );
        let QueryAst::Sequence(s) = &st.query else {
            panic!()
        };
        assert_eq!(s.maxspan.as_ref().map(|m| m.0), Some(30_000));
        assert_eq!(s.stages.len(), 2);
        assert!(s.stages[1].missing);
        assert_eq!(s.stages[0].runs.as_ref().map(|r| r.0), Some(2));
        assert!(s.until.is_some());
        assert_eq!(st.pipes.len(), 2);
    }

    #[test]
    fn rejected_syntax() {
        assert_eq!(err("process where a < b <= c").kind, EqlErrorKind::Syntax);
        assert_eq!(err("process where a = 1").kind, EqlErrorKind::Syntax);
        assert_eq!(
            err("process where a[0] == 1").kind,
            EqlErrorKind::Unsupported
        );
        assert_eq!(
            err("process where true | count").kind,
            EqlErrorKind::Unsupported
        );
        assert_eq!(
            err("sequence with maxspan=1s by a [process where true] [process where true]").kind,
            EqlErrorKind::Syntax
        );
        let e = err("process where");
        assert_eq!(e.span, 13..13);
    }

    #[test]
    fn nesting_limit_is_an_error_not_a_crash() {
        let deep = format!(
            "process where {}true{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert_eq!(err(&deep).kind, EqlErrorKind::NestingLimit);
        let nots = format!("process where {}true", "not ".repeat(10_000));
        assert_eq!(err(&nots).kind, EqlErrorKind::NestingLimit);
        let minus = format!("process where a == {}1", "- ".repeat(10_000));
        assert_eq!(err(&minus).kind, EqlErrorKind::NestingLimit);
        let chain = format!("process where a == 1{}", " + 1".repeat(10_000));
        assert_eq!(err(&chain).kind, EqlErrorKind::NestingLimit);
        let calls = format!(
            "process where {}1{}",
            "length(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert_eq!(err(&calls).kind, EqlErrorKind::NestingLimit);
        // Just under the limit still parses.
        let ok = format!("process where {}true{}", "(".repeat(100), ")".repeat(100));
        parse(&ok);
    }
}
