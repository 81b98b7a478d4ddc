//! Runtime values, numeric comparison with mixed integer/double operands, and Java-style
//! conversions to text (`string(2.0)` is `"2.0"` in Elasticsearch, not `"2"`).

use std::borrow::Cow;
use std::cmp::Ordering;

/// A number as Elasticsearch scripts see it: 64-bit integer or double.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    I(i64),
    F(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    pub fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::I(a), Num::I(b)) => Some(a.cmp(&b)),
            (Num::I(a), Num::F(b)) => cmp_int_float(a, b),
            (Num::F(a), Num::I(b)) => cmp_int_float(b, a).map(Ordering::reverse),
            (Num::F(a), Num::F(b)) => a.partial_cmp(&b),
        }
    }

    /// Parses a number the way a numeric field accepts a string: integer first, then double.
    pub fn parse(s: &str) -> Option<Num> {
        let t = s.trim();
        if let Ok(i) = t.parse::<i64>() {
            return Some(Num::I(i));
        }
        // Rust accepts "inf"/"nan", which Elasticsearch does not.
        if t.bytes()
            .any(|b| !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')))
        {
            return None;
        }
        t.parse::<f64>().ok().filter(|f| f.is_finite()).map(Num::F)
    }

    pub fn from_json(n: &serde_json::Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::I(i)
        } else {
            Num::F(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    pub fn to_java_string(self) -> String {
        match self {
            Num::I(i) => i.to_string(),
            Num::F(f) => java_double(f),
        }
    }
}

fn cmp_int_float(a: i64, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    // Exact for |a| < 2^53; beyond that f64 comparison is what Java does too.
    (a as f64).partial_cmp(&b)
}

impl PartialEq for Num {
    fn eq(&self, other: &Num) -> bool {
        self.cmp(*other) == Some(Ordering::Equal)
    }
}

/// Java's `Double.toString`: a fractional part always, scientific outside [1e-3, 1e7).
pub fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let a = f.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// A value inside an expression evaluated per event (functions, arithmetic).
#[derive(Debug, Clone)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(Cow<'a, str>),
}

impl<'a> Val<'a> {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn from_json(v: &'a serde_json::Value) -> Val<'a> {
        match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => Val::Num(Num::from_json(n)),
            serde_json::Value::String(s) => Val::Str(Cow::Borrowed(s)),
            // Arrays and objects never reach here: field lookup yields scalars only.
            _ => Val::Null,
        }
    }

    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Num(n) => Val::Num(n),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
        }
    }

    /// Java-style text of a value, as `string()` and `concat()` produce it.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Null => None,
            Val::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Val::Num(n) => Some(Cow::Owned(n.to_java_string())),
            Val::Str(s) => Some(Cow::Borrowed(s)),
        }
    }

    /// Loose equality used inside scripts: numbers numerically, strings exactly, a string
    /// against a number by parsing the string.
    pub fn loose_cmp(&self, other: &Val<'_>) -> Option<Ordering> {
        match (self, other) {
            (Val::Null, _) | (_, Val::Null) => None,
            (Val::Num(a), Val::Num(b)) => a.cmp(*b),
            (Val::Str(a), Val::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Str(s), Val::Num(n)) => Num::parse(s).and_then(|m| m.cmp(*n)),
            (Val::Num(n), Val::Str(s)) => Num::parse(s).and_then(|m| n.cmp(m)),
            (Val::Str(s), Val::Bool(b)) => parse_bool(s).map(|x| x.cmp(b)),
            (Val::Bool(b), Val::Str(s)) => parse_bool(s).map(|x| b.cmp(&x)),
            _ => None,
        }
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Case folding of Elasticsearch's case-insensitive `term`, `wildcard` and `prefix` queries, which
/// `:`, `in~`, `like~` and `startsWith~`/`endsWith~`/`stringContains~` on a field become: its
/// `AutomatonQueries` accepts the other case of ASCII letters only and every other code point as
/// itself, so `"É" : "é"` is false and `"K"` (Kelvin sign) is not `k`.
#[inline]
pub fn fold_char(c: char) -> char {
    c.to_ascii_lowercase()
}

/// Folds a string for case-insensitive comparison (ASCII letters only, see [`fold_char`]);
/// borrows when nothing changes.
pub fn fold(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Java's `String.toLowerCase(Locale.ROOT)`, which Elasticsearch's scripts use for the `fn~`
/// string functions: full Unicode lower-casing, so `İ` becomes `i̇` (two code points) and a
/// word-final `Σ` becomes `ς`. Rust's `str::to_lowercase` applies the same (locale-free)
/// Unicode rules.
pub fn java_lower(s: &str) -> String {
    s.to_lowercase()
}

/// Java's `String.equalsIgnoreCase` / `compareToIgnoreCase(..) == 0`, which Elasticsearch's
/// scripts use for `:` and `in~` on a computed value: the same number of characters, each pair
/// equal, or equal once upper-cased, or once upper- then lower-cased (simple, one-to-one
/// mappings: `σ`, `ς` and `Σ` are equal; `ß` is not `SS`; `İ` and `ı` equal `i` and `I`).
pub fn java_equals_ignore_case(a: &str, b: &str) -> bool {
    fn simple(mut m: impl Iterator<Item = char>, c: char) -> char {
        match (m.next(), m.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }
    let up = |c: char| simple(c.to_uppercase(), c);
    // Rust gives İ's full lower case (i + U+0307); Java's one-character mapping is i.
    let low = |c: char| {
        if c == 'İ' {
            'i'
        } else {
            simple(c.to_lowercase(), c)
        }
    };
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y || {
                let (ux, uy) = (up(x), up(y));
                ux == uy || low(ux) == low(uy)
            }
        })
}

/// A fast, non-cryptographic hasher for literal sets (short strings from the query, looked up
/// with event values): FxHash's multiply-rotate over 8-byte words.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl std::hash::Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(SEED);
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rem.len()].copy_from_slice(rem);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(SEED);
        }
        self.0 = h;
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(SEED);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastSet<T> = std::collections::HashSet<T, std::hash::BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_text() {
        assert_eq!(java_double(2.1828), "2.1828");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
        assert_eq!(java_double(1234567.0), "1234567.0");
        assert_eq!(java_double(0.001), "0.001");
    }

    #[test]
    fn numbers_compare_across_types() {
        assert_eq!(Num::I(4).cmp(Num::F(4.5)), Some(Ordering::Less));
        assert_eq!(Num::F(5.0).cmp(Num::I(5)), Some(Ordering::Equal));
        assert!(Num::parse("inf").is_none());
        assert_eq!(Num::parse(" 12 "), Some(Num::I(12)));
    }
}
