//! The investigation-guide plugins of an exported note (`!{osquery{…}}`, `!{investigate{…}}`)
//! turned back into `[transform]` entries and `$osquery_<n>` / `$investigate_<n>` placeholders
//! (the inverse of `export::transform`, `rule-format.md` §9).

use serde_json::{Map, Value};

const PLUGINS: &[&str] = &["osquery", "investigate"];

/// The note with placeholders and the `[transform]` table, or `None` when the note has no
/// plugin (or one whose JSON does not render back to the same text: it is then left alone, so
/// that the export of the imported file reproduces the note exactly).
pub fn extract_transform(note: &str) -> Option<(String, Value)> {
    if !PLUGINS.iter().any(|p| note.contains(&format!("!{{{p}{{"))) {
        return None;
    }
    let mut out = String::with_capacity(note.len());
    let mut entries: Map<String, Value> = Map::new();
    let mut rest = note;
    while let Some(pos) = rest.find("!{") {
        // Everything before the plugin is text: `$` is written `$$` so that the template
        // substitution of the export gives it back unchanged.
        out.push_str(&rest[..pos].replace('$', "$$"));
        let after = &rest[pos + 2..];
        match plugin_at(after) {
            Some((plugin, entry, used)) => {
                let list = entries
                    .entry(plugin.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    out.push_str(&format!("${plugin}_{}", items.len()));
                    items.push(entry);
                }
                rest = &after[used..];
            }
            None => {
                out.push_str("!{");
                rest = after;
            }
        }
    }
    out.push_str(&rest.replace('$', "$$"));
    if entries.is_empty() {
        return None;
    }
    Some((out, Value::Object(entries)))
}

/// `osquery{…}}` at the start of `text`: the plugin name, its entry and the bytes used.
fn plugin_at(text: &str) -> Option<(&'static str, Value, usize)> {
    let plugin = PLUGINS.iter().find(|p| text.starts_with(**p))?;
    let json_start = plugin.len();
    let body = &text[json_start..];
    if !body.starts_with('{') {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<Value>();
    let entry = stream.next()?.ok()?;
    let end = stream.byte_offset();
    if !entry.is_object() || !body[end..].starts_with('}') {
        return None;
    }
    // The export renders the entry as compact JSON with sorted keys and no nulls: only an
    // entry in exactly that form is turned back into a transform.
    let mut check = entry.clone();
    crate::export::strip_nulls(&mut check);
    let rendered = crate::export::to_python_json_with(&check, crate::export::Separators::Compact);
    if rendered != body[..end] {
        return None;
    }
    Some((plugin, entry, json_start + end + 1))
}
