//! The sixteen EQL functions: signatures (checked at compile time) and evaluation (§9).
//!
//! Positions and lengths count UTF-16 code units, as Java strings do.

use super::value::{Num, Val, java_lower};
use std::borrow::Cow;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Add,
    Between,
    CidrMatch,
    Concat,
    Divide,
    EndsWith,
    IndexOf,
    Length,
    Modulo,
    Multiply,
    Number,
    StartsWith,
    String,
    StringContains,
    Substring,
    Subtract,
}

/// What an argument must be, for the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Str,
    Numeric,
    Bool,
    Any,
}

impl Func {
    /// Looks a name up case-insensitively (`cidrmatch`, `CONCAT`).
    pub fn lookup(name: &str) -> Option<Func> {
        Some(match name.to_ascii_lowercase().as_str() {
            "add" => Func::Add,
            "between" => Func::Between,
            "cidrmatch" => Func::CidrMatch,
            "concat" => Func::Concat,
            "divide" => Func::Divide,
            "endswith" => Func::EndsWith,
            "indexof" => Func::IndexOf,
            "length" => Func::Length,
            "modulo" => Func::Modulo,
            "multiply" => Func::Multiply,
            "number" => Func::Number,
            "startswith" => Func::StartsWith,
            "string" => Func::String,
            "stringcontains" => Func::StringContains,
            "substring" => Func::Substring,
            "subtract" => Func::Subtract,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Func::Add => "add",
            Func::Between => "between",
            Func::CidrMatch => "cidrMatch",
            Func::Concat => "concat",
            Func::Divide => "divide",
            Func::EndsWith => "endsWith",
            Func::IndexOf => "indexOf",
            Func::Length => "length",
            Func::Modulo => "modulo",
            Func::Multiply => "multiply",
            Func::Number => "number",
            Func::StartsWith => "startsWith",
            Func::String => "string",
            Func::StringContains => "stringContains",
            Func::Substring => "substring",
            Func::Subtract => "subtract",
        }
    }

    /// Accepts a `~` suffix (case-insensitive variant).
    pub fn has_insensitive_variant(self) -> bool {
        matches!(
            self,
            Func::Between
                | Func::EndsWith
                | Func::IndexOf
                | Func::StartsWith
                | Func::StringContains
        )
    }

    /// Minimum and maximum argument counts (`None` = unbounded).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Add | Func::Subtract | Func::Multiply | Func::Divide | Func::Modulo => {
                (2, Some(2))
            }
            Func::Between => (3, Some(4)),
            Func::CidrMatch => (2, None),
            Func::Concat => (1, None),
            Func::EndsWith | Func::StartsWith | Func::StringContains => (2, Some(2)),
            Func::IndexOf => (2, Some(3)),
            Func::Length | Func::String => (1, Some(1)),
            Func::Number => (1, Some(2)),
            Func::Substring => (2, Some(3)),
        }
    }

    pub fn arg_kind(self, i: usize) -> ArgKind {
        match (self, i) {
            (Func::Add | Func::Subtract | Func::Multiply | Func::Divide | Func::Modulo, _) => {
                ArgKind::Numeric
            }
            (Func::Between, 3) => ArgKind::Bool,
            (Func::Between, _) => ArgKind::Str,
            (Func::CidrMatch, 0) => ArgKind::Any,
            (Func::CidrMatch, _) => ArgKind::Str,
            (Func::Concat | Func::String, _) => ArgKind::Any,
            (Func::EndsWith | Func::StartsWith | Func::StringContains | Func::Length, _) => {
                ArgKind::Str
            }
            (Func::IndexOf, 2) => ArgKind::Numeric,
            (Func::IndexOf, _) => ArgKind::Str,
            (Func::Number, 0) => ArgKind::Str,
            (Func::Number, _) => ArgKind::Numeric,
            (Func::Substring, 0) => ArgKind::Str,
            (Func::Substring, _) => ArgKind::Numeric,
        }
    }

    /// True for functions whose result is a boolean (usable as a condition).
    pub fn is_predicate(self) -> bool {
        matches!(
            self,
            Func::CidrMatch | Func::EndsWith | Func::StartsWith | Func::StringContains
        )
    }
}

/// An error a function raises at run time (Elasticsearch fails the query).
pub type FnResult<'a> = Result<Val<'a>, String>;

fn text<'v>(v: &'v Val<'_>) -> Option<Cow<'v, str>> {
    v.to_text()
}

fn utf16(s: &str, ci: bool) -> Vec<u16> {
    if ci {
        java_lower(s).encode_utf16().collect()
    } else {
        s.encode_utf16().collect()
    }
}

