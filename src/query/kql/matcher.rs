//! The compiled form of a query and its evaluation: literals read once per mapping type
//! ([`Lit`]), field tests ([`Test`]) and the matcher tree ([`Matcher`]). Evaluation follows
//! Elasticsearch per mapping type (`reference/kql.md` §4–§6).

use std::collections::HashSet;

use serde_json::Value;

use super::ast::RangeOp;
use super::glob::{Glob, GlobPart};
use super::types::{FieldType, FieldTypes, Resolved};
use super::values::{
    DateMath, DateRange, IpQuery, analyze, is_date_math, keyword_form, parse_bool, parse_date,
    parse_number, value_bool, value_date, value_ip, value_number, within_ignore_above,
};
use super::walk;
use crate::query::{Document, FieldPath};

/// Something the compiler wants a user to know; the query still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KqlWarning {
    pub message: String,
    pub span: std::ops::Range<usize>,
}

/// A compiled query: match it against many events.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) root: Matcher,
    pub(crate) types: FieldTypes,
    pub(crate) warnings: Vec<KqlWarning>,
    pub(crate) uses_now: bool,
}

impl Compiled {
    /// Whether the event (an ECS document as JSON) matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.eval(event, &self.types)
    }

    /// [`matches`](Self::matches) over any [`Document`], e.g. one whose fields were looked up
    /// once and are shared by many rules.
    pub fn matches_doc<E: Document + ?Sized>(&self, event: &E) -> bool {
        self.root.eval(event, &self.types)
    }

    /// What evaluating the query reads from an event: a document reduced to these gives the
    /// same result.
    pub fn fields_read(&self) -> FieldsRead {
        let mut out = FieldsRead::default();
        self.root.reads(&mut out);
        for v in [&mut out.fields, &mut out.subtrees] {
            v.sort();
            v.dedup();
        }
        out
    }

    /// Approximations the query relies on (free text, fields typed from event values, …).
    pub fn warnings(&self) -> &[KqlWarning] {
        &self.warnings
    }

    /// Sets the execution time (epoch milliseconds) that date math such as `now-30d/d` is
    /// resolved against. [`super::Query::compile`] uses the system clock.
    pub fn with_now(mut self, now_ms: i64) -> Self {
        self.root.resolve_now(now_ms);
        self
    }

    /// Whether the query uses date math (`now…`), so its result depends on the execution time.
    pub fn uses_date_math(&self) -> bool {
        self.uses_now
    }
}

/// The parts of an event a query reads ([`Compiled::fields_read`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldsRead {
    /// Fields whose scalar values are read.
    pub fields: Vec<String>,
    /// Paths read with everything below them (nested queries, flattened and geo fields).
    pub subtrees: Vec<String>,
    /// Every field may be read (free text, field names with `*`).
    pub everything: bool,
}

/// How values of a field are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sem {
    Keyword,
    /// A keyword field queried through `query_string` (free text, or Kibana's untyped path):
    /// wildcard values split on whitespace.
    KeywordQs,
    Caseless,
    /// `wildcard` type and flattened keys: exact values, `query_string` for wildcards.
    WildcardLike,
    Text,
    Integer,
    Float,
    Double,
    Date,
    Boolean,
    Ip,
    Geo,
    /// Not known: typed per JSON value (string → keyword, number, boolean).
    Dynamic,
}

impl Sem {
    pub(crate) fn of(r: Resolved) -> Sem {
        match r {
            Resolved::Typed(t) => match t {
                FieldType::Keyword => Sem::Keyword,
                FieldType::CaselessKeyword => Sem::Caseless,
                FieldType::Wildcard | FieldType::ConstantKeyword | FieldType::Flattened => {
                    Sem::WildcardLike
                }
                FieldType::Text => Sem::Text,
                FieldType::Integer => Sem::Integer,
                FieldType::Float => Sem::Float,
                FieldType::Double => Sem::Double,
                FieldType::Date => Sem::Date,
                FieldType::Boolean => Sem::Boolean,
                FieldType::Ip => Sem::Ip,
                FieldType::Geo => Sem::Geo,
                FieldType::Nested | FieldType::Object | FieldType::Other => Sem::Dynamic,
            },
            Resolved::FlattenedKey => Sem::WildcardLike,
            Resolved::Unknown => Sem::Dynamic,
        }
    }
}

