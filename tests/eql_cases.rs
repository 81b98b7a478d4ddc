//! Runs the TOML evaluator cases in `tests/data/eql/*.toml` (format in its README.md).

use ruleforge::query::eql::{self, Hit, Mapping, Options};
use serde_json::Value;
use std::path::Path;

fn flatten(hits: &[Hit]) -> (Vec<i64>, Vec<Value>) {
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    for h in hits {
        match h {
            Hit::Event { index } => ids.push(*index as i64),
            Hit::Sequence { events, join_keys } => {
                ids.extend(events.iter().map(|e| e.map_or(-1, |i| i as i64)));
                keys.extend(join_keys.iter().cloned());
            }
            Hit::Sample { events, join_keys } => {
                ids.extend(events.iter().map(|&i| i as i64));
                keys.extend(join_keys.iter().cloned());
            }
        }
    }
    (ids, keys)
}

fn run_case(case: &Value) -> Result<(), String> {
    let query = case["query"].as_str().ok_or("no query")?;
    let mut events: Vec<Value> = Vec::new();
    for (i, line) in case["events"].as_str().unwrap_or("").lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut e: Value = serde_json::from_str(line).map_err(|e| format!("event {i}: {e}"))?;
        if e.get("@timestamp").is_none() {
            e["@timestamp"] = Value::from(events.len());
        }
        events.push(e);
    }
    let mut opts = Options::default();
    if let Some(t) = case["tiebreaker"].as_str() {
        opts.tiebreaker_field = Some(t.to_string());
    }
    // A mapping is the index's: fields it leaves out were mapped dynamically when the events
    // were indexed (or the documents rejected, under `dynamic: strict`).
    let mapping = match case["mapping"].as_str() {
        Some(m) => {
            let v: Value = serde_json::from_str(m).map_err(|e| format!("mapping: {e}"))?;
            Some(Mapping::from_es_mapping_json(&v).and_then(|mut m| {
                m.add_dynamic(&events)?;
                Ok(m)
            }))
        }
        None => None,
    };
    let result = match mapping {
        Some(Err(e)) => Err(e),
        m => {
            opts.mapping = m.and_then(Result::ok);
            eql::parse(query)
                .and_then(|q| q.compile(&opts))
                .and_then(|c| c.execute(&events))
        }
    };
    if let Some(kind) = case["error"].as_str() {
        return match result {
            Ok(h) => Err(format!("expected a {kind} error, got {h:?}")),
            Err(e) => {
                if format!("{:?}", e.kind) != kind {
                    return Err(format!("expected {kind}, got {:?}: {}", e.kind, e.message));
                }
                if let Some(m) = case["error_message"].as_str() {
                    if !e.message.contains(m) {
                        return Err(format!(
                            "expected a message containing {m:?}, got {:?}",
                            e.message
                        ));
                    }
                }
                if let Some(span) = case["error_span"].as_array() {
                    let want = span[0].as_u64().unwrap_or(0) as usize
                        ..span[1].as_u64().unwrap_or(0) as usize;
                    if e.span != want {
                        return Err(format!(
                            "expected span {want:?}, got {:?} ({})",
                            e.span, e.message
                        ));
                    }
                }
                Ok(())
            }
        };
    }
    let hits = result.map_err(|e| format!("{:?} at {:?}: {}", e.kind, e.span, e.message))?;
    let (ids, keys) = flatten(&hits);
    let want: Vec<i64> = case["expected"]
        .as_array()
        .ok_or("no expected")?
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    if ids != want {
        return Err(format!("expected {want:?}, got {ids:?}"));
    }
    let jk = match &case["join_keys"] {
        Value::String(s) => {
            Some(serde_json::from_str::<Value>(s).map_err(|e| format!("join_keys: {e}"))?)
        }
        Value::Null => None,
        other => Some(other.clone()),
    };
    if let Some(Value::Array(jk)) = jk {
        if jk != keys {
            return Err(format!("join keys: expected {jk:?}, got {keys:?}"));
        }
    }
    Ok(())
}

#[test]
fn toml_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let doc: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let doc = serde_json::to_value(doc).unwrap();
        for case in doc["case"].as_array().cloned().unwrap_or_default() {
            let name = case["name"].as_str().unwrap_or("?");
            match run_case(&case) {
                Ok(()) => passed += 1,
                Err(why) => {
                    failed += 1;
                    println!(
                        "FAIL {}::{name}: {why}",
                        f.file_name().unwrap().to_string_lossy()
                    );
                }
            }
        }
    }
    println!("eql_cases: {passed} passed, {failed} failed");
    assert!(passed > 0);
    assert_eq!(failed, 0);
}
