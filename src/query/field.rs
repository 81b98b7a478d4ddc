//! Field lookup over JSON events, the way Elasticsearch sees a document once indexed.
//!
//! Elasticsearch flattens objects into dotted paths, so `{"a":{"b":1}}`, `{"a.b":1}` and
//! `{"a":[{"b":1}]}` all hold field `a.b`. Arrays (of values or of objects, nested or not) make
//! the field multi-valued; `null` elements are dropped and `[]` counts as missing. When several
//! spellings occur in one document their values are merged. Both query languages share this.

use serde_json::Value;

/// A field name split once into its dotted parts, so lookups never re-split per event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    name: Box<str>,
    /// Byte offsets of every '.' in `name`, used to try dotted-key spellings.
    dots: Box<[usize]>,
    /// The name's number in this process (see [`FieldPath::id`]).
    id: u32,
}

/// Every field name a [`FieldPath`] was made for, numbered in order of first use.
fn interner() -> &'static std::sync::RwLock<std::collections::HashMap<Box<str>, u32>> {
    static NAMES: std::sync::OnceLock<std::sync::RwLock<std::collections::HashMap<Box<str>, u32>>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(Default::default)
}

/// The number of a field name, numbering it if it is new.
fn intern(name: &str) -> u32 {
    // A poisoned lock still holds a consistent map: entries are inserted whole.
    if let Some(&id) = interner()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
    {
        return id;
    }
    let mut names = interner().write().unwrap_or_else(|e| e.into_inner());
    let next = names.len() as u32;
    *names.entry(name.into()).or_insert(next)
}

impl FieldPath {
    pub fn new(name: &str) -> Self {
        let dots = name
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'.')
            .map(|(i, _)| i)
            .collect();
        FieldPath {
            name: name.into(),
            dots,
            id: intern(name),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// A number for the name, the same for every `FieldPath` of that name in this process
    /// (and different for different names): a key for tables of fields looked up once per
    /// event and shared by many queries.
    #[inline]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Calls `f` with every scalar value (string, number, bool) of the field in `event`,
    /// in document order. `f` returns `true` to stop early. Returns `true` if stopped early.
    pub fn visit<'a>(&self, event: &'a Value, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
        visit_from(event, &self.name, &self.dots, 0, f)
    }

    /// Like [`visit`](Self::visit), but in no particular order across spellings: at each
    /// object level it scans the (few) keys once for ones that spell a prefix of the path,
    /// instead of one map lookup per possible dotted prefix. The matcher's hot path.
    #[inline]
    pub fn visit_unordered<'a>(
        &self,
        event: &'a Value,
        f: &mut dyn FnMut(&'a Value) -> bool,
    ) -> bool {
        scan_from(event, self.name.as_bytes(), f)
    }

    /// All scalar values of the field (empty when missing or null).
    pub fn values<'a>(&self, event: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        self.visit(event, &mut |v| {
            out.push(v);
            false
        });
        out
    }

    /// True when the field has at least one non-null value.
    pub fn exists(&self, event: &Value) -> bool {
        self.visit(event, &mut |_| true)
    }

    /// The raw JSON at the exact path when the document spells it as plain nested objects, or
    /// as one dotted key; used for display, not for matching.
    pub fn first<'a>(&self, event: &'a Value) -> Option<&'a Value> {
        let mut found = None;
        self.visit(event, &mut |v| {
            found = Some(v);
            true
        });
        found
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Where field values come from. Evaluators only ask for the scalar values of a dotted field
/// (any order); [`serde_json::Value`] walks the document, other implementations look them up
/// in a table built once per event and shared by many queries.
pub trait Event {
    /// Calls `f` with every scalar value of `path` (arrays flattened, nulls skipped); `f`
    /// returns true to stop. Returns true if stopped.
    fn visit_field<'a>(&'a self, path: &FieldPath, f: &mut dyn FnMut(&'a Value) -> bool) -> bool;
}

impl Event for Value {
    #[inline]
    fn visit_field<'a>(&'a self, path: &FieldPath, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
        path.visit_unordered(self, f)
    }
}

/// An [`Event`] that also offers its JSON document, for what field lookup does not cover
/// (KQL free text, field names with `*`, nested queries, flattened fields).
pub trait Document: Event {
    fn document(&self) -> &Value;
}

impl Document for Value {
    #[inline]
    fn document(&self) -> &Value {
        self
    }
}

