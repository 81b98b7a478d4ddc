//! Helpers shared by integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the project (present for developers and CI, absent on a user's machine).
/// Tests that need it print why they return early when it is missing.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "../shared is absent: this test needs the shared corpus and did not run its checks"
        );
        None
    }
}

pub fn corpus() -> Option<PathBuf> {
    shared().map(|s| s.join("corpus/elastic-detection-rules"))
}

/// What a mutation test expects of each mutated rule file: the replacement text and its span.
pub type Expected = std::collections::HashMap<PathBuf, (String, std::ops::Range<usize>)>;

/// One mutation per active corpus rule that Elastic validates: of the rule's candidate
/// references (`refs`), the first that `mutate` can change (to a span and its replacement),
/// starting at a position picked from the rule_id, so that rules vary which reference is
/// mutated, deterministically. Returns the mutated rules and what each is expected to report.
pub fn mutate_one_per_rule<T>(
    original: &ruleforge::rule::Collection,
    refs: impl Fn(&ruleforge::rule::Rule) -> Vec<T>,
    mutate: impl Fn(&T) -> Option<(std::ops::Range<usize>, String)>,
) -> (ruleforge::rule::Collection, Expected) {
    let mut mutants = Vec::new();
    let mut expected = Expected::new();
    for rule in &original.rules {
        if rule.is_deprecated() || rule.tree.path("metadata.query_schema_validation").is_some() {
            continue;
        }
        let refs = refs(rule);
        if refs.is_empty() {
            continue;
        }
        let pick = rule.rule_id.bytes().map(usize::from).sum::<usize>() % refs.len();
        let Some((span, bad)) = refs
            .iter()
            .cycle()
            .skip(pick)
            .take(refs.len())
            .find_map(&mutate)
        else {
            continue;
        };
        let mut text = rule.text.to_string();
        text.replace_range(span.clone(), &bad);
        let mutated = ruleforge::rule::load_str(&rule.path, text, rule.placement).unwrap();
        expected.insert(
            rule.path.clone(),
            (bad.clone(), span.start..span.start + bad.len()),
        );
        mutants.push(mutated);
    }
    let collection = ruleforge::rule::Collection {
        rules: mutants,
        failed: Vec::new(),
    };
    (collection, expected)
}

/// The `.toml` files under `dir`, depth first in path order; none when `dir` cannot be read.
pub fn toml_files(dir: &std::path::Path) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "toml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// (file, query) for every corpus rule (rules and building blocks, deprecated included) whose
/// `language` is `language`, in path order; empty when the corpus is absent. Files that are no
/// TOML rule are passed over: the corpus load tests report those.
pub fn corpus_queries(language: &str) -> Vec<(PathBuf, String)> {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    let mut out = Vec::new();
    for sub in ["rules", "rules_building_block"] {
        for f in toml_files(&root.join(sub)) {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
                continue;
            };
            let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
                continue;
            };
            if rule.get("language").and_then(|l| l.as_str()) != Some(language) {
                continue;
            }
            if let Some(q) = rule.get("query").and_then(|q| q.as_str()) {
                out.push((f, q.to_string()));
            }
        }
    }
    out
}
