//! Data types and values of ES|QL.

use crate::query::calendar::{civil_from_days, days_from_civil};
use std::cmp::Ordering;
use std::net::{IpAddr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Null,
    Boolean,
    Integer,
    Long,
    UnsignedLong,
    Double,
    Keyword,
    Text,
    Date,
    Ip,
    Version,
    DatePeriod,
    TimeDuration,
    /// A geographic point, held as its WKT text (`POINT (lon lat)`).
    GeoPoint,
    /// A mapped type ES|QL does not read (geo shapes, nested objects, `date_nanos` here).
    Unsupported,
}

impl DataType {
    /// The name Elasticsearch prints in a response's column header.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Null => "null",
            DataType::Boolean => "boolean",
            DataType::Integer => "integer",
            DataType::Long => "long",
            DataType::UnsignedLong => "unsigned_long",
            DataType::Double => "double",
            DataType::Keyword => "keyword",
            DataType::Text => "text",
            DataType::Date => "date",
            DataType::Ip => "ip",
            DataType::Version => "version",
            DataType::DatePeriod => "date_period",
            DataType::TimeDuration => "time_duration",
            DataType::GeoPoint => "geo_point",
            DataType::Unsupported => "unsupported",
        }
    }

    /// From an Elasticsearch mapping type (or an ES|QL type name, or a cast's name).
    pub fn from_es(name: &str) -> DataType {
        match name.to_ascii_lowercase().as_str() {
            "null" => DataType::Null,
            "boolean" | "bool" => DataType::Boolean,
            "integer" | "int" | "short" | "byte" | "i" => DataType::Integer,
            "long" | "l" => DataType::Long,
            "unsigned_long" | "ul" => DataType::UnsignedLong,
            "double" | "float" | "half_float" | "scaled_float" | "d" => DataType::Double,
            "keyword" | "wildcard" | "constant_keyword" | "string" | "s" | "k" => DataType::Keyword,
            "text" | "match_only_text" | "semantic_text" => DataType::Text,
            "date" | "datetime" | "dt" => DataType::Date,
            "ip" => DataType::Ip,
            "version" => DataType::Version,
            "date_period" => DataType::DatePeriod,
            "time_duration" => DataType::TimeDuration,
            "geo_point" => DataType::GeoPoint,
            _ => DataType::Unsupported,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Integer | DataType::Long | DataType::UnsignedLong | DataType::Double
        )
    }

    pub fn is_string(self) -> bool {
        matches!(self, DataType::Keyword | DataType::Text)
    }

    pub fn is_span(self) -> bool {
        matches!(self, DataType::DatePeriod | DataType::TimeDuration)
    }

    /// The common type of two numeric types (`integer` + `long` = `long`, … `double`).
    pub fn widen(a: DataType, b: DataType) -> DataType {
        use DataType::*;
        match (a, b) {
            (Null, x) | (x, Null) => x,
            (Double, _) | (_, Double) => Double,
            (UnsignedLong, _) | (_, UnsignedLong) => UnsignedLong,
            (Long, _) | (_, Long) => Long,
            _ => Integer,
        }
    }
}

