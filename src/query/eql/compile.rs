//! From the AST to an executable form: field paths resolved once, literals pre-converted for the
//! field's type, `in` lists hashed, wildcards lowered, regexes compiled.
//!
//! Query context follows Elasticsearch's translation (§1, §11): a field-vs-literal comparison is
//! a query leaf that is true when **any** value passes and false when the field is missing;
//! `not` is `must_not` (true when missing) after being pushed through `and`/`or` (De Morgan)
//! and folded into comparisons (`not (a > 1)` is `a <= 1`). Anything else becomes a script:
//! true when some combination of field values makes it true, with SQL null propagation inside.

use super::Options;
use super::ast::*;
use super::error::EqlError;
use super::eval::{CLit, FieldRef, InSet, Pred, SExpr, Script, Test, Ty, lowercase_normalize};
use super::functions::{ArgKind, Func, IpNet};
use super::lucene;
use super::mapping::FieldType;
use super::pattern::PatternSet;
use super::value::{Num, Val, fold};
use crate::query::FieldPath;
use serde_json::Value;
use std::borrow::Cow;

/// Compiles expressions against a set of options (field types, timestamp field).
pub(crate) struct Compiler<'o> {
    pub opts: &'o Options,
    /// Every field path a compiled [`FieldRef`] reads, in the order they were resolved (for
    /// [`super::Compiled::fields_read`]).
    reads: std::cell::RefCell<Vec<String>>,
}

/// Result of compiling a sub-expression for a script: the expression and whether it reads a
/// field (otherwise it was folded to a literal).
struct Folded {
    expr: SExpr,
}

