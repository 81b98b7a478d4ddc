//! The executable form of a query and its evaluation over one JSON event.
//!
//! [`Pred`] is a filter in query context, following Elasticsearch's translation to Query DSL
//! (§1, §11): a field-vs-literal [`Test`] is true when **any** value of the field passes and
//! false when the field is missing; `not` is boolean negation of that (`must_not`, true when
//! missing). Everything else is a [`Script`]: true when some combination of the fields' values
//! makes the [`SExpr`] true, with SQL null propagation inside.

use super::ast::{ArithOp, CmpOp};
use super::functions::{self, ArgKind, Func, IpNet};
use super::pattern::PatternSet;
use super::value::{FastSet, Num, Val, fold, java_equals_ignore_case, parse_bool};
use crate::query::FieldPath;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

pub use crate::query::field::Event;

/// An event flattened once into dotted field names, the way Elasticsearch indexes it: every
/// spelling (`{"a":{"b":1}}`, `{"a.b":1}`) lands under `a.b`, arrays flatten, nulls and empty
/// arrays vanish, objects are not values.
#[derive(Debug, Default)]
pub struct FlatEvent<'a> {
    fields: std::collections::HashMap<
        String,
        Vec<&'a Value>,
        std::hash::BuildHasherDefault<super::value::FastHasher>,
    >,
}

impl<'a> FlatEvent<'a> {
    pub fn new(event: &'a Value) -> Self {
        let mut flat = FlatEvent::default();
        let mut path = String::new();
        flat.walk(event, &mut path);
        flat
    }

    fn walk(&mut self, v: &'a Value, path: &mut String) {
        match v {
            Value::Object(map) => {
                let len = path.len();
                for (k, child) in map {
                    if len > 0 {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(child, path);
                    path.truncate(len);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.walk(i, path)),
            Value::Null => {}
            scalar => {
                if !path.is_empty() {
                    self.fields.entry(path.clone()).or_default().push(scalar);
                }
            }
        }
    }

    /// The values of a dotted field name (empty when missing).
    pub fn get(&self, name: &str) -> &[&'a Value] {
        self.fields.get(name).map_or(&[], Vec::as_slice)
    }
}

impl Event for FlatEvent<'_> {
    #[inline]
    fn visit_field<'b>(&'b self, path: &FieldPath, f: &mut dyn FnMut(&'b Value) -> bool) -> bool {
        self.get(path.as_str()).iter().any(|v| f(v))
    }
}

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
    /// From the mapping: longer keyword values are not indexed.
    pub ignore_above: Option<usize>,
    /// A keyword with the `lowercase` normalizer: every value is seen lower-cased, as its doc
    /// values and the fields API hold it.
    pub lowercase: bool,
}

impl FieldRef {
    #[inline]
    pub fn any<E: Event + ?Sized>(&self, ev: &E, mut f: impl FnMut(&Value) -> bool) -> bool {
        if self.lowercase {
            return ev.visit_field(&self.path, &mut |v| {
                self.indexed(v)
                    && match v {
                        Value::String(s) => f(&Value::String(lowercase_normalize(s))),
                        other => f(other),
                    }
            });
        }
        match self.ignore_above {
            None => ev.visit_field(&self.path, &mut |v| f(v)),
            Some(_) => ev.visit_field(&self.path, &mut |v| self.indexed(v) && f(v)),
        }
    }

    /// False for a keyword value longer than `ignore_above` (Elasticsearch does not index it).
    #[inline]
    pub fn indexed(&self, v: &Value) -> bool {
        match (self.ignore_above, v) {
            (Some(limit), Value::String(s)) => {
                s.len() <= limit || s.encode_utf16().count() <= limit
            }
            _ => true,
        }
    }

    /// The values of this field in `ev` converted for scripts (empty when missing).
    pub fn vals<'a, E: Event + ?Sized>(&self, ev: &'a E) -> Vec<Val<'a>> {
        let mut out = Vec::new();
        ev.visit_field(&self.path, &mut |v| {
            if !self.indexed(v) {
                return false;
            }
            let x = match (self.lowercase, v) {
                (true, Value::String(s)) => Val::Str(Cow::Owned(lowercase_normalize(s))),
                _ => typed_val(&self.ty, v),
            };
            if !x.is_null() {
                out.push(x);
            }
            false
        });
        out
    }
}

