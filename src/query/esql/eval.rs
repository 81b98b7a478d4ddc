//! Expressions resolved against a table's columns (types, implicit casts) and evaluated per
//! row with ES|QL's semantics: three-valued logic, null propagation, multi-values turning a
//! single-value operation into null with a warning.

use super::ast::{BinOp, Expr, ExprKind, Literal, Span};
use super::error::EsqlError;
use super::functions;
use super::types::{DataType, Value, cmp_scalar, parse_date, parse_ip};
use std::cell::RefCell;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// A scalar function after resolution: evaluates argument values of the resolved types.
pub(crate) type FuncImpl = fn(&[Value], &[DataType], &Ctx) -> Result<Value, String>;

#[derive(Clone)]
pub(crate) struct Func {
    pub name: &'static str,
    pub run: FuncImpl,
    /// Multi-values pass through to `run` (the `MV_*` family, conversions, …); otherwise a
    /// multi-valued argument makes the result null with a warning.
    pub multi: bool,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Lit(Value),
    Col(usize),
    Neg(Box<CExpr>),
    Not(Box<CExpr>),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    /// A comparison over values widened to the given type.
    Cmp(BinOp, Box<CExpr>, Box<CExpr>),
    Arith(BinOp, Box<CExpr>, Box<CExpr>),
    In(Box<CExpr>, Vec<CExpr>, bool),
    Like(Box<CExpr>, Vec<regex::Regex>, bool),
    IsNull(Box<CExpr>, bool),
    Call(Func, Vec<CExpr>),
    /// `CASE(c1, v1, c2, v2, …, [else])`.
    Case(Vec<CExpr>),
    Coalesce(Vec<CExpr>),
    /// `KQL("…")`: matched against the row as an event.
    Kql(Box<crate::query::kql::Compiled>),
}

#[derive(Debug, Clone)]
pub(crate) struct CExpr {
    pub node: Node,
    pub ty: DataType,
    pub span: Span,
}

/// What evaluation needs besides the row: the query's clock and a warnings sink.
pub struct Ctx<'a> {
    pub now: i64,
    pub src: &'a str,
    pub warnings: RefCell<Warnings>,
    /// Column names (for `KQL()`, which reads the row as an event).
    pub columns: RefCell<Vec<Column>>,
    /// The span of the function being run (for warnings raised inside it).
    pub span: RefCell<Span>,
    /// A wildcard in KEEP/DROP may match no column (the source's schema is partial).
    pub lenient_patterns: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(src: &'a str, now: i64) -> Self {
        Ctx {
            now,
            src,
            warnings: RefCell::new(Warnings::default()),
            columns: RefCell::new(Vec::new()),
            span: RefCell::new(0..0),
            lenient_patterns: false,
        }
    }

    /// A warning from inside a function that still returns a value.
    pub fn warn(&self, exception: String) {
        let span = self.span.borrow().clone();
        self.warnings.borrow_mut().add(self.src, &span, exception);
    }
}

/// Response warnings, as Elasticsearch words them: per failing expression a header, then up
/// to 20 distinct exception lines.
#[derive(Debug, Default, Clone)]
pub struct Warnings {
    entries: Vec<(Span, String, Vec<String>)>,
}

impl Warnings {
    pub fn add(&mut self, src: &str, span: &Span, exception: String) {
        let pos = line_col(src, span.start);
        if let Some(e) = self.entries.iter_mut().find(|e| e.0 == *span) {
            let line = format!("Line {}:{}: {exception}", pos.0, pos.1);
            if e.2.len() < 20 && !e.2.contains(&line) {
                e.2.push(line);
            }
            return;
        }
        let text = src.get(span.clone()).unwrap_or("");
        let header = format!(
            "Line {}:{}: evaluation of [{text}] failed, treating result as null. Only first 20 failures recorded.",
            pos.0, pos.1
        );
        self.entries.push((
            span.clone(),
            header,
            vec![format!("Line {}:{}: {exception}", pos.0, pos.1)],
        ));
    }

