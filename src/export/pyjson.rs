//! Python `json.dumps` compatible serialisation and the content hash of the version lock.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Separators used by Python's `json.dumps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// The default `(", ", ": ")`.
    Spaced,
    /// `(",", ":")`, used for the investigation-guide plugin strings.
    Compact,
}

/// Python `json.dumps(v, sort_keys=True)`: keys sorted by code point at every depth, `", "` and
/// `": "` separators, non-ASCII escaped as lower-case `\uXXXX` (surrogate pairs above U+FFFF).
pub fn to_python_json(v: &Value) -> String {
    dumps(v, Separators::Spaced)
}

/// Python `json.dumps(v, sort_keys=True, separators=...)`.
pub fn dumps(v: &Value, sep: Separators) -> String {
    let mut out = String::new();
    write_value(&mut out, v, sep);
    out
}

fn write_value(out: &mut String, v: &Value, sep: Separators) {
    let (item_sep, key_sep) = match sep {
        Separators::Spaced => (", ", ": "),
        Separators::Compact => (",", ":"),
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write_value(out, item, sep);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly: correct whether or not serde_json's `preserve_order` is enabled.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write_string(out, k);
                out.push_str(key_sep);
                write_value(out, val, sep);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&python_float_repr(f));
    } else {
        out.push_str(&n.to_string());
    }
}

/// Python `repr(float)` for the finite values JSON can carry (shortest round-trip digits,
/// exponent form below 1e-4 and from 1e16).
fn python_float_repr(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".to_string()
        } else if f > 0.0 {
            "Infinity".to_string()
        } else {
            "-Infinity".to_string()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Rust gives e.g. "1e-5" / "1.5e16"; Python gives "1e-05" / "1.5e+16".
        let s = format!("{f:e}");
        if let Some((mant, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            let digits = if digits.len() < 2 {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            return format!("{mant}e{sign}{digits}");
        }
        return s;
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
        }
    }
    out.push('"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard, padded Base64.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b0 = chunk[0] as u32;
        let b1 = chunk.get(1).copied().unwrap_or(0) as u32;
        let b2 = chunk.get(2).copied().unwrap_or(0) as u32;
        let n = (b0 << 16) | (b1 << 8) | b2;
        let idx = |shift: u32| B64[((n >> shift) & 63) as usize] as char;
        out.push(idx(18));
        out.push(idx(12));
        out.push(if chunk.len() > 1 { idx(6) } else { '=' });
        out.push(if chunk.len() > 2 { idx(0) } else { '=' });
    }
    out
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// SHA-256 (hex) of the Base64 text of the Python serialisation of `v` (`rule-format.md` §12
/// step 3–4). The caller decides what `v` holds (see [`super::content_hash`]).
pub fn dict_hash(v: &Value) -> String {
    let text = to_python_json(v);
    sha256_hex(base64_encode(text.as_bytes()).as_bytes())
}