/// `rest` is the remaining path (`name[start..]`), `dots` the absolute dot offsets in `name`.
fn visit_from<'a>(
    node: &'a Value,
    name: &str,
    dots: &[usize],
    start: usize,
    f: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    match node {
        Value::Array(items) => {
            for item in items {
                if visit_from(item, name, dots, start, f) {
                    return true;
                }
            }
            false
        }
        Value::Object(map) => {
            let rest = &name[start..];
            // Whole remaining path as one key: {"a.b.c": v} or the last segment.
            if let Some(v) = map.get(rest) {
                if visit_leaf(v, f) {
                    return true;
                }
            }
            // Every dotted prefix of the remaining path as a key, descending into its value.
            for &dot in dots.iter().filter(|&&d| d > start) {
                if let Some(child) = map.get(&name[start..dot]) {
                    if visit_from(child, name, dots, dot + 1, f) {
                        return true;
                    }
                }
            }
            false
        }
        _ => false,
    }
}

/// `rest` is the remaining dotted path; keys equal to it are leaves, keys that are a prefix
/// of it ending at a dot are descended into.
fn scan_from<'a>(node: &'a Value, rest: &[u8], f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    match node {
        Value::Array(items) => items.iter().any(|item| scan_from(item, rest, f)),
        Value::Object(map) => {
            let Some(&first) = rest.first() else {
                return false;
            };
            for (k, v) in map {
                // Length first: it lives in the map node, while the key's bytes are a separate
                // allocation (a cache miss on cold events). A key can only spell the whole rest
                // of the path or a part of it that ends at a dot.
                let l = k.len();
                if l > rest.len() || (l < rest.len() && rest[l] != b'.') {
                    continue;
                }
                let kb = k.as_bytes();
                if kb.first() != Some(&first) || !rest.starts_with(kb) {
                    continue;
                }
                if kb.len() == rest.len() {
                    if visit_leaf(v, f) {
                        return true;
                    }
                } else if rest[kb.len()] == b'.' && scan_from(v, &rest[kb.len() + 1..], f) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

fn visit_leaf<'a>(v: &'a Value, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => items.iter().any(|item| visit_leaf(item, f)),
        // An object where a scalar is expected is not a value of this field.
        Value::Object(_) => false,
        scalar => f(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vals(doc: Value, path: &str) -> Vec<Value> {
        FieldPath::new(path)
            .values(&doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn nested_and_dotted_spellings_are_the_same_field() {
        assert_eq!(vals(json!({"a":{"b":{"c":1}}}), "a.b.c"), vec![json!(1)]);
        assert_eq!(vals(json!({"a.b.c":1}), "a.b.c"), vec![json!(1)]);
        assert_eq!(vals(json!({"a":{"b.c":1}}), "a.b.c"), vec![json!(1)]);
        assert_eq!(vals(json!({"a.b":{"c":1}}), "a.b.c"), vec![json!(1)]);
    }

    #[test]
    fn several_spellings_merge_into_one_multi_valued_field() {
        assert_eq!(
            vals(json!({"a":{"b":1}, "a.b":2}), "a.b"),
            vec![json!(2), json!(1)]
        );
    }

    #[test]
    fn arrays_flatten_and_drop_nulls() {
        assert_eq!(
            vals(json!({"a":[{"b":1},{"b":[2,null,[3]]}]}), "a.b"),
            vec![json!(1), json!(2), json!(3)]
        );
        assert!(vals(json!({"a":{"b":[]}}), "a.b").is_empty());
        assert!(vals(json!({"a":{"b":null}}), "a.b").is_empty());
    }

    #[test]
    fn unordered_visit_finds_the_same_values() {
        let docs = [
            json!({"a":{"b":{"c":1}}, "a.b.c": 2, "a.b": {"c": [3, null]}, "a": {"b.c": 4}}),
            json!({"a":[{"b":{"c":1}},{"b.c":2}], "ab": {"c": 9}, "a.bc": 9}),
            json!({"x": 1}),
            json!({"a": {"b": {"c": {"d": 1}}}}),
        ];
        for d in docs {
            let p = FieldPath::new("a.b.c");
            let mut fast = Vec::new();
            p.visit_unordered(&d, &mut |v| {
                fast.push(v.clone());
                false
            });
            let mut slow: Vec<Value> = p.values(&d).into_iter().cloned().collect();
            fast.sort_by_key(|v| v.to_string());
            slow.sort_by_key(|v| v.to_string());
            assert_eq!(fast, slow, "{d}");
        }
    }

    #[test]
    fn objects_are_not_values_and_missing_is_empty() {
        assert!(vals(json!({"a":{"b":{"c":1}}}), "a.b").is_empty());
        assert!(vals(json!({"x":1}), "a.b").is_empty());
        assert!(!FieldPath::new("a").exists(&json!({"a": null})));
        assert!(FieldPath::new("a").exists(&json!({"a": false})));
    }
}