    /// A warning that is not an evaluation failure (`Field 'x' shadowed by …`).
    pub fn add_plain(&mut self, text: String) {
        if !self.entries.iter().any(|e| e.1 == text) {
            self.entries.push((0..0, text, Vec::new()));
        }
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, h, ex) in &self.entries {
            out.push(h.clone());
            out.extend(ex.iter().cloned());
        }
        out
    }
}

pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

pub(crate) const MV_WARNING: &str =
    "java.lang.IllegalArgumentException: single-value function encountered multi-value";

pub(crate) fn lit(v: Value, ty: DataType, span: Span) -> CExpr {
    CExpr {
        node: Node::Lit(v),
        ty,
        span,
    }
}

/// Resolves expressions against columns.
pub(crate) struct Resolver<'a> {
    pub columns: &'a [Column],
    pub src: &'a str,
}

impl Resolver<'_> {
    pub fn column(&self, name: &str, span: &Span) -> Result<(usize, DataType), EsqlError> {
        // The last column of a name wins (a later EVAL shadows an earlier one).
        match self.columns.iter().rposition(|c| c.name == name) {
            Some(i) => Ok((i, self.columns[i].ty)),
            None => Err(EsqlError::verify(
                format!("Unknown column [{name}]"),
                span.clone(),
            )),
        }
    }

    pub fn resolve(&self, e: &Expr) -> Result<CExpr, EsqlError> {
        let span = e.span.clone();
        let (node, ty) = match &e.kind {
            ExprKind::Literal(l) => {
                let (v, ty) = literal(l, &span)?;
                (Node::Lit(v), ty)
            }
            ExprKind::Field(name) => {
                let (i, ty) = self.column(name, &span)?;
                (Node::Col(i), ty)
            }
            ExprKind::Star => {
                return Err(EsqlError::verify("'*' is only valid in COUNT(*)", span));
            }
            ExprKind::Call { name, args } => return functions::resolve(self, name, args, span),
            ExprKind::Neg(inner) => {
                let c = self.resolve(inner)?;
                if !(c.ty.is_numeric() || c.ty.is_span() || c.ty == DataType::Null) {
                    return Err(type_error(
                        self.src,
                        &span,
                        "first",
                        "numeric, date_period or time_duration",
                        c.ty,
                    ));
                }
                let ty = c.ty;
                (Node::Neg(Box::new(c)), ty)
            }
            ExprKind::Not(inner) => {
                let c = self.boolean(inner)?;
                (Node::Not(Box::new(c)), DataType::Boolean)
            }
            ExprKind::Binary { op, left, right } => return self.binary(*op, left, right, span),
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let mut l = self.resolve(expr)?;
                let mut items = list
                    .iter()
                    .map(|x| self.resolve(x))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut ty = l.ty;
                for it in &items {
                    if it.ty.is_numeric() && ty.is_numeric() {
                        ty = DataType::widen(ty, it.ty);
                    }
                }
                for it in &mut items {
                    coerce_literal(it, l.ty);
                    if !compatible(l.ty, it.ty) {
                        return Err(EsqlError::verify(
                            format!(
                                "{}: argument of [{}] must be [{}], found value [{}] type [{}]",
                                lc(self.src, &span),
                                self.src.get(span.clone()).unwrap_or(""),
                                l.ty.name(),
                                self.src.get(it.span.clone()).unwrap_or(""),
                                it.ty.name()
                            ),
                            it.span.clone(),
                        ));
                    }
                }
                if l.ty == DataType::Null {
                    l.ty = ty;
                }
                (Node::In(Box::new(l), items, *negated), DataType::Boolean)
            }
            ExprKind::Like {
                expr,
                patterns,
                negated,
                regex,
            } => {
                let l = self.resolve(expr)?;
                if !(l.ty.is_string() || l.ty == DataType::Null) {
                    return Err(type_error(self.src, &span, "first", "string", l.ty));
                }
                let mut res = Vec::new();
                for p in patterns {
                    let text = match &p.kind {
                        ExprKind::Literal(Literal::Str(s)) => s.clone(),
                        _ => {
                            return Err(EsqlError::verify(
                                "the pattern of LIKE / RLIKE must be a string literal",
                                p.span.clone(),
                            ));
                        }
                    };
                    let re = if *regex {
                        functions::lucene_regex(&text)
                    } else {
                        functions::like_regex(&text)
                    };
                    res.push(re.map_err(|m| EsqlError::verify(m, p.span.clone()))?);
                }
                (Node::Like(Box::new(l), res, *negated), DataType::Boolean)
            }
            ExprKind::IsNull { expr, negated } => {
                let c = self.resolve(expr)?;
                (Node::IsNull(Box::new(c), *negated), DataType::Boolean)
            }
            ExprKind::Cast { expr, to } => {
                let c = self.resolve(expr)?;
                return functions::cast(c, to, span);
            }
            ExprKind::Match { field, query } => {
                let f = Expr {
                    kind: ExprKind::Field(field.clone()),
                    span: span.start..span.start + field.len(),
                };
                return functions::resolve(self, "match", &[f, (**query).clone()], span);
            }
        };
        Ok(CExpr { node, ty, span })
    }

    pub fn boolean(&self, e: &Expr) -> Result<CExpr, EsqlError> {
        let c = self.resolve(e)?;
        if !matches!(c.ty, DataType::Boolean | DataType::Null) {
            return Err(EsqlError::verify(
                format!(
                    "{}: argument of [{}] must be [boolean], found value [{}] type [{}]",
                    lc(self.src, &e.span),
                    self.src.get(e.span.clone()).unwrap_or(""),
                    self.src.get(e.span.clone()).unwrap_or(""),
                    c.ty.name()
                ),
                e.span.clone(),
            ));
        }
        Ok(c)
    }

    fn binary(&self, op: BinOp, left: &Expr, right: &Expr, span: Span) -> Result<CExpr, EsqlError> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = Box::new(self.boolean(left)?);
            let r = Box::new(self.boolean(right)?);
            let node = if op == BinOp::And {
                Node::And(l, r)
            } else {
                Node::Or(l, r)
            };
            return Ok(CExpr {
                node,
                ty: DataType::Boolean,
                span,
            });
        }
        let mut l = self.resolve(left)?;
        let mut r = self.resolve(right)?;
        if matches!(op, BinOp::Add | BinOp::Sub) {
            // `date + "1 day"`: a string literal next to a date or span reads as a span.
            if matches!(l.ty, DataType::Date) || l.ty.is_span() {
                coerce_span(&mut r);
            }
            if matches!(r.ty, DataType::Date) || r.ty.is_span() {
                coerce_span(&mut l);
            }
        }
        if matches!(op, BinOp::Add | BinOp::Sub) {
            // `"2024-01-01" + 1 day`: a string next to a span reads as a date.
            if l.ty.is_span() {
                coerce_literal(&mut r, DataType::Date);
            }
            if r.ty.is_span() {
                coerce_literal(&mut l, DataType::Date);
            }
        }
        coerce_literal(&mut l, r.ty);
        coerce_literal(&mut r, l.ty);
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let ty = arith_type(op, l.ty, r.ty).ok_or_else(|| {
                    EsqlError::verify(
                        format!(
                            "{}: [{}] has arguments with incompatible types [{}] and [{}]",
                            lc(self.src, &span),
                            op.symbol(),
                            l.ty.name(),
                            r.ty.name()
                        ),
                        span.clone(),
                    )
                })?;
                Ok(CExpr {
                    node: Node::Arith(op, Box::new(l), Box::new(r)),
                    ty,
                    span,
                })
            }
            _ => {
                if !compatible(l.ty, r.ty) {
                    return Err(EsqlError::verify(
                        format!(
                            "{}: first argument of [{}] is [{}] so second argument must also be [{}] but was [{}]",
                            lc(self.src, &span),
                            self.src.get(span.clone()).unwrap_or(""),
                            cmp_family(l.ty),
                            cmp_family(l.ty),
                            r.ty.name()
                        ),
                        span,
                    ));
                }
                Ok(CExpr {
                    node: Node::Cmp(op, Box::new(l), Box::new(r)),
                    ty: DataType::Boolean,
                    span,
                })
            }
        }
    }
}

