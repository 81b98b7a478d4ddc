//! Kibana filter objects (`[[rule.filters]]`, `[[rule.threat_filters]]`) evaluated offline.
//!
//! A filter is the Elasticsearch query Kibana's filter bar stores, with `meta.negate` and
//! `meta.disabled`. The shapes Kibana's filter bar writes for "is", "is one of" and "exists"
//! are evaluated: `match_phrase` / `match` / `term` on one field (a value, or `{query}` /
//! `{value}`), `terms` on one field, `exists`, and `bool.should` of such phrases with
//! `minimum_should_match = 1` ("is one of"). Values compare as Elasticsearch compares a keyword
//! field: the whole value, case-sensitively (numbers and booleans by their text). Any other shape
//! is refused by name, so a rule is never replayed with a filter silently dropped.

use crate::query::FieldPath;
use crate::rule::Rule;
use serde_json::Value;

/// One enabled filter.
#[derive(Debug, Clone)]
pub struct Filter {
    negate: bool,
    clause: Clause,
}

#[derive(Debug, Clone)]
enum Clause {
    /// The field holds one of these values (as text).
    OneOf {
        field: FieldPath,
        values: Vec<String>,
    },
    Exists(FieldPath),
}

/// A filter the replay cannot evaluate: which one (0-based) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter {} of `{key}`: {message}", .position + 1)]
pub struct FilterError {
    pub key: String,
    pub position: usize,
    pub message: String,
}

/// The enabled filters of `rule.<key>` (`filters`, `threat_filters`); none when absent.
pub fn of_rule(rule: &Rule, key: &str) -> Result<Vec<Filter>, FilterError> {
    let Some(node) = rule.tree.path(&format!("rule.{key}")) else {
        return Ok(Vec::new());
    };
    let json = node.to_json();
    let items = json.as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let err = |message: String| FilterError {
            key: key.to_string(),
            position,
            message,
        };
        let meta = item.get("meta");
        let flag = |name: &str| {
            meta.and_then(|m| m.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if flag("disabled") {
            continue;
        }
        let query = item.get("query").ok_or_else(|| {
            err("has no `query` (only filters with a query DSL body are evaluated)".into())
        })?;
        out.push(Filter {
            negate: flag("negate"),
            clause: clause(query).map_err(err)?,
        });
    }
    Ok(out)
}

/// The single `{ field: body }` pair of a leaf query.
fn single_field(body: &Value, kind: &str) -> Result<(String, Value), String> {
    match body.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().ok_or("empty")?;
            Ok((k.clone(), v.clone()))
        }
        _ => Err(format!("`{kind}` must name exactly one field")),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn clause(query: &Value) -> Result<Clause, String> {
    let obj = query
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or("the query must hold exactly one clause")?;
    let (kind, body) = obj.iter().next().ok_or("empty query")?;
    match kind.as_str() {
        "match_phrase" | "match" | "term" => {
            let (field, v) = single_field(body, kind)?;
            let inner = match &v {
                Value::Object(o) => o
                    .get("query")
                    .or_else(|| o.get("value"))
                    .cloned()
                    .ok_or_else(|| format!("`{kind}` on `{field}` has no `query`/`value`"))?,
                other => other.clone(),
            };
            if let Value::Object(o) = &v {
                if let Some(extra) = o.keys().find(|k| !matches!(k.as_str(), "query" | "value")) {
                    return Err(format!("`{kind}` option `{extra}` is not supported"));
                }
            }
            let value = text(&inner).ok_or_else(|| {
                format!("`{kind}` on `{field}` needs a string, number or boolean")
            })?;
            Ok(Clause::OneOf {
                field: FieldPath::new(&field),
                values: vec![value],
            })
        }
        "terms" => {
            let (field, v) = single_field(body, kind)?;
            let values = v
                .as_array()
                .map(|a| a.iter().filter_map(text).collect::<Vec<_>>())
                .filter(|vals| vals.len() == v.as_array().map_or(0, Vec::len))
                .ok_or_else(|| format!("`terms` on `{field}` needs an array of scalars"))?;
            Ok(Clause::OneOf {
                field: FieldPath::new(&field),
                values,
            })
        }
        "exists" => {
            let field = body
                .get("field")
                .and_then(Value::as_str)
                .ok_or("`exists` needs a `field`")?;
            Ok(Clause::Exists(FieldPath::new(field)))
        }
        "bool" => one_of_phrases(body),
        other => Err(format!("query clause `{other}` is not supported offline")),
    }
}

/// Kibana's "is one of" filter: `bool.should` of `match_phrase` on one field, at least one.
fn one_of_phrases(body: &Value) -> Result<Clause, String> {
    let obj = body.as_object().ok_or("`bool` must be an object")?;
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "should" | "minimum_should_match"))
    {
        return Err(format!("`bool` with `{k}` is not supported offline"));
    }
    if obj
        .get("minimum_should_match")
        .is_some_and(|m| m.as_i64() != Some(1) && m.as_str() != Some("1"))
    {
        return Err("`bool.minimum_should_match` other than 1 is not supported".into());
    }
    let should = obj
        .get("should")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or("`bool` needs a non-empty `should`")?;
    let mut field: Option<FieldPath> = None;
    let mut values = Vec::new();
    for s in should {
        match clause(s)? {
            Clause::OneOf {
                field: f,
                values: v,
            } if field.as_ref().is_none_or(|x| x.as_str() == f.as_str()) => {
                field = Some(f);
                values.extend(v);
            }
            _ => return Err("`bool.should` must hold phrases on one field".into()),
        }
    }
    let field = field.ok_or("`bool` needs a non-empty `should`")?;
    Ok(Clause::OneOf { field, values })
}

