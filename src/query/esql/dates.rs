//! Date functions and date arithmetic (UTC).

use super::ast::BinOp;
use super::eval::Ctx;
use super::types::{DataType, Value};
use crate::query::calendar::{DAYS, MONTHS, civil_from_days, days_from_civil, days_in_month};

type R = Result<Value, String>;
const DAY: i64 = 86_400_000;

struct Civil {
    y: i64,
    mo: u32,
    d: u32,
    h: i64,
    mi: i64,
    s: i64,
    ms: i64,
}

fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(DAY);
    let rem = ms.rem_euclid(DAY);
    let (y, mo, d) = civil_from_days(days);
    Civil {
        y,
        mo,
        d,
        h: rem / 3_600_000,
        mi: rem / 60_000 % 60,
        s: rem / 1000 % 60,
        ms: rem % 1000,
    }
}

fn date_of(v: &Value) -> i64 {
    match v {
        Value::Date(ms) | Value::Int(ms) => *ms,
        _ => 0,
    }
}

/// Adds calendar months, clamping the day (Jan 31 + 1 month = Feb 28/29).
fn add_months(ms: i64, months: i64) -> Option<i64> {
    let c = civil(ms);
    let total = (c.y * 12 + i64::from(c.mo) - 1).checked_add(months)?;
    let (y, mo) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    if y.abs() > 300_000_000 {
        return None;
    }
    let d = c.d.min(days_in_month(y, mo));
    days_from_civil(y, mo, d)
        .checked_mul(DAY)?
        .checked_add(ms.rem_euclid(DAY))
}

pub fn date_arith(op: BinOp, a: &Value, b: &Value, _lt: DataType, _rt: DataType) -> R {
    let (date, span, sign) = match (a, b) {
        (Value::Date(d), s) => (*d, s, if op == BinOp::Sub { -1 } else { 1 }),
        (s, Value::Date(d)) => (*d, s, 1),
        _ => return Ok(Value::Null),
    };
    let r = match span {
        Value::Period(m, d) => add_months(date, sign * m)
            .and_then(|x| x.checked_add(d.checked_mul(DAY)?.checked_mul(sign)?)),
        Value::Duration(ms) => date.checked_add(ms.checked_mul(sign).unwrap_or(i64::MAX)),
        _ => None,
    };
    let r = r.ok_or("java.lang.ArithmeticException: long overflow")?;
    if !(-377_705_116_800_000..=253_402_300_799_999).contains(&r) {
        return Err(format!(
            "java.time.DateTimeException: Invalid value for Year (valid values -999999999 - 999999999): {}",
            civil(r).y
        ));
    }
    Ok(Value::Date(r))
}

pub fn now(_: &[Value], _: &[DataType], c: &Ctx) -> R {
    Ok(Value::Date(c.now))
}

/// Rounds down to the span: calendar units for periods, fixed intervals from the epoch for
/// durations and multi-day periods.
pub(crate) fn truncate(ms: i64, span: &Value) -> Result<i64, String> {
    match span {
        Value::Duration(d) if *d > 0 => Ok(ms.div_euclid(*d) * d),
        Value::Period(m, 0) if *m > 0 => {
            let c = civil(ms);
            if m % 12 == 0 {
                let n = m / 12;
                let y = c.y.div_euclid(n) * n;
                Ok(days_from_civil(y, 1, 1) * DAY)
            } else {
                let total = c.y * 12 + i64::from(c.mo) - 1;
                let t = total.div_euclid(*m) * m;
                Ok(days_from_civil(t.div_euclid(12), (t.rem_euclid(12) + 1) as u32, 1) * DAY)
            }
        }
        Value::Period(0, 7) => {
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            let days = ms.div_euclid(DAY);
            Ok((days - (days + 3).rem_euclid(7)) * DAY)
        }
        Value::Period(0, d) if *d > 0 => Ok(ms.div_euclid(d * DAY) * d * DAY),
        _ => Err(
            "java.lang.IllegalArgumentException: Zero or negative time interval is not supported"
                .to_string(),
        ),
    }
}

pub fn date_trunc(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    truncate(date_of(&a[1]), &a[0]).map(Value::Date)
}

pub fn bucket(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    truncate(date_of(&a[0]), &a[1]).map(Value::Date)
}