fn cmp_family(t: DataType) -> &'static str {
    if t.is_numeric() {
        "numeric"
    } else if t.is_string() {
        "keyword"
    } else {
        t.name()
    }
}

pub(crate) fn lc(src: &str, span: &Span) -> String {
    let (l, c) = line_col(src, span.start);
    format!("{l}:{c}")
}

pub(crate) fn type_error(
    src: &str,
    span: &Span,
    ord: &str,
    want: &str,
    got: DataType,
) -> EsqlError {
    EsqlError::verify(
        format!(
            "{}: {ord} argument of [{}] must be [{want}], found value [] type [{}]",
            lc(src, span),
            src.get(span.clone()).unwrap_or(""),
            got.name()
        ),
        span.clone(),
    )
}

/// Whether two types can be compared.
pub(crate) fn compatible(a: DataType, b: DataType) -> bool {
    a == b
        || a == DataType::Null
        || b == DataType::Null
        || (a.is_numeric() && b.is_numeric())
        || (a.is_string() && b.is_string())
        || a == DataType::Unsupported
        || b == DataType::Unsupported
}

/// A string literal compared with a date, ip, version or boolean is read as one (Elasticsearch's
/// implicit casting of literals).
pub(crate) fn coerce_literal(e: &mut CExpr, target: DataType) {
    let Node::Lit(Value::Str(s)) = &e.node else {
        if let Node::Lit(Value::Multi(items)) = &e.node {
            if e.ty.is_string()
                && matches!(target, DataType::Date | DataType::Ip | DataType::Version)
            {
                let conv: Option<Vec<Value>> = items
                    .iter()
                    .map(|v| v.as_str().and_then(|s| read_as(s, target)))
                    .collect();
                if let Some(c) = conv {
                    e.node = Node::Lit(Value::from_vec(c));
                    e.ty = target;
                }
            }
        }
        return;
    };
    if !e.ty.is_string() {
        return;
    }
    if let Some(v) = read_as(s, target) {
        e.node = Node::Lit(v);
        e.ty = target;
    }
}