/// Lucene's `LowerCaseFilter` (the `lowercase` normalizer): Java's `Character.toLowerCase` per
/// code point, the simple mapping, so `İ` becomes `i` alone (Rust's full mapping adds U+0307).
pub(crate) fn lowercase_normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
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
    pub strings: FastSet<Box<str>>,
    /// Literals that are not strings (numbers, booleans), or all of them for typed fields.
    pub all: Vec<CLit>,
    /// The type allows a plain string lookup.
    pub hashed: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Cmp(CmpOp, CLit),
    In(InSet),
    /// `in~` and `:` without wildcards: folded strings.
    InCi(FastSet<Box<str>>),
    Patterns(PatternSet),
    Regex(Vec<super::lucene::Matcher>),
    Cidr(Vec<IpNet>),
    StartsWith(Box<str>, bool),
    EndsWith(Box<str>, bool),
    Contains(Box<str>, bool),
}

impl Test {
    #[inline]
    fn check(&self, ty: &Ty, v: &Value) -> bool {
        match self {
            // The common `field == "text"` on a string value: equal bytes, lengths first.
            Test::Cmp(CmpOp::Eq, lit) if lit.is_str && matches!(ty, Ty::Dynamic | Ty::Keyword) => {
                match v {
                    Value::String(s) => {
                        s.len() == lit.text.len() && s.as_bytes() == lit.text.as_bytes()
                    }
                    _ => op_holds(CmpOp::Eq, cmp_scalar(ty, v, lit)),
                }
            }
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
    /// The top-level conjuncts of this filter (nested `And`s flattened): the filter holds
    /// exactly when every one of them does.
    pub(crate) fn conjuncts<'a>(&'a self, out: &mut Vec<&'a Pred>) {
        match self {
            Pred::And(xs) => xs.iter().for_each(|x| x.conjuncts(out)),
            Pred::Const(true) => {}
            other => out.push(other),
        }
    }

    pub fn eval<E: Event + ?Sized>(&self, ev: &E) -> bool {
        match self {
            Pred::Const(b) => *b,
            Pred::And(xs) => xs.iter().all(|p| p.eval(ev)),
            Pred::Or(xs) => xs.iter().any(|p| p.eval(ev)),
            Pred::Not(p) => !p.eval(ev),
            Pred::Exists(f) => f.any(ev, |_| true),
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
    pub fn eval<E: Event + ?Sized>(&self, ev: &E) -> bool {
        let holds = |vals: &[Val<'_>]| match self.expr.eval(vals) {
            Ok(v) => matches!(v, Val::Bool(true)),
            Err(msg) => {
                record_runtime_error(msg);
                false
            }
        };
        if let [f] = self.slots.as_slice() {
            // One field (the usual case): its values one by one, without collecting them.
            let mut seen = false;
            let found = f.any(ev, |v| {
                let x = typed_val(&f.ty, v);
                if x.is_null() {
                    return false;
                }
                seen = true;
                holds(std::slice::from_ref(&x))
            });
            return found || (!seen && holds(&[Val::Null]));
        }
        let mut found = false;
        self.for_each_combo(ev, &mut |vals| {
            found = holds(vals);
            found
        });
        found
    }

    /// Calls `f` with each combination of slot values (a missing field as one null); `f`
    /// returns true to stop.
    pub fn for_each_combo<'a, E: Event + ?Sized>(
        &self,
        ev: &'a E,
        f: &mut dyn FnMut(&[Val<'a>]) -> bool,
    ) {
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
    Regex(Box<SExpr>, Vec<super::lucene::Matcher>),
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
                            return java_equals_ignore_case(&a, &b);
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
    pub(crate) fn static_kind(&self, slots: &[FieldRef]) -> Option<ArgKind> {
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
