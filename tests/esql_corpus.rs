//! Every ES|QL query of the detection-rules corpus (`../shared/corpus/elastic-detection-rules`,
//! deprecated rules included) must parse, compile against the schema tables (ECS and Elastic
//! integration field types) and run over sample events without error. `COMPLETION` (an
//! inference endpoint) is the one construct rejected, by name.

mod common;

use ruleforge::query::esql::{self, DataType, EsqlErrorKind, EventCatalog};
use ruleforge::query::kql::FieldTypes;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Corpus queries that must compile and run (all but the COMPLETION ones).
const COMPILED_FLOOR: usize = 205;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules")
}

fn esql_queries() -> Vec<(String, String)> {
    (common::corpus_queries("esql").into_iter())
        .map(|(f, q)| {
            let name = f
                .strip_prefix(corpus_dir())
                .unwrap_or(&f)
                .display()
                .to_string();
            (name, q)
        })
        .collect()
}

/// A value of the field's type for a sample event.
fn sample(ty: DataType, i: usize) -> serde_json::Value {
    match ty {
        DataType::Boolean => json!(i % 2 == 0),
        DataType::Integer | DataType::Long | DataType::UnsignedLong => json!(i as i64 + 1),
        DataType::Double => json!(i as f64 + 0.5),
        DataType::Date => json!("2025-01-01T00:00:00.000Z"),
        DataType::Ip => json!(format!("10.0.0.{}", i + 1)),
        DataType::GeoPoint => json!({"lat": 48.0 + i as f64, "lon": 2.0 - 40.0 * i as f64}),
        _ => json!(format!("value{i}")),
    }
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_esql_query_parses_compiles_and_runs() {
    if !corpus_dir().is_dir() {
        println!(
            "corpus not found at {}; DID NOT RUN",
            corpus_dir().display()
        );
        return;
    }
    let schema = FieldTypes::ecs();
    let types = |f: &str| schema.get(f).map(|t| esql::events::schema_type(t.name()));
    let queries = esql_queries();
    let (mut parsed, mut compiled, mut ran, mut completion) = (0, 0, 0, 0);
    let mut unsupported = Vec::new();
    let mut failures = Vec::new();
    for (name, q) in &queries {
        let query = match esql::parse(q) {
            Ok(p) => p,
            Err(e) => {
                let snippet: String = q
                    .get(e.span.clone())
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect();
                failures.push(format!(
                    "{name}: parse {:?} {} `{snippet}`",
                    e.kind, e.message
                ));
                continue;
            }
        };
        parsed += 1;
        let fields = query.referenced_fields();
        let hints = query.field_type_hints();
        let types = |f: &str| types(f).or_else(|| hints.get(f).copied());
        // Compile: resolve every command against the typed columns, with no rows.
        let empty = EventCatalog {
            events: &[],
            types: &types,
            extra_fields: fields.clone(),
            only: None,
        };
        if let Err(e) = query.run(&empty, 0) {
            if e.kind == EsqlErrorKind::Unsupported
                && e.message.contains("COMPLETION is not supported")
            {
                completion += 1;
                continue;
            }
            if e.kind == EsqlErrorKind::Unsupported {
                // Fail closed: a construct the engine does not run, rejected with its name.
                unsupported.push(format!("{name}: {}", e.message));
                continue;
            }
            let snippet: String = q
                .get(e.span.clone())
                .unwrap_or("")
                .chars()
                .take(60)
                .collect();
            failures.push(format!(
                "{name}: compile {:?} {} `{snippet}`",
                e.kind, e.message
            ));
            continue;
        }
        compiled += 1;
        // Run over sample events holding every referenced field.
        let events: Vec<serde_json::Value> = (0..3)
            .map(|i| {
                let mut m = serde_json::Map::new();
                for f in &fields {
                    let ty = types(f).unwrap_or(DataType::Keyword);
                    m.insert(f.clone(), sample(ty, i));
                }
                serde_json::Value::Object(m)
            })
            .collect();
        let cat = EventCatalog {
            events: &events,
            types: &types,
            extra_fields: fields.clone(),
            only: None,
        };
        match query.run(&cat, 1_735_689_600_000) {
            Ok(_) => ran += 1,
            Err(e) => failures.push(format!("{name}: run {:?} {}", e.kind, e.message)),
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    for u in &unsupported {
        println!("UNSUPPORTED {u}");
    }
    println!(
        "esql corpus: {} rules, {parsed} parsed, {compiled} compiled, {ran} ran on sample events, {completion} rejected as COMPLETION, {} rejected as unsupported",
        queries.len(),
        unsupported.len()
    );
    // Today: 205 compile and run; the 7 COMPLETION queries are rejected by name.
    assert!(
        compiled >= COMPILED_FLOOR && ran == compiled,
        "ES|QL corpus regressed: {compiled} compiled, {ran} ran; floor {COMPILED_FLOOR}"
    );
    assert!(
        queries.len() >= 212,
        "expected the corpus's 212 ES|QL rules, found {}",
        queries.len()
    );
    assert!(
        unsupported.is_empty(),
        "only COMPLETION may be rejected:\n{}",
        unsupported.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} ES|QL corpus queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
