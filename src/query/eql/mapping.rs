//! Field types from an Elasticsearch index mapping, which decide comparison rules (§10).

use super::error::{EqlError, EqlErrorKind};
use serde_json::Value;
use std::collections::HashMap;

/// The type of a field as far as EQL semantics care.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// keyword, constant_keyword, wildcard: exact strings.
    Keyword,
    /// text: only usable through an exact sub-field (`None` when there is none).
    Text {
        exact: Option<String>,
    },
    /// Integer types (long, integer, short, byte, unsigned_long).
    Integer,
    /// Floating types (double, float, half_float, scaled_float).
    Float,
    Boolean,
    /// date / date_nanos, with their `format` (`None` = the default).
    Date {
        format: Option<String>,
    },
    Ip,
    Version,
    /// object: not a value.
    Object,
    /// nested, geo_point, range types…: rejected by EQL.
    Unsupported(String),
}

impl FieldType {
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            FieldType::Keyword | FieldType::Text { .. } | FieldType::Version
        )
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Float)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// Where the value lives in `_source` (the alias target for an alias).
    pub source: String,
    pub ty: FieldType,
    /// Keyword `ignore_above` (for a text field: its exact sub-field's): longer strings are not
    /// indexed, so no query matches them and scripts see no value.
    pub ignore_above: Option<usize>,
}

/// Field name → type, flattened to dotted names, aliases resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    fields: HashMap<String, FieldInfo>,
}

impl Mapping {
    /// Reads `{"properties": …}`, `{"mappings": {"properties": …}}` or
    /// `{"<index>": {"mappings": …}}` (the shape `GET <index>/_mapping` returns).
    pub fn from_es_mapping_json(v: &Value) -> Result<Mapping, EqlError> {
        let props = find_properties(v).ok_or_else(|| {
            EqlError::new(EqlErrorKind::Mapping, "no `properties` in mapping", 0..0)
        })?;
        let mut raw = Vec::new();
        collect(props, "", &mut raw)?;
        let mut m = Mapping::default();
        let aliases: Vec<(String, String)> = raw
            .iter()
            .filter_map(|(n, t)| match t {
                Raw::Alias(p) => Some((n.clone(), p.clone())),
                _ => None,
            })
            .collect();
        for (name, r) in &raw {
            let (ty, source, ignore_above) = match r {
                Raw::Type(ty, ia) => (ty, name, *ia),
                Raw::Sub(ty, parent, ia) => (ty, parent, *ia),
                Raw::Alias(_) => continue,
            };
            m.fields.insert(
                name.clone(),
                FieldInfo {
                    source: source.clone(),
                    ty: ty.clone(),
                    ignore_above,
                },
            );
        }
        for (name, path) in aliases {
            let target = m.fields.get(&path).cloned().ok_or_else(|| {
                EqlError::new(
                    EqlErrorKind::Mapping,
                    format!("alias [{name}] points to unknown field [{path}]"),
                    0..0,
                )
            })?;
            m.fields.insert(name, target);
        }
        Ok(m)
    }

