//! Field-selective parsing: an NDJSON event is parsed into a document that holds only the
//! fields some rule reads (every spelling of them: nested objects, dotted keys, arrays), so
//! that the rest of the event costs a syntax check and no allocation, and field lookups scan
//! small objects.
//!
//! The reduced document gives every reader of a kept field the values the whole document
//! would: for a key at dotted position `p` (the positions of its parents joined with `.`, the
//! key itself included, dots and all):
//! - `p` is a read field, or lies under a subtree read whole: the value is kept as it is;
//! - `p` is a dotted prefix of a read field: an object is reduced the same way, an array
//!   element by element (scalars there are values of `p`, which no one reads, and are left out);
//! - otherwise the value is skipped (still checked to be valid JSON).
//!
//! A read field with an empty segment (`a..b`, `.a`) could be spelt with an empty key, which
//! this position scheme does not model: such a set parses whole documents.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// The fields some rule reads, and how to parse an event down to them.
#[derive(Debug, Default, Clone)]
pub struct FieldSet {
    /// Read fields and subtrees: their values are kept whole.
    kept: HashSet<Box<str>>,
    /// Subtrees read whole (also in `kept`): a dotted key under one is kept.
    subtrees: HashSet<Box<str>>,
    /// Every dotted prefix of a kept path: objects there are reduced.
    prefixes: HashSet<Box<str>>,
    /// Parse whole documents (a rule reads every field, or a field the scheme cannot model).
    everything: bool,
}

enum Action {
    Keep,
    Reduce,
    Skip,
}

impl FieldSet {
    /// A set that keeps whole documents.
    pub fn everything() -> FieldSet {
        FieldSet {
            everything: true,
            ..FieldSet::default()
        }
    }

    /// Makes the set keep whole documents (a rule may read any field).
    pub fn add_everything(&mut self) {
        self.everything = true;
    }

    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// How many fields and subtrees are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The kept fields and subtrees.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kept.iter().map(|n| &**n)
    }

    /// Adds a field whose scalar values are read.
    pub fn add_field(&mut self, name: &str) {
        if name.is_empty() || name.split('.').any(str::is_empty) {
            self.everything = true;
            return;
        }
        for (i, b) in name.bytes().enumerate() {
            if b == b'.' {
                self.prefixes.insert(name[..i].into());
            }
        }
        self.kept.insert(name.into());
    }

    /// Adds a path read with everything below it.
    pub fn add_subtree(&mut self, name: &str) {
        self.add_field(name);
        self.subtrees.insert(name.into());
    }

    /// Everything a KQL query reads.
    pub fn add_kql(&mut self, reads: &crate::query::kql::FieldsRead) {
        if reads.everything {
            self.everything = true;
        }
        reads.fields.iter().for_each(|f| self.add_field(f));
        reads.subtrees.iter().for_each(|f| self.add_subtree(f));
    }

    fn action(&self, path: &str) -> Action {
        if self.kept.contains(path) {
            return Action::Keep;
        }
        // A dotted key can reach below a subtree in one step (`{"a": {"b.c": 1}}` under `a.b`).
        if !self.subtrees.is_empty()
            && path
                .bytes()
                .enumerate()
                .any(|(i, b)| b == b'.' && self.subtrees.contains(&path[..i]))
        {
            return Action::Keep;
        }
        if self.prefixes.contains(path) {
            return Action::Reduce;
        }
        Action::Skip
    }

    /// Parses one event (a JSON text) down to the kept fields. The text must be one valid
    /// JSON value, whatever is skipped; `Ok(None)` when it is not an object.
    pub fn parse(&self, text: &str) -> Result<Option<Value>, serde_json::Error> {
        let starts_object = text.trim_start().starts_with('{');
        if self.everything || !starts_object {
            let v: Value = serde_json::from_str(text)?;
            return Ok(v.is_object().then_some(v));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let mut path = String::new();
        let v = Reduce {
            set: self,
            path: &mut path,
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(Some(v.unwrap_or_else(|| Value::Object(Map::new()))))
    }
}

/// Reduces the value at dotted position `path`; `None` when nothing of it is kept.
struct Reduce<'a> {
    set: &'a FieldSet,
    path: &'a mut String,
}