/// One whitespace-separated term of a wildcard value sent through `query_string`.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// `*` alone: the field exists.
    Exists,
    /// A term without wildcard.
    Exact { text: String, tokens: Vec<String> },
    /// A term with wildcards.
    Glob { glob: Glob, lower: Glob },
}

/// A literal read once for every way a field might use it.
#[derive(Debug, Clone)]
pub(crate) struct Lit {
    /// Text form (`true` for the bare word true).
    pub(crate) text: String,
    pub(crate) lower: String,
    pub(crate) quoted: bool,
    /// Whole-value pattern when the literal has wildcards.
    pub(crate) glob: Option<(Glob, Glob)>,
    /// `query_string` terms (only for wildcard literals).
    pub(crate) pieces: Vec<Piece>,
    /// Analysed tokens (text fields).
    pub(crate) tokens: Vec<String>,
    pub(crate) number: Option<f64>,
    pub(crate) boolean: Option<bool>,
    pub(crate) ip: Option<IpQuery>,
    pub(crate) ip_addr: Option<u128>,
    pub(crate) date: Option<DateRange>,
    /// Date math (`now-30d/d`); `date` holds its value for the execution time in force.
    pub(crate) date_math: Option<DateMath>,
    /// Phrase slop (Lucene `"a b"~2`); 0 for an exact phrase.
    pub(crate) slop: u32,
}

/// `query_string`'s whitespace (Lucene classic query parser).
pub(crate) fn is_qs_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{3000}')
}

impl Lit {
    pub(crate) fn plain(text: String, quoted: bool) -> Lit {
        Lit::build(text, quoted, None)
    }

    /// A literal from glob parts (`*`, and `?` for Lucene). `split`: the pattern goes through
    /// `query_string` unescaped whitespace and so splits into terms (KQL); Lucene terms are
    /// already split by its parser.
    pub(crate) fn pattern(parts: &[GlobPart], split: bool) -> Lit {
        let text: String = parts
            .iter()
            .map(|p| match p {
                GlobPart::Lit(s) => s.as_str(),
                GlobPart::Star => "*",
                GlobPart::One => "?",
            })
            .collect();
        Lit::build(text, false, Some((parts, split)))
    }

    fn build(text: String, quoted: bool, parts: Option<(&[GlobPart], bool)>) -> Lit {
        let mut glob = None;
        let mut pieces = Vec::new();
        if let Some((parts, split)) = parts {
            let g = Glob::new(parts);
            let lower = g.to_lowercase();
            pieces = if split {
                split_pieces(parts)
            } else {
                vec![Piece::Glob {
                    glob: g.clone(),
                    lower: lower.clone(),
                }]
            };
            glob = Some((g, lower));
        }
        let trimmed = text.trim();
        Lit {
            lower: text.to_lowercase(),
            tokens: analyze(&text),
            number: parse_number(&text),
            boolean: parse_bool(trimmed),
            ip: IpQuery::parse(&text),
            ip_addr: super::values::parse_ip(&text),
            date: parse_date(&text),
            date_math: if is_date_math(&text) {
                DateMath::parse(&text)
            } else {
                None
            },
            quoted,
            slop: 0,
            glob,
            pieces,
            text,
        }
    }
}

/// Splits a pattern on `query_string` whitespace into terms (Kibana does not escape
/// whitespace, so `f: *a b*` on a non-keyword field is `*a OR b*`, `reference/kql.md` §4.4).
fn split_pieces(parts: &[GlobPart]) -> Vec<Piece> {
    let mut terms: Vec<Vec<GlobPart>> = vec![Vec::new()];
    for p in parts {
        match p {
            GlobPart::Lit(s) => {
                let mut cur = String::new();
                for c in s.chars() {
                    if is_qs_space(c) {
                        if !cur.is_empty() {
                            terms
                                .last_mut()
                                .expect("non-empty")
                                .push(GlobPart::Lit(std::mem::take(&mut cur)));
                        }
                        terms.push(Vec::new());
                    } else {
                        cur.push(c);
                    }
                }
                if !cur.is_empty() {
                    terms
                        .last_mut()
                        .expect("non-empty")
                        .push(GlobPart::Lit(cur));
                }
            }
            other => terms.last_mut().expect("non-empty").push(other.clone()),
        }
    }
    terms
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.iter().all(|p| *p == GlobPart::Star) {
                Piece::Exists
            } else if t.iter().all(|p| matches!(p, GlobPart::Lit(_))) {
                let text: String = t
                    .iter()
                    .map(|p| match p {
                        GlobPart::Lit(s) => s.as_str(),
                        _ => "",
                    })
                    .collect();
                let tokens = analyze(&text);
                Piece::Exact { text, tokens }
            } else {
                let glob = Glob::new(&t);
                let lower = glob.to_lowercase();
                Piece::Glob { glob, lower }
            }
        })
        .collect()
}

