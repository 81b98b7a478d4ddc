//! Kibana rule export NDJSON → rule files in the detection-rules layout (`ruleforge import`).
//!
//! Each line of the file is classified by its shape, as Kibana's own import does
//! (`kibana-export.md` §8.2): exception containers and items (`list_id`, `item_id` or
//! `entries`) and action connectors (`attributes`) are reported and skipped, the export summary
//! (`exported_count`) is skipped, blank lines are skipped, and every other line must be a rule.
//! A line that is not JSON, not an object, or a rule without `rule_id`, `name` or a known `type`
//! is an error at its line.
//!
//! A rule becomes `[metadata]` (dates from `created_at`/`updated_at`, maturity,
//! `integration` from the `related_integrations` packages), `[transform]` (the `!{osquery…}` /
//! `!{investigate…}` plugins of the note, turned back into placeholders) and `[rule]`.
//! Server-managed fields and the fields Kibana computes are dropped; `new_terms_fields` and
//! `history_window_start` are folded back into `[rule.new_terms]`.

mod note;
mod place;
mod write;

use serde_json::{Map, Value};

pub use place::{Placement, placement};
pub use write::{file_stem, to_toml};

/// Fields Kibana manages or computes: never written to a rule file.
const DROPPED: &[&str] = &[
    "id",
    "immutable",
    "rule_source",
    "revision",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "execution_summary",
    "output_index",
    "related_integrations",
    "required_fields",
];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}, column {column}: not JSON: {message}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}: not a JSON object")]
    NotObject { line: usize },
    #[error("line {line}: rule {rule}: {message}")]
    InvalidRule {
        line: usize,
        rule: String,
        message: String,
    },
    #[error("line {line}: rule {rule}: cannot be written as TOML: {message}")]
    Toml {
        line: usize,
        rule: String,
        message: String,
    },
}

/// What the lines of an import file are.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Rule objects with their 1-based line numbers.
    pub rules: Vec<(usize, Map<String, Value>)>,
    pub exception_objects: usize,
    pub action_connectors: usize,
    pub summary_lines: usize,
}

/// Classifies every line of a Kibana export file.
pub fn parse_ndjson(text: &str) -> Result<Parsed, ImportError> {
    let mut out = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| ImportError::NotJson {
            line: n,
            column: e.column(),
            message: e.to_string(),
        })?;
        let Value::Object(obj) = value else {
            return Err(ImportError::NotObject { line: n });
        };
        if obj.contains_key("exported_count") {
            out.summary_lines += 1;
        } else if ["list_id", "item_id", "entries"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            out.exception_objects += 1;
        } else if obj.contains_key("attributes") {
            out.action_connectors += 1;
        } else {
            out.rules.push((n, obj));
        }
    }
    Ok(out)
}

/// How to write the rules.
#[derive(Debug, Clone)]
pub struct Options {
    /// `metadata.maturity` of the new files.
    pub maturity: String,
    /// `YYYY/MM/DD` used when the export has no `created_at` / `updated_at`.
    pub today: String,
    /// Keep `version` in `[rule]` (only for repositories that bypass the version lock).
    pub keep_version: bool,
}

/// One rule, ready to write.
#[derive(Debug, Clone)]
pub struct Imported {
    pub rule_id: String,
    pub name: String,
    /// The whole file as a JSON value (`{"metadata", "transform"?, "rule"}`).
    pub file: Value,
}

fn invalid(line: usize, rule: &str, message: impl Into<String>) -> ImportError {
    ImportError::InvalidRule {
        line,
        rule: rule.to_string(),
        message: message.into(),
    }
}

