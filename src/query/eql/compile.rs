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
use super::functions::{self, ArgKind, Func, IpNet};
use super::lucene;
use super::mapping::FieldType;
use super::pattern::PatternSet;
use super::value::{FastSet, Num, Val, fold, parse_bool};
use crate::query::FieldPath;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

/// A field's type for comparison purposes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    /// No mapping: the JSON type decides (§10, recommended offline coercion).
    Dynamic,
    Keyword,
    Integer,
    Float,
    Bool,
    Date(Option<String>),
    Ip,
    Version,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldRef {
    pub name: String,
    pub path: FieldPath,
    pub ty: Ty,
}

impl FieldRef {
    #[inline]
    pub fn any(&self, ev: &Value, mut f: impl FnMut(&Value) -> bool) -> bool {
        self.path.visit_unordered(ev, &mut |v| f(v))
    }

    /// The values of this field in `ev` converted for scripts (empty when missing).
    pub fn vals<'a>(&self, ev: &'a Value) -> Vec<Val<'a>> {
        let mut out = Vec::new();
        self.path.visit_unordered(ev, &mut |v| {
            let x = typed_val(&self.ty, v);
            if !x.is_null() {
                out.push(x);
            }
            false
        });
        out
    }
}

/// A JSON scalar as the field's type presents it to scripts and join keys.
pub(crate) fn typed_val<'a>(ty: &Ty, v: &'a Value) -> Val<'a> {
    match ty {
        Ty::Dynamic | Ty::Ip | Ty::Version => Val::from_json(v),
        Ty::Keyword => match v {
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Number(n) => Val::Str(Cow::Owned(n.to_string())),
            Value::Bool(b) => Val::Str(Cow::Borrowed(if *b { "true" } else { "false" })),
            _ => Val::Null,
        },
        Ty::Integer | Ty::Float => match v {
            Value::Number(n) => Val::Num(Num::from_json(n)),
            Value::String(s) => Num::parse(s).map_or(Val::Null, Val::Num),
            _ => Val::Null,
        },
        Ty::Bool => match v {
            Value::Bool(b) => Val::Bool(*b),
            Value::String(s) => parse_bool(s).map_or(Val::Null, Val::Bool),
            _ => Val::Null,
        },
        Ty::Date(fmt) => date_ms(fmt.as_deref(), v).map_or(Val::Null, |ms| Val::Num(Num::I(ms))),
    }
}

pub(crate) fn date_ms(fmt: Option<&str>, v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            super::date::parse_with_format(s, fmt.unwrap_or(super::date::DEFAULT_FORMAT))
        }
        _ => None,
    }
}

/// A literal pre-converted to every form a comparison may need.
#[derive(Debug, Clone)]
pub(crate) struct CLit {
    pub is_str: bool,
    pub text: Box<str>,
    pub num: Option<Num>,
    pub boolean: Option<bool>,
    pub date: Option<i64>,
    pub ip: Option<IpAddr>,
}

impl CLit {
    pub fn new(v: &Val<'_>, date_fmt: Option<&str>) -> CLit {
        let text: Box<str> = v.to_text().map(|t| t.into()).unwrap_or_default();
        let (is_str, num, boolean) = match v {
            Val::Str(s) => (true, Num::parse(s), parse_bool(s)),
            Val::Num(n) => (false, Some(*n), None),
            Val::Bool(b) => (false, None, Some(*b)),
            Val::Null => (false, None, None),
        };
        let date = match v {
            Val::Num(Num::I(i)) => Some(*i),
            Val::Num(Num::F(f)) => Some(*f as i64),
            Val::Str(s) => {
                super::date::parse_with_format(s, date_fmt.unwrap_or(super::date::DEFAULT_FORMAT))
                    .or_else(|| super::date::parse_iso(s))
            }
            _ => None,
        };
        let ip = match v {
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        };
        CLit {
            is_str,
            text,
            num,
            boolean,
            date,
            ip,
        }
    }
}

fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn version_cmp(a: &str, b: &str) -> Ordering {
    let mut x = a.split(['.', '-', '+']);
    let mut y = b.split(['.', '-', '+']);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(i), Ok(j)) => i.cmp(&j),
                    _ => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

