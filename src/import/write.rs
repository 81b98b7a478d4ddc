//! Writing a rule file as TOML in detection-rules' canonical shape (`rule-format.md` §14):
//! tables `metadata`, `transform`, `rule`; in each, plain keys sorted with `query` and
//! `threat_query` last, as `'''` blocks; `note`, `setup` and other multi-line strings as `"""`
//! blocks; then sub-tables and arrays of tables, sorted by key. The text is parsed back and
//! compared with the value before it is returned: a value TOML cannot hold is an error, never a
//! silently different file.

use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The rule file (`{"metadata", "transform"?, "rule"}`) as TOML text.
pub fn to_toml(file: &Value) -> Result<String, String> {
    let Some(map) = file.as_object() else {
        return Err("the rule file is not a table".into());
    };
    let mut out = String::new();
    for key in ["metadata", "transform", "rule"] {
        if let Some(v) = map.get(key) {
            let Some(table) = v.as_object() else {
                return Err(format!("`{key}` is not a table"));
            };
            write_table(&mut out, &[key.to_string()], table, false)?;
        }
    }
    if let Some(k) = map
        .keys()
        .find(|k| !["metadata", "transform", "rule"].contains(&k.as_str()))
    {
        return Err(format!("unknown top-level key `{k}`"));
    }
    let back: toml::Value = toml::from_str(&out).map_err(|e| format!("written TOML: {e}"))?;
    let back = serde_json::to_value(back).map_err(|e| e.to_string())?;
    if &back != file {
        return Err("TOML cannot represent a value of this rule exactly".into());
    }
    Ok(out)
}

/// Upstream's name → file stem: lower-case, runs outside `[_a-z0-9]` → `_`, `_` trimmed.
pub fn file_stem(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let mut out = String::new();
    let mut in_run = false;
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out.trim_matches('_').to_string()
}

fn is_table(v: &Value) -> bool {
    v.is_object()
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object))
}

fn write_table(
    out: &mut String,
    path: &[String],
    table: &Map<String, Value>,
    array_element: bool,
) -> Result<(), String> {
    if !out.is_empty() {
        out.push('\n');
    }
    let header: Vec<String> = path.iter().map(|k| key(k)).collect();
    if array_element {
        let _ = writeln!(out, "[[{}]]", header.join("."));
    } else {
        let _ = writeln!(out, "[{}]", header.join("."));
    }
    let last = |k: &str| k == "query" || k == "threat_query";
    let mut plain: Vec<(&String, &Value)> = table
        .iter()
        .filter(|(_, v)| !is_table(v) && !is_table_array(v))
        .collect();
    plain.sort_by_key(|(k, _)| (last(k), (*k).clone()));
    for (k, v) in plain {
        let _ = writeln!(out, "{} = {}", key(k), value(k, v)?);
    }
    let mut nested: Vec<(&String, &Value)> = table
        .iter()
        .filter(|(_, v)| is_table(v) || is_table_array(v))
        .collect();
    nested.sort_by_key(|(k, _)| (*k).clone());
    for (k, v) in nested {
        let mut sub = path.to_vec();
        sub.push(k.clone());
        match v {
            Value::Object(m) => write_table(out, &sub, m, false)?,
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(m) = item {
                        write_table(out, &sub, m, true)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        basic(k)
    }
}

fn value(k: &str, v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Null => return Err(format!("`{k}` is null")),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n)?,
        Value::String(s) => string(k, s),
        Value::Array(items) => array(k, items)?,
        Value::Object(m) => inline_table(m)?,
    })
}

fn number(n: &serde_json::Number) -> Result<String, String> {
    if n.is_i64() || n.is_u64() {
        return Ok(n.to_string());
    }
    let f = n.as_f64().ok_or("a number TOML cannot hold")?;
    if !f.is_finite() {
        return Err("a non-finite number".into());
    }
    let s = format!("{f:?}");
    Ok(if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    })
}

