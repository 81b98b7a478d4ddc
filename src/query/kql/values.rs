//! Reading literals and event values the way Elasticsearch reads them per mapping type:
//! numbers, booleans, IP addresses and CIDR blocks, dates (ISO 8601 / epoch millis, UTC), and
//! an approximation of the standard analyzer for `text` fields.

use crate::query::calendar::{civil_from_days, days_from_civil, days_in_month};
use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::Value;
use unicode_segmentation::UnicodeSegmentation;

/// `ignore_above` of ECS keyword fields: longer values are not indexed.
pub(crate) const KEYWORD_IGNORE_ABOVE: usize = 1024;

/// The string a keyword field indexes for a JSON value (numbers and booleans as their text).
pub(crate) fn keyword_form(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Whether a keyword value is short enough to be indexed (Java counts UTF-16 units).
pub(crate) fn within_ignore_above(s: &str) -> bool {
    s.len() <= KEYWORD_IGNORE_ABOVE || s.encode_utf16().count() <= KEYWORD_IGNORE_ABOVE
}

/// Standard-analyzer approximation: UAX #29 words that contain a letter or digit, lower-cased.
pub(crate) fn analyze(s: &str) -> Vec<String> {
    s.unicode_words().map(str::to_lowercase).collect()
}

/// A number as Elasticsearch parses a numeric literal or a numeric field's value.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A JSON value indexed into a numeric field (numbers, and strings that parse as numbers).
pub(crate) fn value_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A JSON value indexed into a boolean field (`""` is false).
pub(crate) fn value_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.is_empty() => Some(false),
        Value::String(s) => parse_bool(s),
        _ => None,
    }
}

/// An address as a 128-bit number, IPv4 mapped into IPv6 as Elasticsearch stores it.
pub(crate) fn parse_ip(s: &str) -> Option<u128> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    })
}

/// The right-hand side of `ip_field: v`: one address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpQuery {
    pub(crate) net: u128,
    pub(crate) mask: u128,
}

impl IpQuery {
    pub(crate) fn parse(s: &str) -> Option<IpQuery> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (bits, max) = match ip {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), 32u32),
            IpAddr::V6(v6) => (u128::from(v6), 128u32),
        };
        let len = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                let l: u32 = p.parse().ok()?;
                if l > max {
                    return None;
                }
                l + (128 - max)
            }
            Some(_) => return None,
            None => 128,
        };
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Some(IpQuery {
            net: bits & mask,
            mask,
        })
    }

    pub(crate) fn contains(&self, ip: u128) -> bool {
        ip & self.mask == self.net
    }
}

pub(crate) fn value_ip(v: &Value) -> Option<u128> {
    match v {
        Value::String(s) => parse_ip(s),
        _ => None,
    }
}

/// An instant range in epoch milliseconds: the earliest and latest instant a date literal
/// denotes. `2024-01-01` is the whole day; an exact timestamp has `lo == hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateRange {
    pub(crate) lo: i64,
    pub(crate) hi: i64,
}

/// True when a date literal uses Elasticsearch date math (`now-30d/d`, `2024-01-01||+1M`).
pub(crate) fn is_date_math(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("now") || t.contains("||")
}

