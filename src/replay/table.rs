//! Fields looked up once per event and shared by every rule: an event's values of every field
//! the rule set reads are gathered in one walk of its (reduced) document into a table indexed
//! by slot, and rules read them by [`FieldPath::id`] instead of searching the document each.
//!
//! The walk flattens the document as Elasticsearch indexes it (and as [`FieldPath`] looks up):
//! object keys joined with `.` (a dotted key is the same field as nested objects), arrays
//! transparent, nulls dropped, objects not values. Values of one field come in document order,
//! as a lookup finds them.

use crate::query::{Document, Event, FieldPath};
use serde_json::Value;
use std::collections::HashMap;

/// Slot numbers of the fields of a rule set.
#[derive(Debug, Default)]
pub struct Slots {
    /// [`FieldPath::id`] → slot (`u32::MAX`: no slot).
    by_id: Vec<u32>,
    /// Dotted name → slot, for the walk.
    by_name: HashMap<Box<str>, u32>,
}

const NONE: u32 = u32::MAX;

impl Slots {
    /// Slots for `names`; names with an empty segment (`a..b`), which an empty key could
    /// spell, are left to document lookup.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Slots {
        let mut s = Slots::default();
        for name in names {
            if name.is_empty() || name.split('.').any(str::is_empty) {
                continue;
            }
            if s.by_name.contains_key(name) {
                continue;
            }
            let slot = s.by_name.len() as u32;
            s.by_name.insert(name.into(), slot);
            let id = FieldPath::new(name).id() as usize;
            if s.by_id.len() <= id {
                s.by_id.resize(id + 1, NONE);
            }
            s.by_id[id] = slot;
        }
        s
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The event's table: one walk of `doc`.
    pub fn table<'a>(&'a self, doc: &'a Value) -> Table<'a> {
        let mut found: Vec<(u32, &'a Value)> = Vec::new();
        let mut path = String::new();
        self.walk(doc, &mut path, &mut found);
        // Stable: the values of one field keep their document order.
        found.sort_by_key(|&(slot, _)| slot);
        let mut ranges = vec![(0u32, 0u32); self.by_name.len()];
        let mut i = 0;
        while i < found.len() {
            let slot = found[i].0;
            let start = i;
            while i < found.len() && found[i].0 == slot {
                i += 1;
            }
            ranges[slot as usize] = (start as u32, (i - start) as u32);
        }
        Table {
            doc,
            slots: self,
            ranges,
            values: found.into_iter().map(|(_, v)| v).collect(),
        }
    }

    fn walk<'a>(&self, v: &'a Value, path: &mut String, out: &mut Vec<(u32, &'a Value)>) {
        match v {
            Value::Object(map) => {
                let len = path.len();
                for (k, child) in map {
                    if len > 0 {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(child, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.walk(i, path, out)),
            Value::Null => {}
            scalar => {
                if let Some(&slot) = self.by_name.get(path.as_str()) {
                    out.push((slot, scalar));
                }
            }
        }
    }
}

/// One event's values of the rule set's fields, by slot, over its document.
pub struct Table<'a> {
    doc: &'a Value,
    slots: &'a Slots,
    ranges: Vec<(u32, u32)>,
    values: Vec<&'a Value>,
}

impl Table<'_> {
    #[inline]
    fn slot(&self, path: &FieldPath) -> Option<usize> {
        match self.slots.by_id.get(path.id() as usize) {
            Some(&s) if s != NONE => Some(s as usize),
            _ => None,
        }
    }
}

impl Event for Table<'_> {
    #[inline]
    fn visit_field<'b>(&'b self, path: &FieldPath, f: &mut dyn FnMut(&'b Value) -> bool) -> bool {
        match self.slot(path) {
            Some(s) => {
                let (start, len) = self.ranges[s];
                self.values[start as usize..(start + len) as usize]
                    .iter()
                    .any(|v| f(v))
            }
            None => path.visit_unordered(self.doc, f),
        }
    }
}

impl Document for Table<'_> {
    #[inline]
    fn document(&self) -> &Value {
        self.doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_table_gives_the_values_a_document_lookup_gives_in_the_same_order() {
        let docs = [
            json!({"a":{"b":{"c":1}}, "a.b.c": 2, "a.b": {"c": [3, null, [4]]}, "a": {"b.c": 5}}),
            json!({"a":[{"b":{"c":1}},{"b.c":2}, 7], "ab": {"c": 9}, "a.bc": 9, "x": "y"}),
            json!({"a": {"b": {"c": {"d": 1}}}, "x": [null], "a.b": [{"c": true}, 3]}),
            json!({"x": {}, "a": []}),
        ];
        let names = ["a.b.c", "x", "a.b", "a", "nope", "a..b"];
        let slots = Slots::new(names);
        assert_eq!(slots.len(), 5);
        for d in &docs {
            let t = slots.table(d);
            for n in names {
                let p = FieldPath::new(n);
                let mut got = Vec::new();
                t.visit_field(&p, &mut |v| {
                    got.push(v.clone());
                    false
                });
                let mut want = Vec::new();
                d.visit_field(&p, &mut |v| {
                    want.push(v.clone());
                    false
                });
                assert_eq!(got, want, "{n} in {d}");
            }
        }
    }
}
