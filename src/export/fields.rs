//! `required_fields` (`kibana-export.md` §3.2).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::integrations::parse_datasets;
use super::tables::Tables;

/// Elasticsearch mapping type → the type family upstream reports for integration fields.
pub fn type_family(mapping_type: &str) -> &str {
    match mapping_type {
        "long_range" | "double_range" | "date_range" | "ip_range" => "range",
        "annotated-text" | "completion" | "match_only_text" | "search-as_you_type" => "text",
        "constant_keyword" | "wildcard" => "keyword",
        "date_nanos" => "date",
        "token_count" | "long" | "short" | "byte" | "unsigned_long" => "integer",
        "double" | "half_float" | "scaled_float" => "float",
        other => other,
    }
}

/// The rule's schemas other than ECS and the integration packages.
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldSources<'a> {
    /// The rule's Beats schema (it reads `*beat-*` indices).
    pub beats: Option<&'a HashMap<String, String>>,
    /// The endgame schema (the rule reads `endgame-*`).
    pub endgame: Option<&'a HashMap<String, String>>,
}

/// Entries `{name, type, ecs}` for the distinct `fields`, sorted by name.
///
/// ECS fields (flat names of the stack's ECS schema) get their ECS type and `ecs: true`. Other
/// fields take their type from exactly one source, the first the rule has of: the integration
/// data streams named by the query's datasets; its (non-empty) Beats schema; the endgame
/// schema. A field that source lacks, or a field without any source, is `"unknown"`.
pub fn required_fields(
    fields: &[String],
    datasets: &[String],
    tables: &Tables,
    sources: FieldSources<'_>,
) -> Vec<Value> {
    let mut int_schema: HashMap<&str, &str> = HashMap::new();
    let mut have_int_schema = false;
    for (package, stream) in parse_datasets(datasets, tables) {
        let Some(pkg) = tables.fields.get(&package) else {
            continue;
        };
        let Some(map) = pkg.streams.get(&stream) else {
            continue;
        };
        have_int_schema = true;
        for (k, v) in map {
            int_schema.insert(k.as_str(), v.as_str());
        }
    }

    let mut names: Vec<&str> = fields.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let (ty, ecs) = match tables.ecs.get(name) {
                Some(t) => (t.as_str(), true),
                None => {
                    let ty = match sources {
                        _ if have_int_schema => {
                            int_schema.get(name).map_or("unknown", |t| type_family(t))
                        }
                        FieldSources { beats: Some(b), .. } if !b.is_empty() => {
                            b.get(name).map_or("unknown", String::as_str)
                        }
                        FieldSources {
                            endgame: Some(e), ..
                        } => e.get(name).map_or("unknown", String::as_str),
                        _ => "unknown",
                    };
                    (ty, false)
                }
            };
            let mut m = Map::new();
            m.insert("ecs".into(), Value::Bool(ecs));
            m.insert("name".into(), Value::String(name.to_string()));
            m.insert("type".into(), Value::String(ty.to_string()));
            Value::Object(m)
        })
        .collect()
}