/// What to check on a field's values.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Exists,
    Is(Box<Lit>),
    Range(RangeOp, Box<Lit>),
    /// Lucene `/regex/`: whole value (keyword) or one token (text), anchored.
    Regex(Box<regex::Regex>),
    /// Lucene `term~N`: within N edits.
    Fuzzy(Box<Lit>, u32),
}

/// The compiled form of a query.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    All,
    And(Vec<Matcher>),
    Or(Vec<Matcher>),
    Not(Box<Matcher>),
    /// One field with a known (or per-value) type.
    Field {
        path: FieldPath,
        sem: Sem,
        /// A `flattened` field: every leaf value under it counts.
        deep: bool,
        test: Test,
    },
    /// Exact values (and keyword globs) of one keyword or wildcard field, hashed.
    Set {
        path: FieldPath,
        sem: Sem,
        exact: HashSet<String>,
        globs: Vec<Glob>,
    },
    /// Every field whose name matches `pattern` (every field when `None`): free text and field
    /// names with `*`. Types are looked up per field found in the event, under `prefix`.
    Fields {
        pattern: Option<Glob>,
        prefix: String,
        test: Test,
        /// Values go through `query_string` (free text): keyword wildcards split on whitespace.
        qs: bool,
    },
    /// `path:{ inner }`: some object at `path` satisfies `inner` on its own.
    Nested {
        path: FieldPath,
        inner: Box<Matcher>,
    },
}

impl Matcher {
    pub(crate) fn for_each_lit(&mut self, f: &mut dyn FnMut(&mut Lit)) {
        let test = match self {
            Matcher::All | Matcher::Set { .. } => return,
            Matcher::And(items) | Matcher::Or(items) => {
                items.iter_mut().for_each(|m| m.for_each_lit(f));
                return;
            }
            Matcher::Not(inner) | Matcher::Nested { inner, .. } => {
                inner.for_each_lit(f);
                return;
            }
            Matcher::Field { test, .. } | Matcher::Fields { test, .. } => test,
        };
        match test {
            Test::Exists | Test::Regex(_) => {}
            Test::Is(lit) | Test::Range(_, lit) | Test::Fuzzy(lit, _) => f(lit),
        }
    }

    fn reads(&self, out: &mut FieldsRead) {
        match self {
            Matcher::All => {}
            Matcher::And(items) | Matcher::Or(items) => items.iter().for_each(|m| m.reads(out)),
            Matcher::Not(inner) => inner.reads(out),
            Matcher::Field {
                path, sem, deep, ..
            } => {
                if *deep || *sem == Sem::Geo {
                    out.subtrees.push(path.as_str().to_string());
                } else {
                    out.fields.push(path.as_str().to_string());
                }
            }
            Matcher::Set { path, .. } => out.fields.push(path.as_str().to_string()),
            Matcher::Fields { .. } => out.everything = true,
            // The inner query reads paths relative to the objects at `path`.
            Matcher::Nested { path, .. } => out.subtrees.push(path.as_str().to_string()),
        }
    }

    pub(crate) fn resolve_now(&mut self, now_ms: i64) {
        self.for_each_lit(&mut |l| {
            if let Some(m) = &l.date_math {
                l.date = Some(m.resolve(now_ms));
            }
        });
    }

