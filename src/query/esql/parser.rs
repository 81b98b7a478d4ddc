//! Recursive-descent parser: tokens → [`QueryAst`], following the ES|QL grammar's precedence
//! (`OR` < `AND` < `NOT` < comparison / `LIKE` / `IN` / `IS NULL` < `+ -` < `* / %` < unary
//! minus < `::`).

use super::ast::*;
use super::error::EsqlError;
use super::lexer::{Tok, Token, tokenize};

/// Deepest expression nesting accepted; deeper input is rejected, not a stack overflow.
pub const MAX_NESTING: usize = 100;

/// Commands of ES|QL this engine does not run, rejected by name.
const UNSUPPORTED_COMMANDS: [&str; 14] = [
    "completion",
    "enrich",
    "lookup",
    "fork",
    "sample",
    "change_point",
    "rerank",
    "fuse",
    "show",
    "ts",
    "explain",
    "insist",
    "lookup_join",
    "metrics",
];

const TIME_UNITS: [&str; 29] = [
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "s",
    "minute",
    "minutes",
    "min",
    "hour",
    "hours",
    "h",
    "day",
    "days",
    "d",
    "week",
    "weeks",
    "w",
    "month",
    "months",
    "mo",
    "quarter",
    "quarters",
    "q",
    "year",
    "years",
    "yr",
    "y",
];

pub fn is_time_unit(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    TIME_UNITS.contains(&w.as_str())
        || w == "secs"
        || w == "mins"
        || w == "yrs"
        || w == "msecs"
        || w == "msec"
        || w == "m"
}