/// A string literal that spells a span (`"1 day"`) becomes that span.
pub(crate) fn coerce_span(e: &mut CExpr) {
    if let Node::Lit(Value::Str(s)) = &e.node {
        if let Some((v, t)) = functions::parse_span_text(s) {
            e.node = Node::Lit(v);
            e.ty = t;
        }
    }
}

fn read_as(s: &str, target: DataType) -> Option<Value> {
    match target {
        DataType::Date => parse_date(s).map(Value::Date),
        DataType::Ip => parse_ip(s),
        DataType::Version => Some(Value::Str(s.to_string())),
        DataType::Boolean => match s.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        DataType::DatePeriod | DataType::TimeDuration => {
            functions::parse_span_text(s).map(|(v, _)| v)
        }
        _ => None,
    }
}

fn arith_type(op: BinOp, l: DataType, r: DataType) -> Option<DataType> {
    use DataType::*;
    match (l, r) {
        (Null, Null) => Some(Null),
        (a, b) if a.is_numeric() && b.is_numeric() => {
            if (a == UnsignedLong) != (b == UnsignedLong) && a != Double && b != Double {
                return None;
            }
            Some(DataType::widen(a, b))
        }
        (a, Null) | (Null, a) if a.is_numeric() => Some(a),
        (Date, s) | (s, Date) if s.is_span() && matches!(op, BinOp::Add | BinOp::Sub) => {
            if op == BinOp::Sub && l != Date {
                return None;
            }
            Some(Date)
        }
        (Date, Null) | (Null, Date) => Some(Date),
        (a, b) if a == b && a.is_span() && matches!(op, BinOp::Add | BinOp::Sub) => Some(a),
        (a, Null) | (Null, a) if a.is_span() => Some(a),
        _ => None,
    }
}

