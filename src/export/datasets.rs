//! `event.dataset` / `data_stream.dataset` values compared in a query, found by a light scan
//! (the exporter's own fallback when the caller's parser does not supply them).
//!
//! What counts follows upstream's AST walk: KQL `field:value` / `field:(a or b)` with string
//! (non-wildcard) values; EQL `field == "v"` and `field in ("a", "b")` / `in~` (not `:`, `like`);
//! ES|QL the upstream regexes `field\s*==\s*"v"` and `field\s+in\s*\(...\)` (case-sensitive `in`),
//! keeping only `package.stream` values with exactly one dot.

use std::sync::OnceLock;

use regex::Regex;

const DATASET_FIELDS: &[&str] = &["event.dataset", "data_stream.dataset"];

/// Dataset values compared in `query` for the given rule language.
pub fn scan_datasets(query: &str, language: &str) -> Vec<String> {
    let mut out = match language {
        "esql" => scan_esql(query),
        "eql" => scan_eql(query),
        "kuery" => scan_kql(query),
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    out
}

fn esql_regexes() -> &'static [Regex] {
    static RE: OnceLock<Vec<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        [
            r"event\.dataset\s+in\s*\(\s*([^)]+)\s*\)",
            r"data_stream\.dataset\s+in\s*\(\s*([^)]+)\s*\)",
            r#"event\.dataset\s*==\s*"([^"]+)""#,
            r#"data_stream\.dataset\s*==\s*"([^"]+)""#,
        ]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    })
}

fn scan_esql(query: &str) -> Vec<String> {
    let mut values = Vec::new();
    for re in esql_regexes() {
        for caps in re.captures_iter(query) {
            let Some(m) = caps.get(1) else { continue };
            let text = m.as_str();
            if text.contains(',') {
                values.extend(
                    text.split(',')
                        .map(|v| v.trim().trim_matches('"').to_string()),
                );
            } else {
                values.push(text.trim().trim_matches('"').to_string());
            }
        }
    }
    values
        .into_iter()
        .filter(|v| v.split('.').count() == 2)
        .collect()
}

fn is_field_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-' | '*')
}

/// Byte offsets just past every standalone occurrence of a dataset field name outside string
/// literals (`"…"`) and, for EQL, outside `/* … */` and `// …` comments.
fn field_positions(query: &str, comments: bool, fields: &[&str]) -> Vec<usize> {
    let bytes = query.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            i = skip_string(query, i);
            continue;
        }
        if comments && query[i..].starts_with("/*") {
            i = query[i + 2..]
                .find("*/")
                .map_or(query.len(), |p| i + 2 + p + 2);
            continue;
        }
        if comments && query[i..].starts_with("//") {
            i = query[i..].find('\n').map_or(query.len(), |p| i + p);
            continue;
        }
        let prev_ok = i == 0 || !query[..i].chars().next_back().is_some_and(is_field_char);
        if prev_ok {
            for f in fields {
                if query[i..].starts_with(f) {
                    let end = i + f.len();
                    let next_ok = !query[end..].chars().next().is_some_and(is_field_char);
                    if next_ok {
                        out.push(end);
                    }
                }
            }
        }
        i += query[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// Index just past the string literal starting at `start` (a quote byte).
fn skip_string(query: &str, start: usize) -> usize {
    let bytes = query.as_bytes();
    let quote = bytes[start];
    if quote == b'"' && query[start..].starts_with("\"\"\"") {
        return query[start + 3..]
            .find("\"\"\"")
            .map_or(query.len(), |p| start + 3 + p + 3);
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    query.len()
}

/// Read a string literal at `i`; returns (value, end).
fn read_string(query: &str, i: usize) -> Option<(String, usize)> {
    let bytes = query.as_bytes();
    let q = *bytes.get(i)?;
    if q != b'"' {
        return None;
    }
    if q == b'"' && query[i..].starts_with("\"\"\"") {
        let end = query[i + 3..].find("\"\"\"")?;
        return Some((query[i + 3..i + 3 + end].to_string(), i + 3 + end + 3));
    }
    let mut out = String::new();
    let mut chars = query[i + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, e)) = chars.next() {
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            continue;
        }
        if c as u32 == q as u32 {
            return Some((out, i + 1 + off + 1));
        }
        out.push(c);
    }
    None
}