pub struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Result<Self, EsqlError> {
        Ok(Parser {
            src,
            toks: tokenize(src)?,
            pos: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(&self.peek_at(n).tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn describe(t: &Token) -> String {
        match &t.tok {
            Tok::Ident(w) | Tok::Source(w) => format!("'{w}'"),
            Tok::Quoted(w) => format!("'`{w}`'"),
            Tok::Int(n) | Tok::Decimal(n) => format!("'{n}'"),
            Tok::Str(s) => format!("'\"{s}\"'"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::Eof => "'<EOF>'".into(),
        }
    }

    fn unexpected(&self, what: &str) -> EsqlError {
        let t = self.peek();
        EsqlError::syntax(
            format!("mismatched input {} expecting {what}", Self::describe(t)),
            t.span.clone(),
        )
    }

    fn expect_op(&mut self, op: &str) -> Result<Token, EsqlError> {
        if self.is_op(op) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&format!("'{op}'")))
        }
    }

    pub fn parse_query(mut self) -> Result<QueryAst, EsqlError> {
        let mut settings = Vec::new();
        while self.is_kw("set") && !self.is_op_at(1, "|") {
            self.bump();
            let name = self.qualified_name()?.0;
            self.expect_op("=")?;
            let value = self.constant()?;
            settings.push((name, value));
            self.expect_op(";")?;
        }
        let mut commands = vec![self.source_command()?];
        while self.eat_op("|") {
            commands.push(self.processing_command()?);
        }
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected("'|' or <EOF>"));
        }
        Ok(QueryAst { commands, settings })
    }

    fn is_op_at(&self, n: usize, op: &str) -> bool {
        matches!(&self.peek_at(n).tok, Tok::Op(o) if *o == op)
    }

    fn command_word(&self) -> Result<(String, crate::query::esql::ast::Span), EsqlError> {
        match &self.peek().tok {
            Tok::Ident(w) => Ok((w.to_ascii_lowercase(), self.peek().span.clone())),
            _ => Err(self.unexpected("a command")),
        }
    }

    fn reject_unsupported(&self, word: &str, span: Span) -> EsqlError {
        let name = if word == "lookup" {
            "LOOKUP JOIN".to_string()
        } else {
            word.to_ascii_uppercase()
        };
        let why = if word == "completion" {
            " (it calls an inference endpoint, which offline replay does not have)"
        } else {
            ""
        };
        EsqlError::unsupported(format!("{name} is not supported{why}"), span)
    }

    fn source_command(&mut self) -> Result<Command, EsqlError> {
        let (word, span) = self.command_word()?;
        let start = span.start;
        match word.as_str() {
            "from" => {
                self.bump();
                let mut sources = Vec::new();
                loop {
                    match self.bump() {
                        Token {
                            tok: Tok::Source(s),
                            ..
                        } => sources.push(s),
                        t => {
                            return Err(EsqlError::syntax(
                                format!("expecting an index pattern, found {}", Self::describe(&t)),
                                t.span,
                            ));
                        }
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                }
                let mut metadata = Vec::new();
                if self.eat_kw("metadata") {
                    loop {
                        metadata.push(self.qualified_name()?.0);
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                }
                Ok(self.command(CommandKind::From { sources, metadata }, start))
            }
            "row" => {
                self.bump();
                let fields = self.fields(false)?;
                Ok(self.command(CommandKind::Row(fields), start))
            }
            w if UNSUPPORTED_COMMANDS.contains(&w) => Err(self.reject_unsupported(w, span)),
            _ => Err(EsqlError::syntax(
                format!(
                    "mismatched input {} expecting {{'row', 'from'}}",
                    Self::describe(self.peek())
                ),
                span,
            )),
        }
    }

    fn command(&self, kind: CommandKind, start: usize) -> Command {
        let end = self.toks[self.pos.saturating_sub(1)].span.end.max(start);
        Command {
            kind,
            span: start..end,
        }
    }

    fn processing_command(&mut self) -> Result<Command, EsqlError> {
        let (word, span) = self.command_word()?;
        let start = span.start;
        if !matches!(word.as_str(), "inline" | "inlinestats") {
            self.bump();
        }
        let kind = match word.as_str() {
            "where" => CommandKind::Where(self.expr()?),
            "eval" => CommandKind::Eval(self.fields(false)?),
            "stats" => self.stats(false)?,
            "inlinestats" => {
                self.bump();
                self.stats(true)?
            }
            "inline" if self.is_kw_at(1, "stats") => {
                self.bump();
                self.bump();
                self.stats(true)?
            }
            "keep" => CommandKind::Keep(self.patterns()?),
            "drop" => CommandKind::Drop(self.patterns()?),
            "rename" => CommandKind::Rename(self.renames()?),
            "sort" => CommandKind::Sort(self.sort_keys()?),
            "limit" => CommandKind::Limit(self.limit()?),
            "mv_expand" => CommandKind::MvExpand(self.pattern()?),
            "grok" => {
                let input = self.primary_with_cast()?;
                let pattern = self.string_lit()?;
                CommandKind::Grok { input, pattern }
            }
            "dissect" => self.dissect()?,
            w if UNSUPPORTED_COMMANDS.contains(&w) || w == "inline" => {
                let name = if w == "lookup" {
                    "LOOKUP JOIN".to_string()
                } else {
                    w.to_ascii_uppercase()
                };
                // Skip to the next top-level `|`; the run rejects the command by name.
                let mut depth = 0usize;
                loop {
                    match &self.peek().tok {
                        Tok::Eof => break,
                        Tok::Op("|") if depth == 0 => break,
                        Tok::Op("(") | Tok::Op("[") => depth += 1,
                        Tok::Op(")") | Tok::Op("]") => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    self.bump();
                }
                CommandKind::Unsupported(name)
            }
            "from" | "row" => {
                return Err(EsqlError::syntax(
                    format!("{} can only start a query", word.to_ascii_uppercase()),
                    span,
                ));
            }
            _ => {
                return Err(EsqlError::syntax(
                    format!("unknown command '{}'", &self.src[span.clone()]),
                    span,
                ));
            }
        };
        Ok(self.command(kind, start))
    }

    fn stats(&mut self, inline: bool) -> Result<CommandKind, EsqlError> {
        let aggs = if self.is_kw("by") || self.is_op("|") || self.peek().tok == Tok::Eof {
            Vec::new()
        } else {
            self.fields(true)?
        };
        let by = if self.eat_kw("by") {
            self.fields(false)?
        } else {
            Vec::new()
        };
        Ok(CommandKind::Stats { aggs, by, inline })
    }

    fn dissect(&mut self) -> Result<CommandKind, EsqlError> {
        let input = self.primary_with_cast()?;
        let pattern = self.string_lit()?;
        let mut append_separator = None;
        while let Tok::Ident(w) = &self.peek().tok {
            let span = self.peek().span.clone();
            let w = w.to_ascii_lowercase();
            self.bump();
            self.expect_op("=")?;
            let v = self.string_lit()?;
            if w == "append_separator" {
                append_separator = Some(v);
            } else {
                return Err(EsqlError::verify(
                    format!("Invalid option for dissect: [{w}]"),
                    span,
                ));
            }
        }
        Ok(CommandKind::Dissect {
            input,
            pattern,
            append_separator,
        })
    }

    fn limit(&mut self) -> Result<usize, EsqlError> {
        let t = self.bump();
        match &t.tok {
            Tok::Int(n) => n
                .parse::<usize>()
                .map_err(|_| EsqlError::verify(format!("invalid LIMIT [{n}]"), t.span.clone())),
            _ => Err(EsqlError::syntax(
                format!(
                    "mismatched input {} expecting INTEGER_LITERAL",
                    Self::describe(&t)
                ),
                t.span,
            )),
        }
    }

    fn string_lit(&mut self) -> Result<String, EsqlError> {
        match self.peek().tok.clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(s)
            }
            _ => Err(self.unexpected("QUOTED_STRING")),
        }
    }

    fn sort_keys(&mut self) -> Result<Vec<SortKey>, EsqlError> {
        let mut keys = Vec::new();
        loop {
            let expr = self.expr()?;
            let descending = if self.eat_kw("desc") {
                true
            } else {
                self.eat_kw("asc");
                false
            };
            let nulls_first = if self.eat_kw("nulls") {
                if self.eat_kw("first") {
                    Some(true)
                } else if self.eat_kw("last") {
                    Some(false)
                } else {
                    return Err(self.unexpected("{'first', 'last'}"));
                }
            } else {
                None
            };
            keys.push(SortKey {
                expr,
                descending,
                nulls_first,
            });
            if !self.eat_op(",") {
                return Ok(keys);
            }
        }
    }

    /// A name or wildcard pattern: adjacent identifier, `` `quoted` ``, `*` and `.` tokens.
    fn pattern(&mut self) -> Result<NamePattern, EsqlError> {
        let start = self.peek().span.start;
        let mut text = String::new();
        let mut end = start;
        loop {
            let t = self.peek().clone();
            if !text.is_empty() && t.span.start != end {
                break;
            }
            match &t.tok {
                Tok::Ident(w) => text.push_str(w),
                Tok::Quoted(w) => text.push_str(w),
                Tok::Int(w) if !text.is_empty() => text.push_str(w),
                Tok::Op("*") => text.push('*'),
                Tok::Op(".") if !text.is_empty() => text.push('.'),
                _ => break,
            }
            end = t.span.end;
            self.bump();
        }
        if text.is_empty() {
            return Err(self.unexpected("an identifier or pattern"));
        }
        Ok(NamePattern {
            text,
            span: start..end,
        })
    }

    fn patterns(&mut self) -> Result<Vec<NamePattern>, EsqlError> {
        let mut out = vec![self.pattern()?];
        while self.eat_op(",") {
            out.push(self.pattern()?);
        }
        Ok(out)
    }

    fn renames(&mut self) -> Result<Vec<(NamePattern, NamePattern)>, EsqlError> {
        let mut out = Vec::new();
        loop {
            let a = self.pattern()?;
            if self.eat_kw("as") {
                let b = self.pattern()?;
                out.push((a, b));
            } else if self.eat_op("=") {
                let b = self.pattern()?;
                out.push((b, a));
            } else {
                return Err(self.unexpected("{'=', 'as'}"));
            }
            if !self.eat_op(",") {
                return Ok(out);
            }
        }
    }

    /// `[name =] expr [WHERE cond]`, comma-separated.
    fn fields(&mut self, aggregates: bool) -> Result<Vec<Field>, EsqlError> {
        let mut out = Vec::new();
        loop {
            out.push(self.field(aggregates)?);
            if !self.eat_op(",") {
                return Ok(out);
            }
        }
    }

    fn field(&mut self, aggregates: bool) -> Result<Field, EsqlError> {
        let save = self.pos;
        let mut name = None;
        if matches!(self.peek().tok, Tok::Ident(_) | Tok::Quoted(_)) {
            if let Ok((n, nspan)) = self.qualified_name() {
                if self.is_op("=") {
                    self.bump();
                    name = Some((n, nspan));
                } else {
                    self.pos = save;
                }
            } else {
                self.pos = save;
            }
        }
        let expr = self.expr()?;
        let filter = if aggregates && self.eat_kw("where") {
            Some(self.expr()?)
        } else {
            None
        };
        let (name, name_span) = name.unwrap_or_else(|| match &expr.kind {
            ExprKind::Field(f) => (f.clone(), expr.span.clone()),
            _ => (self.src[expr.span.clone()].to_string(), expr.span.clone()),
        });
        Ok(Field {
            name,
            expr,
            filter,
            name_span,
        })
    }

    fn qualified_name(&mut self) -> Result<(String, Span), EsqlError> {
        let start = self.peek().span.start;
        let mut name = String::new();
        loop {
            let t = self.peek().clone();
            match &t.tok {
                Tok::Ident(w) | Tok::Quoted(w) => name.push_str(w),
                _ => return Err(self.unexpected("an identifier")),
            }
            self.bump();
            // `a.b`, `a.1`: a dot directly followed by a name part.
            if self.is_op(".")
                && self.peek().span.start == t.span.end
                && matches!(self.peek_at(1).tok, Tok::Ident(_) | Tok::Quoted(_))
            {
                self.bump();
                name.push('.');
                continue;
            }
            let end = t.span.end;
            return Ok((name, start..end));
        }
    }

    pub fn expr(&mut self) -> Result<Expr, EsqlError> {
        self.enter()?;
        let r = self.or();
        self.depth -= 1;
        r
    }

    /// One more level of nesting (a parenthesis, an operand of a chain of operators); deeper
    /// than [`MAX_NESTING`] is an error, so that later recursive passes cannot overflow.
    fn enter(&mut self) -> Result<(), EsqlError> {
        let span = self.peek().span.clone();
        self.enter_at(span)
    }

    /// [`Self::enter`], with a nesting-limit error located at `span`.
    fn enter_at(&mut self, span: std::ops::Range<usize>) -> Result<(), EsqlError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(EsqlError::new(
                super::error::EsqlErrorKind::NestingLimit,
                format!("expression nested deeper than {MAX_NESTING}"),
                span,
            ));
        }
        Ok(())
    }

    /// Runs one precedence level's operator chain; the nesting its operands added ends with it.
    fn depth_scoped(
        &mut self,
        chain: fn(&mut Self) -> Result<Expr, EsqlError>,
    ) -> Result<Expr, EsqlError> {
        let saved = self.depth;
        let r = chain(self);
        self.depth = saved;
        r
    }

    fn binary(op: BinOp, left: Expr, right: Expr) -> Expr {
        let span = left.span.start..right.span.end;
        Expr {
            kind: ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        }
    }

    fn or(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::or_chain)
    }

    fn or_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.and()?;
        while self.eat_kw("or") {
            self.enter()?;
            let right = self.and()?;
            left = Self::binary(BinOp::Or, left, right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::and_chain)
    }

    fn and_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.not()?;
        while self.eat_kw("and") {
            self.enter()?;
            let right = self.not()?;
            left = Self::binary(BinOp::And, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, EsqlError> {
        if self.is_kw("not") {
            let start = self.bump().span.start;
            self.enter()?;
            let inner = self.not();
            self.depth -= 1;
            let inner = inner?;
            let span = start..inner.span.end;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::predicate_chain)
    }

    fn predicate_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.additive()?;
        if let Some(op) = self.comparison_op() {
            self.bump();
            let right = self.additive()?;
            left = Self::binary(op, left, right);
        }
        loop {
            let negated = self.is_kw("not")
                && (self.is_kw_at(1, "in")
                    || self.is_kw_at(1, "like")
                    || self.is_kw_at(1, "rlike"));
            if negated {
                self.bump();
            }
            if self.is_kw("in") || self.is_kw("like") || self.is_kw("rlike") || self.is_kw("is") {
                self.enter()?;
            }
            if self.eat_kw("in") {
                self.expect_op("(")?;
                let mut list = vec![self.expr()?];
                while self.eat_op(",") {
                    list.push(self.expr()?);
                }
                let end = self.expect_op(")")?.span.end;
                let span = left.span.start..end;
                left = Expr {
                    kind: ExprKind::In {
                        expr: Box::new(left),
                        list,
                        negated,
                    },
                    span,
                };
            } else if self.is_kw("like") || self.is_kw("rlike") {
                let regex = self.is_kw("rlike");
                self.bump();
                let mut patterns = Vec::new();
                let end;
                if self.eat_op("(") {
                    patterns.push(self.additive()?);
                    while self.eat_op(",") {
                        patterns.push(self.additive()?);
                    }
                    end = self.expect_op(")")?.span.end;
                } else {
                    let p = self.primary_with_cast()?;
                    end = p.span.end;
                    patterns.push(p);
                }
                let span = left.span.start..end;
                left = Expr {
                    kind: ExprKind::Like {
                        expr: Box::new(left),
                        patterns,
                        negated,
                        regex,
                    },
                    span,
                };
            } else if self.is_kw("is") {
                self.bump();
                let negated = self.eat_kw("not");
                if !self.is_kw("null") {
                    return Err(self.unexpected("'null'"));
                }
                let end = self.bump().span.end;
                let span = left.span.start..end;
                left = Expr {
                    kind: ExprKind::IsNull {
                        expr: Box::new(left),
                        negated,
                    },
                    span,
                };
            } else {
                return Ok(left);
            }
        }
    }

    fn comparison_op(&self) -> Option<BinOp> {
        match &self.peek().tok {
            Tok::Op("==") => Some(BinOp::Eq),
            Tok::Op("!=") => Some(BinOp::Neq),
            Tok::Op("<") => Some(BinOp::Lt),
            Tok::Op("<=") => Some(BinOp::Lte),
            Tok::Op(">") => Some(BinOp::Gt),
            Tok::Op(">=") => Some(BinOp::Gte),
            Tok::Op("=~") => Some(BinOp::EqIgnoreCase),
            _ => None,
        }
    }

    fn additive(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::additive_chain)
    }

    fn additive_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek().tok {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            self.enter()?;
            let right = self.multiplicative()?;
            left = Self::binary(op, left, right);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::multiplicative_chain)
    }

    fn multiplicative_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                Tok::Op("%") => BinOp::Mod,
                _ => return Ok(left),
            };
            self.bump();
            self.enter()?;
            let right = self.unary()?;
            left = Self::binary(op, left, right);
        }
    }

    fn unary(&mut self) -> Result<Expr, EsqlError> {
        if self.is_op("-") || self.is_op("+") {
            let t = self.bump();
            self.enter_at(t.span.clone())?;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            let span = t.span.start..inner.span.end;
            if t.tok == Tok::Op("+") {
                return Ok(Expr {
                    kind: inner.kind,
                    span,
                });
            }
            // A negative literal is a literal (`-9223372036854775808` fits a long).
            if let ExprKind::Literal(Literal::Int(n)) = &inner.kind {
                return Ok(Expr {
                    kind: ExprKind::Literal(Literal::Int(format!("-{n}"))),
                    span,
                });
            }
            if let ExprKind::Literal(Literal::Decimal(d)) = &inner.kind {
                return Ok(Expr {
                    kind: ExprKind::Literal(Literal::Decimal(-d)),
                    span,
                });
            }
            if let ExprKind::Literal(Literal::Span(n, u)) = &inner.kind {
                return Ok(Expr {
                    kind: ExprKind::Literal(Literal::Span(-n, u.clone())),
                    span,
                });
            }
            return Ok(Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                span,
            });
        }
        self.primary_with_cast()
    }

    fn primary_with_cast(&mut self) -> Result<Expr, EsqlError> {
        self.depth_scoped(Self::cast_chain)
    }

    fn cast_chain(&mut self) -> Result<Expr, EsqlError> {
        let mut e = self.primary()?;
        while self.eat_op("::") {
            self.enter()?;
            let t = self.bump();
            let to = match &t.tok {
                Tok::Ident(w) => w.to_ascii_lowercase(),
                _ => {
                    return Err(EsqlError::syntax(
                        format!("expecting a data type, found {}", Self::describe(&t)),
                        t.span,
                    ));
                }
            };
            let span = e.span.start..t.span.end;
            e = Expr {
                kind: ExprKind::Cast {
                    expr: Box::new(e),
                    to,
                },
                span,
            };
        }
        Ok(e)
    }

    fn lit(kind: Literal, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Literal(kind),
            span,
        }
    }

    fn primary(&mut self) -> Result<Expr, EsqlError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Op("(") => {
                self.bump();
                let mut e = self.expr()?;
                let end = self.expect_op(")")?.span.end;
                // Parentheses do not change the expression, but its text (the column name) does.
                e.span = t.span.start..end;
                Ok(e)
            }
            Tok::Op("[") | Tok::Int(_) | Tok::Decimal(_) | Tok::Str(_) => {
                let lit = self.constant()?;
                let end = self.toks[self.pos - 1].span.end;
                Ok(Self::lit(lit, t.span.start..end))
            }
            Tok::Ident(w) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "null" | "true" | "false" => {
                        let lit = self.constant()?;
                        return Ok(Self::lit(lit, t.span));
                    }
                    _ => {}
                }
                if self.is_op_at(1, "(") && self.peek_at(1).span.start >= t.span.end {
                    return self.call(lower, t.span.start);
                }
                self.field_ref()
            }
            Tok::Quoted(_) => self.field_ref(),
            Tok::Op("{") => {
                // Function options (`{ "fuzziness": 1 }`), kept as their text.
                let mut depth = 0usize;
                let start = t.span.start;
                let mut end = t.span.end;
                loop {
                    let tok = self.bump();
                    match tok.tok {
                        Tok::Op("{") => depth += 1,
                        Tok::Op("}") => depth = depth.saturating_sub(1),
                        Tok::Eof => return Err(EsqlError::syntax("unterminated '{'", start..end)),
                        _ => {}
                    }
                    end = tok.span.end;
                    if depth == 0 {
                        break;
                    }
                }
                Ok(Self::lit(
                    Literal::Str(self.src[start..end].to_string()),
                    start..end,
                ))
            }
            Tok::Op("?") => Err(EsqlError::unsupported(
                "query parameters are not supported",
                t.span,
            )),
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn field_ref(&mut self) -> Result<Expr, EsqlError> {
        let (name, span) = self.qualified_name()?;
        if self.is_op(":") {
            self.bump();
            let query = self.primary_with_cast()?;
            let span = span.start..query.span.end;
            return Ok(Expr {
                kind: ExprKind::Match {
                    field: name,
                    query: Box::new(query),
                },
                span,
            });
        }
        Ok(Expr {
            kind: ExprKind::Field(name),
            span,
        })
    }

    fn call(&mut self, name: String, start: usize) -> Result<Expr, EsqlError> {
        self.bump();
        self.expect_op("(")?;
        let mut args = Vec::new();
        if self.is_op("*") && self.is_op_at(1, ")") {
            let t = self.bump();
            args.push(Expr {
                kind: ExprKind::Star,
                span: t.span,
            });
        } else if !self.is_op(")") {
            self.depth += 1;
            let r = (|| {
                let mut v = vec![self.expr()?];
                while self.eat_op(",") {
                    v.push(self.expr()?);
                }
                Ok::<_, EsqlError>(v)
            })();
            self.depth -= 1;
            args = r?;
        }
        let end = self.expect_op(")")?.span.end;
        let span = start..end;
        if name == "not" && args.len() == 1 {
            let inner = args.pop().unwrap_or(Expr {
                kind: ExprKind::Literal(Literal::Null),
                span: span.clone(),
            });
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        Ok(Expr {
            kind: ExprKind::Call { name, args },
            span,
        })
    }

    fn constant(&mut self) -> Result<Literal, EsqlError> {
        let t = self.bump();
        match &t.tok {
            Tok::Ident(w) if w.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Tok::Int(n) => {
                if let Tok::Ident(u) = &self.peek().tok {
                    if is_time_unit(u) {
                        let u = u.clone();
                        let ut = self.bump();
                        let count = n.parse::<i64>().map_err(|_| {
                            EsqlError::verify(
                                format!("Number [{n}] outside of range"),
                                t.span.start..ut.span.end,
                            )
                        })?;
                        return Ok(Literal::Span(count, u));
                    }
                }
                Ok(Literal::Int(n.clone()))
            }
            Tok::Decimal(d) => d
                .parse::<f64>()
                .map(Literal::Decimal)
                .map_err(|_| EsqlError::syntax(format!("invalid number [{d}]"), t.span.clone())),
            Tok::Str(s) => Ok(Literal::Str(s.clone())),
            Tok::Op("-") => match self.constant()? {
                Literal::Int(n) => Ok(Literal::Int(format!("-{n}"))),
                Literal::Decimal(d) => Ok(Literal::Decimal(-d)),
                _ => Err(EsqlError::syntax("expecting a number after '-'", t.span)),
            },
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.is_op("]") {
                    loop {
                        items.push(self.constant()?);
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                }
                self.expect_op("]")?;
                Ok(Literal::List(items))
            }
            _ => Err(EsqlError::syntax(
                format!(
                    "mismatched input {} expecting a constant",
                    Self::describe(&t)
                ),
                t.span,
            )),
        }
    }
}