fn json_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Compares one field value with a literal under the field's type; `None` = incomparable.
pub(crate) fn cmp_scalar(ty: &Ty, v: &Value, lit: &CLit) -> Option<Ordering> {
    match ty {
        Ty::Dynamic => match v {
            Value::String(s) => {
                if lit.is_str {
                    Some(s.as_bytes().cmp(lit.text.as_bytes()))
                } else if let Some(n) = lit.num {
                    Num::parse(s)?.cmp(n)
                } else {
                    parse_bool(s)?.partial_cmp(&lit.boolean?)
                }
            }
            Value::Number(n) => Num::from_json(n).cmp(lit.num?),
            Value::Bool(b) => b.partial_cmp(&lit.boolean?),
            _ => None,
        },
        Ty::Keyword => Some(json_text(v)?.as_bytes().cmp(lit.text.as_bytes())),
        Ty::Integer | Ty::Float => {
            let n = match v {
                Value::Number(n) => Num::from_json(n),
                Value::String(s) => Num::parse(s)?,
                _ => return None,
            };
            n.cmp(lit.num?)
        }
        Ty::Bool => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::String(s) => parse_bool(s)?,
                _ => return None,
            };
            b.partial_cmp(&lit.boolean?)
        }
        Ty::Date(fmt) => Some(date_ms(fmt.as_deref(), v)?.cmp(&lit.date?)),
        Ty::Ip => {
            let a: IpAddr = v.as_str()?.trim().parse().ok()?;
            Some(ip_key(a).cmp(&ip_key(lit.ip?)))
        }
        Ty::Version => Some(version_cmp(v.as_str()?, &lit.text)),
    }
}

fn op_holds(op: CmpOp, o: Option<Ordering>) -> bool {
    match o {
        None => false,
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Neq => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        },
    }
}

/// A membership test: strings hashed, everything else compared one by one.
#[derive(Debug, Clone)]
pub(crate) struct InSet {
    strings: FastSet<Box<str>>,
    /// Literals that are not strings (numbers, booleans), or all of them for typed fields.
    all: Vec<CLit>,
    /// The type allows a plain string lookup.
    hashed: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Cmp(CmpOp, CLit),
    In(InSet),
    /// `in~` and `:` without wildcards: folded strings.
    InCi(FastSet<Box<str>>),
    Patterns(PatternSet),
    Regex(Vec<regex::Regex>),
    Cidr(Vec<IpNet>),
    StartsWith(Box<str>, bool),
    EndsWith(Box<str>, bool),
    Contains(Box<str>, bool),
}

impl Test {
    #[inline]
    fn check(&self, ty: &Ty, v: &Value) -> bool {
        match self {
            Test::Cmp(op, lit) => op_holds(*op, cmp_scalar(ty, v, lit)),
            Test::In(set) => {
                if set.hashed {
                    if let Value::String(s) = v {
                        if set.strings.contains(s.as_str()) {
                            return true;
                        }
                        if *ty == Ty::Keyword {
                            return false;
                        }
                    } else if *ty == Ty::Keyword {
                        return json_text(v).is_some_and(|t| set.strings.contains(&*t));
                    }
                }
                set.all
                    .iter()
                    .any(|l| cmp_scalar(ty, v, l) == Some(Ordering::Equal))
            }
            Test::InCi(set) => match string_of(ty, v) {
                Some(s) => set.contains(&*fold(&s)),
                None => false,
            },
            Test::Patterns(p) => string_of(ty, v).is_some_and(|s| p.is_match(&s)),
            Test::Regex(rs) => string_of(ty, v).is_some_and(|s| rs.iter().any(|r| r.is_match(&s))),
            Test::Cidr(nets) => v
                .as_str()
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
                .is_some_and(|ip| nets.iter().any(|n| n.contains(ip))),
            Test::StartsWith(p, ci) => str_fn(ty, v, p, *ci, |s, p| s.starts_with(p)),
            Test::EndsWith(p, ci) => str_fn(ty, v, p, *ci, |s, p| s.ends_with(p)),
            Test::Contains(p, ci) => str_fn(ty, v, p, *ci, |s, p| {
                !s.is_empty() && !p.is_empty() && s.contains(p)
            }),
        }
    }
}

fn str_fn(ty: &Ty, v: &Value, p: &str, ci: bool, f: impl Fn(&str, &str) -> bool) -> bool {
    let Some(s) = string_of(ty, v) else {
        return false;
    };
    if ci { f(&fold(&s), p) } else { f(&s, p) }
}

/// The string form a string operator (`:`, `like`, `regex`, `startsWith`…) sees.
fn string_of<'a>(ty: &Ty, v: &'a Value) -> Option<Cow<'a, str>> {
    match ty {
        Ty::Keyword | Ty::Ip | Ty::Version => json_text(v),
        Ty::Dynamic => match v {
            Value::String(s) => Some(Cow::Borrowed(s)),
            _ => None,
        },
        _ => None,
    }
}

