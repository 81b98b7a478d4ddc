//! DISSECT: split a string by the literal delimiters between `%{key}` references. Modifiers:
//! `->` (skip repeated delimiters), `+` (append, joined by the append separator), `?` (named
//! skip), empty key (skip).

use super::Table;
use super::ast::Expr;
use super::commands::{set_column, string_input};
use super::error::EsqlError;
use super::eval::Ctx;
use super::types::{DataType, Value};

struct Key {
    name: String,
    skip: bool,
    append: bool,
    pad_right: bool,
}

struct Pattern {
    prefix: String,
    /// Each key with the delimiter that follows it ("" for the last).
    keys: Vec<(Key, String)>,
}

fn parse(p: &str) -> Result<Pattern, String> {
    let mut rest = p;
    let first = rest
        .find("%{")
        .ok_or_else(|| format!("Unable to parse pattern [{p}]"))?;
    let prefix = rest[..first].to_string();
    rest = &rest[first..];
    let mut keys = Vec::new();
    while let Some(r) = rest.strip_prefix("%{") {
        let end = r
            .find('}')
            .ok_or_else(|| format!("Unable to parse pattern [{p}]"))?;
        let mut spec = &r[..end];
        let mut key = Key {
            name: String::new(),
            skip: false,
            append: false,
            pad_right: false,
        };
        if let Some(s) = spec.strip_suffix("->") {
            key.pad_right = true;
            spec = s;
        }
        if let Some(s) = spec.strip_prefix('+') {
            key.append = true;
            spec = s;
            if let Some(i) = spec.find("/") {
                spec = &spec[..i];
            }
        } else if let Some(s) = spec.strip_prefix('?') {
            key.skip = true;
            spec = s;
        } else if spec.starts_with('*') || spec.starts_with('&') {
            return Err(format!(
                "Unable to parse pattern [{p}]: reference keys are not supported"
            ));
        }
        key.skip |= spec.is_empty();
        key.name = spec.to_string();
        rest = &r[end + 1..];
        let next = rest.find("%{").unwrap_or(rest.len());
        let delim = rest[..next].to_string();
        rest = &rest[next..];
        keys.push((key, delim));
    }
    if keys
        .iter()
        .take(keys.len().saturating_sub(1))
        .any(|(_, d)| d.is_empty())
    {
        return Err(format!(
            "Invalid pattern [{p}] for dissect: consecutive keys need a delimiter"
        ));
    }
    Ok(Pattern { prefix, keys })
}

fn split(p: &Pattern, text: &str, sep: &str) -> Option<Vec<(String, String)>> {
    let mut s = text.strip_prefix(p.prefix.as_str())?;
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, (key, delim)) in p.keys.iter().enumerate() {
        let last = i + 1 == p.keys.len();
        let value;
        if delim.is_empty() {
            if !last {
                return None;
            }
            value = s;
            s = "";
        } else {
            let at = s.find(delim.as_str())?;
            value = &s[..at];
            s = &s[at + delim.len()..];
            if key.pad_right {
                while let Some(r) = s.strip_prefix(delim.as_str()) {
                    s = r;
                }
            }
        }
        if key.skip {
            continue;
        }
        if key.append {
            if let Some(e) = out.iter_mut().find(|e| e.0 == key.name) {
                e.1.push_str(sep);
                e.1.push_str(value);
                continue;
            }
        }
        out.push((key.name.clone(), value.to_string()));
    }
    if !s.is_empty() {
        return None;
    }
    Some(out)
}

pub(crate) fn apply(
    input: &Expr,
    pattern: &str,
    sep: Option<&str>,
    mut t: Table,
    ctx: &Ctx,
) -> Result<Table, EsqlError> {
    let src = string_input("DISSECT", input, &t, ctx)?;
    let p = parse(pattern).map_err(|m| EsqlError::verify(m, input.span.clone()))?;
    let mut names: Vec<String> = Vec::new();
    for (k, _) in &p.keys {
        if !k.skip && !names.contains(&k.name) {
            names.push(k.name.clone());
        }
    }
    let sep = sep.unwrap_or("");
    let mut cols: Vec<Vec<Value>> = vec![Vec::new(); names.len()];
    for row in &t.rows {
        let v = src.eval(row, ctx);
        // A multi-value: the first value the pattern splits.
        let parts = v
            .items()
            .iter()
            .find_map(|x| x.as_str().and_then(|s| split(&p, s, sep)));
        for (ni, n) in names.iter().enumerate() {
            let val = parts
                .as_ref()
                .and_then(|ps| ps.iter().find(|x| &x.0 == n))
                .map_or(Value::Null, |x| Value::Str(x.1.clone()));
            cols[ni].push(val);
        }
    }
    for (n, vals) in names.into_iter().zip(cols) {
        set_column(&mut t, &n, DataType::Keyword, vals);
    }
    Ok(t)
}

/// The columns a DISSECT pattern creates (skipped `?` / `&` keys excluded); `None` when the
/// pattern does not parse.
pub(crate) fn output_names(pattern: &str) -> Option<Vec<String>> {
    let p = parse(pattern).ok()?;
    Some(
        p.keys
            .iter()
            .filter(|(k, _)| !k.skip && !k.name.is_empty())
            .map(|(k, _)| k.name.clone())
            .collect(),
    )
}
