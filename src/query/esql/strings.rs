//! String, IP and JSON functions. Arguments are non-null single values unless the function is
//! registered as multi-value aware.

use super::eval::Ctx;
use super::types::{DataType, Value};
use unicode_segmentation::UnicodeSegmentation;

type R = Result<Value, String>;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::ULong(u) => *u as i64,
        Value::Double(d) => *d as i64,
        _ => 0,
    }
}

pub fn length(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Int(s(&a[0]).chars().count() as i64))
}
pub fn bit_length(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Int(s(&a[0]).len() as i64 * 8))
}
pub fn byte_length(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Int(s(&a[0]).len() as i64))
}

fn map_items(v: &Value, f: impl Fn(&str) -> String) -> Value {
    Value::from_vec(v.items().iter().map(|x| Value::Str(f(s(x)))).collect())
}

pub fn to_lower(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(map_items(&a[0], str::to_lowercase))
}
pub fn to_upper(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(map_items(&a[0], str::to_uppercase))
}
fn is_ws(c: char) -> bool {
    c.is_whitespace() || c <= ' '
}
pub fn trim(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(s(&a[0]).trim_matches(is_ws).to_string()))
}
pub fn ltrim(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(s(&a[0]).trim_start_matches(is_ws).to_string()))
}
pub fn rtrim(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(s(&a[0]).trim_end_matches(is_ws).to_string()))
}
pub fn reverse(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(s(&a[0]).graphemes(true).rev().collect()))
}
pub fn concat(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Str(a.iter().map(s).collect()))
}

/// `SUBSTRING(s, start[, length])`: 1-based, a negative start counts from the end.
pub fn substring(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let chars: Vec<char> = s(&a[0]).chars().collect();
    let n = chars.len() as i64;
    let mut start = int(&a[1]);
    if start < 0 {
        start += n + 1;
    }
    let start = start.max(1) - 1;
    let len = a.get(2).map_or(n, int);
    if len < 0 {
        return Err(
            "java.lang.IllegalArgumentException: Length parameter cannot be negative, found ["
                .to_string()
                + &len.to_string()
                + "]",
        );
    }
    let start = start.min(n) as usize;
    let end = (start as i64).saturating_add(len).min(n) as usize;
    Ok(Value::Str(chars[start..end].iter().collect()))
}

pub fn left(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let n = int(&a[1]).max(0) as usize;
    Ok(Value::Str(s(&a[0]).chars().take(n).collect()))
}
pub fn right(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let chars: Vec<char> = s(&a[0]).chars().collect();
    let n = (int(&a[1]).max(0) as usize).min(chars.len());
    Ok(Value::Str(chars[chars.len() - n..].iter().collect()))
}

/// `REPLACE(s, regex, replacement)` with Java's regex and `$n` group references.
pub fn replace(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let re = regex::RegexBuilder::new(s(&a[1]))
        .size_limit(1 << 22)
        .build()
        .map_err(|e| format!("java.util.regex.PatternSyntaxException: {e}"))?;
    let rep = java_replacement(s(&a[2]));
    Ok(Value::Str(
        re.replace_all(s(&a[0]), rep.as_str()).into_owned(),
    ))
}

fn java_replacement(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

pub fn locate(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let hay: Vec<char> = s(&a[0]).chars().collect();
    let needle: Vec<char> = s(&a[1]).chars().collect();
    let start = a.get(2).map_or(1, int);
    let start = if start <= 0 { 0 } else { (start - 1) as usize };
    if start > hay.len() {
        return Ok(Value::Int(0));
    }
    if needle.is_empty() {
        return Ok(Value::Int(start as i64 + 1));
    }
    for i in start..hay.len() {
        if hay[i..].starts_with(&needle) {
            return Ok(Value::Int(i as i64 + 1));
        }
    }
    Ok(Value::Int(0))
}

pub fn starts_with(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Bool(s(&a[0]).starts_with(s(&a[1]))))
}
pub fn ends_with(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Bool(s(&a[0]).ends_with(s(&a[1]))))
}
pub fn contains(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    Ok(Value::Bool(s(&a[0]).contains(s(&a[1]))))
}

