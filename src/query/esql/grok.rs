//! GROK: named captures from a pattern built of `%{NAME:field[:type]}` references.

use super::Table;
use super::ast::Expr;
use super::commands::{set_column, string_input};
use super::error::EsqlError;
use super::eval::Ctx;
use super::types::{DataType, Value};

/// The pattern names this engine knows, as regular expressions written for it.
fn library(name: &str) -> Option<&'static str> {
    Some(match name {
        "WORD" => r"\b\w+\b",
        "NOTSPACE" => r"\S+",
        "SPACE" => r"\s*",
        "DATA" => r".*?",
        "GREEDYDATA" => r".*",
        "INT" => r"[+-]?[0-9]+",
        "POSINT" => r"\b[1-9][0-9]*\b",
        "NONNEGINT" => r"\b[0-9]+\b",
        "BASE10NUM" | "NUMBER" => r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)",
        "BASE16NUM" => r"(?:0[xX])?[0-9A-Fa-f]+",
        "USERNAME" | "USER" => r"[a-zA-Z0-9._-]+",
        "EMAILLOCALPART" => {
            r"[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,64}(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,62}){0,63}"
        }
        "HOSTNAME" => r"\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?\b",
        "EMAILADDRESS" => {
            r"[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,64}(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,62}){0,63}@\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?\b"
        }
        "IPV4" => {
            r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
        }
        "IPV6" => r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?",
        "IP" => {
            r"(?:(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))"
        }
        "IPORHOST" => {
            r"(?:(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])|\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?\b)"
        }
        "YEAR" => r"(?:\d\d){1,2}",
        "MONTHNUM" => r"(?:0?[1-9]|1[0-2])",
        "MONTHDAY" => r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])",
        "HOUR" => r"(?:2[0123]|[01]?[0-9])",
        "MINUTE" => r"(?:[0-5][0-9])",
        "SECOND" => r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)",
        "ISO8601_TIMEZONE" => r"(?:Z|[+-](?:2[0123]|[01]?[0-9])(?::?(?:[0-5][0-9])))",
        "TIMESTAMP_ISO8601" => {
            r"(?:\d\d){1,2}-(?:0?[1-9]|1[0-2])-(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])[T ](?:2[0123]|[01]?[0-9]):?(?:[0-5][0-9])(?::?(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?))?(?:Z|[+-](?:2[0123]|[01]?[0-9])(?::?(?:[0-5][0-9])))?"
        }
        "URIPROTO" => r"[A-Za-z](?:[A-Za-z0-9+\-.]+)+",
        "URIHOST" => {
            r"(?:(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])|\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?\b)(?::\b[1-9][0-9]*\b)?"
        }
        "URIPATH" => r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+",
        "QUOTEDSTRING" | "QS" => r#"(?:"(?:\\.|[^\\"]+)*"|'(?:\\.|[^\\']+)*')"#,
        "UUID" => r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
        "LOGLEVEL" => {
            r"(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo|INFO|[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)"
        }
        "MAC" => r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}",
        _ => return None,
    })
}

struct Capture {
    name: String,
    ty: DataType,
}