fn string(k: &str, s: &str) -> String {
    if !s.contains('\n') {
        return basic(s);
    }
    if (k == "query" || k == "threat_query") && literal_ok(s) {
        return format!("'''\n{s}'''");
    }
    multiline_basic(s)
}

/// A `'''` block holds the text as is: no `'''` inside, no control characters but tab and
/// newline, and it must not end in `'` (which would merge with the closing quotes).
fn literal_ok(s: &str) -> bool {
    !s.contains("'''")
        && !s.ends_with('\'')
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
}

fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, false);
    }
    out.push('"');
    out
}

fn multiline_basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("\"\"\"\n");
    for c in s.chars() {
        escape_into(&mut out, c, true);
    }
    out.push_str("\"\"\"");
    out
}

fn escape_into(out: &mut String, c: char, multiline: bool) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' if multiline => out.push('\n'),
        '\n' => out.push_str("\\n"),
        '\t' => out.push('\t'),
        '\r' => out.push_str("\\r"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => out.push(c),
    }
}

fn array(k: &str, items: &[Value]) -> Result<String, String> {
    let parts: Vec<String> = items
        .iter()
        .map(|i| value(k, i))
        .collect::<Result<_, _>>()?;
    let total: usize = parts.iter().map(|p| p.len() + 3).sum();
    let one_line = parts.iter().all(|p| !p.contains('\n'));
    if total <= 100 || !one_line {
        return Ok(format!("[{}]", parts.join(", ")));
    }
    let mut out = String::from("[\n");
    for p in parts {
        let _ = writeln!(out, "    {p},");
    }
    out.push(']');
    Ok(out)
}

fn inline_table(m: &Map<String, Value>) -> Result<String, String> {
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| Ok(format!("{} = {}", key(k), value(k, v)?)))
        .collect::<Result<_, String>>()?;
    if parts.is_empty() {
        return Ok("{}".into());
    }
    Ok(format!("{{ {} }}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_are_literal_blocks_and_notes_basic_blocks() {
        let file = json!({
            "metadata": {"maturity": "production"},
            "rule": {
                "query": "process where true\n",
                "note": "## Triage\n\nSay \"hi\" \\ there\n",
                "name": "x",
                "tags": ["a", "b"],
                "threat": [{"framework": "MITRE ATT&CK", "tactic": {"id": "TA0001", "name": "n"}, "technique": []}],
                "filters": [{"query": {"match_phrase": {"file.path": "/x"}}}]
            }
        });
        let text = to_toml(&file).unwrap();
        assert!(
            text.contains("query = '''\nprocess where true\n'''"),
            "{text}"
        );
        assert!(text.contains("note = \"\"\"\n## Triage"), "{text}");
        assert!(text.contains("[[rule.threat]]"), "{text}");
        assert!(text.contains("\"file.path\" = \"/x\""), "{text}");
        // `query` is the last plain key of [rule].
        let q = text.find("query = '''").unwrap();
        let tags = text.find("tags = ").unwrap();
        assert!(tags < q);
    }

    #[test]
    fn a_value_toml_cannot_hold_is_an_error() {
        assert!(to_toml(&json!({"rule": {"x": null}})).is_err());
        assert!(to_toml(&json!({"rule": {"x": [1, null]}})).is_err());
        assert!(to_toml(&json!({"other": {}})).is_err());
    }

    #[test]
    fn awkward_strings_round_trip() {
        for s in [
            "ends in a quote '",
            "has ''' inside\n",
            "cr\r\nlf\n",
            "tab\tand \u{1} control\n",
            "\"\"\" triple\n",
            "trailing backslash \\",
        ] {
            let file = json!({"rule": {"query": s, "note": s, "description": s}});
            to_toml(&file).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        }
    }

    #[test]
    fn file_stems_follow_the_name() {
        assert_eq!(
            file_stem("  Suspicious Curl (to IP)! "),
            "suspicious_curl_to_ip"
        );
        assert_eq!(file_stem("Ünïcode — rule"), "n_code_rule");
    }
}