/// One value of a column: a scalar, null, or a multi-value (two or more scalars).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// `integer` and `long` (the column's type says which).
    Int(i64),
    ULong(u64),
    Double(f64),
    /// `keyword`, `text` and `version`.
    Str(String),
    /// Milliseconds since the epoch.
    Date(i64),
    /// IPv4 addresses are held as IPv4-mapped IPv6, as Elasticsearch orders them.
    Ip(Ipv6Addr),
    /// Calendar months and days.
    Period(i64, i64),
    /// Milliseconds.
    Duration(i64),
    Multi(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A multi-value from scalars: none is null, one is itself.
    pub fn from_vec(mut v: Vec<Value>) -> Value {
        v.retain(|x| !x.is_null());
        let mut flat = Vec::with_capacity(v.len());
        for x in v {
            match x {
                Value::Multi(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Value::Null,
            1 => flat.pop().unwrap_or(Value::Null),
            _ => Value::Multi(flat),
        }
    }

    /// The scalars of a value (none for null).
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Null => &[],
            Value::Multi(v) => v,
            other => std::slice::from_ref(other),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::ULong(u) => Some(*u as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn ip(addr: IpAddr) -> Value {
        Value::Ip(match addr {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        })
    }
}

/// Elasticsearch's text for a scalar of type `ty` (as `TO_STRING` gives it).
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::ULong(u) => u.to_string(),
        Value::Double(d) => java_double(*d),
        Value::Str(s) => s.clone(),
        Value::Date(ms) => format_date(*ms),
        Value::Ip(ip) => format_ip(ip),
        Value::Period(m, d) => format_period(*m, *d),
        Value::Duration(ms) => format_duration(*ms),
        Value::Multi(items) => {
            let parts: Vec<String> = items.iter().map(to_text).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

pub fn format_ip(ip: &Ipv6Addr) -> String {
    match ip.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => ip.to_string(),
    }
}

fn format_period(months: i64, days: i64) -> String {
    if months != 0 && days == 0 {
        if months % 12 == 0 {
            format!("P{}Y", months / 12)
        } else {
            format!("P{months}M")
        }
    } else if months == 0 {
        format!("P{days}D")
    } else {
        format!("P{months}M{days}D")
    }
}

fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "PT0S".into();
    }
    let mut out = String::from("PT");
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    if h != 0 {
        out.push_str(&format!("{h}H"));
    }
    if m != 0 {
        out.push_str(&format!("{m}M"));
    }
    if rest != 0 {
        if rest % 1000 == 0 {
            out.push_str(&format!("{}S", rest / 1000));
        } else {
            out.push_str(&format!("{}S", java_double(rest as f64 / 1000.0)));
        }
    }
    out
}

/// Java's `Double.toString`: `1.0`, `0.001`, `1.0E7`, `1.0E-4`, `NaN`, `Infinity`.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = d.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{d}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{d:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

pub fn format_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y > 9999 {
        format!("+{y}")
    } else {
        format!("-{:04}", -y)
    };
    format!("{year}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Parses Elasticsearch's `strict_date_optional_time`: `2024-01-02`, `2024-01-02T03:04`,
/// `2024-01-02T03:04:05.678Z`, `…+01:00`. Fractions beyond milliseconds are cut.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg || b.first() == Some(&b'+') {
        i = 1;
    }
    let num = |i: &mut usize, min: usize, max: usize| -> Option<i64> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        if *i - start < min {
            return None;
        }
        s[start..*i].parse().ok()
    };
    let mut year = num(&mut i, 4, 9)?;
    if neg {
        year = -year;
    }
    let mut month = 1;
    let mut day = 1;
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0);
    if i < b.len() && b[i] == b'-' {
        i += 1;
        month = num(&mut i, 2, 2)?;
        if i < b.len() && b[i] == b'-' {
            i += 1;
            day = num(&mut i, 2, 2)?;
        }
    }
    if i < b.len() && (b[i] == b'T' || b[i] == b't') {
        i += 1;
        h = num(&mut i, 2, 2)?;
        if i < b.len() && b[i] == b':' {
            i += 1;
            mi = num(&mut i, 2, 2)?;
            if i < b.len() && b[i] == b':' {
                i += 1;
                sec = num(&mut i, 2, 2)?;
                if i < b.len() && (b[i] == b'.' || b[i] == b',') {
                    i += 1;
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let frac = &s[start..i];
                    if frac.is_empty() {
                        return None;
                    }
                    let mut f3: String = frac.chars().take(3).collect();
                    while f3.len() < 3 {
                        f3.push('0');
                    }
                    ms = f3.parse().ok()?;
                }
            }
        }
    }
    let mut offset_min = 0;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' => i += 1,
            b'+' | b'-' => {
                let sign = if b[i] == b'-' { -1 } else { 1 };
                i += 1;
                let oh = num(&mut i, 2, 2)?;
                let mut om = 0;
                if i < b.len() && b[i] == b':' {
                    i += 1;
                    om = num(&mut i, 2, 2)?;
                } else if i < b.len() {
                    om = num(&mut i, 2, 2)?;
                }
                offset_min = sign * (oh * 60 + om);
            }
            _ => return None,
        }
    }
    if i != b.len()
        || !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(crate::query::calendar::days_in_month(year, month as u32))
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offset_min * 60_000)
}

/// Parses an IP address as `TO_IP` does (no leading zeros in IPv4 parts).
pub fn parse_ip(s: &str) -> Option<Value> {
    s.parse::<IpAddr>().ok().map(Value::ip)
}

/// Compares two versions as Elasticsearch's `version` type: numeric parts numerically,
/// a pre-release below its release, invalid versions after valid ones, lexically.
pub fn cmp_version(a: &str, b: &str) -> Ordering {
    fn parse(s: &str) -> Option<(Vec<u64>, Option<&str>)> {
        let (main, pre) = match s.split_once('-') {
            Some((m, p)) => (m, Some(p)),
            None => (s.split('+').next().unwrap_or(s), None),
        };
        let nums: Option<Vec<u64>> = main.split('.').map(|p| p.parse().ok()).collect();
        nums.map(|n| (n, pre))
    }
    match (parse(a), parse(b)) {
        (Some((na, pa)), Some((nb, pb))) => na.cmp(&nb).then_with(|| match (pa, pb) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => {
                let xs: Vec<&str> = x.split('.').collect();
                let ys: Vec<&str> = y.split('.').collect();
                for (p, q) in xs.iter().zip(&ys) {
                    let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                        (Ok(i), Ok(j)) => i.cmp(&j),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        _ => p.cmp(q),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                xs.len().cmp(&ys.len())
            }
        }),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Orders two non-null scalars of the same (or numerically comparable) type.
pub fn cmp_scalar(a: &Value, b: &Value, ty: DataType) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::ULong(x), Value::ULong(y)) => x.cmp(y),
        (Value::Int(x), Value::ULong(y)) => {
            if *x < 0 {
                Ordering::Less
            } else {
                (*x as u64).cmp(y)
            }
        }
        (Value::ULong(_), Value::Int(_)) => cmp_scalar(b, a, ty).reverse(),
        (Value::Str(x), Value::Str(y)) if ty == DataType::Version => cmp_version(x, y),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Ip(x), Value::Ip(y)) => x.octets().cmp(&y.octets()),
        (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
    }
}