impl<'de> DeserializeSeed<'de> for Reduce<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Appends a map key to the position buffer without allocating.
struct KeyInto<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for KeyInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.push_str(s);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Reduce<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let base = self.path.len();
        let mut out = Map::new();
        loop {
            self.path.truncate(base);
            if base > 0 {
                self.path.push('.');
            }
            let start = self.path.len();
            if map.next_key_seed(KeyInto(self.path))?.is_none() {
                break;
            }
            match self.set.action(self.path) {
                Action::Keep => {
                    let v: Value = map.next_value()?;
                    out.insert(self.path[start..].to_string(), v);
                }
                Action::Reduce => {
                    let key = self.path[start..].to_string();
                    let v = map.next_value_seed(Reduce {
                        set: self.set,
                        path: self.path,
                    })?;
                    if let Some(v) = v {
                        out.insert(key, v);
                    }
                }
                Action::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        self.path.truncate(base);
        Ok(Some(Value::Object(out)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Reduce {
            set: self.set,
            path: &mut *self.path,
        })? {
            if let Some(v) = v {
                out.push(v);
            }
        }
        Ok(Some(Value::Array(out)))
    }

    // Scalars at a prefix position are values of a field no rule reads.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::FieldPath;
    use serde_json::json;

    fn set(fields: &[&str], subtrees: &[&str]) -> FieldSet {
        let mut s = FieldSet::default();
        fields.iter().for_each(|f| s.add_field(f));
        subtrees.iter().for_each(|f| s.add_subtree(f));
        s
    }

    fn sorted(path: &str, v: &Value) -> Vec<String> {
        let mut out: Vec<String> = FieldPath::new(path)
            .values(v)
            .iter()
            .map(|v| v.to_string())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_spelling_of_a_read_field_is_kept_and_the_rest_dropped() {
        let docs = [
            json!({"a":{"b":{"c":1}}, "a.b.c": 2, "a.b": {"c": [3, null]}, "a": {"b.c": 4}}),
            json!({"a":[{"b":{"c":1, "d": 5}},{"b.c":2}, 7], "ab": {"c": 9}, "a.bc": 9}),
            json!({"x": 1, "a": {"x": {"c": 1}}, "a.b": 3}),
            json!({"a": {"b": {"c": {"d": 1}}}, "s": {"t": {"u": [1, {"v": 2}]}, "t.w": 3}}),
        ];
        let s = set(&["a.b.c", "x"], &["s.t"]);
        for d in docs {
            let text = d.to_string();
            let reduced = s.parse(&text).unwrap().unwrap();
            let full: Value = serde_json::from_str(&text).unwrap();
            for p in ["a.b.c", "x", "s.t.u", "s.t.u.v", "s.t.w"] {
                assert_eq!(sorted(p, &reduced), sorted(p, &full), "{p} in {text}");
            }
            assert!(sorted("a.b.d", &reduced).is_empty() && sorted("ab.c", &reduced).is_empty());
        }
    }

    #[test]
    fn skipped_parts_are_still_checked_and_non_objects_reported() {
        let s = set(&["a"], &[]);
        assert!(s.parse(r#"{"b": [1, }"#).is_err());
        assert!(s.parse(r#"{"a": 1} x"#).is_err());
        assert!(s.parse(r#"{"a": 1, "a": 2}"#).unwrap().is_some());
        assert_eq!(s.parse("[1]").unwrap(), None);
        assert_eq!(s.parse("3").unwrap(), None);
        // Nesting in kept parts is bounded (an error, as for whole documents); skipped parts
        // are checked without recursion, so no depth can exhaust the stack.
        let deep =
            |key: &str, n: usize| format!("{{\"{key}\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(s.parse(&deep("a", 200)).is_err(), "nesting is bounded");
        assert!(s.parse(&deep("b", 1_000_000)).unwrap().is_some());
        assert!(s.parse(&deep("b", 1_000_000)[..500_000]).is_err());
    }

    #[test]
    fn empty_segments_parse_whole_documents() {
        let s = set(&["a..b"], &[]);
        assert!(s.is_everything());
        let v = s.parse(r#"{"z": 1}"#).unwrap().unwrap();
        assert_eq!(v, json!({"z": 1}));
    }
}