    /// Merges another index's mapping, as one search over several indices sees them: fields
    /// are united; a date field with different formats accepts all of them.
    pub fn merge(&mut self, other: &Mapping) {
        for (name, info) in &other.fields {
            match self.fields.get_mut(name) {
                None => {
                    self.fields.insert(name.clone(), info.clone());
                }
                Some(mine) => {
                    if let (FieldType::Date { format: a }, FieldType::Date { format: b }) =
                        (&mut mine.ty, &info.ty)
                    {
                        if a != b {
                            let fa = a
                                .clone()
                                .unwrap_or_else(|| super::date::DEFAULT_FORMAT.into());
                            let fb = b
                                .clone()
                                .unwrap_or_else(|| super::date::DEFAULT_FORMAT.into());
                            *a = Some(format!("{fa}||{fb}"));
                        }
                    }
                }
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(name)
    }

    pub fn insert(&mut self, name: &str, ty: FieldType) {
        self.fields.insert(
            name.to_string(),
            FieldInfo {
                source: name.to_string(),
                ty,
                ignore_above: None,
            },
        );
    }

    /// Adds the fields Elasticsearch would map dynamically when indexing `events`: strings as
    /// text with a `.keyword` sub-field, integers as long, other numbers as float, booleans,
    /// objects. Fields already mapped are kept.
    pub fn add_dynamic(&mut self, events: &[Value]) {
        for e in events {
            self.dynamic_walk(e, String::new());
        }
    }

    fn dynamic_walk(&mut self, v: &Value, prefix: String) {
        match v {
            Value::Object(map) => {
                if !prefix.is_empty() && !self.fields.contains_key(&prefix) {
                    self.insert(&prefix, FieldType::Object);
                }
                for (k, child) in map {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    self.dynamic_walk(child, name);
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.dynamic_walk(i, prefix.clone());
                }
            }
            Value::Null => {}
            scalar => {
                if self.fields.contains_key(&prefix) {
                    return;
                }
                let ty = match scalar {
                    Value::String(_) => FieldType::Text {
                        exact: Some(format!("{prefix}.keyword")),
                    },
                    Value::Number(n) if n.is_f64() => FieldType::Float,
                    Value::Number(_) => FieldType::Integer,
                    _ => FieldType::Boolean,
                };
                if let FieldType::Text { exact: Some(sub) } = &ty {
                    self.fields.insert(
                        sub.clone(),
                        FieldInfo {
                            source: prefix.clone(),
                            ty: FieldType::Keyword,
                            ignore_above: Some(256),
                        },
                    );
                }
                self.insert(&prefix, ty);
            }
        }
    }
}

enum Raw {
    /// A field's type and `ignore_above`.
    Type(FieldType, Option<usize>),
    /// A multi-field: its type, the parent whose `_source` value it indexes, `ignore_above`.
    Sub(FieldType, String, Option<usize>),
    Alias(String),
}

fn find_properties(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    if let Some(p) = v.get("properties").and_then(Value::as_object) {
        return Some(p);
    }
    if let Some(m) = v.get("mappings") {
        return find_properties(m);
    }
    // `{"index-name": {"mappings": …}}`
    v.as_object()?
        .values()
        .find_map(|x| x.get("mappings").and_then(find_properties))
}

fn collect(
    props: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, Raw)>,
) -> Result<(), EqlError> {
    for (k, def) in props {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let ty = def.get("type").and_then(Value::as_str);
        let sub = def.get("properties").and_then(Value::as_object);
        match ty {
            None | Some("object") => {
                out.push((name.clone(), Raw::Type(FieldType::Object, None)));
                if let Some(sub) = sub {
                    collect(sub, &name, out)?;
                }
            }
            Some("nested") => {
                // EQL cannot query nested documents: the field and everything under it.
                out.push((
                    name.clone(),
                    Raw::Type(FieldType::Unsupported("nested".into()), None),
                ));
                if let Some(sub) = sub {
                    let mut inner = Vec::new();
                    collect(sub, &name, &mut inner)?;
                    for (n, _) in inner {
                        out.push((n, Raw::Type(FieldType::Unsupported("nested".into()), None)));
                    }
                }
            }
            Some("alias") => {
                let path = def.get("path").and_then(Value::as_str).ok_or_else(|| {
                    EqlError::new(
                        EqlErrorKind::Mapping,
                        format!("alias [{name}] has no path"),
                        0..0,
                    )
                })?;
                out.push((name, Raw::Alias(path.to_string())));
            }
            Some(t) => {
                let fty = simple_type(t, def);
                let mut ignore_above = ignore_above_of(def);
                let mut exact = None;
                if let Some(fields) = def.get("fields").and_then(Value::as_object) {
                    for (sk, sdef) in fields {
                        let st = sdef.get("type").and_then(Value::as_str).unwrap_or("");
                        let sty = simple_type(st, sdef);
                        let sub_ia = ignore_above_of(sdef);
                        if sty == FieldType::Keyword && exact.is_none() {
                            exact = Some(format!("{name}.{sk}"));
                            if matches!(fty, FieldType::Text { .. }) {
                                ignore_above = sub_ia;
                            }
                        }
                        out.push((format!("{name}.{sk}"), Raw::Sub(sty, name.clone(), sub_ia)));
                    }
                }
                let fty = match fty {
                    FieldType::Text { .. } => FieldType::Text { exact },
                    other => other,
                };
                out.push((name, Raw::Type(fty, ignore_above)));
            }
        }
    }
    Ok(())
}

fn ignore_above_of(def: &Value) -> Option<usize> {
    def.get("ignore_above")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
}

fn simple_type(t: &str, def: &Value) -> FieldType {
    match t {
        "keyword" | "constant_keyword" | "wildcard" => FieldType::Keyword,
        "text" | "match_only_text" => FieldType::Text { exact: None },
        "long" | "integer" | "short" | "byte" | "unsigned_long" => FieldType::Integer,
        "double" | "float" | "half_float" | "scaled_float" => FieldType::Float,
        "boolean" => FieldType::Boolean,
        "date" | "date_nanos" => FieldType::Date {
            format: def
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        "ip" => FieldType::Ip,
        "version" => FieldType::Version,
        "object" => FieldType::Object,
        other => FieldType::Unsupported(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_types_aliases_and_subfields() {
        let m = Mapping::from_es_mapping_json(&json!({"mappings": {"properties": {
            "event_type": {"type": "keyword"},
            "event": {"properties": {"category": {"type": "alias", "path": "event_type"}}},
            "file_name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
            "ts": {"type": "date", "format": "dd-MM-yyyy"},
            "ip": {"type": "ip"}
        }}}))
        .unwrap();
        assert_eq!(m.get("event.category").unwrap().source, "event_type");
        assert_eq!(
            m.get("file_name").unwrap().ty,
            FieldType::Text {
                exact: Some("file_name.keyword".into())
            }
        );
        assert_eq!(m.get("file_name.keyword").unwrap().ty, FieldType::Keyword);
        assert_eq!(m.get("file_name.keyword").unwrap().source, "file_name");
        assert_eq!(m.get("ip").unwrap().ty, FieldType::Ip);
    }
}
