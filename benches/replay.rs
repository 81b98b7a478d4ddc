//! The streaming replay (`ruleforge replay`) in-process: every EQL and KQL rule of the Elastic
//! corpus, then this repository's own rules, over generated Elastic Defend events held in
//! memory as NDJSON text (parse, dispatch, evaluation, merge; no disk). Criterion's "elem/s"
//! is events per second. `REPLAY_BENCH_EVENTS` changes the number of events (default 20,000);
//! without `../shared` the corpus group says so and only the project's rules run.
//! `benches/replay.sh` measures the same engine end to end, on 100k and 1M events, with RSS.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ruleforge::replay::stream::{RuleSet, Source};
use ruleforge::replay::synth::{Generator, seeds_from_rules};
use ruleforge::rule::{Collection, Rule};
use std::hint::black_box;
use std::io::Write as _;
use std::path::PathBuf;

fn n_events() -> usize {
    std::env::var("REPLAY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// NDJSON text of `n` events, with the literals of `rules` seeded in as the script does.
fn events(rules: &[&Rule], n: usize) -> Vec<u8> {
    let mut g = Generator::new(1, seeds_from_rules(rules), 20);
    let mut out = Vec::with_capacity(n * 1100);
    for _ in 0..n {
        writeln!(out, "{}", g.next_event()).expect("writes to memory");
    }
    out
}

fn replay(set: &RuleSet<'_>, text: &[u8]) -> usize {
    let mut results = set.empty_results();
    let source = Source {
        path: PathBuf::from("bench.ndjson"),
        reader: Box::new(std::io::Cursor::new(text.to_vec())),
    };
    set.run(source, &mut results, &|_| {}).expect("replays");
    results.iter().map(|r| r.alerts.len()).sum()
}

fn group(c: &mut Criterion, name: &str, rules: &[&Rule]) {
    let n = n_events();
    let text = events(rules, n);
    let set = RuleSet::new(rules);
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function(name, |b| b.iter(|| black_box(replay(&set, &text))));
    g.finish();
}

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus/elastic-detection-rules");
    if corpus.is_dir() {
        let collection =
            Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
                .expect("corpus loads");
        let rules: Vec<&Rule> = collection
            .rules
            .iter()
            .filter(|r| !r.is_deprecated())
            .filter(|r| matches!(r.language.as_deref(), Some("eql" | "kuery")))
            .collect();
        group(c, "corpus_eql_kql_rules", &rules);
    } else {
        eprintln!("../shared is absent: the corpus replay benchmark did not run");
    }
    let collection = Collection::load_dirs(&[root.join("rules")]).expect("rules load");
    let rules: Vec<&Rule> = collection.rules.iter().collect();
    group(c, "project_rules", &rules);
}

criterion_group!(benches, bench);
criterion_main!(benches);