/// A date-math unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    fn parse(c: u8) -> Option<Unit> {
        Some(match c {
            b'y' => Unit::Year,
            b'M' => Unit::Month,
            b'w' => Unit::Week,
            b'd' => Unit::Day,
            b'h' | b'H' => Unit::Hour,
            b'm' => Unit::Minute,
            b's' => Unit::Second,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MathOp {
    Add(i64, Unit),
    Round(Unit),
}

/// Elasticsearch date math: an anchor (`now` or a date followed by `||`) and operations
/// (`+1d`, `-30m`, `/d`). Resolved against the rule's execution time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateMath {
    /// `None` = now.
    anchor: Option<i64>,
    ops: Vec<MathOp>,
}

impl DateMath {
    pub(crate) fn parse(s: &str) -> Option<DateMath> {
        let t = s.trim();
        let (anchor, rest) = if let Some(r) = t.strip_prefix("now") {
            (None, r)
        } else {
            let (d, r) = t.split_once("||")?;
            (Some(parse_date(d)?.lo), r)
        };
        let b = rest.as_bytes();
        let mut ops = Vec::new();
        let mut p = 0;
        while p < b.len() {
            match b[p] {
                b'/' => {
                    ops.push(MathOp::Round(Unit::parse(*b.get(p + 1)?)?));
                    p += 2;
                }
                sign @ (b'+' | b'-') => {
                    p += 1;
                    let start = p;
                    while b.get(p).is_some_and(u8::is_ascii_digit) {
                        p += 1;
                    }
                    let n: i64 = if p == start {
                        1
                    } else {
                        rest[start..p].parse().ok()?
                    };
                    // Far beyond any real rule; keeps calendar arithmetic from overflowing.
                    if n > 1_000_000 {
                        return None;
                    }
                    let unit = Unit::parse(*b.get(p)?)?;
                    p += 1;
                    ops.push(MathOp::Add(if sign == b'+' { n } else { -n }, unit));
                }
                _ => return None,
            }
        }
        Some(DateMath { anchor, ops })
    }

    /// The instants denoted given `now` (epoch ms): a range when the expression rounds.
    pub(crate) fn resolve(&self, now: i64) -> DateRange {
        let mut t = self.anchor.unwrap_or(now);
        let mut round = None;
        for op in &self.ops {
            match *op {
                MathOp::Add(n, unit) => t = add_units(t, n, unit),
                MathOp::Round(unit) => {
                    t = floor_unit(t, unit);
                    round = Some(unit);
                }
            }
        }
        match round {
            Some(unit) => DateRange {
                lo: t,
                hi: add_units(t, 1, unit).saturating_sub(1),
            },
            None => DateRange { lo: t, hi: t },
        }
    }
}

const DAY_MS: i64 = 86_400_000;

fn add_units(t: i64, n: i64, unit: Unit) -> i64 {
    match unit {
        Unit::Year => add_months(t, n.saturating_mul(12)),
        Unit::Month => add_months(t, n),
        Unit::Week => t.saturating_add(n.saturating_mul(7 * DAY_MS)),
        Unit::Day => t.saturating_add(n.saturating_mul(DAY_MS)),
        Unit::Hour => t.saturating_add(n.saturating_mul(3_600_000)),
        Unit::Minute => t.saturating_add(n.saturating_mul(60_000)),
        Unit::Second => t.saturating_add(n.saturating_mul(1000)),
    }
}

/// Calendar months, clamping the day to the target month's length (as java.time does).
fn add_months(t: i64, n: i64) -> i64 {
    let days = t.div_euclid(DAY_MS);
    let time = t.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let total = y
        .saturating_mul(12)
        .saturating_add(i64::from(m) - 1)
        .saturating_add(n);
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd)
        .saturating_mul(DAY_MS)
        .saturating_add(time)
}

fn floor_unit(t: i64, unit: Unit) -> i64 {
    let days = t.div_euclid(DAY_MS);
    match unit {
        Unit::Year => days_from_civil(civil_from_days(days).0, 1, 1).saturating_mul(DAY_MS),
        Unit::Month => {
            let (y, m, _) = civil_from_days(days);
            days_from_civil(y, m, 1).saturating_mul(DAY_MS)
        }
        // 1970-01-01 was a Thursday; weeks start on Monday.
        Unit::Week => (days - (days + 3).rem_euclid(7)).saturating_mul(DAY_MS),
        Unit::Day => days.saturating_mul(DAY_MS),
        Unit::Hour => t - t.rem_euclid(3_600_000),
        Unit::Minute => t - t.rem_euclid(60_000),
        Unit::Second => t - t.rem_euclid(1000),
    }
}