fn skip_ws(query: &str, mut i: usize) -> usize {
    while let Some(c) = query[i..].chars().next() {
        if !c.is_whitespace() {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn scan_eql(query: &str) -> Vec<String> {
    let mut values = Vec::new();
    for pos in field_positions(query, true, DATASET_FIELDS) {
        let i = skip_ws(query, pos);
        let rest = &query[i..];
        if let Some(r) = rest.strip_prefix("==") {
            let j = skip_ws(query, query.len() - r.len());
            if let Some((v, _)) = read_string(query, j) {
                values.push(v);
            }
            continue;
        }
        let lower = rest.get(..2).map(str::to_ascii_lowercase);
        if lower.as_deref() != Some("in") {
            continue;
        }
        let mut j = i + 2;
        if query[j..].starts_with('~') {
            j += 1;
        }
        if query[j..].chars().next().is_some_and(is_field_char) {
            continue;
        }
        j = skip_ws(query, j);
        if !query[j..].starts_with('(') {
            continue;
        }
        j += 1;
        loop {
            j = skip_ws(query, j);
            match read_string(query, j) {
                Some((v, end)) => {
                    values.push(v);
                    j = skip_ws(query, end);
                }
                None => {
                    // Not a string literal: skip to the next separator.
                    let stop = query[j..].find([',', ')']).map_or(query.len(), |p| j + p);
                    j = stop;
                }
            }
            if query[j..].starts_with(',') {
                j += 1;
                continue;
            }
            break;
        }
    }
    values
}

/// One KQL value at `i`: `(string, is_plain_string, end)`.
fn kql_value(query: &str, i: usize) -> Option<(String, bool, usize)> {
    if let Some((v, end)) = read_string(query, i).filter(|_| query[i..].starts_with('"')) {
        return Some((v, true, end));
    }
    let mut out = String::new();
    let mut wildcard = false;
    let mut chars = query[i..].char_indices();
    let mut end = query.len();
    while let Some((off, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, e)) = chars.next() {
                out.push(e);
            }
            continue;
        }
        if c.is_whitespace() || matches!(c, '(' | ')' | ':' | '<' | '>' | '"' | '{' | '}') {
            end = i + off;
            break;
        }
        if c == '*' {
            wildcard = true;
        }
        out.push(c);
    }
    if out.is_empty() {
        return None;
    }
    let is_number = out.parse::<f64>().is_ok();
    let is_bool = out.eq_ignore_ascii_case("true") || out.eq_ignore_ascii_case("false");
    Some((out, !(wildcard || is_number || is_bool), end))
}

fn scan_kql(query: &str) -> Vec<String> {
    scan_kql_fields(query, DATASET_FIELDS)
}

/// The plain string values KQL compares `fields` with (`f:v`, `f:(a or b)`).
pub fn scan_kql_fields(query: &str, fields: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    for pos in field_positions(query, false, fields) {
        let i = skip_ws(query, pos);
        if !query[i..].starts_with(':') {
            continue;
        }
        let mut j = skip_ws(query, i + 1);
        if !query[j..].starts_with('(') {
            if let Some((v, plain, _)) = kql_value(query, j) {
                if plain {
                    values.push(v);
                }
            }
            continue;
        }
        j += 1;
        let mut depth = 1;
        while j < query.len() && depth > 0 {
            j = skip_ws(query, j);
            let rest = &query[j..];
            if rest.starts_with('(') {
                depth += 1;
                j += 1;
                continue;
            }
            if rest.starts_with(')') {
                depth -= 1;
                j += 1;
                continue;
            }
            match kql_value(query, j) {
                Some((v, plain, end)) => {
                    let keyword = ["or", "and", "not"]
                        .iter()
                        .any(|k| v.eq_ignore_ascii_case(k) && !rest.starts_with('"'));
                    if plain && !keyword {
                        values.push(v);
                    }
                    j = end.max(j + 1);
                }
                None => j += query[j..].chars().next().map_or(1, char::len_utf8),
            }
        }
    }
    values
}