/// Converts one exported rule object (from line `line`) to a rule file.
pub fn rule_file(
    line: usize,
    obj: &Map<String, Value>,
    opts: &Options,
) -> Result<Imported, ImportError> {
    let label = obj
        .get("rule_id")
        .or_else(|| obj.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let text = |key: &str| -> Result<String, ImportError> {
        match obj.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(invalid(line, &label, format!("`{key}` is not a string"))),
            None => Err(invalid(line, &label, format!("missing `{key}`"))),
        }
    };
    let rule_id = text("rule_id")?;
    let name = text("name")?;
    let rule_type = text("type")?;
    if !crate::export::RULE_TYPES.contains(&rule_type.as_str()) {
        return Err(invalid(
            line,
            &label,
            format!("unknown rule type `{rule_type}`"),
        ));
    }
    let mut rule = obj.clone();
    strip_nulls(&mut rule);
    let integrations = integration_packages(rule.get("related_integrations"));
    for key in DROPPED {
        rule.remove(*key);
    }
    if !opts.keep_version {
        rule.remove("version");
    }
    drop_kibana_meta(&mut rule);
    if rule_type == "new_terms" {
        fold_new_terms(&mut rule).map_err(|m| invalid(line, &label, m))?;
    }
    // Legacy array form, converted as Kibana's import does.
    if let Some(Value::Array(fields)) = rule.get("investigation_fields") {
        let fields = Value::Array(fields.clone());
        let mut m = Map::new();
        m.insert("field_names".into(), fields);
        rule.insert("investigation_fields".into(), Value::Object(m));
    }
    let transform = match rule.get("note") {
        Some(Value::String(n)) => note::extract_transform(n),
        _ => None,
    };
    if let Some((note, _)) = &transform {
        rule.insert("note".into(), Value::String(note.clone()));
    }

    let mut metadata = Map::new();
    metadata.insert(
        "creation_date".into(),
        Value::String(date_of(obj.get("created_at")).unwrap_or_else(|| opts.today.clone())),
    );
    if !integrations.is_empty() {
        let list = integrations.into_iter().map(Value::String).collect();
        metadata.insert("integration".into(), Value::Array(list));
    }
    metadata.insert("maturity".into(), Value::String(opts.maturity.clone()));
    metadata.insert(
        "updated_date".into(),
        Value::String(date_of(obj.get("updated_at")).unwrap_or_else(|| opts.today.clone())),
    );

    let mut file = Map::new();
    file.insert("metadata".into(), Value::Object(metadata));
    if let Some((_, t)) = transform {
        file.insert("transform".into(), t);
    }
    file.insert("rule".into(), Value::Object(rule));
    Ok(Imported {
        rule_id,
        name,
        file: Value::Object(file),
    })
}

/// Distinct `related_integrations[].package` values, in order of appearance.
fn integration_packages(rows: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in rows.and_then(Value::as_array).into_iter().flatten() {
        if let Some(p) = row.get("package").and_then(Value::as_str) {
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// `meta.kibana_siem_app_url` is Kibana's; a `meta` left empty goes too.
fn drop_kibana_meta(rule: &mut Map<String, Value>) {
    if let Some(Value::Object(meta)) = rule.get_mut("meta") {
        meta.remove("kibana_siem_app_url");
        if meta.is_empty() {
            rule.remove("meta");
        }
    }
}

/// `new_terms_fields` + `history_window_start` → `[rule.new_terms]` (the TOML form).
fn fold_new_terms(rule: &mut Map<String, Value>) -> Result<(), String> {
    let fields = rule
        .remove("new_terms_fields")
        .ok_or("missing `new_terms_fields`")?;
    let window = rule
        .remove("history_window_start")
        .ok_or("missing `history_window_start`")?;
    let mut w = Map::new();
    w.insert("field".into(), Value::String("history_window_start".into()));
    w.insert("value".into(), window);
    let mut nt = Map::new();
    nt.insert("field".into(), Value::String("new_terms_fields".into()));
    nt.insert("value".into(), fields);
    nt.insert(
        "history_window_start".into(),
        Value::Array(vec![Value::Object(w)]),
    );
    rule.insert("new_terms".into(), Value::Object(nt));
    Ok(())
}

/// `2025-08-14T12:42:04.522Z` → `2025/08/14`.
fn date_of(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    let d = s.get(..10)?;
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        .then(|| d.replace('-', "/"))
}

/// TOML has no null: keys with null values are dropped at every depth (the exporter adds back
/// the nulls Kibana needs, `actions[].frequency.throttle`).
fn strip_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
    for v in map.values_mut() {
        strip_value(v);
    }
}

fn strip_value(v: &mut Value) {
    match v {
        Value::Object(m) => strip_nulls(m),
        Value::Array(items) => {
            items.retain(|i| !i.is_null());
            items.iter_mut().for_each(strip_value);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