pub(crate) fn literal(l: &Literal, span: &Span) -> Result<(Value, DataType), EsqlError> {
    Ok(match l {
        Literal::Null => (Value::Null, DataType::Null),
        Literal::Bool(b) => (Value::Bool(*b), DataType::Boolean),
        Literal::Int(text) => int_literal(text),
        Literal::Decimal(d) => (Value::Double(*d), DataType::Double),
        Literal::Str(s) => (Value::Str(s.clone()), DataType::Keyword),
        Literal::Span(n, unit) => functions::span_value(*n, unit).ok_or_else(|| {
            EsqlError::verify(
                format!("Unexpected time interval qualifier: '{unit}'"),
                span.clone(),
            )
        })?,
        Literal::List(items) => {
            let mut vals = Vec::new();
            let mut ty = DataType::Null;
            for it in items {
                let (v, t) = literal(it, span)?;
                ty = if ty == DataType::Null {
                    t
                } else if ty.is_numeric() && t.is_numeric() {
                    DataType::widen(ty, t)
                } else {
                    ty
                };
                vals.push(v);
            }
            if ty.is_numeric() {
                vals = vals
                    .into_iter()
                    .map(|v| functions::convert_num(&v, ty))
                    .collect();
            }
            (Value::from_vec(vals), ty)
        }
    })
}

fn int_literal(text: &str) -> (Value, DataType) {
    if let Ok(i) = text.parse::<i64>() {
        if i32::try_from(i).is_ok() {
            (Value::Int(i), DataType::Integer)
        } else {
            (Value::Int(i), DataType::Long)
        }
    } else if let Ok(u) = text.parse::<u64>() {
        (Value::ULong(u), DataType::UnsignedLong)
    } else {
        (
            Value::Double(text.parse().unwrap_or(f64::NAN)),
            DataType::Double,
        )
    }
}

impl CExpr {
    /// Evaluates against one row; failures become null plus a warning in `ctx`.
    pub fn eval(&self, row: &[Value], ctx: &Ctx) -> Value {
        match self.try_eval(row, ctx) {
            Ok(v) => v,
            Err(ex) => {
                ctx.warnings.borrow_mut().add(ctx.src, &self.span, ex);
                Value::Null
            }
        }
    }

