//! A [`Catalog`] over JSON events (ECS documents), for replay: every `FROM` pattern reads the
//! same events. Columns are the events' leaf fields plus the fields the query names; their
//! types come from a lookup (the index mapping or schema tables) and otherwise from the JSON
//! values, as for EQL.

use super::types::{DataType, Value, parse_date, parse_ip};
use super::{Catalog, Column, Table};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Field type lookup: `None` when the field is unknown to the schema.
pub type TypeLookup<'a> = &'a dyn Fn(&str) -> Option<DataType>;

pub struct EventCatalog<'a> {
    pub events: &'a [Json],
    pub types: TypeLookup<'a>,
    /// Fields to have as columns even when no event holds them (the query's references).
    pub extra_fields: Vec<String>,
    /// When set, the only fields made columns ([`super::Query::column_projection`]): an
    /// aggregating query reads a few fields of events that have hundreds.
    pub only: Option<&'a [String]>,
}

/// Whether `name` (a flattened path) or a field under it is wanted.
fn wanted(only: Option<&[String]>, name: &str, leaf: bool) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|f| {
        f == name
            || (!leaf
                && f.len() > name.len()
                && f.starts_with(name)
                && f.as_bytes()[name.len()] == b'.')
    })
}

fn flatten(prefix: &str, v: &Json, only: Option<&[String]>, out: &mut BTreeMap<String, Vec<Json>>) {
    // Not a wanted field nor above one: nothing below is read.
    if !prefix.is_empty() && !wanted(only, prefix, false) {
        return;
    }
    // A value at `prefix` is that field's: kept only when the field itself is wanted.
    let here = || prefix.is_empty() || wanted(only, prefix, true);
    match v {
        // A geo_point written as an object is one value, not two fields.
        Json::Object(m) if is_lat_lon(m) && !prefix.is_empty() => {
            if here() {
                out.entry(prefix.to_string()).or_default().push(v.clone())
            }
        }
        Json::Object(m) => {
            for (k, x) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, x, only, out);
            }
        }
        Json::Array(items) if items.iter().any(Json::is_object) => {
            for it in items {
                flatten(prefix, it, only, out);
            }
        }
        _ if !here() => {}
        Json::Array(items) => out
            .entry(prefix.to_string())
            .or_default()
            .extend(items.iter().cloned()),
        Json::Null => {
            out.entry(prefix.to_string()).or_default();
        }
        other => out
            .entry(prefix.to_string())
            .or_default()
            .push(other.clone()),
    }
}

fn is_lat_lon(m: &serde_json::Map<String, Json>) -> bool {
    m.len() == 2
        && m.get("lat").is_some_and(Json::is_number)
        && m.get("lon").is_some_and(Json::is_number)
}

fn json_type(v: &Json) -> DataType {
    match v {
        Json::Bool(_) => DataType::Boolean,
        Json::Number(n) if n.is_i64() || n.is_u64() => DataType::Long,
        Json::Number(_) => DataType::Double,
        Json::Object(m) if is_lat_lon(m) => DataType::GeoPoint,
        _ => DataType::Keyword,
    }
}

/// One JSON scalar as a value of `ty` (unreadable values are left out, as Elasticsearch's
/// `ignore_malformed` would).
pub fn json_scalar(v: &Json, ty: DataType) -> Option<Value> {
    Some(match (ty, v) {
        (_, Json::Null) => return None,
        (DataType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (DataType::Boolean, Json::String(s)) => Value::Bool(s == "true"),
        (DataType::Integer | DataType::Long, Json::Number(n)) => {
            Value::Int(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?)
        }
        (DataType::Integer | DataType::Long, Json::String(s)) => Value::Int(s.trim().parse().ok()?),
        (DataType::UnsignedLong, Json::Number(n)) => Value::ULong(n.as_u64()?),
        (DataType::Double, Json::Number(n)) => Value::Double(n.as_f64()?),
        (DataType::Double, Json::String(s)) => Value::Double(s.trim().parse().ok()?),
        (DataType::Date, Json::String(s)) => Value::Date(parse_date(s)?),
        (DataType::Date, Json::Number(n)) => Value::Date(n.as_i64()?),
        (DataType::Ip, Json::String(s)) => parse_ip(s)?,
        (DataType::GeoPoint, v) => super::geo::from_json(v)?,
        (DataType::Keyword | DataType::Text | DataType::Version, Json::String(s)) => {
            Value::Str(s.clone())
        }
        (DataType::Keyword | DataType::Text | DataType::Version, other) => {
            Value::Str(other.to_string())
        }
        _ => return None,
    })
}

impl Catalog for EventCatalog<'_> {
    fn complete_schema(&self) -> bool {
        false
    }

    fn source(&self, _patterns: &[String], metadata: &[String]) -> Result<Table, String> {
        let flat: Vec<BTreeMap<String, Vec<Json>>> = self
            .events
            .iter()
            .map(|e| {
                let mut m = BTreeMap::new();
                flatten("", e, self.only, &mut m);
                m
            })
            .collect();
        let mut names: BTreeMap<String, DataType> = BTreeMap::new();
        for f in &flat {
            for (k, vals) in f {
                if k.starts_with('_') && metadata.contains(k) {
                    continue;
                }
                let ty = (self.types)(k)
                    .or_else(|| vals.first().map(json_type))
                    .unwrap_or(DataType::Keyword);
                names.entry(k.clone()).or_insert(ty);
            }
        }
        for k in &self.extra_fields {
            if !names.contains_key(k) && !metadata.contains(k) {
                names.insert(k.clone(), (self.types)(k).unwrap_or(DataType::Keyword));
            }
        }
        let mut columns: Vec<Column> = names
            .iter()
            .map(|(n, t)| Column {
                name: n.clone(),
                ty: *t,
            })
            .collect();
        let mut rows = Vec::with_capacity(flat.len());
        for (i, (f, e)) in flat.iter().zip(self.events).enumerate() {
            let mut row: Vec<Value> = columns
                .iter()
                .map(|c| {
                    let vals = f.get(&c.name).map(Vec::as_slice).unwrap_or(&[]);
                    Value::from_vec(vals.iter().filter_map(|v| json_scalar(v, c.ty)).collect())
                })
                .collect();
            for m in metadata {
                row.push(match m.as_str() {
                    "_id" => Value::Str(
                        e.get("_id")
                            .and_then(Json::as_str)
                            .map_or_else(|| i.to_string(), str::to_string),
                    ),
                    "_index" => Value::Str(
                        e.get("_index")
                            .and_then(Json::as_str)
                            .unwrap_or("replay")
                            .to_string(),
                    ),
                    "_version" => Value::Int(1),
                    "_source" => Value::Str(e.to_string()),
                    _ => Value::Null,
                });
            }
            rows.push(row);
        }
        for m in metadata {
            let ty = match m.as_str() {
                "_id" | "_index" | "_ignored" | "_source" => DataType::Keyword,
                "_version" => DataType::Long,
                "_score" => DataType::Double,
                _ => return Err(format!("unsupported metadata field [{m}]")),
            };
            columns.push(Column {
                name: m.clone(),
                ty,
            });
        }
        Ok(Table { columns, rows })
    }
}

