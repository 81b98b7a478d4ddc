//! Every EQL query of the detection-rules corpus (`../shared/corpus/elastic-detection-rules`,
//! deprecated rules included) must parse and verify.

mod common;

use ruleforge::query::eql;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules")
}

/// (file, query) for every rule with `language = "eql"`.
fn eql_queries() -> Vec<(PathBuf, String)> {
    common::corpus_queries("eql")
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_eql_query_parses() {
    if !corpus_dir().is_dir() {
        println!("corpus not found at {}; skipping", corpus_dir().display());
        return;
    }
    let queries = eql_queries();
    let mut failures = Vec::new();
    for (file, q) in &queries {
        if let Err(e) = eql::parse(q) {
            let snippet = q
                .get(e.span.clone())
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>();
            failures.push(format!(
                "{}: {:?} {} at {:?} `{snippet}`",
                file.strip_prefix(corpus_dir()).unwrap_or(file).display(),
                e.kind,
                e.message,
                e.span
            ));
        }
    }
    // Each parsed rule also compiles and runs over a few events without panicking.
    let events: Vec<serde_json::Value> = vec![
        serde_json::json!({"@timestamp": 1, "event": {"category": ["process"], "type": ["start"]},
            "host": {"os": {"type": "linux"}, "id": "h"}, "process": {"name": "bash", "args": ["-c", "x"],
            "parent": {"name": "sshd"}, "pid": 7, "entity_id": "e"}, "user": {"name": "root", "id": "0"}}),
        serde_json::json!({"@timestamp": 2, "event": {"category": "network"}, "source": {"ip": "10.0.0.1"},
            "destination": {"ip": "8.8.8.8", "port": 53}, "host": {"id": "h"}, "process": {"entity_id": "e"}}),
        serde_json::json!({"@timestamp": 3, "event": {"category": ["file", "process"]}, "file": {"path": "C:\\x.exe"},
            "host": {"id": "h"}, "process": {"entity_id": "e", "name": "x.exe"}}),
    ];
    let mut hits = 0;
    for (file, q) in &queries {
        if let Ok(p) = eql::parse(q) {
            match p
                .compile(&eql::Options::default())
                .and_then(|c| c.execute(&events))
            {
                Ok(h) => hits += h.len(),
                Err(e) => {
                    failures.push(format!("{}: runs with error {}", file.display(), e.message))
                }
            }
        }
    }
    println!("corpus: {hits} hits over the smoke events");
    for f in &failures {
        println!("FAIL {f}");
    }
    println!(
        "corpus: {} of {} EQL queries parse",
        queries.len() - failures.len(),
        queries.len()
    );
    assert!(
        queries.len() > 1000,
        "expected the whole corpus, found {}",
        queries.len()
    );
    assert!(
        failures.is_empty(),
        "{} corpus queries failed to parse",
        failures.len()
    );
}

/// Truncated and spliced corpus queries must give errors, never panics.
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn mangled_queries_never_panic() {
    if !corpus_dir().is_dir() {
        println!("corpus not found; skipping");
        return;
    }
    let queries = eql_queries();
    let noise = [
        "(", ")", "\"", "\"\"\"", "[", "]", "~", "?", "`", "\\", "not ", "==", "é", "*", "|", "/*",
        "\\u{",
    ];
    let mut parsed = 0;
    for (n, (_, q)) in queries.iter().step_by(20).enumerate() {
        let cuts: Vec<usize> = (0..=q.len())
            .filter(|&i| q.is_char_boundary(i))
            .step_by(5)
            .collect();
        for (k, &cut) in cuts.iter().enumerate() {
            let _ = eql::parse(&q[..cut]);
            let spliced = format!("{}{}{}", &q[..cut], noise[(n + k) % noise.len()], &q[cut..]);
            let _ = eql::parse(&spliced);
            parsed += 2;
        }
    }
    println!("mangled: {parsed} variants parsed without panicking");
}