fn find16(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return (from <= hay.len()).then_some(from);
    }
    if needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn rfind16(hay: &[u16], needle: &[u16]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

fn num_of(v: &Val<'_>) -> Result<Option<Num>, String> {
    match v {
        Val::Null => Ok(None),
        Val::Num(n) => Ok(Some(*n)),
        Val::Str(s) => Num::parse(s)
            .map(Some)
            .ok_or_else(|| format!("[{s}] is not a number")),
        Val::Bool(_) => Err("a boolean is not a number".into()),
    }
}

pub fn arith(op: super::ast::ArithOp, a: &Val<'_>, b: &Val<'_>) -> FnResult<'static> {
    use super::ast::ArithOp::*;
    let (Some(x), Some(y)) = (num_of(a)?, num_of(b)?) else {
        return Ok(Val::Null);
    };
    Ok(Val::Num(match (x, y) {
        (Num::I(x), Num::I(y)) => Num::I(match op {
            Add => x.wrapping_add(y),
            Sub => x.wrapping_sub(y),
            Mul => x.wrapping_mul(y),
            Div => {
                if y == 0 {
                    return Err("divisor cannot be zero".into());
                }
                x.wrapping_div(y)
            }
            Mod => {
                if y == 0 {
                    return Err("divisor cannot be zero".into());
                }
                x.wrapping_rem(y)
            }
        }),
        (x, y) => {
            let (x, y) = (x.as_f64(), y.as_f64());
            Num::F(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                Mod => x % y,
            })
        }
    }))
}

/// Evaluates `f` over already-evaluated arguments.
pub fn call<'a>(f: Func, ci: bool, args: &[Val<'a>], cidrs: &[IpNet]) -> FnResult<'a> {
    use super::ast::ArithOp;
    match f {
        Func::Add => arith(ArithOp::Add, &args[0], &args[1]),
        Func::Subtract => arith(ArithOp::Sub, &args[0], &args[1]),
        Func::Multiply => arith(ArithOp::Mul, &args[0], &args[1]),
        Func::Divide => arith(ArithOp::Div, &args[0], &args[1]),
        Func::Modulo => arith(ArithOp::Mod, &args[0], &args[1]),
        Func::Between => between(args, ci),
        Func::CidrMatch => {
            let Some(s) = text(&args[0]) else {
                return Ok(Val::Null);
            };
            let Ok(ip) = s.trim().parse::<IpAddr>() else {
                return Ok(Val::Bool(false));
            };
            Ok(Val::Bool(cidrs.iter().any(|n| n.contains(ip))))
        }
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                match text(a) {
                    Some(t) => out.push_str(&t),
                    None => return Ok(Val::Null),
                }
            }
            Ok(Val::Str(Cow::Owned(out)))
        }
        Func::EndsWith | Func::StartsWith | Func::StringContains => {
            let (Some(s), Some(p)) = (text(&args[0]), text(&args[1])) else {
                return Ok(Val::Null);
            };
            let (s, p) = if ci {
                (fold_str(&s), fold_str(&p))
            } else {
                (s.into_owned(), p.into_owned())
            };
            Ok(Val::Bool(match f {
                Func::EndsWith => s.ends_with(&p),
                Func::StartsWith => s.starts_with(&p),
                _ => !s.is_empty() && !p.is_empty() && s.contains(&p),
            }))
        }
        Func::IndexOf => {
            let (Some(s), Some(sub)) = (text(&args[0]), text(&args[1])) else {
                return Ok(Val::Null);
            };
            let start = match args.get(2).map(num_of).transpose()?.flatten() {
                None => 0,
                Some(n) => match n {
                    Num::I(i) => i,
                    Num::F(f) => f as i64,
                },
            }
            .max(0) as usize;
            let h = utf16(&s, ci);
            let n = utf16(&sub, ci);
            if start > h.len() {
                return Ok(Val::Null);
            }
            Ok(find16(&h, &n, start).map_or(Val::Null, |i| Val::Num(Num::I(i as i64))))
        }
        Func::Length => Ok(match text(&args[0]) {
            Some(s) => Val::Num(Num::I(s.encode_utf16().count() as i64)),
            None => Val::Null,
        }),
        Func::Number => number(args),
        Func::String => Ok(match text(&args[0]) {
            Some(s) => Val::Str(Cow::Owned(s.into_owned())),
            None => Val::Null,
        }),
        Func::Substring => {
            let Some(s) = text(&args[0]) else {
                return Ok(Val::Null);
            };
            let u: Vec<u16> = s.encode_utf16().collect();
            let len = u.len() as i64;
            let idx = |v: Option<&Val<'_>>| -> Result<Option<i64>, String> {
                Ok(match v.map(num_of).transpose()?.flatten() {
                    None => None,
                    Some(Num::I(i)) => Some(i),
                    Some(Num::F(f)) => Some(f as i64),
                })
            };
            let clamp = |i: i64| -> i64 { if i < 0 { (len + i).max(0) } else { i.min(len) } };
            let start = clamp(idx(args.get(1))?.unwrap_or(0));
            let end = clamp(idx(args.get(2))?.unwrap_or(len));
            if start >= end {
                return Ok(Val::Str(Cow::Borrowed("")));
            }
            Ok(Val::Str(Cow::Owned(String::from_utf16_lossy(
                &u[start as usize..end as usize],
            ))))
        }
    }
}