impl<'o> Compiler<'o> {
    pub fn new(opts: &'o Options) -> Self {
        Compiler {
            opts,
            reads: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Records that the compiled statement reads `path`.
    pub fn note_read(&self, path: &str) {
        self.reads.borrow_mut().push(path.to_string());
    }

    /// The field paths recorded so far, sorted and without duplicates.
    pub fn reads(&self) -> Vec<String> {
        let mut v = self.reads.borrow().clone();
        v.sort();
        v.dedup();
        v
    }

    /// Resolves a field; `Ok(None)` for an optional field the mapping does not know.
    pub fn field(
        &self,
        name: &str,
        optional: bool,
        span: &Span,
    ) -> Result<Option<FieldRef>, EqlError> {
        let Some(mapping) = &self.opts.mapping else {
            let ty = if name == self.opts.timestamp_field {
                Ty::Date(None)
            } else {
                Ty::Dynamic
            };
            // Elastic's ECS `*.caseless` multi-fields (keyword, lowercase normalizer) index
            // their parent's value; without a mapping they are known by name, as in KQL.
            if let Some(parent) = name.strip_suffix(".caseless").filter(|p| !p.is_empty()) {
                self.note_read(parent);
                return Ok(Some(FieldRef {
                    name: name.to_string(),
                    path: FieldPath::new(parent),
                    ty: Ty::Keyword,
                    ignore_above: None,
                    lowercase: true,
                }));
            }
            self.note_read(name);
            return Ok(Some(FieldRef {
                name: name.to_string(),
                path: FieldPath::new(name),
                ty,
                ignore_above: None,
                lowercase: false,
            }));
        };
        let Some(info) = mapping.get(name) else {
            if optional {
                return Ok(None);
            }
            return Err(EqlError::verify(
                format!("Unknown column [{name}]"),
                span.clone(),
            ));
        };
        let ty = match &info.ty {
            FieldType::Keyword => Ty::Keyword,
            FieldType::Text { exact: Some(_) } => Ty::Keyword,
            FieldType::Text { exact: None } => {
                return Err(EqlError::verify(
                    format!(
                        "No keyword/multi-field defined exact matches for [{name}]; define one or use MATCH/QUERY instead"
                    ),
                    span.clone(),
                ));
            }
            FieldType::Integer => Ty::Integer,
            FieldType::Float => Ty::Float,
            FieldType::Boolean => Ty::Bool,
            FieldType::Date { format } => Ty::Date(format.clone()),
            FieldType::Ip => Ty::Ip,
            FieldType::Version => Ty::Version,
            FieldType::Object => {
                return Err(EqlError::verify(
                    format!("cannot use field [{name}] of type [object]"),
                    span.clone(),
                ));
            }
            FieldType::Unsupported(t) => {
                return Err(EqlError::verify(
                    format!("cannot use field [{name}] with unsupported type [{t}]"),
                    span.clone(),
                ));
            }
        };
        let (ignore_above, lowercase) = if ty == Ty::Keyword {
            (info.ignore_above, info.lowercase)
        } else {
            (None, false)
        };
        self.note_read(&info.source);
        Ok(Some(FieldRef {
            name: name.to_string(),
            path: FieldPath::new(&info.source),
            ty,
            ignore_above,
            lowercase,
        }))
    }

    /// The event-category filter of `<category> where`.
    pub fn category(&self, cat: &Option<(String, Span)>) -> Result<Pred, EqlError> {
        let Some((name, span)) = cat else {
            return Ok(Pred::Const(true));
        };
        let f = self
            .field(&self.opts.event_category_field, false, span)?
            .ok_or_else(|| EqlError::verify("no event category field", span.clone()))?;
        let lit = CLit::new(&Val::Str(Cow::Borrowed(name)), None);
        Ok(Pred::Leaf(f, Test::Cmp(CmpOp::Eq, lit)))
    }

    pub fn pred(&self, e: &Expr) -> Result<Pred, EqlError> {
        self.pred_neg(e, false)
    }

    fn pred_neg(&self, e: &Expr, neg: bool) -> Result<Pred, EqlError> {
        let not = |p: Pred| if neg { negate(p) } else { p };
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let is_and = matches!(e.kind, ExprKind::And(_)) != neg;
                let parts = xs
                    .iter()
                    .map(|x| self.pred_neg(x, neg))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if is_and {
                    Pred::And(parts)
                } else {
                    Pred::Or(parts)
                })
            }
            ExprKind::Not(x) => self.pred_neg(x, !neg),
            ExprKind::Literal(Literal::Bool(b)) => Ok(Pred::Const(*b != neg)),
            ExprKind::Literal(Literal::Null) => Ok(Pred::Const(false)),
            ExprKind::Cmp { op, left, right } => {
                let op = if neg { op.negate() } else { *op };
                self.cmp(op, left, right, e)
            }
            ExprKind::In {
                expr,
                list,
                negated,
                insensitive,
            } => {
                let p = self.in_pred(expr, list, *insensitive, e)?;
                Ok(if *negated != neg { negate(p) } else { p })
            }
            ExprKind::Match {
                expr,
                kind,
                insensitive,
                patterns,
            } => Ok(not(self.match_pred(
                expr,
                *kind,
                *insensitive,
                patterns,
                e,
            )?)),
            ExprKind::Call { .. } => Ok(not(self.call_pred(e)?)),
            _ => {
                let s = self.script(e)?;
                Ok(not(s))
            }
        }
    }

    fn script(&self, e: &Expr) -> Result<Pred, EqlError> {
        let mut slots = Vec::new();
        let c = self.sexpr(e, &mut slots)?;
        if let Some(k @ (ArgKind::Str | ArgKind::Numeric)) = c.expr.static_kind(&slots) {
            return Err(EqlError::verify(
                format!(
                    "Condition expression needs to be boolean, found [{}]",
                    if k == ArgKind::Str {
                        "KEYWORD"
                    } else {
                        "NUMBER"
                    }
                ),
                e.span.clone(),
            ));
        }
        if slots.is_empty() {
            return Ok(Pred::Const(matches!(c.expr, SExpr::Lit(Val::Bool(true)))));
        }
        Ok(Pred::Script(Script {
            expr: c.expr,
            slots,
        }))
    }

    fn field_of(&self, e: &Expr) -> Result<Option<Option<FieldRef>>, EqlError> {
        match &e.kind {
            ExprKind::Field { name, optional } => Ok(Some(self.field(name, *optional, &e.span)?)),
            _ => Ok(None),
        }
    }

    /// Folds an expression that reads no field; `None` when it does read one.
    fn constant(&self, e: &Expr) -> Result<Option<Val<'static>>, EqlError> {
        let mut slots = Vec::new();
        let c = self.sexpr(e, &mut slots)?;
        if !slots.is_empty() {
            return Ok(None);
        }
        match c.expr {
            SExpr::Lit(v) => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    fn cmp(&self, op: CmpOp, left: &Expr, right: &Expr, whole: &Expr) -> Result<Pred, EqlError> {
        let lc = self.constant(left)?;
        let rc = self.constant(right)?;
        let (op, l, r, lc, rc) = match (&lc, &rc) {
            (Some(_), None) => (op.mirror(), right, left, rc, lc),
            _ => (op, left, right, lc, rc),
        };
        if let (Some(a), Some(b)) = (&lc, &rc) {
            let v = SExpr::Cmp(
                op,
                Box::new(SExpr::Lit(a.clone())),
                Box::new(SExpr::Lit(b.clone())),
            );
            let v = if b.is_null() || a.is_null() {
                let x = if a.is_null() { b } else { a };
                match op {
                    CmpOp::Eq => Val::Bool(x.is_null()),
                    CmpOp::Neq => Val::Bool(!x.is_null()),
                    _ => Val::Null,
                }
            } else {
                v.eval(&[])
                    .map_err(|m| EqlError::verify(m, whole.span.clone()))?
            };
            return Ok(Pred::Const(matches!(v, Val::Bool(true))));
        }
        let Some(rv) = rc else {
            if has_required_field(r) {
                return Err(EqlError::verify(
                    "Comparisons against fields are not (currently) supported",
                    whole.span.clone(),
                ));
            }
            // Only optional fields on the right: without a mapping we cannot tell whether
            // Elasticsearch would see them as null literals, so compare at run time, null-safe.
            let mut slots = Vec::new();
            let a = self.sexpr(l, &mut slots)?;
            let b = self.sexpr(r, &mut slots)?;
            return Ok(Pred::Script(Script {
                expr: SExpr::NullSafeCmp(op, Box::new(a.expr), Box::new(b.expr)),
                slots,
            }));
        };
        // `x == null` / `x != null`.
        if rv.is_null() {
            return match op {
                CmpOp::Eq | CmpOp::Neq => {
                    let want_null = op == CmpOp::Eq;
                    match self.field_of(l)? {
                        Some(Some(f)) => {
                            let p = Pred::Exists(f);
                            Ok(if want_null { negate(p) } else { p })
                        }
                        _ => {
                            let mut slots = Vec::new();
                            let c = self.sexpr(l, &mut slots)?;
                            Ok(Pred::Script(Script {
                                expr: SExpr::IsNull(Box::new(c.expr), want_null),
                                slots,
                            }))
                        }
                    }
                }
                _ => Ok(Pred::Const(false)),
            };
        }
        // `predicate == true` / `predicate != false` and friends.
        if let Val::Bool(b) = rv {
            if matches!(op, CmpOp::Eq | CmpOp::Neq) && self.is_boolean_expr(l)? {
                let positive = (op == CmpOp::Eq) == b;
                return self.pred_neg(l, !positive);
            }
        }
        match self.field_of(l)? {
            Some(Some(f)) => {
                let lit = self.lit_for(&f, &rv, &r.span)?;
                Ok(match op {
                    CmpOp::Neq => negate(Pred::Leaf(f, Test::Cmp(CmpOp::Eq, lit))),
                    op => Pred::Leaf(f, Test::Cmp(op, lit)),
                })
            }
            _ => {
                let mut slots = Vec::new();
                let c = self.sexpr(l, &mut slots)?;
                Ok(Pred::Script(Script {
                    expr: SExpr::Cmp(op, Box::new(c.expr), Box::new(SExpr::Lit(rv))),
                    slots,
                }))
            }
        }
    }

    fn is_boolean_expr(&self, e: &Expr) -> Result<bool, EqlError> {
        Ok(match &e.kind {
            ExprKind::Cmp { .. }
            | ExprKind::In { .. }
            | ExprKind::Match { .. }
            | ExprKind::Not(_)
            | ExprKind::And(_)
            | ExprKind::Or(_) => true,
            ExprKind::Call { name, .. } => Func::lookup(name).is_some_and(Func::is_predicate),
            ExprKind::Field { name, optional } => matches!(
                self.field(name, *optional, &e.span)?,
                Some(FieldRef { ty: Ty::Bool, .. })
            ),
            _ => false,
        })
    }

    /// The literal compared with a field. A string that is not a date for a `date` field is an
    /// error, as in Elasticsearch (the range query fails to parse it), not a silent no-match.
    fn lit_for(&self, f: &FieldRef, v: &Val<'_>, span: &Span) -> Result<CLit, EqlError> {
        let fmt = match &f.ty {
            Ty::Date(fmt) => fmt.as_deref(),
            _ => None,
        };
        // A normalized keyword's term queries normalize the term too (`indexedValueForSearch`).
        let normalized;
        let v = match v {
            Val::Str(s) if f.lowercase => {
                normalized = Val::Str(lowercase_normalize(s).into());
                &normalized
            }
            v => v,
        };
        let lit = CLit::new(v, fmt);
        if let (Ty::Date(_), Val::Str(s), None) = (&f.ty, v, lit.date) {
            return Err(EqlError::verify(
                format!(
                    "{s:?} is not a date in the field's format ({})",
                    fmt.unwrap_or(super::date::DEFAULT_FORMAT)
                ),
                span.clone(),
            ));
        }
        Ok(lit)
    }

    fn const_list(&self, list: &[Expr]) -> Result<Vec<Val<'static>>, EqlError> {
        let mut out = Vec::with_capacity(list.len());
        let mut kind: Option<(std::mem::Discriminant<Val<'static>>, &Expr)> = None;
        for item in list {
            let v = self.constant(item)?.ok_or_else(|| {
                EqlError::verify(
                    "Comparisons against fields are not (currently) supported",
                    item.span.clone(),
                )
            })?;
            if !v.is_null() {
                let d = std::mem::discriminant(&v);
                match kind {
                    Some((k, first)) if k != d => {
                        return Err(EqlError::verify(
                            format!(
                                "mixed types in list: [{}] and [{}] must have the same type",
                                describe(&first.kind),
                                describe(&item.kind),
                            ),
                            item.span.clone(),
                        ));
                    }
                    None => kind = Some((d, item)),
                    _ => {}
                }
            }
            out.push(v);
        }
        Ok(out)
    }

    fn in_pred(
        &self,
        expr: &Expr,
        list: &[Expr],
        ci: bool,
        whole: &Expr,
    ) -> Result<Pred, EqlError> {
        let vals = self.const_list(list)?;
        match self.field_of(expr)? {
            Some(Some(f)) => {
                if ci {
                    let set = vals
                        .iter()
                        .filter_map(|v| {
                            v.to_text()
                                .map(|t| fold(&norm(&f, &t)).into_owned().into_boxed_str())
                        })
                        .collect();
                    return Ok(Pred::Leaf(f, Test::InCi(set)));
                }
                let all: Vec<CLit> = vals
                    .iter()
                    .zip(list)
                    .filter(|(v, _)| !v.is_null())
                    .map(|(v, item)| self.lit_for(&f, v, &item.span))
                    .collect::<Result<_, _>>()?;
                let hashed = matches!(f.ty, Ty::Dynamic | Ty::Keyword);
                let strings = all
                    .iter()
                    .filter(|l| l.is_str || f.ty == Ty::Keyword)
                    .map(|l| l.text.clone())
                    .collect();
                let all = if f.ty == Ty::Dynamic {
                    all.into_iter()
                        .filter(|l| !l.is_str || l.num.is_some() || l.boolean.is_some())
                        .collect()
                } else {
                    all
                };
                Ok(Pred::Leaf(
                    f,
                    Test::In(InSet {
                        strings,
                        all,
                        hashed,
                    }),
                ))
            }
            _ => {
                let mut slots = Vec::new();
                let c = self.sexpr(expr, &mut slots)?;
                let s = SExpr::In {
                    expr: Box::new(c.expr),
                    list: vals,
                    ci,
                    negated: false,
                };
                if slots.is_empty() {
                    let v = s
                        .eval(&[])
                        .map_err(|m| EqlError::verify(m, whole.span.clone()))?;
                    return Ok(Pred::Const(matches!(v, Val::Bool(true))));
                }
                Ok(Pred::Script(Script { expr: s, slots }))
            }
        }
    }

    fn patterns(&self, patterns: &[Expr]) -> Result<Vec<String>, EqlError> {
        patterns
            .iter()
            .map(|p| match self.constant(p)? {
                Some(Val::Str(s)) => Ok(s.into_owned()),
                _ => Err(EqlError::verify(
                    "patterns of `:`, `like` and `regex` must be string literals",
                    p.span.clone(),
                )),
            })
            .collect()
    }

    fn regexes(
        &self,
        pats: &[String],
        ci: bool,
        patterns: &[Expr],
    ) -> Result<Vec<super::lucene::Matcher>, EqlError> {
        pats.iter()
            .zip(patterns)
            .map(|(p, e)| {
                lucene::compile_matcher(p, ci).map_err(|m| {
                    EqlError::verify(format!("invalid regular expression: {m}"), e.span.clone())
                })
            })
            .collect()
    }

    fn check_string_operand(&self, f: &FieldRef, op: &str, span: &Span) -> Result<(), EqlError> {
        match f.ty {
            Ty::Dynamic | Ty::Keyword | Ty::Version | Ty::Ip => Ok(()),
            _ => Err(EqlError::verify(
                format!(
                    "`{op}` needs a string operand; [{}] is not a string field (convert it with string())",
                    f.name
                ),
                span.clone(),
            )),
        }
    }

    fn match_pred(
        &self,
        expr: &Expr,
        kind: MatchKind,
        ci: bool,
        patterns: &[Expr],
        whole: &Expr,
    ) -> Result<Pred, EqlError> {
        let pats = self.patterns(patterns)?;
        let op = match kind {
            MatchKind::Seq => ":",
            MatchKind::Like => "like",
            MatchKind::Regex => "regex",
        };
        let matcher =
            |c: &Self| -> Result<Result<PatternSet, Vec<super::lucene::Matcher>>, EqlError> {
                Ok(match kind {
                    MatchKind::Regex => Err(c.regexes(&pats, ci, patterns)?),
                    _ => Ok(PatternSet::new(pats.iter().map(String::as_str), ci)),
                })
            };
        match self.field_of(expr)? {
            Some(Some(f)) => {
                self.check_string_operand(&f, op, &expr.span)?;
                let test = match kind {
                    // Wildcard queries normalize their pattern on a normalized keyword; regexp
                    // patterns are left as written (lower-casing `\W` would change its meaning).
                    MatchKind::Seq | MatchKind::Like if f.lowercase => {
                        let pats: Vec<String> = pats.iter().map(|p| norm(&f, p)).collect();
                        Test::Patterns(PatternSet::new(pats.iter().map(String::as_str), ci))
                    }
                    _ => match matcher(self)? {
                        Ok(p) => Test::Patterns(p),
                        Err(r) => Test::Regex(r),
                    },
                };
                Ok(Pred::Leaf(f, test))
            }
            _ => {
                let mut slots = Vec::new();
                let c = self.sexpr(expr, &mut slots)?;
                if let Some(k) = c.expr.static_kind(&slots) {
                    if k != ArgKind::Str {
                        return Err(EqlError::verify(
                            format!("`{op}` needs a string operand"),
                            expr.span.clone(),
                        ));
                    }
                }
                let s = match matcher(self)? {
                    Ok(_) if kind == MatchKind::Seq && ci => SExpr::Patterns(
                        Box::new(c.expr),
                        PatternSet::for_script_seq(pats.iter().map(String::as_str)),
                    ),
                    Ok(p) => SExpr::Patterns(Box::new(c.expr), p),
                    Err(r) => SExpr::Regex(Box::new(c.expr), r),
                };
                if slots.is_empty() {
                    let v = s
                        .eval(&[])
                        .map_err(|m| EqlError::verify(m, whole.span.clone()))?;
                    return Ok(Pred::Const(matches!(v, Val::Bool(true))));
                }
                Ok(Pred::Script(Script { expr: s, slots }))
            }
        }
    }

    /// A boolean function as a condition; field-vs-literal forms become leaves.
    fn call_pred(&self, e: &Expr) -> Result<Pred, EqlError> {
        let mut slots = Vec::new();
        let c = self.sexpr(e, &mut slots)?;
        check_boolean(&c.expr, &slots, e)?;
        if slots.is_empty() {
            return Ok(Pred::Const(matches!(c.expr, SExpr::Lit(Val::Bool(true)))));
        }
        if let SExpr::Call {
            func,
            ci,
            args,
            cidrs,
        } = &c.expr
        {
            if slots.len() == 1 && matches!(args.first(), Some(SExpr::Slot(0))) {
                let lit = |i: usize| match args.get(i) {
                    Some(SExpr::Lit(Val::Str(s))) => Some(if *ci {
                        fold(s).into_owned()
                    } else {
                        s.to_string()
                    }),
                    _ => None,
                };
                let f = slots[0].clone();
                // Prefix and wildcard queries normalize their term on a normalized keyword.
                let lit = |i: usize| lit(i).map(|p| norm(&f, &p));
                let test = match func {
                    Func::CidrMatch if !cidrs.is_empty() && args.len() == 1 => {
                        Some(Test::Cidr(cidrs.clone()))
                    }
                    Func::StartsWith if args.len() == 2 => {
                        lit(1).map(|p| Test::StartsWith(p.into(), *ci))
                    }
                    Func::EndsWith if args.len() == 2 => {
                        lit(1).map(|p| Test::EndsWith(p.into(), *ci))
                    }
                    Func::StringContains if args.len() == 2 => {
                        lit(1).map(|p| Test::Contains(p.into(), *ci))
                    }
                    _ => None,
                };
                if let Some(t) = test {
                    if matches!(f.ty, Ty::Dynamic | Ty::Keyword | Ty::Ip) {
                        return Ok(Pred::Leaf(f, t));
                    }
                }
            }
        }
        Ok(Pred::Script(Script {
            expr: c.expr,
            slots,
        }))
    }

    /// Evaluates an expression that reads no field (constant folding), as JSON.
    pub fn fold_constant(&self, e: &Expr) -> Result<Value, EqlError> {
        let mut slots = Vec::new();
        let c = self.sexpr(e, &mut slots)?;
        if !slots.is_empty() {
            return Err(EqlError::verify("expression reads fields", e.span.clone()));
        }
        let v = c
            .expr
            .eval(&[])
            .map_err(|m| EqlError::new(super::error::EqlErrorKind::Runtime, m, e.span.clone()))?;
        Ok(match v {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Num(Num::I(i)) => Value::from(i),
            Val::Num(Num::F(f)) => {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            Val::Str(s) => Value::String(s.into_owned()),
        })
    }

    /// Compiles an expression for scripts, folding constant sub-trees.
    fn sexpr(&self, e: &Expr, slots: &mut Vec<FieldRef>) -> Result<Folded, EqlError> {
        let before = slots.len();
        let expr = self.sexpr_raw(e, slots)?;
        if slots.len() == before && !matches!(expr, SExpr::Lit(_)) {
            let v = expr
                .eval(&[])
                .map_err(|m| EqlError::verify(m, e.span.clone()))?;
            return Ok(Folded {
                expr: SExpr::Lit(v.into_owned()),
            });
        }
        Ok(Folded { expr })
    }

    fn sexpr_raw(&self, e: &Expr, slots: &mut Vec<FieldRef>) -> Result<SExpr, EqlError> {
        let b = |c: Folded| Box::new(c.expr);
        Ok(match &e.kind {
            ExprKind::Literal(l) => SExpr::Lit(match l {
                Literal::Null => Val::Null,
                Literal::Bool(v) => Val::Bool(*v),
                Literal::Int(i) => Val::Num(Num::I(*i)),
                Literal::Float(f) => Val::Num(Num::F(*f)),
                Literal::Str(s) => Val::Str(Cow::Owned(s.clone())),
            }),
            ExprKind::Field { name, optional } => match self.field(name, *optional, &e.span)? {
                Some(f) => {
                    slots.push(f);
                    SExpr::Slot(slots.len() - 1)
                }
                None => SExpr::Lit(Val::Null),
            },
            ExprKind::Not(x) => SExpr::Not(b(self.sexpr(x, slots)?)),
            ExprKind::And(xs) => SExpr::And(
                xs.iter()
                    .map(|x| self.sexpr(x, slots).map(|c| c.expr))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Or(xs) => SExpr::Or(
                xs.iter()
                    .map(|x| self.sexpr(x, slots).map(|c| c.expr))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Cmp { op, left, right } => {
                let before = slots.len();
                let l = self.sexpr(left, slots)?;
                let mid = slots.len();
                let r = self.sexpr(right, slots)?;
                let l_has = mid > before;
                let r_has = slots.len() > mid;
                if l_has && r_has && has_required_field(right) && has_required_field(left) {
                    return Err(EqlError::verify(
                        "Comparisons against fields are not (currently) supported",
                        e.span.clone(),
                    ));
                }
                match (&l.expr, &r.expr, op) {
                    (_, SExpr::Lit(Val::Null), CmpOp::Eq | CmpOp::Neq) => {
                        SExpr::IsNull(b(l), *op == CmpOp::Eq)
                    }
                    (SExpr::Lit(Val::Null), _, CmpOp::Eq | CmpOp::Neq) => {
                        SExpr::IsNull(b(r), *op == CmpOp::Eq)
                    }
                    _ if l_has && r_has => SExpr::NullSafeCmp(*op, b(l), b(r)),
                    _ => SExpr::Cmp(*op, b(l), b(r)),
                }
            }
            ExprKind::In {
                expr,
                list,
                negated,
                insensitive,
            } => {
                let x = self.sexpr(expr, slots)?;
                let list = self.const_list(list)?;
                SExpr::In {
                    expr: b(x),
                    list,
                    ci: *insensitive,
                    negated: *negated,
                }
            }
            ExprKind::Match {
                expr,
                kind,
                insensitive,
                patterns,
            } => {
                let x = self.sexpr(expr, slots)?;
                let pats = self.patterns(patterns)?;
                match kind {
                    MatchKind::Regex => {
                        SExpr::Regex(b(x), self.regexes(&pats, *insensitive, patterns)?)
                    }
                    MatchKind::Seq if *insensitive => SExpr::Patterns(
                        b(x),
                        PatternSet::for_script_seq(pats.iter().map(String::as_str)),
                    ),
                    _ => SExpr::Patterns(
                        b(x),
                        PatternSet::new(pats.iter().map(String::as_str), *insensitive),
                    ),
                }
            }
            ExprKind::Arith { op, left, right } => {
                let l = self.sexpr(left, slots)?;
                let r = self.sexpr(right, slots)?;
                for (side, c) in [(left, &l), (right, &r)] {
                    if matches!(
                        c.expr.static_kind(slots),
                        Some(ArgKind::Str | ArgKind::Bool)
                    ) {
                        return Err(EqlError::verify(
                            "arithmetic needs numeric operands",
                            side.span.clone(),
                        ));
                    }
                }
                SExpr::Arith(*op, b(l), b(r))
            }
            ExprKind::Neg(x) => SExpr::Neg(b(self.sexpr(x, slots)?)),
            ExprKind::Call {
                name,
                name_span,
                insensitive,
                args,
            } => self.call(name, name_span, *insensitive, args, e, slots)?,
        })
    }

    fn call(
        &self,
        name: &str,
        name_span: &Span,
        ci: bool,
        args: &[Expr],
        whole: &Expr,
        slots: &mut Vec<FieldRef>,
    ) -> Result<SExpr, EqlError> {
        let func = Func::lookup(name).ok_or_else(|| {
            EqlError::verify(format!("Unknown function [{name}]"), name_span.clone())
        })?;
        if ci && !func.has_insensitive_variant() {
            return Err(EqlError::verify(
                format!("function [{}] has no case-insensitive variant", func.name()),
                name_span.clone(),
            ));
        }
        let (min, max) = func.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            return Err(EqlError::verify(
                format!(
                    "function [{}] takes {expected} argument(s), got {}",
                    func.name(),
                    args.len()
                ),
                whole.span.clone(),
            ));
        }
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let c = self.sexpr(a, slots)?;
            let want = func.arg_kind(i);
            let got = c.expr.static_kind(slots);
            if want != ArgKind::Any {
                if let Some(got) = got {
                    if got != want {
                        return Err(EqlError::verify(
                            format!(
                                "argument {} of [{}] must be {}",
                                i + 1,
                                func.name(),
                                match want {
                                    ArgKind::Str => "a string",
                                    ArgKind::Numeric => "a number",
                                    ArgKind::Bool => "a boolean",
                                    ArgKind::Any => "a value",
                                }
                            ),
                            a.span.clone(),
                        ));
                    }
                }
            }
            out.push(c.expr);
        }
        let mut cidrs = Vec::new();
        if func == Func::CidrMatch {
            for (a, c) in args.iter().zip(&out).skip(1) {
                match c {
                    SExpr::Lit(Val::Str(s)) => cidrs.push(IpNet::parse(s).ok_or_else(|| {
                        EqlError::verify(format!("invalid CIDR [{s}]"), a.span.clone())
                    })?),
                    _ => {
                        return Err(EqlError::verify(
                            "cidrMatch needs literal CIDR strings",
                            a.span.clone(),
                        ));
                    }
                }
            }
            out.truncate(1);
        }
        if matches!(func, Func::Number) {
            if let Some(base) = args.get(1) {
                if !matches!(out[1], SExpr::Lit(_)) {
                    return Err(EqlError::verify(
                        "the base of number() must be a literal",
                        base.span.clone(),
                    ));
                }
            }
        }
        if func == Func::Between {
            if let Some(g) = args.get(3) {
                if !matches!(out[3], SExpr::Lit(Val::Bool(_) | Val::Null)) {
                    return Err(EqlError::verify(
                        "the greedy argument of between() must be a boolean literal",
                        g.span.clone(),
                    ));
                }
            }
        }
        Ok(SExpr::Call {
            func,
            ci,
            args: out,
            cidrs,
        })
    }

    /// A join key: a field (optional fields may be unmapped: always null).
    pub fn key(&self, e: &Expr) -> Result<KeyRef, EqlError> {
        match &e.kind {
            ExprKind::Field { name, optional } => Ok(KeyRef {
                field: self.field(name, *optional, &e.span)?,
                optional: *optional,
            }),
            _ => Err(EqlError::verify("join keys must be fields", e.span.clone())),
        }
    }
}

/// A join key of a sequence or sample stage.
#[derive(Debug, Clone)]
pub(crate) struct KeyRef {
    /// `None` for an optional field the mapping does not know (always null).
    pub field: Option<FieldRef>,
    pub optional: bool,
}

/// A condition must be boolean (or a field/null whose type is unknown).
fn check_boolean(c: &SExpr, slots: &[FieldRef], e: &Expr) -> Result<(), EqlError> {
    if let Some(k @ (ArgKind::Str | ArgKind::Numeric)) = c.static_kind(slots) {
        return Err(EqlError::verify(
            format!(
                "Condition expression needs to be boolean, found [{}]",
                if k == ArgKind::Str {
                    "KEYWORD"
                } else {
                    "NUMBER"
                }
            ),
            e.span.clone(),
        ));
    }
    Ok(())
}

/// True when `e` reads a field not marked optional.
fn has_required_field(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let ExprKind::Field {
            optional: false, ..
        } = x.kind
        {
            found = true;
        }
    });
    found
}

fn negate(p: Pred) -> Pred {
    match p {
        Pred::Const(b) => Pred::Const(!b),
        Pred::Not(inner) => *inner,
        other => Pred::Not(Box::new(other)),
    }
}

fn describe(k: &ExprKind) -> String {
    match k {
        ExprKind::Literal(l) => match l {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => f.to_string(),
            Literal::Str(s) => format!("\"{s}\""),
        },
        ExprKind::Field { name, .. } => name.clone(),
        _ => "expression".into(),
    }
}

/// `s` as a term-level query on `f` sees it: lower-cased on a keyword with the `lowercase`
/// normalizer, unchanged otherwise.
fn norm(f: &FieldRef, s: &str) -> String {
    if f.lowercase {
        lowercase_normalize(s)
    } else {
        s.to_string()
    }
}