/// A filter in query context.
#[derive(Debug, Clone)]
pub(crate) enum Pred {
    Const(bool),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    Exists(FieldRef),
    Leaf(FieldRef, Test),
    Script(Script),
}

impl Pred {
    pub fn eval(&self, ev: &Value) -> bool {
        match self {
            Pred::Const(b) => *b,
            Pred::And(xs) => xs.iter().all(|p| p.eval(ev)),
            Pred::Or(xs) => xs.iter().any(|p| p.eval(ev)),
            Pred::Not(p) => !p.eval(ev),
            Pred::Exists(f) => f.path.visit_unordered(ev, &mut |_| true),
            Pred::Leaf(f, t) => f.any(ev, |v| t.check(&f.ty, v)),
            Pred::Script(s) => s.eval(ev),
        }
    }
}

thread_local! {
    /// The first error a script raised since the last [`take_runtime_error`]. Elasticsearch
    /// fails the whole search when a script throws (`number("abc")`); `matches` cannot report
    /// it, so it treats the event as not matching, and `execute` turns it into an error.
    static RUNTIME_ERROR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn record_runtime_error(msg: String) {
    RUNTIME_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        if e.is_none() {
            *e = Some(msg);
        }
    });
}

pub(crate) fn take_runtime_error() -> Option<String> {
    RUNTIME_ERROR.with(|e| e.borrow_mut().take())
}

/// Most value combinations one script evaluates for one event.
const MAX_COMBINATIONS: usize = 1 << 16;

/// An expression evaluated per event with null propagation.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub expr: SExpr,
    pub slots: Vec<FieldRef>,
}

impl Script {
    /// True when some combination of the fields' values makes the expression true.
    pub fn eval(&self, ev: &Value) -> bool {
        let mut found = false;
        self.for_each_combo(ev, &mut |vals| {
            found = match self.expr.eval(vals) {
                Ok(v) => matches!(v, Val::Bool(true)),
                Err(msg) => {
                    record_runtime_error(msg);
                    false
                }
            };
            found
        });
        found
    }