pub fn bucket_numeric(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let (x, w) = (a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
    if w <= 0.0 {
        return Ok(Value::Null);
    }
    Ok(Value::Double((x / w).floor() * w))
}

fn months_between(a: i64, b: i64) -> i64 {
    let (ca, cb) = (civil(a), civil(b));
    let mut m = (cb.y * 12 + i64::from(cb.mo)) - (ca.y * 12 + i64::from(ca.mo));
    // Whole months only: compare the rest of the date.
    let ra = (i64::from(ca.d), ca.h, ca.mi, ca.s, ca.ms);
    let rb = (i64::from(cb.d), cb.h, cb.mi, cb.s, cb.ms);
    if m > 0 && rb < ra {
        m -= 1;
    } else if m < 0 && rb > ra {
        m += 1;
    }
    m
}

pub fn date_diff(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let unit = a[0].as_str().unwrap_or("").to_ascii_lowercase();
    let (s, e) = (date_of(&a[1]), date_of(&a[2]));
    let diff = e.saturating_sub(s);
    let r = match unit.as_str() {
        "year" | "years" | "yy" | "yyyy" => months_between(s, e) / 12,
        "quarter" | "quarters" | "qq" | "q" => months_between(s, e) / 3,
        "month" | "months" | "mm" | "m" => months_between(s, e),
        "dayofyear" | "dy" | "y" | "day" | "days" | "dd" | "d" | "weekday" | "weekdays" | "dw" => {
            diff / DAY
        }
        "week" | "weeks" | "wk" | "ww" => diff / (7 * DAY),
        "hour" | "hours" | "hh" => diff / 3_600_000,
        "minute" | "minutes" | "mi" | "n" => diff / 60_000,
        "second" | "seconds" | "ss" | "s" => diff / 1000,
        "millisecond" | "milliseconds" | "ms" => diff,
        "microsecond" | "microseconds" | "mcs" => diff.saturating_mul(1000),
        "nanosecond" | "nanoseconds" | "ns" => diff.saturating_mul(1_000_000),
        _ => {
            return Err(format!(
                "java.lang.IllegalArgumentException: A value of [YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND] or their aliases is required; received [{}]",
                a[0].as_str().unwrap_or("")
            ));
        }
    };
    if i32::try_from(r).is_err() {
        return Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{r}] out of [integer] range"
        ));
    }
    Ok(Value::Int(r))
}

fn weekday(ms: i64) -> i64 {
    // 1 = Monday … 7 = Sunday.
    (ms.div_euclid(DAY) + 3).rem_euclid(7) + 1
}

fn day_of_year(c: &Civil) -> i64 {
    days_from_civil(c.y, c.mo, c.d) - days_from_civil(c.y, 1, 1) + 1
}

pub fn date_extract(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let part = a[0].as_str().unwrap_or("").to_ascii_uppercase();
    let ms = date_of(&a[1]);
    let c = civil(ms);
    let v = match part.as_str() {
        "YEAR" | "YEAR_OF_ERA" => c.y,
        "MONTH_OF_YEAR" => i64::from(c.mo),
        "DAY_OF_MONTH" => i64::from(c.d),
        "HOUR_OF_DAY" | "CLOCK_HOUR_OF_DAY" => c.h,
        "MINUTE_OF_HOUR" => c.mi,
        "SECOND_OF_MINUTE" => c.s,
        "MILLI_OF_SECOND" => c.ms,
        "MICRO_OF_SECOND" => c.ms * 1000,
        "NANO_OF_SECOND" => c.ms * 1_000_000,
        "DAY_OF_WEEK" => weekday(ms),
        "DAY_OF_YEAR" => day_of_year(&c),
        "EPOCH_DAY" => ms.div_euclid(DAY),
        "MINUTE_OF_DAY" => c.h * 60 + c.mi,
        "SECOND_OF_DAY" => c.h * 3600 + c.mi * 60 + c.s,
        "MILLI_OF_DAY" => ms.rem_euclid(DAY),
        "HOUR_OF_AMPM" => c.h % 12,
        "AMPM_OF_DAY" => c.h / 12,
        "ALIGNED_WEEK_OF_YEAR" => (day_of_year(&c) - 1) / 7 + 1,
        "ALIGNED_WEEK_OF_MONTH" => (i64::from(c.d) - 1) / 7 + 1,
        "PROLEPTIC_MONTH" => c.y * 12 + i64::from(c.mo) - 1,
        "ERA" => i64::from(c.y > 0),
        _ => {
            return Err(format!(
                "java.lang.IllegalArgumentException: No enum constant java.time.temporal.ChronoField.{part}"
            ));
        }
    };
    Ok(Value::Int(v))
}

pub fn day_name(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(
        DAYS[(weekday(date_of(&a[0])) - 1) as usize].into(),
    ))
}
pub fn month_name(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(
        MONTHS[(civil(date_of(&a[0])).mo - 1) as usize].into(),
    ))
}

/// Java `DateTimeFormatter` pattern letters, as runs (`yyyy`, `'T'`, `-`).
fn pattern_runs(p: &str) -> Vec<(char, usize, String)> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        lit.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(('\'', 0, if lit.is_empty() { "'".into() } else { lit }));
        } else if c.is_ascii_alphabetic() {
            let mut n = 0;
            while i < chars.len() && chars[i] == c {
                n += 1;
                i += 1;
            }
            out.push((c, n, String::new()));
        } else {
            out.push(('\'', 0, c.to_string()));
            i += 1;
        }
    }
    out
}

