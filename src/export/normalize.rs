//! Whitespace normalisation of the exported rule (`kibana-export.md` §1 step 2) with Python
//! `str.strip()` / `str.splitlines()` semantics.

use serde_json::Value;

/// Keys whose string values keep their text byte-for-byte (Markdown and action messages).
const PRESERVED_KEYS: &[&str] = &["note", "setup", "message"];

/// Python's `str.isspace()` for one character.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

fn is_line_boundary(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Python `str.splitlines()` (without `keepends`).
pub fn py_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_line_boundary(c) {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = iter.peek() {
                    iter.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// `" ".join(line.strip() for line in s.strip().splitlines())`.
pub fn cleanup_whitespace(s: &str) -> String {
    py_splitlines(py_strip(s))
        .into_iter()
        .map(py_strip)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalise every string at any depth, except whole values under `query` and strings directly
/// under `note` / `setup` / `message`.
pub fn nested_normalize(v: &mut Value, skip_cleanup: bool) {
    match v {
        Value::String(s) if !skip_cleanup => {
            let cleaned = cleanup_whitespace(s);
            *s = cleaned;
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                nested_normalize(item, false);
            }
        }
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "query" {
                    continue;
                }
                nested_normalize(val, PRESERVED_KEYS.contains(&k.as_str()));
            }
        }
        _ => {}
    }
}

/// Remove `null` values from objects at any depth (upstream dumps with `strip_none_values`).
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        Value::Object(map) => {
            map.retain(|_, val| !val.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        _ => {}
    }
}