    /// Calls `f` with each combination of slot values (a missing field as one null); `f`
    /// returns true to stop.
    pub fn for_each_combo<'a>(&self, ev: &'a Value, f: &mut dyn FnMut(&[Val<'a>]) -> bool) {
        let lists: Vec<Vec<Val<'a>>> = self
            .slots
            .iter()
            .map(|s| {
                let v = s.vals(ev);
                if v.is_empty() { vec![Val::Null] } else { v }
            })
            .collect();
        // Bound the cartesian product so hostile multi-valued documents cannot stall a query.
        let combos = lists
            .iter()
            .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
            .unwrap_or(usize::MAX);
        if combos > MAX_COMBINATIONS {
            record_runtime_error(format!(
                "{combos} combinations of multi-valued fields in one script (limit {MAX_COMBINATIONS})"
            ));
            return;
        }
        let mut idx = vec![0usize; lists.len()];
        let mut cur: Vec<Val<'a>> = lists.iter().map(|l| l[0].clone()).collect();
        loop {
            if f(&cur) {
                return;
            }
            // Odometer over the value lists.
            let mut k = 0;
            loop {
                if k == lists.len() {
                    return;
                }
                idx[k] += 1;
                if idx[k] < lists[k].len() {
                    cur[k] = lists[k][idx[k]].clone();
                    break;
                }
                idx[k] = 0;
                cur[k] = lists[k][0].clone();
                k += 1;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum SExpr {
    Lit(Val<'static>),
    Slot(usize),
    Neg(Box<SExpr>),
    Arith(ArithOp, Box<SExpr>, Box<SExpr>),
    Cmp(CmpOp, Box<SExpr>, Box<SExpr>),
    /// Comparison of two field-dependent sides (only with optional fields): null equals null.
    NullSafeCmp(CmpOp, Box<SExpr>, Box<SExpr>),
    IsNull(Box<SExpr>, bool),
    In {
        expr: Box<SExpr>,
        list: Vec<Val<'static>>,
        ci: bool,
        negated: bool,
    },
    Patterns(Box<SExpr>, PatternSet),
    Regex(Box<SExpr>, Vec<regex::Regex>),
    Not(Box<SExpr>),
    And(Vec<SExpr>),
    Or(Vec<SExpr>),
    Call {
        func: Func,
        ci: bool,
        args: Vec<SExpr>,
        cidrs: Vec<IpNet>,
    },
}

fn b3(v: &Val<'_>) -> Option<bool> {
    match v {
        Val::Bool(b) => Some(*b),
        _ => None,
    }
}

impl SExpr {
    pub fn eval<'a>(&self, slots: &[Val<'a>]) -> Result<Val<'a>, String> {
        Ok(match self {
            SExpr::Lit(v) => v.clone(),
            SExpr::Slot(i) => slots[*i].clone(),
            SExpr::Neg(e) => match e.eval(slots)? {
                Val::Num(Num::I(i)) => Val::Num(Num::I(i.wrapping_neg())),
                Val::Num(Num::F(f)) => Val::Num(Num::F(-f)),
                Val::Null => Val::Null,
                other => return Err(format!("cannot negate {other:?}")),
            },
            SExpr::Arith(op, a, b) => functions::arith(*op, &a.eval(slots)?, &b.eval(slots)?)?,
            SExpr::Cmp(op, a, b) => {
                let (x, y) = (a.eval(slots)?, b.eval(slots)?);
                if x.is_null() || y.is_null() {
                    Val::Null
                } else {
                    match x.loose_cmp(&y) {
                        None => Val::Null,
                        o => Val::Bool(op_holds(*op, o)),
                    }
                }
            }
            SExpr::NullSafeCmp(op, a, b) => {
                let (x, y) = (a.eval(slots)?, b.eval(slots)?);
                match (x.is_null(), y.is_null(), op) {
                    (true, true, CmpOp::Eq | CmpOp::Le | CmpOp::Ge) => Val::Bool(true),
                    (true, true, _) => Val::Bool(false),
                    (true, false, CmpOp::Neq) | (false, true, CmpOp::Neq) => Val::Bool(true),
                    (true, false, _) | (false, true, _) => Val::Bool(false),
                    _ => match x.loose_cmp(&y) {
                        None => Val::Null,
                        o => Val::Bool(op_holds(*op, o)),
                    },
                }
            }
            SExpr::IsNull(e, want_null) => Val::Bool(e.eval(slots)?.is_null() == *want_null),
            SExpr::In {
                expr,
                list,
                ci,
                negated,
            } => {
                let x = expr.eval(slots)?;
                if x.is_null() {
                    return Ok(Val::Null);
                }
                let hit = list.iter().any(|l| {
                    if *ci {
                        if let (Some(a), Some(b)) = (x.to_text(), l.to_text()) {
                            return fold(&a) == fold(&b);
                        }
                    }
                    x.loose_cmp(l) == Some(Ordering::Equal)
                });
                Val::Bool(hit != *negated)
            }
            SExpr::Patterns(e, p) => match e.eval(slots)? {
                Val::Str(s) => Val::Bool(p.is_match(&s)),
                Val::Null => Val::Null,
                _ => Val::Bool(false),
            },
            SExpr::Regex(e, rs) => match e.eval(slots)? {
                Val::Str(s) => Val::Bool(rs.iter().any(|r| r.is_match(&s))),
                Val::Null => Val::Null,
                _ => Val::Bool(false),
            },
            SExpr::Not(e) => match b3(&e.eval(slots)?) {
                Some(b) => Val::Bool(!b),
                None => Val::Null,
            },
            SExpr::And(xs) => {
                let mut null = false;
                for x in xs {
                    match b3(&x.eval(slots)?) {
                        Some(false) => return Ok(Val::Bool(false)),
                        Some(true) => {}
                        None => null = true,
                    }
                }
                if null { Val::Null } else { Val::Bool(true) }
            }
            SExpr::Or(xs) => {
                let mut null = false;
                for x in xs {
                    match b3(&x.eval(slots)?) {
                        Some(true) => return Ok(Val::Bool(true)),
                        Some(false) => {}
                        None => null = true,
                    }
                }
                if null { Val::Null } else { Val::Bool(false) }
            }
            SExpr::Call {
                func,
                ci,
                args,
                cidrs,
            } => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(slots))
                    .collect::<Result<Vec<_>, _>>()?;
                functions::call(*func, *ci, &vals, cidrs)?
            }
        })
    }

    /// The type a verifier can tell statically, for argument checks.
    fn static_kind(&self, slots: &[FieldRef]) -> Option<ArgKind> {
        match self {
            SExpr::Lit(Val::Str(_)) => Some(ArgKind::Str),
            SExpr::Lit(Val::Num(_)) => Some(ArgKind::Numeric),
            SExpr::Lit(Val::Bool(_)) => Some(ArgKind::Bool),
            SExpr::Lit(Val::Null) => None,
            SExpr::Slot(i) => match slots[*i].ty {
                Ty::Keyword | Ty::Ip | Ty::Version => Some(ArgKind::Str),
                Ty::Integer | Ty::Float => Some(ArgKind::Numeric),
                Ty::Bool => Some(ArgKind::Bool),
                Ty::Date(_) | Ty::Dynamic => None,
            },
            SExpr::Neg(_) | SExpr::Arith(..) => Some(ArgKind::Numeric),
            SExpr::Cmp(..)
            | SExpr::NullSafeCmp(..)
            | SExpr::IsNull(..)
            | SExpr::In { .. }
            | SExpr::Patterns(..)
            | SExpr::Regex(..)
            | SExpr::Not(_)
            | SExpr::And(_)
            | SExpr::Or(_) => Some(ArgKind::Bool),
            SExpr::Call { func, .. } => match func {
                Func::Add | Func::Subtract | Func::Multiply | Func::Divide | Func::Modulo => {
                    Some(ArgKind::Numeric)
                }
                Func::IndexOf | Func::Length | Func::Number => Some(ArgKind::Numeric),
                Func::Between | Func::Concat | Func::String | Func::Substring => Some(ArgKind::Str),
                _ => Some(ArgKind::Bool),
            },
        }
    }
}

/// Compiles expressions against a set of options (field types, timestamp field).
pub(crate) struct Compiler<'o> {
    pub opts: &'o Options,
}