/// `strict_date_optional_time || epoch_millis`, in UTC unless an offset is given.
pub(crate) fn parse_date(s: &str) -> Option<DateRange> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits_only = !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    if (digits_only && b.len() > 4)
        || (b.first() == Some(&b'-') && b.len() > 1 && b[1..].iter().all(u8::is_ascii_digit))
    {
        let ms: i64 = s.parse().ok()?;
        return Some(DateRange { lo: ms, hi: ms });
    }
    let mut p = 0usize;
    let num = |p: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*p..*p + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *p += n;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = i64::from(num(&mut p, 4)?);
    let (mut month, mut day, mut hour, mut min, mut sec, mut ms) =
        (1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    // Precision of the literal, as the span in ms (or months for year/month precision).
    enum Prec {
        Year,
        Month,
        Ms(i64),
    }
    let mut prec = Prec::Year;
    if b.get(p) == Some(&b'-') {
        p += 1;
        month = num(&mut p, 2)?;
        prec = Prec::Month;
        if b.get(p) == Some(&b'-') {
            p += 1;
            day = num(&mut p, 2)?;
            prec = Prec::Ms(86_400_000);
            if b.get(p) == Some(&b'T') || b.get(p) == Some(&b't') {
                p += 1;
                hour = num(&mut p, 2)?;
                prec = Prec::Ms(3_600_000);
                if b.get(p) == Some(&b':') {
                    p += 1;
                    min = num(&mut p, 2)?;
                    prec = Prec::Ms(60_000);
                    if b.get(p) == Some(&b':') {
                        p += 1;
                        sec = num(&mut p, 2)?;
                        prec = Prec::Ms(1000);
                        if matches!(b.get(p), Some(b'.' | b',')) {
                            p += 1;
                            let start = p;
                            while b.get(p).is_some_and(u8::is_ascii_digit) && p - start < 9 {
                                p += 1;
                            }
                            if p == start {
                                return None;
                            }
                            let frac = &s[start..p];
                            let ms_digits: String =
                                frac.chars().chain("00".chars()).take(3).collect();
                            ms = ms_digits.parse().ok()?;
                            prec = if frac.len() >= 3 {
                                Prec::Ms(1)
                            } else {
                                Prec::Ms(10i64.pow(3 - frac.len() as u32))
                            };
                        }
                    }
                }
            }
        }
    }
    // Zone: Z, ±HH, ±HHmm, ±HH:mm.
    let mut offset_ms = 0i64;
    match b.get(p) {
        None => {}
        Some(b'Z' | b'z') if p + 1 == b.len() => p += 1,
        Some(&sign @ (b'+' | b'-'))
            if matches!(prec, Prec::Ms(_)) && !matches!(prec, Prec::Ms(86_400_000)) =>
        {
            p += 1;
            let oh = num(&mut p, 2)?;
            if b.get(p) == Some(&b':') {
                p += 1;
            }
            let om = if p < b.len() { num(&mut p, 2)? } else { 0 };
            if !crate::query::eql::date::valid_offset(i64::from(oh), i64::from(om)) {
                return None;
            }
            let off = i64::from(oh * 60 + om) * 60_000;
            offset_ms = if sign == b'+' { off } else { -off };
        }
        _ => return None,
    }
    if p != b.len()
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let lo = days * 86_400_000
        + i64::from(hour) * 3_600_000
        + i64::from(min) * 60_000
        + i64::from(sec) * 1000
        + i64::from(ms)
        - offset_ms;
    let hi = match prec {
        Prec::Year => days_from_civil(year + 1, 1, 1) * 86_400_000 - 1 - offset_ms,
        Prec::Month => {
            let (ny, nm) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            days_from_civil(ny, nm, 1) * 86_400_000 - 1 - offset_ms
        }
        Prec::Ms(span) => lo + span - 1,
    };
    Some(DateRange { lo, hi })
}