pub fn split(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let delim = s(&a[1]);
    if delim.is_empty() {
        return Ok(Value::from_vec(
            s(&a[0])
                .chars()
                .map(|c| Value::Str(c.to_string()))
                .collect(),
        ));
    }
    let parts: Vec<Value> = s(&a[0])
        .split(delim)
        .map(|p| Value::Str(p.into()))
        .collect();
    // Empty strings are kept (a multi-value may hold ""); a lone "" stays a value.
    Ok(match parts.len() {
        1 => parts.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Multi(parts),
    })
}

pub fn space(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let n = int(&a[0]);
    if n < 0 {
        return Err(format!(
            "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [{n}]"
        ));
    }
    if n > 1_048_576 {
        return Err("org.elasticsearch.common.breaker.CircuitBreakingException: Creating strings longer than [1048576] bytes is not supported".to_string());
    }
    Ok(Value::Str(" ".repeat(n as usize)))
}

pub fn repeat(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let n = int(&a[1]);
    if n < 0 {
        return Err(format!(
            "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [{n}]"
        ));
    }
    let text = s(&a[0]);
    if (text.len() as i64).saturating_mul(n) > 1_048_576 {
        return Err("java.lang.IllegalArgumentException: Creating repeated strings with more than [1048576] bytes is not supported".into());
    }
    Ok(Value::Str(text.repeat(n as usize)))
}

