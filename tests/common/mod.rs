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
