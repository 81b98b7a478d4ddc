//! Long wildcard patterns (5,000 characters) over 10 events holding a 1 MB value each, in EQL
//! (`like`, `like~`), KQL and Lucene: shapes that made a backtracking matcher quadratic (minutes
//! per pass), each now one linear scan per value. Criterion's throughput is value bytes per
//! second. KQL has no `?` (it is a literal there), so the `?` shapes run as EQL and Lucene.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ruleforge::query::{eql, kql, lucene};
use serde_json::Value;
use std::hint::black_box;

const MB: usize = 1 << 20;

/// A compiled query of one language, as a predicate over events.
type Query = Box<dyn Fn(&Value) -> bool>;

/// Ten values of about 1 MB: ASCII runs, and a multi-byte character to take the folding path.
fn events() -> Vec<Value> {
    (0..10)
        .map(|i| {
            let (unit, reps) = [("a", MB), ("ab", MB / 2), ("a\u{e9}", MB / 3)][i % 3];
            let filler = unit.repeat(reps);
            serde_json::json!({ "event": { "category": "process" }, "v": format!("x{filler}") })
        })
        .collect()
}

/// (name, pattern, whether the pattern has `?`). Every pattern is 5,000 characters or more.
fn patterns() -> Vec<(&'static str, String, bool)> {
    vec![
        (
            "long_literal_segment",
            format!("x*{}b*", "a".repeat(4996)),
            false,
        ),
        ("many_stars", format!("{}*", "*ab".repeat(1667)), false),
        (
            "question_marks_segment",
            format!("x*{}b*", "a?".repeat(2499)),
            true,
        ),
        (
            "many_short_segments",
            format!("{}*", "*a?b".repeat(1250)),
            true,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let events = events();
    let mut g = c.benchmark_group("wildcard_5000_chars_over_10x1MB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((10 * MB) as u64));
    let types = kql::FieldTypes::empty().with_override("v", "keyword");
    for (name, p, question_marks) in &patterns() {
        assert!(p.chars().count() >= 5000, "{name}");
        let mut queries: Vec<(&str, Query)> = Vec::new();
        for (op, suffix) in [("eql_like", ""), ("eql_like_ci", "~")] {
            let q = format!("any where v like{suffix} \"{p}\"");
            let rule = eql::parse(&q)
                .unwrap()
                .compile(&Default::default())
                .unwrap();
            queries.push((op, Box::new(move |e| rule.matches(e))));
        }
        if !question_marks {
            let q = kql::parse(&format!("v:{p}"))
                .unwrap()
                .compile(&types)
                .unwrap();
            queries.push(("kql", Box::new(move |e| q.matches(e))));
        }
        let q = lucene::parse(&format!("v:{p}")).unwrap();
        let q = q.compile(&types).unwrap();
        queries.push(("lucene", Box::new(move |e| q.matches(e))));
        for (op, matches) in &queries {
            g.bench_function(format!("{name}/{op}"), |b| {
                b.iter(|| events.iter().filter(|e| matches(black_box(e))).count())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