/// Field types from an Elasticsearch index mapping (`{"properties": …}`, `{"mappings": …}` or
/// the `GET <index>/_mapping` response), flattened to dotted names: multi-fields
/// (`fields`) are `name.sub`, aliases take their target's type, objects are walked.
pub fn mapping_types(v: &Json) -> Result<BTreeMap<String, DataType>, String> {
    fn properties(v: &Json) -> Option<&serde_json::Map<String, Json>> {
        if let Some(p) = v.get("properties").and_then(Json::as_object) {
            return Some(p);
        }
        if let Some(m) = v.get("mappings") {
            return properties(m);
        }
        v.as_object()?
            .values()
            .find_map(|x| x.get("mappings").and_then(properties))
    }
    fn walk(
        prefix: &str,
        props: &serde_json::Map<String, Json>,
        out: &mut BTreeMap<String, DataType>,
        aliases: &mut Vec<(String, String)>,
    ) -> Result<(), String> {
        for (k, def) in props {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            let ty = def.get("type").and_then(Json::as_str);
            match ty {
                Some("alias") => {
                    let path = def
                        .get("path")
                        .and_then(Json::as_str)
                        .ok_or_else(|| format!("alias [{name}] has no `path`"))?;
                    aliases.push((name.clone(), path.to_string()));
                }
                Some("object") | Some("nested") | None => {}
                Some(t) => {
                    out.insert(name.clone(), DataType::from_es(t));
                }
            }
            if let Some(sub) = def.get("properties").and_then(Json::as_object) {
                walk(&name, sub, out, aliases)?;
            }
            if let Some(sub) = def.get("fields").and_then(Json::as_object) {
                walk(&name, sub, out, aliases)?;
            }
        }
        Ok(())
    }
    let props = properties(v).ok_or("no `properties` in mapping")?;
    let mut out = BTreeMap::new();
    let mut aliases = Vec::new();
    walk("", props, &mut out, &mut aliases)?;
    for (name, path) in aliases {
        let ty = *out
            .get(&path)
            .ok_or_else(|| format!("alias [{name}] points at [{path}], which is not mapped"))?;
        out.insert(name, ty);
    }
    Ok(out)
}

/// The ES|QL type of a field from the schema tables' type name (the KQL table's names: its
/// `geo` covers geo_point and geo_shape; ECS's geo fields are `geo_point`, so it reads as one).
pub fn schema_type(name: &str) -> DataType {
    match name {
        "geo" => DataType::GeoPoint,
        other => DataType::from_es(other),
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mapping_types_flatten_objects_multi_fields_and_aliases() {
        let m = json!({"mappings": {"properties": {
            "process": {"properties": {
                "pid": {"type": "long"},
                "name": {"type": "keyword", "fields": {"text": {"type": "match_only_text"}}}
            }},
            "destination": {"properties": {"port": {"type": "integer"}}},
            "port": {"type": "alias", "path": "destination.port"},
            "seen": {"type": "date"}
        }}});
        let t = mapping_types(&m).unwrap();
        assert_eq!(t["process.pid"], DataType::Long);
        assert_eq!(t["process.name"], DataType::Keyword);
        assert_eq!(t["process.name.text"], DataType::Text);
        assert_eq!(t["port"], DataType::Integer);
        assert_eq!(t["seen"], DataType::Date);
        assert!(!t.contains_key("process"), "objects are not columns");
        let bad = json!({"properties": {"a": {"type": "alias", "path": "nowhere"}}});
        assert!(mapping_types(&bad).unwrap_err().contains("nowhere"));
        assert!(mapping_types(&json!({})).is_err());
    }
}
