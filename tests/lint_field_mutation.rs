//! Mutation test of RF604 (unknown-field) over the Elastic corpus: every EQL/KQL rule gets one
//! queried field misspelled (two adjacent letters swapped, or one dropped, so that the result is
//! no known field) and the lint must report RF604 exactly at the misspelled name.

mod common;

use std::ops::Range;

use ruleforge::lint::schema::{FieldSchema, eql_fields, kql_fields};
use ruleforge::lint::{Selection, run};
use ruleforge::rule::{Collection, Rule};

/// A misspelling of `name` that no schema knows: swap two adjacent differing letters of the
/// last segment, else drop one of its letters.
fn misspell(name: &str, schema: &FieldSchema) -> Option<String> {
    let start = name.rfind('.').map_or(0, |i| i + 1);
    let chars: Vec<(usize, char)> = name[start..].char_indices().collect();
    let mut candidates = Vec::new();
    for w in chars.windows(2) {
        let ((i, a), (_, b)) = (w[0], w[1]);
        if a != b && a.is_ascii_alphabetic() && b.is_ascii_alphabetic() {
            let at = start + i;
            candidates.push(format!("{}{b}{a}{}", &name[..at], &name[at + 2..]));
        }
    }
    for &(i, c) in &chars {
        if c.is_ascii_alphabetic() {
            let at = start + i;
            candidates.push(format!("{}{}", &name[..at], &name[at + 1..]));
        }
    }
    candidates
        .into_iter()
        .find(|m| !m.is_empty() && !m.ends_with('.') && !schema.accepts(m))
}

/// Required field references of the rule's query as (name, span in the file).
fn field_refs(rule: &Rule) -> Vec<(String, Range<usize>)> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let refs = match rule.language.as_deref() {
        Some("eql") => ruleforge::query::eql::parse(&q.text)
            .map(|p| eql_fields(&p))
            .unwrap_or_default(),
        Some("kuery") => ruleforge::query::kql::parse(&q.text)
            .map(|p| kql_fields(&p))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    refs.into_iter()
        .map(|(n, s)| {
            let span = q.file_span(&s);
            (n, span)
        })
        // Only names written as-is (not quoted or escaped) can be edited in place.
        .filter(|(n, s)| rule.text.get(s.clone()) == Some(n.as_str()))
        .collect()
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn misspelled_query_fields_are_reported_at_their_span() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let original =
        Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
            .unwrap();
    let only_rf604 = Selection {
        select: vec!["RF604".into()],
        ..Default::default()
    };
    let clean = run(&original, &only_rf604);
    assert!(
        clean.is_empty(),
        "unmutated corpus rules report RF604: {clean:#?}"
    );

    let schema = FieldSchema::builtin();
    let (collection, expected) = common::mutate_one_per_rule(&original, field_refs, |(n, s)| {
        misspell(n, schema).map(|m| (s.clone(), m))
    });
    let total = collection.rules.len();
    let found = run(&collection, &only_rf604);
    let mut caught = 0;
    let mut missed = Vec::new();
    for (path, (bad, span)) in &expected {
        let hit = found.iter().any(|d| {
            d.file.as_ref() == Some(path)
                && d.span.as_ref() == Some(span)
                && d.message.contains(&format!("`{bad}`"))
        });
        if hit {
            caught += 1;
        } else {
            missed.push(format!("{} `{bad}`", path.display()));
        }
    }
    let rate = caught as f64 / total.max(1) as f64;
    println!(
        "RF604 mutation test: {caught}/{total} mutants caught ({:.2}%)",
        rate * 100.0
    );
    missed.sort();
    for m in missed.iter().take(20) {
        println!("  missed: {m}");
    }
    assert!(
        total > 1500,
        "only {total} mutants: the corpus walk lost rules"
    );
    assert!(
        rate >= 0.99,
        "RF604 caught only {:.2}% of mutants",
        rate * 100.0
    );
}