pub(crate) fn format_with(pattern: &str, ms: i64) -> Result<String, String> {
    let c = civil(ms);
    let mut out = String::new();
    for (ch, n, lit) in pattern_runs(pattern) {
        let pad = |v: i64| format!("{v:0n$}");
        match ch {
            '\'' => out.push_str(&lit),
            'y' | 'u' => out.push_str(&if n == 2 {
                format!("{:02}", c.y.rem_euclid(100))
            } else {
                pad(c.y)
            }),
            'M' | 'L' => match n {
                1 | 2 => out.push_str(&pad(i64::from(c.mo))),
                3 => out.push_str(&MONTHS[c.mo as usize - 1][..3]),
                _ => out.push_str(MONTHS[c.mo as usize - 1]),
            },
            'd' => out.push_str(&pad(i64::from(c.d))),
            'D' => out.push_str(&pad(day_of_year(&c))),
            'H' => out.push_str(&pad(c.h)),
            'h' => out.push_str(&pad(if c.h % 12 == 0 { 12 } else { c.h % 12 })),
            'm' => out.push_str(&pad(c.mi)),
            's' => out.push_str(&pad(c.s)),
            'S' => {
                let f = format!("{:03}", c.ms);
                let mut f: String = f.chars().take(n).collect();
                while f.len() < n {
                    f.push('0');
                }
                out.push_str(&f);
            }
            'a' => out.push_str(if c.h < 12 { "AM" } else { "PM" }),
            'E' => {
                let d = DAYS[(weekday(ms) - 1) as usize];
                out.push_str(if n >= 4 { d } else { &d[..3] });
            }
            'e' => out.push_str(&pad(weekday(ms))),
            'X' | 'Z' | 'x' => out.push_str(if ch == 'X' { "Z" } else { "+0000" }),
            'z' | 'V' => out.push('Z'),
            _ => {
                return Err(format!(
                    "java.lang.IllegalArgumentException: Unknown pattern letter: {ch}"
                ));
            }
        }
    }
    Ok(out)
}

pub fn date_format(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    if a.len() == 1 {
        return Ok(Value::Str(super::types::format_date(date_of(&a[0]))));
    }
    format_with(a[0].as_str().unwrap_or(""), date_of(&a[1])).map(Value::Str)
}

pub fn date_parse(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let (pattern, text) = if a.len() == 1 {
        ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", a[0].as_str().unwrap_or(""))
    } else {
        (a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or(""))
    };
    let fail = || {
        format!(
            "java.lang.IllegalArgumentException: failed to parse date field [{text}] with format [{pattern}]"
        )
    };
    if a.len() == 1 {
        return super::types::parse_date(text)
            .map(Value::Date)
            .ok_or_else(fail);
    }
    parse_with(pattern, text).map(Value::Date).ok_or_else(fail)
}

fn parse_with(pattern: &str, text: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ms) =
        (1970i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm = None;
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    let runs = pattern_runs(pattern);
    for (k, (ch, n, lit)) in runs.iter().enumerate() {
        let next_is_digit_field = runs.get(k + 1).is_some_and(|r| r.0 != '\'');
        let mut num = |max: usize| -> Option<i64> {
            let start = i;
            let limit = if next_is_digit_field { max } else { 10 };
            let neg = b.get(i) == Some(&'-');
            if neg {
                i += 1;
            }
            while i < b.len() && b[i].is_ascii_digit() && i - start < limit {
                i += 1;
            }
            let t: String = b[start..i].iter().collect();
            t.parse().ok()
        };
        match ch {
            '\'' => {
                for c in lit.chars() {
                    if b.get(i) != Some(&c) {
                        return None;
                    }
                    i += 1;
                }
            }
            'y' | 'u' => y = num((*n).max(4))?,
            'M' if *n >= 3 => {
                let rest: String = b[i..].iter().collect();
                let (idx, len) = MONTHS.iter().enumerate().find_map(|(j, m)| {
                    if *n == 3 {
                        rest.starts_with(&m[..3]).then_some((j, 3))
                    } else {
                        rest.starts_with(m).then_some((j, m.len()))
                    }
                })?;
                mo = idx as i64 + 1;
                i += len;
            }
            'M' => mo = num(2)?,
            'd' => d = num(2)?,
            'H' => h = num(2)?,
            'h' => h = num(2)?,
            'm' => mi = num(2)?,
            's' => s = num(2)?,
            'S' => {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() && i - start < *n {
                    i += 1;
                }
                let mut t: String = b[start..i].iter().take(3).collect();
                while t.len() < 3 {
                    t.push('0');
                }
                ms = t.parse().ok()?;
            }
            'a' => {
                let rest: String = b[i..].iter().take(2).collect();
                pm = Some(rest.eq_ignore_ascii_case("PM"));
                i += 2;
            }
            'X' | 'Z' | 'x' | 'z' => {
                if b.get(i) == Some(&'Z') {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    if i != b.len()
        || !(1..=12).contains(&mo)
        || d < 1
        || d > i64::from(days_in_month(y, mo as u32))
        || h > 23
        || mi > 59
        || s > 59
    {
        return None;
    }
    if let Some(p) = pm {
        h = h % 12 + if p { 12 } else { 0 };
    }
    Some(
        days_from_civil(y, mo as u32, d as u32) * DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + ms,
    )
}