/// Translates a grok pattern to a regex with numbered capture groups.
fn compile(pattern: &str) -> Result<(regex::Regex, Vec<Capture>), String> {
    let mut out = String::from("(?s)");
    let mut caps = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find("%{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('}').ok_or("unterminated %{ in grok pattern")?;
        let spec = &after[..end];
        let mut parts = spec.splitn(3, ':');
        let pname = parts.next().unwrap_or("");
        let re = library(pname).ok_or_else(|| {
            format!("Unable to find pattern [{pname}] in Grok's pattern dictionary")
        })?;
        match parts.next() {
            Some(field) if !field.is_empty() => {
                let ty = match parts.next() {
                    Some("int") => DataType::Integer,
                    Some("long") => DataType::Long,
                    Some("float") | Some("double") => DataType::Double,
                    Some("boolean") => DataType::Boolean,
                    _ => DataType::Keyword,
                };
                caps.push(Capture {
                    name: field.to_string(),
                    ty,
                });
                out.push_str(&format!("({re})"));
            }
            _ => out.push_str(&format!("(?:{re})")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    // Oniguruma named groups `(?<name>…)` capture like `%{…:name}`, in the order they open.
    let mut ordered = String::new();
    let mut all: Vec<(usize, Capture)> = Vec::new();
    let mut grok_i = 0;
    let bytes = out.as_bytes();
    let mut i = 0;
    while i < out.len() {
        if bytes[i] == b'\\' {
            let n = out[i + 1..].chars().next().map_or(0, char::len_utf8);
            ordered.push_str(&out[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        if out[i..].starts_with("(?<")
            && !out[i..].starts_with("(?<=")
            && !out[i..].starts_with("(?<!")
        {
            if let Some(end) = out[i + 3..].find('>') {
                let name = out[i + 3..i + 3 + end].to_string();
                all.push((
                    i,
                    Capture {
                        name,
                        ty: DataType::Keyword,
                    },
                ));
                ordered.push('(');
                i += 3 + end + 1;
                continue;
            }
        }
        if out[i..].starts_with('(') && !out[i..].starts_with("(?") && grok_i < caps.len() {
            all.push((
                i,
                Capture {
                    name: caps[grok_i].name.clone(),
                    ty: caps[grok_i].ty,
                },
            ));
            grok_i += 1;
        }
        let n = out[i..].chars().next().map_or(1, char::len_utf8);
        ordered.push_str(&out[i..i + n]);
        i += n;
    }
    if all.len() > caps.len() {
        caps = all.into_iter().map(|(_, c)| c).collect();
        out = ordered;
    }
    let re = regex::RegexBuilder::new(&out)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("invalid grok pattern: {e}"))?;
    Ok((re, caps))
}

pub(crate) fn apply(
    input: &Expr,
    pattern: &str,
    mut t: Table,
    ctx: &Ctx,
) -> Result<Table, EsqlError> {
    let src = string_input("GROK", input, &t, ctx)?;
    let (re, caps) = compile(pattern).map_err(|m| EsqlError::verify(m, input.span.clone()))?;
    // Distinct output names, in order; a repeated name collects a multi-value.
    let mut names: Vec<(String, DataType)> = Vec::new();
    for c in &caps {
        if let Some(n) = names.iter_mut().find(|n| n.0 == c.name) {
            if n.1 != c.ty {
                return Err(EsqlError::verify(
                    format!(
                        "Invalid GROK pattern [{pattern}]: the attribute [{}] is defined multiple times with different types",
                        c.name
                    ),
                    input.span.clone(),
                ));
            }
        } else {
            names.push((c.name.clone(), c.ty));
        }
    }
    let mut cols: Vec<Vec<Value>> = vec![Vec::with_capacity(t.rows.len()); names.len()];
    for row in &t.rows {
        let v = src.eval(row, ctx);
        // Each value of a multi-value is matched; the captures of all collect.
        let matches: Vec<regex::Captures> = v
            .items()
            .iter()
            .filter_map(|x| x.as_str().and_then(|s| re.captures(s)))
            .collect();
        for (ni, (name, ty)) in names.iter().enumerate() {
            let mut vals = Vec::new();
            for m in &matches {
                for (ci, c) in caps.iter().enumerate() {
                    if &c.name == name {
                        if let Some(g) = m.get(ci + 1) {
                            vals.push(typed(g.as_str(), *ty));
                        }
                    }
                }
            }
            cols[ni].push(Value::from_vec(vals));
        }
    }
    for ((name, ty), vals) in names.into_iter().zip(cols) {
        set_column(&mut t, &name, ty, vals);
    }
    Ok(t)
}

fn typed(s: &str, ty: DataType) -> Value {
    match ty {
        DataType::Integer | DataType::Long => s.parse().map(Value::Int).unwrap_or(Value::Null),
        DataType::Double => s.parse().map(Value::Double).unwrap_or(Value::Null),
        DataType::Boolean => Value::Bool(s.eq_ignore_ascii_case("true")),
        _ => Value::Str(s.to_string()),
    }
}

/// The columns a GROK pattern creates; `None` when the pattern does not compile.
pub(crate) fn output_names(pattern: &str) -> Option<Vec<String>> {
    let (_, caps) = compile(pattern).ok()?;
    let mut names: Vec<String> = caps.into_iter().map(|c| c.name).collect();
    // Named regex groups written inline (`(?<port>\d+)`) create columns too.
    for marker in ["(?<", "(?P<"] {
        let mut rest = pattern;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            if let Some(end) = rest.find('>') {
                names.push(rest[..end].to_string());
            }
        }
    }
    Some(names)
}
