//! Mutation test of RF624 (ecs-allowed-value) over the Elastic corpus: in every EQL/KQL rule
//! that compares `event.category`/`event.type`/`event.kind`/`event.outcome` with a literal (or
//! names an EQL event category), one such value is misspelled (two adjacent letters swapped, or
//! one dropped, so that it is no allowed value) and the lint must report RF624 exactly there.
//! The unmutated corpus reports no RF624.

mod common;

use std::ops::Range;

use ruleforge::lint::comparisons::{self, Op, Value};
use ruleforge::lint::schema::AllowedValues;
use ruleforge::lint::{Selection, run};
use ruleforge::rule::{Collection, Rule};

/// A misspelling of `value` that no allowed value of `field` equals, ignoring case.
fn misspell(value: &str, field: &str, allowed: &AllowedValues) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut candidates = Vec::new();
    for i in 0..chars.len().saturating_sub(1) {
        if chars[i] != chars[i + 1] {
            let mut v = chars.clone();
            v.swap(i, i + 1);
            candidates.push(v.into_iter().collect::<String>());
        }
    }
    for i in 0..chars.len() {
        let mut v = chars.clone();
        v.remove(i);
        candidates.push(v.into_iter().collect::<String>());
    }
    candidates.into_iter().find(|m| {
        !m.is_empty()
            && !allowed
                .values(field)
                .iter()
                .any(|a| a.eq_ignore_ascii_case(m))
    })
}

/// Literal values of restricted fields, written as-is in the file: (field, value, file span).
fn value_refs(rule: &Rule, allowed: &AllowedValues) -> Vec<(String, String, Range<usize>)> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let comps = match rule.language.as_deref() {
        Some("eql") => match ruleforge::query::eql::parse(&q.text) {
            Ok(p) => {
                if rule.event_category_override.is_none() {
                    use ruleforge::query::eql::QueryAst;
                    let s = p.statement();
                    let stages: Vec<_> = match &s.query {
                        QueryAst::Event(e) => vec![e],
                        QueryAst::Sequence(x) => x.stages.iter().map(|st| &st.query).collect(),
                        QueryAst::Sample(x) => x.stages.iter().map(|st| &st.query).collect(),
                    };
                    for e in stages {
                        if let Some((cat, span)) = &e.category {
                            out.push(("event.category".into(), cat.clone(), q.file_span(span)));
                        }
                    }
                }
                comparisons::eql(&p)
            }
            Err(_) => return Vec::new(),
        },
        Some("kuery") => match ruleforge::query::kql::parse(&q.text) {
            Ok(p) => comparisons::kql(&p),
            Err(_) => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    for c in comps {
        if let (Op::Equals, Value::Str(v)) = (c.op, &c.value) {
            if allowed.restricts(&c.field) {
                // The span of a quoted EQL string includes its quotes: edit the inside.
                let span = q.file_span(&c.value_span);
                let inner = match rule.text.get(span.clone()) {
                    Some(t) if t == v => span,
                    Some(t) if t.len() == v.len() + 2 && &t[1..t.len() - 1] == v => {
                        span.start + 1..span.end - 1
                    }
                    _ => continue,
                };
                out.push((c.field.clone(), v.clone(), inner));
            }
        }
    }
    out.retain(|(_, v, s)| rule.text.get(s.clone()) == Some(v.as_str()));
    out
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn misspelled_ecs_values_are_reported_at_their_span() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let original =
        Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
            .unwrap();
    let only = Selection {
        select: vec!["RF624".into()],
        ..Default::default()
    };
    // The unmutated corpus reports RF624 only for the non-ECS values real data sources write
    // (named in the lint's documentation), never for anything else.
    let clean = run(&original, &only);
    let legacy = [
        "`Success`",
        "`process_started`",
        "`network_traffic`",
        "`dns`",
    ];
    let unexpected: Vec<_> = clean
        .iter()
        .filter(|d| !legacy.iter().any(|v| d.message.contains(v)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unmutated corpus rules report RF624: {unexpected:#?}"
    );
    assert_eq!(clean.len(), 101, "the corpus's known non-ECS values");

    let allowed = AllowedValues::builtin();
    let (collection, expected) = common::mutate_one_per_rule(
        &original,
        |r| value_refs(r, allowed),
        |(f, v, s)| misspell(v, f, allowed).map(|m| (s.clone(), m)),
    );
    let total = collection.rules.len();
    let found = run(&collection, &only);
    let mut caught = 0;
    let mut missed = Vec::new();
    for (path, (bad, span)) in &expected {
        // The finding covers the value, with its quotes when it is a quoted string.
        let hit = found.iter().any(|d| {
            d.file.as_ref() == Some(path)
                && d.span.as_ref().is_some_and(|s| {
                    s.start <= span.start && span.end <= s.end && s.len() <= span.len() + 2
                })
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
        "RF624 mutation test: {caught}/{total} mutants caught ({:.2}%)",
        rate * 100.0
    );
    missed.sort();
    for m in missed.iter().take(20) {
        println!("  missed: {m}");
    }
    assert!(
        total > 1000,
        "only {total} mutants: the corpus walk lost rules"
    );
    assert!(
        rate >= 0.99,
        "RF624 caught only {:.2}% of mutants",
        rate * 100.0
    );
}