/// The instant a JSON value indexes into a date field.
pub(crate) fn value_date(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        Value::String(s) => parse_date(s).map(|r| r.lo),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates() {
        let d = parse_date("2024-01-01").unwrap();
        assert_eq!(d.lo, 1_704_067_200_000);
        assert_eq!(d.hi, 1_704_067_200_000 + 86_400_000 - 1);
        let t = parse_date("2024-01-01T00:00:00.000Z").unwrap();
        assert_eq!((t.lo, t.hi), (d.lo, d.lo));
        let o = parse_date("2024-01-01T02:00:00+02:00").unwrap();
        assert_eq!(o.lo, d.lo);
        assert_eq!(parse_date("1704067200000").unwrap().lo, d.lo);
        let y = parse_date("2024").unwrap();
        assert_eq!(y.lo, d.lo);
        assert_eq!(y.hi, parse_date("2025-01-01").unwrap().lo - 1);
        assert_eq!(
            parse_date("2024-02-29T10:11:12.123456789Z").unwrap().lo % 1000,
            123
        );
        assert!(parse_date("2023-02-29").is_none());
        for impossible in [
            "2026-02-31",
            "2026-04-31",
            "2100-02-29",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00+99:99",
            "2026-01-01T00:00:00+18:30",
        ] {
            assert!(parse_date(impossible).is_none(), "{impossible}");
        }
        assert!(parse_date("2026-01-01T00:00:00+18:00").is_some());
        assert!(parse_date("yesterday").is_none());
        assert!(parse_date("2024-01-01T25:00").is_none());
        assert_eq!(value_date(&json!(1_704_067_200_000i64)), Some(d.lo));
    }

    #[test]
    fn date_math() {
        let now = parse_date("2024-03-31T15:20:00Z").unwrap().lo;
        let day = DateMath::parse("now-30d/d").unwrap().resolve(now);
        assert_eq!(day.lo, parse_date("2024-03-01").unwrap().lo);
        assert_eq!(day.hi, parse_date("2024-03-02").unwrap().lo - 1);
        let m = DateMath::parse("now-1M").unwrap().resolve(now);
        assert_eq!(m.lo, parse_date("2024-02-29T15:20:00Z").unwrap().lo);
        let w = DateMath::parse("now/w").unwrap().resolve(now);
        assert_eq!(w.lo, parse_date("2024-03-25").unwrap().lo);
        let a = DateMath::parse("2024-01-31||+1M").unwrap().resolve(0);
        assert_eq!(a.lo, parse_date("2024-02-29").unwrap().lo);
        assert!(DateMath::parse("now-x").is_none());
        assert!(DateMath::parse("now+9223372036854775807M").is_none());
        assert!(DateMath::parse("now+1000000y").is_some());
        for extreme in ["9223372036854775807||+1M/y", "-9223372036854775808||-1y/M"] {
            let m = DateMath::parse(extreme).unwrap();
            let _ = m.resolve(0);
        }
        assert!(DateMath::parse("yesterday").is_none());
    }

    #[test]
    fn ips_and_cidrs() {
        let q = IpQuery::parse("10.0.0.0/8").unwrap();
        assert!(q.contains(parse_ip("10.1.2.3").unwrap()));
        assert!(!q.contains(parse_ip("11.1.2.3").unwrap()));
        assert_eq!(parse_ip("::ffff:1.2.3.4"), parse_ip("1.2.3.4"));
        let v6 = IpQuery::parse("FC00::/7").unwrap();
        assert!(v6.contains(parse_ip("fd12::1").unwrap()));
        assert!(IpQuery::parse("10.0.0.0/33").is_none());
        assert!(IpQuery::parse("foo").is_none());
        assert!(
            IpQuery::parse("0.0.0.0/0")
                .unwrap()
                .contains(parse_ip("8.8.8.8").unwrap())
        );
    }

    #[test]
    fn analyzer_and_numbers() {
        assert_eq!(
            analyze("Hello, World-Wide foo.exe"),
            ["hello", "world", "wide", "foo.exe"]
        );
        assert_eq!(parse_number(" 5 "), Some(5.0));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(value_bool(&json!("")), Some(false));
    }
}
