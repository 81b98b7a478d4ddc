//! Mutation test of the ATT&CK lints over the Elastic corpus: in every rule with a MITRE
//! ATT&CK technique, one technique id gets two adjacent digits swapped (or one dropped) and
//! RF505 must report it, at the id (no such technique) or at the technique's name (the id now
//! names another technique).

mod common;

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

use ruleforge::lint::attack::{attack_entries, str_field};
use ruleforge::lint::{Selection, run};
use ruleforge::rule::{Collection, load_str};

/// `T1234` → `T1324`-like variants: adjacent differing digits swapped, then one digit dropped.
fn mutations(id: &str) -> Vec<String> {
    let b = id.as_bytes();
    let mut out = Vec::new();
    for i in 1..b.len().saturating_sub(1) {
        if b[i].is_ascii_digit() && b[i + 1].is_ascii_digit() && b[i] != b[i + 1] {
            let mut v = b.to_vec();
            v.swap(i, i + 1);
            out.push(String::from_utf8(v).unwrap_or_default());
        }
    }
    for i in 1..b.len() {
        if b[i].is_ascii_digit() {
            out.push(format!("{}{}", &id[..i], &id[i + 1..]));
        }
    }
    out.retain(|m| m != id);
    out
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn mutated_technique_ids_are_reported() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let original =
        Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
            .unwrap();
    let attack_lints = Selection {
        select: ["RF502", "RF503", "RF504", "RF505"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let clean = run(&original, &attack_lints);
    assert!(
        clean.is_empty(),
        "unmutated corpus rules report ATT&CK findings: {clean:#?}"
    );

    let mut mutants = Vec::new();
    // Per mutated rule: the spans (in the mutated file) where RF505 may point.
    let mut expected: HashMap<PathBuf, (String, Vec<Range<usize>>)> = HashMap::new();
    for rule in original.rules.iter().filter(|r| !r.is_deprecated()) {
        let techniques: Vec<_> = attack_entries(rule)
            .into_iter()
            .flat_map(|e| e.techniques)
            .filter_map(|(t, _)| Some((str_field(t, "id")?, str_field(t, "name"))))
            .collect();
        if techniques.is_empty() {
            continue;
        }
        let pick = rule.rule_id.bytes().map(usize::from).sum::<usize>() % techniques.len();
        let ((id, id_span), name) = &techniques[pick];
        let Some(bad) = mutations(id).into_iter().next() else {
            continue;
        };
        let mut text = rule.text.to_string();
        // The id is a quoted string: replace inside the quotes.
        let inner = id_span.start + 1..id_span.end - 1;
        if text.get(inner.clone()) != Some(*id) {
            continue;
        }
        text.replace_range(inner, &bad);
        let shift = |r: &Range<usize>| {
            if r.start > id_span.start {
                let d = bad.len() as isize - id.len() as isize;
                (r.start as isize + d) as usize..(r.end as isize + d) as usize
            } else {
                r.clone()
            }
        };
        let mut spans: Vec<Range<usize>> = Vec::with_capacity(2);
        spans.push(id_span.start..id_span.end + bad.len() - id.len());
        if let Some((_, name_span)) = name {
            spans.push(shift(name_span));
        }
        expected.insert(rule.path.clone(), (bad, spans));
        mutants.push(load_str(&rule.path, text, rule.placement).unwrap());
    }
    let total = mutants.len();
    let found = run(
        &Collection {
            rules: mutants,
            failed: Vec::new(),
        },
        &attack_lints,
    );
    let mut missed = Vec::new();
    for (path, (bad, spans)) in &expected {
        let hit = found.iter().any(|d| {
            d.code == "RF505"
                && d.file.as_ref() == Some(path)
                && d.span.as_ref().is_some_and(|s| spans.contains(s))
        });
        if !hit {
            missed.push(format!("{} {bad}", path.display()));
        }
    }
    let caught = total - missed.len();
    let rate = caught as f64 / total.max(1) as f64;
    println!(
        "ATT&CK mutation test: {caught}/{total} mutated technique ids caught ({:.2}%)",
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
        "RF505 caught only {:.2}% of mutated ids",
        rate * 100.0
    );
}