    pub(crate) fn eval<E: Document + ?Sized>(&self, ev: &E, types: &FieldTypes) -> bool {
        let event = ev.document();
        match self {
            Matcher::All => true,
            Matcher::And(items) => items.iter().all(|m| m.eval(ev, types)),
            Matcher::Or(items) => items.iter().any(|m| m.eval(ev, types)),
            Matcher::Not(inner) => !inner.eval(ev, types),
            Matcher::Field {
                path,
                sem,
                deep,
                test,
            } => {
                if *deep {
                    let mut found = false;
                    walk::visit_deep(event, path.as_str(), &mut |v| {
                        found = test_value(*sem, test, v);
                        found
                    });
                    found
                } else if *sem == Sem::Geo {
                    // geo_point values are usually objects: only existence is supported.
                    matches!(test, Test::Exists) && !walk::nodes_at(event, path.as_str()).is_empty()
                } else {
                    ev.visit_field(path, &mut |v| test_value(*sem, test, v))
                }
            }
            Matcher::Set {
                path,
                sem,
                exact,
                globs,
            } => ev.visit_field(path, &mut |v| {
                let Some(s) = keyword_form(v) else {
                    return false;
                };
                if *sem == Sem::Keyword && !within_ignore_above(&s) {
                    return false;
                }
                exact.contains(s.as_ref()) || globs.iter().any(|g| g.is_match(&s))
            }),
            Matcher::Fields {
                pattern,
                prefix,
                test,
                qs,
            } => {
                let adjust = |sem: Sem, v: &Value| match sem {
                    Sem::Keyword if *qs => Sem::KeywordQs,
                    Sem::Dynamic if *qs && v.is_string() => Sem::KeywordQs,
                    other => other,
                };
                let mut found = false;
                walk::visit_leaves(event, &mut |name, v| {
                    let full;
                    let typed_name = if prefix.is_empty() {
                        name
                    } else {
                        full = format!("{prefix}{name}");
                        full.as_str()
                    };
                    if pattern.as_ref().is_none_or(|p| p.is_match(name))
                        && test_value(adjust(Sem::of(types.resolve(typed_name)), v), test, v)
                    {
                        found = true;
                        return true;
                    }
                    for (multi, ty) in types.multi_fields(typed_name) {
                        let rel = &multi[prefix.len()..];
                        if pattern.as_ref().is_none_or(|p| p.is_match(rel))
                            && test_value(adjust(Sem::of(Resolved::Typed(*ty)), v), test, v)
                        {
                            found = true;
                            return true;
                        }
                    }
                    false
                });
                found
            }
            Matcher::Nested { path, inner } => walk::nodes_at(event, path.as_str())
                .into_iter()
                .any(|obj| obj.is_object() && inner.eval(obj, types)),
        }
    }
}

/// One value of a field against a test.
pub(crate) fn test_value(sem: Sem, test: &Test, v: &Value) -> bool {
    if sem == Sem::KeywordQs {
        return match test {
            Test::Is(lit) if lit.glob.is_some() => keyword_form(v)
                .is_some_and(|s| within_ignore_above(&s) && pieces_match(&lit.pieces, &s)),
            _ => test_value(Sem::Keyword, test, v),
        };
    }
    match test {
        Test::Exists => exists_value(sem, v),
        Test::Is(lit) => is_value(sem, lit, v),
        Test::Range(op, lit) => range_value(sem, *op, lit, v),
        Test::Regex(re) => regex_value(sem, re, v),
        Test::Fuzzy(lit, max) => fuzzy_value(sem, lit, *max, v),
    }
}

fn exists_value(sem: Sem, v: &Value) -> bool {
    match sem {
        Sem::Keyword | Sem::KeywordQs | Sem::Caseless => {
            keyword_form(v).is_some_and(|s| within_ignore_above(&s))
        }
        Sem::Integer | Sem::Float | Sem::Double => value_number(v).is_some(),
        Sem::Date => value_date(v).is_some(),
        Sem::Boolean => value_bool(v).is_some(),
        Sem::Ip => value_ip(v).is_some(),
        Sem::WildcardLike | Sem::Text | Sem::Geo | Sem::Dynamic => true,
    }
}

/// `query_string` terms against a whole value: any term equal to it or matching it.
fn pieces_match(pieces: &[Piece], s: &str) -> bool {
    pieces.iter().any(|p| match p {
        Piece::Exists => true,
        Piece::Exact { text, .. } => s == text,
        Piece::Glob { glob, .. } => glob.is_match(s),
    })
}