impl Filter {
    /// The field the filter reads.
    pub fn field(&self) -> &FieldPath {
        match &self.clause {
            Clause::OneOf { field, .. } | Clause::Exists(field) => field,
        }
    }

    /// Whether the document passes this filter.
    pub fn passes(&self, doc: &Value) -> bool {
        let hit = match &self.clause {
            Clause::Exists(f) => f.exists(doc),
            Clause::OneOf { field, values } => field
                .values(doc)
                .into_iter()
                .filter_map(text)
                .any(|v| values.contains(&v)),
        };
        hit != self.negate
    }
}

/// Whether the document passes every filter.
pub fn pass_all(filters: &[Filter], doc: &Value) -> bool {
    filters.iter().all(|f| f.passes(doc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(q: Value, negate: bool) -> Result<Filter, String> {
        Ok(Filter {
            negate,
            clause: clause(&q)?,
        })
    }

    #[test]
    fn phrase_exists_and_negation_decide_as_elasticsearch_would() {
        let doc = json!({"event": {"kind": "enrichment", "category": ["threat", "x"]}, "n": 3});
        let phrase = filter(json!({"match_phrase": {"event.category": "threat"}}), false).unwrap();
        assert!(phrase.passes(&doc));
        let query_form = filter(
            json!({"match_phrase": {"event.kind": {"query": "Enrichment"}}}),
            false,
        )
        .unwrap();
        assert!(
            !query_form.passes(&doc),
            "keyword comparison is case-sensitive"
        );
        let num = filter(json!({"term": {"n": 3}}), false).unwrap();
        assert!(num.passes(&doc));
        let not_exists = filter(json!({"exists": {"field": "rapid7.tc.id"}}), true).unwrap();
        assert!(not_exists.passes(&doc));
        assert!(!not_exists.passes(&json!({"rapid7": {"tc": {"id": "CVE-1"}}})));
        let one_of = filter(
            json!({"bool": {"should": [{"match_phrase": {"n": 4}}, {"match_phrase": {"n": 3}}], "minimum_should_match": 1}}),
            false,
        )
        .unwrap();
        assert!(one_of.passes(&doc));
    }

    #[test]
    fn unknown_shapes_are_refused_by_name() {
        let e = filter(json!({"range": {"n": {"gte": 1}}}), false).unwrap_err();
        assert!(e.contains("`range`"), "{e}");
        let e = filter(json!({"bool": {"must": []}}), false).unwrap_err();
        assert!(e.contains("`must`"), "{e}");
        let e = filter(json!({"match_phrase": {"a": 1, "b": 2}}), false).unwrap_err();
        assert!(e.contains("exactly one field"), "{e}");
    }
}