/// Result of compiling a sub-expression for a script: the expression and whether it reads a
/// field (otherwise it was folded to a literal).
struct Compiled {
    expr: SExpr,
}

impl<'o> Compiler<'o> {
    pub fn new(opts: &'o Options) -> Self {
        Compiler { opts }
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
            return Ok(Some(FieldRef {
                name: name.to_string(),
                path: FieldPath::new(name),
                ty,
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
        Ok(Some(FieldRef {
            name: name.to_string(),
            path: FieldPath::new(&info.source),
            ty,
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
                let lit = self.lit_for(&f, &rv);
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

    fn lit_for(&self, f: &FieldRef, v: &Val<'_>) -> CLit {
        let fmt = match &f.ty {
            Ty::Date(fmt) => fmt.as_deref(),
            _ => None,
        };
        CLit::new(v, fmt)
    }

    fn const_list(&self, list: &[Expr], whole: &Expr) -> Result<Vec<Val<'static>>, EqlError> {
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
                                "mixed types in list: [{}] and [{}] in [{}]",
                                describe(&first.kind),
                                describe(&item.kind),
                                describe(&whole.kind)
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
        let vals = self.const_list(list, whole)?;
        match self.field_of(expr)? {
            Some(Some(f)) => {
                if ci {
                    let set = vals
                        .iter()
                        .filter_map(|v| v.to_text().map(|t| fold(&t).into_owned().into_boxed_str()))
                        .collect();
                    return Ok(Pred::Leaf(f, Test::InCi(set)));
                }
                let all: Vec<CLit> = vals
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| self.lit_for(&f, v))
                    .collect();
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
    ) -> Result<Vec<regex::Regex>, EqlError> {
        pats.iter()
            .zip(patterns)
            .map(|(p, e)| {
                lucene::compile(p, ci).map_err(|m| {
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
        let matcher = |c: &Self| -> Result<Result<PatternSet, Vec<regex::Regex>>, EqlError> {
            Ok(match kind {
                MatchKind::Regex => Err(c.regexes(&pats, ci, patterns)?),
                _ => Ok(PatternSet::new(pats.iter().map(String::as_str), ci)),
            })
        };
        match self.field_of(expr)? {
            Some(Some(f)) => {
                self.check_string_operand(&f, op, &expr.span)?;
                let test = match matcher(self)? {
                    Ok(p) => Test::Patterns(p),
                    Err(r) => Test::Regex(r),
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
    fn sexpr(&self, e: &Expr, slots: &mut Vec<FieldRef>) -> Result<Compiled, EqlError> {
        let before = slots.len();
        let expr = self.sexpr_raw(e, slots)?;
        if slots.len() == before && !matches!(expr, SExpr::Lit(_)) {
            let v = expr
                .eval(&[])
                .map_err(|m| EqlError::verify(m, e.span.clone()))?;
            return Ok(Compiled {
                expr: SExpr::Lit(v.into_owned()),
            });
        }
        Ok(Compiled { expr })
    }

    fn sexpr_raw(&self, e: &Expr, slots: &mut Vec<FieldRef>) -> Result<SExpr, EqlError> {
        let b = |c: Compiled| Box::new(c.expr);
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
                let list = self.const_list(list, e)?;
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