fn glob_of(lit: &Lit, lower: bool) -> Option<&Glob> {
    lit.glob.as_ref().map(|(g, l)| if lower { l } else { g })
}

fn is_value(sem: Sem, lit: &Lit, v: &Value) -> bool {
    match sem {
        Sem::Keyword | Sem::KeywordQs => {
            let Some(s) = keyword_form(v) else {
                return false;
            };
            within_ignore_above(&s)
                && match glob_of(lit, false) {
                    Some(g) => g.is_match(&s),
                    None => *s == lit.text,
                }
        }
        Sem::Caseless => {
            let Some(s) = keyword_form(v) else {
                return false;
            };
            if !within_ignore_above(&s) {
                return false;
            }
            let s = s.to_lowercase();
            match glob_of(lit, true) {
                Some(g) => g.is_match(&s),
                None => s == lit.lower,
            }
        }
        Sem::WildcardLike => {
            let Some(s) = keyword_form(v) else {
                return false;
            };
            if lit.glob.is_none() {
                return *s == lit.text;
            }
            pieces_match(&lit.pieces, &s)
        }
        Sem::Text => {
            let Some(s) = keyword_form(v) else {
                return false;
            };
            let tokens = analyze(&s);
            if lit.glob.is_some() {
                return lit.pieces.iter().any(|p| match p {
                    Piece::Exists => true,
                    Piece::Exact { tokens: q, .. } => q.iter().any(|t| tokens.contains(t)),
                    Piece::Glob { lower, .. } => tokens.iter().any(|t| lower.is_match(t)),
                });
            }
            if lit.quoted {
                if lit.slop > 0 {
                    sloppy_phrase_in(&lit.tokens, &tokens, lit.slop)
                } else {
                    phrase_in(&lit.tokens, &tokens)
                }
            } else {
                lit.tokens.iter().any(|t| tokens.contains(t))
            }
        }
        Sem::Integer => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => q.fract() == 0.0 && x.trunc() == q,
            _ => false,
        },
        Sem::Float => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => (q as f32) == (x as f32),
            _ => false,
        },
        Sem::Double => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => q == x,
            _ => false,
        },
        Sem::Date => match (lit.date, value_date(v)) {
            (Some(r), Some(x)) => r.lo <= x && x <= r.hi,
            _ => false,
        },
        Sem::Boolean => match (lit.boolean, value_bool(v)) {
            (Some(q), Some(x)) => q == x,
            _ => false,
        },
        Sem::Ip => match (lit.ip, value_ip(v)) {
            (Some(q), Some(x)) => q.contains(x),
            _ => false,
        },
        Sem::Geo => false,
        Sem::Dynamic => match v {
            Value::String(_) => is_value(Sem::Keyword, lit, v),
            Value::Number(_) => match glob_of(lit, false) {
                Some(_) => is_value(Sem::Keyword, lit, v),
                None => is_value(Sem::Double, lit, v),
            },
            Value::Bool(b) => lit.glob.is_none() && lit.boolean == Some(*b),
            _ => false,
        },
    }
}

