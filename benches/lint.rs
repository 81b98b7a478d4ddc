//! Loading and linting the whole Elastic corpus (about 2,200 rules): the work behind
//! `ruleforge lint` on a detection-rules checkout. Reads `../shared/corpus`; without it the
//! benchmark says so and measures nothing.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ruleforge::rule::Collection;
use std::hint::black_box;
use std::path::PathBuf;

fn corpus_dirs() -> Option<Vec<PathBuf>> {
    let c =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    if c.is_dir() {
        Some(vec![c.join("rules"), c.join("rules_building_block")])
    } else {
        eprintln!("../shared is absent: the corpus lint benchmark did not run");
        None
    }
}

fn bench(c: &mut Criterion) {
    let Some(dirs) = corpus_dirs() else { return };
    let collection = Collection::load_dirs(&dirs).expect("corpus loads");
    let n = collection.rules.len() as u64;
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| black_box(Collection::load_dirs(&dirs).expect("loads")))
    });
    g.bench_function("lint_loaded", |b| {
        b.iter(|| black_box(ruleforge::lint::run(&collection, &Default::default())))
    });
    g.bench_function("load_and_lint", |b| {
        b.iter(|| {
            let c = Collection::load_dirs(&dirs).expect("loads");
            black_box(ruleforge::lint::run(&c, &Default::default()).len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
