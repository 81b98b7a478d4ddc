//! Event walks that `FieldPath` does not offer: objects at a path (nested queries), every leaf
//! under a path (flattened fields), and every leaf with its dotted name (free text and field
//! names with `*`). Same flattening rules as `FieldPath`: dotted keys and nested objects are
//! one field, arrays are transparent, nulls are dropped.

use serde_json::Value;

/// Every value at `name` (objects included), arrays flattened, nulls dropped.
pub(crate) fn nodes_at<'a>(event: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    collect(event, name, &mut out);
    out
}

fn push_flat<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|i| push_flat(i, out)),
        other => out.push(other),
    }
}

fn collect<'a>(node: &'a Value, rest: &str, out: &mut Vec<&'a Value>) {
    match node {
        Value::Array(items) => items.iter().for_each(|i| collect(i, rest, out)),
        Value::Object(map) => {
            if let Some(v) = map.get(rest) {
                push_flat(v, out);
            }
            for (i, b) in rest.bytes().enumerate() {
                if b == b'.' {
                    if let Some(child) = map.get(&rest[..i]) {
                        collect(child, &rest[i + 1..], out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Calls `f` on every scalar at or below `name`; stops when `f` returns true.
pub(crate) fn visit_deep(event: &Value, name: &str, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    nodes_at(event, name).into_iter().any(|n| scalars(n, f))
}

fn scalars(v: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => items.iter().any(|i| scalars(i, f)),
        Value::Object(map) => map.values().any(|i| scalars(i, f)),
        other => f(other),
    }
}

/// Calls `f(dotted_name, value)` on every scalar of the event; stops when `f` returns true.
pub(crate) fn visit_leaves(event: &Value, f: &mut dyn FnMut(&str, &Value) -> bool) -> bool {
    let mut path = String::new();
    leaves(event, &mut path, f)
}

fn leaves(v: &Value, path: &mut String, f: &mut dyn FnMut(&str, &Value) -> bool) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => items.iter().any(|i| leaves(i, path, f)),
        Value::Object(map) => {
            for (k, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let stop = leaves(child, path, f);
                path.truncate(len);
                if stop {
                    return true;
                }
            }
            false
        }
        scalar => !path.is_empty() && f(path, scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nodes_and_leaves() {
        let e = json!({"a": [{"b": {"c": 1}}, {"b": null}], "a.b": {"d": 2}, "x": "y"});
        assert_eq!(nodes_at(&e, "a.b").len(), 2);
        let mut seen = Vec::new();
        visit_leaves(&e, &mut |n, v| {
            seen.push(format!("{n}={v}"));
            false
        });
        seen.sort();
        assert_eq!(seen, ["a.b.c=1", "a.b.d=2", "x=\"y\""]);
        let mut deep = Vec::new();
        visit_deep(&e, "a", &mut |v| {
            deep.push(v.clone());
            false
        });
        assert_eq!(deep, vec![json!(1)]);
    }
}
