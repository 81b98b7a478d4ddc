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
    // As `ruleforge lint` runs in a detection-rules checkout: with its `etc/` (version lock,
    // stack map), so the lock lints (RF71x, RF712 exports every locked rule) are measured too.
    let etc = dirs[0]
        .parent()
        .map(|c| c.join("etc"))
        .expect("corpus root");
    let env = ruleforge::lint::Environment {
        export: Some(
            ruleforge::export::ExportContext::builtin()
                .with_etc_dir(&etc)
                .expect("corpus etc/ loads"),
        ),
        complete: true,
        lock_hashes: true,
    };
    g.bench_function("lint_loaded_with_etc", |b| {
        b.iter(|| {
            black_box(ruleforge::lint::run_with(
                &collection,
                &Default::default(),
                &env,
                None,
            ))
        })
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
