//! `[transform]` investigation-guide plugins rendered into `note` (`rule-format.md` §9).

use std::collections::BTreeMap;

use serde_json::Value;

use super::pyjson::{Separators, dumps};

/// Placeholder name → rendered plugin string, e.g. `osquery_0` → `!{osquery{...}}`.
pub fn rendered_placeholders(transform: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(map) = transform.as_object() else {
        return out;
    };
    for (plugin, entries) in map {
        let Some(entries) = entries.as_array() else {
            continue;
        };
        for (i, entry) in entries.iter().enumerate() {
            let mut entry = entry.clone();
            super::normalize::strip_nulls(&mut entry);
            let json = dumps(&entry, Separators::Compact);
            out.insert(format!("{plugin}_{i}"), format!("!{{{plugin}{json}}}"));
        }
    }
    out
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Python `string.Template(text).safe_substitute(mapping)`: `$$` → `$`, `$name` and `${name}`
/// replaced when `name` is in `mapping`, everything else left as is.
pub fn safe_substitute(text: &str, mapping: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        if let Some(inner) = after.strip_prefix('{') {
            let ident_len = ident_len(inner);
            if ident_len > 0 && inner[ident_len..].starts_with('}') {
                let name = &inner[..ident_len];
                if let Some(rep) = mapping.get(name) {
                    out.push_str(rep);
                } else {
                    out.push_str(&rest[pos..pos + 1 + 1 + ident_len + 1]);
                }
                rest = &inner[ident_len + 1..];
                continue;
            }
            out.push('$');
            rest = after;
            continue;
        }
        let ident_len = ident_len(after);
        if ident_len > 0 {
            let name = &after[..ident_len];
            if let Some(rep) = mapping.get(name) {
                out.push_str(rep);
            } else {
                out.push('$');
                out.push_str(name);
            }
            rest = &after[ident_len..];
            continue;
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}

fn ident_len(s: &str) -> usize {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_ident_start(c) => {}
        _ => return 0,
    }
    1 + chars.take_while(|c| is_ident_char(*c)).count()
}

/// Render the transform plugins into the note (only when both exist).
pub fn apply_note_transform(note: &str, transform: &Value) -> String {
    let mapping = rendered_placeholders(transform);
    safe_substitute(note, &mapping)
}