    fn try_eval(&self, row: &[Value], ctx: &Ctx) -> Result<Value, String> {
        match &self.node {
            Node::Lit(v) => Ok(v.clone()),
            Node::Col(i) => Ok(row.get(*i).cloned().unwrap_or(Value::Null)),
            Node::Neg(e) => {
                let v = single(e.eval(row, ctx))?;
                functions::negate(&v, self.ty)
            }
            Node::Not(e) => Ok(match single(e.eval(row, ctx))? {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            }),
            Node::And(l, r) => {
                let a = single(l.eval(row, ctx))?;
                if a == Value::Bool(false) {
                    return Ok(a);
                }
                let b = single(r.eval(row, ctx))?;
                Ok(match (a, b) {
                    (_, Value::Bool(false)) => Value::Bool(false),
                    (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                    _ => Value::Null,
                })
            }
            Node::Or(l, r) => {
                let a = single(l.eval(row, ctx))?;
                if a == Value::Bool(true) {
                    return Ok(a);
                }
                let b = single(r.eval(row, ctx))?;
                Ok(match (a, b) {
                    (_, Value::Bool(true)) => Value::Bool(true),
                    (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                    _ => Value::Null,
                })
            }
            Node::Cmp(op, l, r) => {
                let a = single(l.eval(row, ctx))?;
                let b = single(r.eval(row, ctx))?;
                if a.is_null() || b.is_null() {
                    return Ok(Value::Null);
                }
                Ok(Value::Bool(compare(*op, &a, &b, l.ty)))
            }
            Node::Arith(op, l, r) => {
                let a = single(l.eval(row, ctx))?;
                let b = single(r.eval(row, ctx))?;
                if a.is_null() || b.is_null() {
                    return Ok(Value::Null);
                }
                functions::arith(*op, &a, &b, l.ty, r.ty, self.ty)
            }
            Node::In(e, list, negated) => {
                let v = single(e.eval(row, ctx))?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                for it in list {
                    let w = it.eval(row, ctx);
                    if w.is_null() {
                        saw_null = true;
                        continue;
                    }
                    let w = single(w)?;
                    if compare(BinOp::Eq, &v, &w, e.ty) {
                        return Ok(Value::Bool(!negated));
                    }
                }
                Ok(if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                })
            }
            Node::Like(e, res, negated) => {
                let v = single(e.eval(row, ctx))?;
                let Value::Str(s) = v else {
                    return Ok(Value::Null);
                };
                let m = res.iter().any(|re| re.is_match(&s));
                Ok(Value::Bool(m != *negated))
            }
            Node::IsNull(e, negated) => Ok(Value::Bool(e.eval(row, ctx).is_null() != *negated)),
            Node::Call(f, args) => {
                let vals: Vec<Value> = args.iter().map(|a| a.eval(row, ctx)).collect();
                if !f.multi {
                    if vals.iter().any(|v| matches!(v, Value::Multi(_))) {
                        return Err(MV_WARNING.into());
                    }
                    if vals.iter().any(Value::is_null) {
                        return Ok(Value::Null);
                    }
                }
                let tys: Vec<DataType> = args.iter().map(|a| a.ty).collect();
                *ctx.span.borrow_mut() = self.span.clone();
                (f.run)(&vals, &tys, ctx)
            }
            Node::Case(args) => {
                let mut i = 0;
                while i + 1 < args.len() {
                    let c = args[i].eval(row, ctx);
                    if let Value::Multi(_) = c {
                        ctx.warnings
                            .borrow_mut()
                            .add(ctx.src, &args[i].span, MV_WARNING.into());
                    } else if c == Value::Bool(true) {
                        return Ok(args[i + 1].eval(row, ctx));
                    }
                    i += 2;
                }
                Ok(if i < args.len() {
                    args[i].eval(row, ctx)
                } else {
                    Value::Null
                })
            }
            Node::Coalesce(args) => {
                for a in args {
                    let v = a.eval(row, ctx);
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
            Node::Kql(k) => {
                let cols = ctx.columns.borrow();
                let event = row_event(&cols, row);
                Ok(Value::Bool(k.matches(&event)))
            }
        }
    }
}

/// A row as a JSON event with dotted keys (for `KQL()`).
pub(crate) fn row_event(cols: &[Column], row: &[Value]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (c, v) in cols.iter().zip(row) {
        if !v.is_null() {
            m.insert(c.name.clone(), to_json(v));
        }
    }
    serde_json::Value::Object(m)
}

/// A value as JSON (numbers as numbers, dates as ISO text, multi-values as arrays).
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::ULong(u) => J::from(*u),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::Multi(items) => J::Array(items.iter().map(to_json).collect()),
        other => J::String(super::types::to_text(other)),
    }
}

fn single(v: Value) -> Result<Value, String> {
    match v {
        Value::Multi(_) => Err(MV_WARNING.into()),
        v => Ok(v),
    }
}

pub(crate) fn compare(op: BinOp, a: &Value, b: &Value, ty: DataType) -> bool {
    use std::cmp::Ordering::*;
    if op == BinOp::EqIgnoreCase {
        return match (a, b) {
            (Value::Str(x), Value::Str(y)) => x.to_lowercase() == y.to_lowercase(),
            _ => cmp_scalar(a, b, ty) == Equal,
        };
    }
    let o = cmp_scalar(a, b, ty);
    let nan =
        matches!(a, Value::Double(d) if d.is_nan()) || matches!(b, Value::Double(d) if d.is_nan());
    if nan {
        return op == BinOp::Neq;
    }
    match op {
        BinOp::Eq => o == Equal,
        BinOp::Neq => o != Equal,
        BinOp::Lt => o == Less,
        BinOp::Lte => o != Greater,
        BinOp::Gt => o == Greater,
        BinOp::Gte => o != Less,
        _ => false,
    }
}