/// `needle` occurs as consecutive tokens of `hay` (`match_phrase`); an empty phrase matches
/// nothing (`zero_terms_query: none`).
fn phrase_in(needle: &[String], hay: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Lucene's sloppy phrase: some choice of positions `p_i` for the phrase terms (in any order)
/// with `max(p_i - i) - min(p_i - i) <= slop`. Searched exhaustively for short phrases.
fn sloppy_phrase_in(needle: &[String], hay: &[String], slop: u32) -> bool {
    if needle.is_empty() {
        return false;
    }
    let positions: Vec<Vec<i64>> = needle
        .iter()
        .enumerate()
        .map(|(i, t)| {
            hay.iter()
                .enumerate()
                .filter(|(_, h)| *h == t)
                .map(|(p, _)| p as i64 - i as i64)
                .collect()
        })
        .collect();
    if positions.iter().any(Vec::is_empty) {
        return false;
    }
    // Any window [lo, lo + slop] of offsets that holds one offset of every term.
    let slop = i64::from(slop);
    positions.iter().flatten().any(|&lo| {
        positions
            .iter()
            .all(|ps| ps.iter().any(|&p| p >= lo && p <= lo + slop))
    })
}

/// Whether the optimal-string-alignment distance (Levenshtein with adjacent transpositions, as
/// Lucene's fuzzy queries use) is at most `max`.
pub(crate) fn edit_distance_within(a: &str, b: &str, max: u32) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = max as usize;
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

fn fuzzy_value(sem: Sem, lit: &Lit, max: u32, v: &Value) -> bool {
    let Some(s) = keyword_form(v) else {
        return false;
    };
    match sem {
        Sem::Keyword | Sem::KeywordQs => {
            within_ignore_above(&s) && edit_distance_within(&s, &lit.text, max)
        }
        Sem::Caseless => {
            within_ignore_above(&s) && edit_distance_within(&s.to_lowercase(), &lit.lower, max)
        }
        Sem::WildcardLike => edit_distance_within(&s, &lit.text, max),
        Sem::Text => analyze(&s)
            .iter()
            .any(|t| edit_distance_within(t, &lit.lower, max)),
        Sem::Dynamic => v.is_string() && edit_distance_within(&s, &lit.text, max),
        _ => false,
    }
}

fn regex_value(sem: Sem, re: &regex::Regex, v: &Value) -> bool {
    let Some(s) = keyword_form(v) else {
        return false;
    };
    match sem {
        Sem::Keyword | Sem::KeywordQs | Sem::Caseless => within_ignore_above(&s) && re.is_match(&s),
        Sem::WildcardLike => re.is_match(&s),
        Sem::Text => analyze(&s).iter().any(|t| re.is_match(t)),
        Sem::Dynamic => v.is_string() && re.is_match(&s),
        _ => false,
    }
}

fn cmp_ok<T: PartialOrd>(op: RangeOp, x: T, bound: T) -> bool {
    match op {
        RangeOp::Lt => x < bound,
        RangeOp::Lte => x <= bound,
        RangeOp::Gt => x > bound,
        RangeOp::Gte => x >= bound,
    }
}

fn range_value(sem: Sem, op: RangeOp, lit: &Lit, v: &Value) -> bool {
    match sem {
        Sem::Keyword | Sem::KeywordQs | Sem::WildcardLike => keyword_form(v).is_some_and(|s| {
            (sem == Sem::WildcardLike || within_ignore_above(&s))
                && cmp_ok(op, s.as_ref(), lit.text.as_str())
        }),
        Sem::Caseless => keyword_form(v).is_some_and(|s| {
            within_ignore_above(&s) && cmp_ok(op, s.to_lowercase().as_str(), lit.lower.as_str())
        }),
        Sem::Text => keyword_form(v).is_some_and(|s| {
            analyze(&s)
                .iter()
                .any(|t| cmp_ok(op, t.as_str(), lit.lower.as_str()))
        }),
        Sem::Integer => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => cmp_ok(op, x.trunc(), q),
            _ => false,
        },
        Sem::Float => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => cmp_ok(op, x as f32, q as f32),
            _ => false,
        },
        Sem::Double => match (lit.number, value_number(v)) {
            (Some(q), Some(x)) => cmp_ok(op, x, q),
            _ => false,
        },
        Sem::Date => match (lit.date, value_date(v)) {
            // Partial dates round: `gt`/`lte` use the end of the period, `gte`/`lt` its start.
            (Some(r), Some(x)) => match op {
                RangeOp::Gt | RangeOp::Lte => cmp_ok(op, x, r.hi),
                RangeOp::Gte | RangeOp::Lt => cmp_ok(op, x, r.lo),
            },
            _ => false,
        },
        Sem::Boolean => match (lit.boolean, value_bool(v)) {
            (Some(q), Some(x)) => cmp_ok(op, x, q),
            _ => false,
        },
        Sem::Ip => match (lit.ip_addr, value_ip(v)) {
            (Some(q), Some(x)) => cmp_ok(op, x, q),
            _ => false,
        },
        Sem::Geo => false,
        Sem::Dynamic => match v {
            Value::String(_) => range_value(Sem::Keyword, op, lit, v),
            Value::Number(_) => range_value(Sem::Double, op, lit, v),
            Value::Bool(_) => range_value(Sem::Boolean, op, lit, v),
            _ => false,
        },
    }
}