fn percent_encode(text: &str, keep: &dyn Fn(u8) -> bool, space_plus: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if keep(b) {
            out.push(b as char);
        } else if b == b' ' && space_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn url_encode(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-_.*".contains(&b);
    Ok(Value::Str(percent_encode(s(&a[0]), &keep, true)))
}
pub fn url_encode_component(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
    Ok(Value::Str(percent_encode(s(&a[0]), &keep, false)))
}

pub fn url_decode(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let text = s(&a[0]).as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => {
                        return Err("java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern".into());
                    }
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn to_base64(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let bytes = s(&a[0]).as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(Value::Str(out))
}

pub fn from_base64(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let text = s(&a[0]);
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = B64.iter().position(|&b| b == c) else {
            return Err(format!(
                "java.lang.IllegalArgumentException: Illegal base64 character {:x}",
                c
            ));
        };
        bits = (bits << 6) | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    // A last unit of one character cannot make a byte (Java's decoder rejects it).
    let units = text.trim_end_matches('=').len();
    if text.contains('=') && text.len() % 4 != 0 && units % 4 != 1 {
        return Err(
            "java.lang.IllegalArgumentException: Input byte array has wrong 4-byte ending unit"
                .into(),
        );
    }
    if units % 4 == 1 {
        return Err(
            "java.lang.IllegalArgumentException: Last unit does not have enough valid bits".into(),
        );
    }
    String::from_utf8(out).map(Value::Str).map_err(|_| {
        "java.lang.IllegalArgumentException: decoded value is not valid UTF-8, which is not supported yet".into()
    })
}

pub fn sha256(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    use sha2::Digest;
    let d = sha2::Sha256::digest(s(&a[0]).as_bytes());
    Ok(Value::Str(d.iter().map(|b| format!("{b:02x}")).collect()))
}

/// `CIDR_MATCH(ip, block…)`.
pub fn cidr_match(a: &[Value], _: &[DataType], c: &Ctx) -> R {
    let ip = match &a[0] {
        Value::Ip(ip) => *ip,
        Value::Null => return Ok(Value::Null),
        Value::Multi(_) => return Err(super::eval::MV_WARNING.into()),
        _ => return Ok(Value::Null),
    };
    let _ = c;
    for block in a[1..].iter().flat_map(Value::items) {
        let Some((net, bits)) = s(block).split_once('/') else {
            continue;
        };
        let (Some(Value::Ip(net)), Ok(mut bits)) =
            (super::types::parse_ip(net), bits.parse::<u32>())
        else {
            continue;
        };
        if net.to_ipv4_mapped().is_some() && s(block).contains('.') {
            bits += 96;
        }
        if bits > 128 {
            continue;
        }
        let mask = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - bits)
        };
        if u128::from(ip) & mask == u128::from(net) & mask {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

pub fn ip_prefix(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let Value::Ip(ip) = &a[0] else {
        return Ok(Value::Null);
    };
    let (v4, v6) = (int(&a[1]), int(&a[2]));
    let (bits, off) = if ip.to_ipv4_mapped().is_some() {
        if !(0..=32).contains(&v4) {
            return Err(format!(
                "java.lang.IllegalArgumentException: Prefix length v4 must be in range [0, 32], found {v4}"
            ));
        }
        (v4 + 96, 0)
    } else {
        if !(0..=128).contains(&v6) {
            return Err(format!(
                "java.lang.IllegalArgumentException: Prefix length v6 must be in range [0, 128], found {v6}"
            ));
        }
        (v6, 0)
    };
    let _ = off;
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    Ok(Value::Ip((u128::from(*ip) & mask).into()))
}

/// `JSON_EXTRACT(json, path)`: `a.b`, `a[0]`, `['a.b']`, optional leading `$`.
pub fn json_extract(a: &[Value], _: &[DataType], _: &Ctx) -> R {
    let doc: serde_json::Value = serde_json::from_str(s(&a[0]))
        .map_err(|e| format!("java.lang.IllegalArgumentException: invalid JSON input: {e}"))?;
    let path = s(&a[1]);
    let segs = json_path(path)
        .ok_or_else(|| format!("java.lang.IllegalArgumentException: invalid path [{path}]"))?;
    let mut cur = &doc;
    for seg in &segs {
        let next = match seg {
            Seg::Key(k) => cur.get(k.as_str()),
            Seg::Index(i) => cur.get(*i),
        };
        cur = next.ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: path [{path}] does not exist")
        })?;
    }
    Ok(match cur {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::String(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_string()),
    })
}

enum Seg {
    Key(String),
    Index(usize),
}

fn json_path(p: &str) -> Option<Vec<Seg>> {
    let mut p = p.trim();
    if let Some(rest) = p.strip_prefix('$') {
        p = rest;
    }
    let b: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            '.' => i += 1,
            '[' => {
                let end = b[i..].iter().position(|&c| c == ']')? + i;
                let inner: String = b[i + 1..end].iter().collect();
                let inner = inner.trim();
                if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                    out.push(Seg::Key(q.to_string()));
                } else if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    out.push(Seg::Key(q.to_string()));
                } else {
                    out.push(Seg::Index(inner.parse().ok()?));
                }
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < b.len() && b[i] != '.' && b[i] != '[' {
                    i += 1;
                }
                out.push(Seg::Key(b[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

/// `MATCH(field, query)` / `field : query`: on `text` any analysed token of the query (words,
/// lower-cased) among the field's; on other types the whole value, as a term query.
pub fn full_text_match(a: &[Value], t: &[DataType], _: &Ctx) -> R {
    let q = match &a[1] {
        Value::Null => return Ok(Value::Bool(false)),
        v => super::types::to_text(v),
    };
    let words = |s: &str| -> Vec<String> { s.unicode_words().map(str::to_lowercase).collect() };
    let qw = words(&q);
    let hit = a[0].items().iter().any(|v| {
        let s = super::types::to_text(v);
        if t[0] == DataType::Text {
            let fw = words(&s);
            qw.iter().any(|w| fw.contains(w))
        } else {
            s == q
        }
    });
    Ok(Value::Bool(hit))
}

/// `TO_IP` with `leading_zeros` `decimal` (`010` is 10) or `octal` (`010` is 8) for IPv4 parts.
pub fn to_ip_leading_zeros(v: &Value, radix: u32, c: &Ctx) -> Value {
    let mut out = Vec::new();
    for item in v.items() {
        let s = super::types::to_text(item);
        let parts: Vec<&str> = s.split('.').collect();
        let v4 = (parts.len() == 4)
            .then(|| {
                parts
                    .iter()
                    .map(|p| {
                        let r = if radix == 8 && p.len() > 1 && p.starts_with('0') {
                            8
                        } else {
                            10
                        };
                        u8::from_str_radix(p, r).ok()
                    })
                    .collect::<Option<Vec<u8>>>()
            })
            .flatten();
        match v4 {
            Some(b) => out.push(Value::ip(std::net::IpAddr::from([b[0], b[1], b[2], b[3]]))),
            None => match super::types::parse_ip(&s) {
                Some(ip) => out.push(ip),
                None => c.warn(format!(
                    "java.lang.IllegalArgumentException: '{s}' is not an IP string literal."
                )),
            },
        }
    }
    Value::from_vec(out)
}