fn fold_str(s: &str) -> String {
    java_lower(s)
}

fn between<'a>(args: &[Val<'a>], ci: bool) -> FnResult<'a> {
    let Some(s) = text(&args[0]) else {
        return Ok(Val::Null);
    };
    let (Some(left), Some(right)) = (text(&args[1]), text(&args[2])) else {
        return Err("between: left and right must not be null".into());
    };
    let greedy = match args.get(3) {
        None | Some(Val::Null) => false,
        Some(Val::Bool(b)) => *b,
        Some(_) => return Err("between: greedy must be a boolean".into()),
    };
    if s.is_empty() || left.is_empty() || right.is_empty() {
        return Ok(Val::Str(Cow::Owned(s.into_owned())));
    }
    let orig: Vec<u16> = s.encode_utf16().collect();
    let h = utf16(&s, ci);
    let l = utf16(&left, ci);
    let r = utf16(&right, ci);
    if h.len() != orig.len() {
        // Folding changed the length (rare non-ASCII case); positions are approximate.
        return Ok(Val::Str(Cow::Borrowed("")));
    }
    let Some(ls) = find16(&h, &l, 0) else {
        return Ok(Val::Str(Cow::Borrowed("")));
    };
    let start = ls + l.len();
    let end = if greedy {
        rfind16(&h, &r)
    } else {
        find16(&h, &r, start)
    };
    match end {
        Some(e) if e >= start => Ok(Val::Str(Cow::Owned(String::from_utf16_lossy(
            &orig[start..e],
        )))),
        Some(_) => Err("between: right bound occurs only before the left bound".into()),
        None => Ok(Val::Str(Cow::Borrowed(""))),
    }
}

fn number<'a>(args: &[Val<'a>]) -> FnResult<'a> {
    let s = match &args[0] {
        Val::Null => return Ok(Val::Null),
        Val::Str(s) => s.clone(),
        other => return Err(format!("number: expected a string, got {other:?}")),
    };
    let base = match args.get(1) {
        None | Some(Val::Null) => None,
        Some(Val::Num(Num::I(b))) => Some(*b),
        Some(other) => return Err(format!("number: invalid base {other:?}")),
    };
    let bad = || format!("unable to convert [{s}] to number");
    let t = s.as_ref();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let hex_prefixed = body.starts_with("0x") || body.starts_with("0X");
    let base = match base {
        None if hex_prefixed => 16,
        None => 10,
        Some(b) => b,
    };
    if !(2..=36).contains(&base) {
        return Err(format!("number: invalid base [{base}]"));
    }
    if base == 10 {
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Val::Num(Num::I(i)));
        }
        return match Num::parse(t) {
            Some(n) => Ok(Val::Num(Num::F(n.as_f64()))),
            None => Err(bad()),
        };
    }
    let digits = if base == 16 && hex_prefixed {
        &body[2..]
    } else {
        body
    };
    let v = i64::from_str_radix(digits, base as u32).map_err(|_| bad())?;
    Ok(Val::Num(Num::I(if neg { -v } else { v })))
}

/// An IPv4 or IPv6 network; host bits in the address are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n) as u128, u32::from(a) as u128, self.prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), u128::from(a), self.prefix, 128)
            }
            (IpAddr::V4(n), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(a) => masked(u32::from(n) as u128, u32::from(a) as u128, self.prefix, 32),
                None => false,
            },
            (IpAddr::V6(_), IpAddr::V4(a)) => self.contains(IpAddr::V6(a.to_ipv6_mapped())),
        }
    }
}

fn masked(n: u128, a: u128, prefix: u8, bits: u32) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix as u32;
    (n >> shift) == (a >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'static> {
        Val::Str(Cow::Owned(x.into()))
    }

    #[test]
    fn cidr() {
        let n = IpNet::parse("10.6.48.157/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(
            IpNet::parse("fe80::/10")
                .unwrap()
                .contains("fe80::1".parse().unwrap())
        );
    }

    #[test]
    fn strings() {
        let r = call(
            Func::Substring,
            false,
            &[s("hello world"), Val::Num(Num::I(5)), Val::Num(Num::I(-1))],
            &[],
        )
        .unwrap();
        assert!(matches!(r, Val::Str(ref x) if x == " worl"));
        let r = call(
            Func::Between,
            false,
            &[
                s("welcome to the planet"),
                s("welcome"),
                s("e"),
                Val::Bool(true),
            ],
            &[],
        )
        .unwrap();
        assert!(matches!(r, Val::Str(ref x) if x == " to the plan"));
        let r = call(
            Func::Number,
            false,
            &[s("052403"), Val::Num(Num::I(8))],
            &[],
        )
        .unwrap();
        assert!(matches!(r, Val::Num(Num::I(21763))));
    }
}
