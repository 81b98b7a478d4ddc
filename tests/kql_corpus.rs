//! Every KQL (`language = "kuery"`) query of the Elastic detection-rules corpus — `query`, and
//! `threat_query` when `threat_language = "kuery"`, deprecated rules included — parses and
//! compiles against the shipped ECS field types; likewise every `language = "lucene"` query.

mod common;

use std::path::{Path, PathBuf};

use ruleforge::query::kql::{self, FieldTypes};
use ruleforge::query::lucene;

fn corpus_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    dir.is_dir().then_some(dir)
}

/// (rule file, key, query) for every query in `language`.
fn corpus_queries(root: &Path, language: &str) -> Vec<(String, &'static str, String)> {
    let mut files = common::toml_files(&root.join("rules"));
    files.extend(common::toml_files(&root.join("rules_building_block")));
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read rule");
        let doc: toml::Table = match toml::from_str(&text) {
            Ok(d) => d,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        let name = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        let s = |k: &str| rule.get(k).and_then(|v| v.as_str());
        if s("language") == Some(language) {
            if let Some(q) = s("query") {
                out.push((name.clone(), "query", q.to_string()));
            }
        }
        if s("threat_language") == Some(language) {
            if let Some(q) = s("threat_query") {
                out.push((name, "threat_query", q.to_string()));
            }
        }
    }
    out
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_kql_query_parses_and_compiles() {
    let Some(root) = corpus_dir() else {
        println!("skipped: ../shared/corpus/elastic-detection-rules not found next to the crate");
        return;
    };
    let types = FieldTypes::ecs();
    let queries = corpus_queries(&root, "kuery");
    let mut failed = Vec::new();
    let mut untyped = std::collections::BTreeSet::new();
    for (file, key, q) in &queries {
        let result = kql::parse(q).and_then(|parsed| {
            let c = parsed.compile(&types)?;
            for w in c.warnings() {
                if w.message.contains("not in the field-type table") {
                    untyped.insert(q[w.span.clone()].to_string());
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            let snippet: String = q
                .get(e.span.clone())
                .unwrap_or("")
                .chars()
                .take(60)
                .collect();
            failed.push(format!(
                "{file} [{key}]: {:?}: {} at {:?} `{snippet}`",
                e.kind, e.message, e.span
            ));
        }
    }
    for f in &failed {
        println!("FAILED {f}");
    }
    println!(
        "{} distinct fields are in no type table (typed per event value): {:?}",
        untyped.len(),
        untyped.iter().take(15).collect::<Vec<_>>()
    );
    println!(
        "kql corpus: {} parsed, {} failed",
        queries.len() - failed.len(),
        failed.len()
    );
    assert!(
        queries.len() > 700,
        "expected the whole corpus, found {}",
        queries.len()
    );
    assert!(failed.is_empty(), "{} corpus queries failed", failed.len());
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_lucene_query_parses_and_compiles() {
    let Some(root) = corpus_dir() else {
        println!("skipped: ../shared/corpus/elastic-detection-rules not found next to the crate");
        return;
    };
    let types = FieldTypes::ecs();
    let queries = corpus_queries(&root, "lucene");
    let mut failed = Vec::new();
    for (file, key, q) in &queries {
        if let Err(e) = lucene::parse(q).and_then(|parsed| parsed.compile(&types)) {
            failed.push(format!(
                "{file} [{key}]: {:?}: {} at {:?}",
                e.kind, e.message, e.span
            ));
        }
    }
    for f in &failed {
        println!("FAILED {f}");
    }
    println!(
        "lucene corpus: {} parsed, {} failed",
        queries.len() - failed.len(),
        failed.len()
    );
    assert!(!queries.is_empty(), "expected at least one lucene rule");
    assert!(failed.is_empty(), "{} corpus queries failed", failed.len());
}
