//! EQL throughput over 1M generated process events per pass: the kernel-unpacking event query
//! and a keyed sequence, evaluation alone (pre-parsed JSON) and end to end from NDJSON text.
//! Criterion's "elem/s" is events per second.
//!
//! Memory: a parsed event is a tree of `serde_json` maps (~5 KB each), so 1M of them would take
//! ~5 GB. The `evaluate` runs therefore cover 1M events as 10 passes over 100k distinct
//! pre-parsed events (one `execute` call per pass for the sequence); `evaluate_cache_hot` runs
//! the same 1M evaluations over a 1,000-event window that stays in cache, as a replay that
//! parses a batch and then matches it sees. The `ndjson` runs parse 1M distinct lines, and the
//! sequence one streams them through one `Executor`. `EQL_BENCH_EVENTS` changes the per-pass total. (Matching
//! pre-flattened `FlatEvent`s measured the same as walking the JSON tree, hot or cold, so the
//! tree walk stays the default.)

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ruleforge::query::eql::{self, Options};
use serde_json::Value;
use std::hint::black_box;

/// Events per pass; `EQL_BENCH_EVENTS` overrides (for quick profiling).
fn n_events() -> usize {
    std::env::var("EQL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

const KERNEL_UNPACK: &str = r#"process where host.os.type == "linux" and event.type == "start" and
  event.action in ("exec", "exec_event") and
  (
    process.name in ("gunzip", "unxz", "unlzma", "bunzip2", "unzstd", "unzip", "tar", "file") or
    (process.name in ("lz4", "lzop") and process.args in ("-d", "-dc", "--decompress")) or
    (process.name == "grep" and process.args == "ELF")
  ) and
  (process.args like "/boot/*" or process.parent.args like "/boot/*") and
  process.parent.name not in ("mkinitramfs", "kdumpctl") and
  not process.parent.executable like (
    "/usr/lib/needrestart/*", "/usr/libexec/platform-python*", "/usr/sbin/nv-update-initrd", "/usr/bin/kdumpctl"
  ) and
  not process.parent.args == "/usr/bin/kdumpctl" and
  not process.parent.command_line like~ "*ansible*""#;

const SEQUENCE: &str = r#"sequence by host.id, process.parent.entity_id with maxspan=30s
  [process where event.type == "start" and process.name in ("curl", "wget")]
  [process where event.type == "start" and process.args like "/tmp/*"]"#;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn ndjson(n: usize) -> String {
    let names = [
        "bash", "tar", "curl", "wget", "grep", "lz4", "python3", "sshd", "cron", "gunzip", "ls",
        "cat",
    ];
    let parents = ["bash", "sh", "systemd", "mkinitramfs", "sshd", "python3"];
    let args = [
        "-xf",
        "/boot/initrd.img",
        "/tmp/x.sh",
        "-d",
        "ELF",
        "/etc/passwd",
        "-la",
        "http://x",
    ];
    let oses = ["linux", "linux", "linux", "windows"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(n * 420);
    for i in 0..n {
        let name = rng.pick(&names);
        let parent = rng.pick(&parents);
        let a1 = rng.pick(&args);
        let a2 = rng.pick(&args);
        let os = rng.pick(&oses);
        let ty = if rng.next() % 4 == 0 { "end" } else { "start" };
        let host = rng.next() % 200;
        let ppid = rng.next() % 5000;
        out.push_str(&format!(
            concat!(
                r#"{{"@timestamp":{ts},"event":{{"category":["process"],"type":["{ty}"],"action":"exec"}},"#,
                r#""host":{{"id":"h{host}","os":{{"type":"{os}"}}}},"#,
                r#""process":{{"name":"{name}","args":["{name}","{a1}","{a2}"],"entity_id":"e{i}","#,
                r#""parent":{{"name":"{parent}","entity_id":"p{ppid}","executable":"/usr/bin/{parent}","#,
                r#""args":["{parent}"],"command_line":"{parent} -c {name}"}}}}}}"#,
                "\n"
            ),
            ts = 1_700_000_000_000u64 + i as u64 * 3,
            ty = ty,
            host = host,
            os = os,
            name = name,
            a1 = a1,
            a2 = a2,
            i = i,
            parent = parent,
            ppid = ppid,
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let n = n_events();
    let batch = n.min(100_000);
    let passes = n / batch;
    // NDJSON for all n events (~420 bytes each); the first `batch` of them pre-parsed.
    let text = ndjson(n);
    let events: Vec<Value> = text
        .lines()
        .take(batch)
        .map(|l| serde_json::from_str(l).expect("generated JSON"))
        .collect();
    let opts = Options::default();
    let kernel = eql::parse(KERNEL_UNPACK).unwrap().compile(&opts).unwrap();
    let sequence = eql::parse(SEQUENCE).unwrap().compile(&opts).unwrap();
    println!(
        "per batch of {batch}: kernel-unpacking matches {}, sequence finds {}; {passes} batches per pass",
        events.iter().filter(|e| kernel.matches(e)).count(),
        sequence.execute(&events).unwrap().len()
    );

    let mut g = c.benchmark_group("eql_1M_process_events");
    g.sample_size(10);
    g.throughput(Throughput::Elements((batch * passes) as u64));
    g.bench_function("kernel_unpacking/evaluate", |b| {
        b.iter(|| {
            (0..passes)
                .map(|_| {
                    events
                        .iter()
                        .filter(|e| kernel.matches(black_box(e)))
                        .count()
                })
                .sum::<usize>()
        })
    });
    let window = &events[..events.len().min(1_000)];
    let window_passes = batch * passes / window.len();
    g.bench_function("kernel_unpacking/evaluate_cache_hot", |b| {
        b.iter(|| {
            (0..window_passes)
                .map(|_| {
                    window
                        .iter()
                        .filter(|e| kernel.matches(black_box(e)))
                        .count()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("kernel_unpacking/ndjson_end_to_end", |b| {
        b.iter(|| {
            text.lines()
                .filter(|l| {
                    let e: Value = serde_json::from_str(l).unwrap();
                    kernel.matches(&e)
                })
                .count()
        })
    });
    g.bench_function("sequence/evaluate", |b| {
        b.iter(|| {
            (0..passes)
                .map(|_| sequence.execute(black_box(&events)).unwrap().len())
                .sum::<usize>()
        })
    });
    // All n events through one incremental executor: parse, push, drop; memory stays bounded
    // by maxspan however long the recording.
    g.bench_function("sequence/ndjson_end_to_end_streaming", |b| {
        b.iter(|| {
            let mut ex = sequence.executor();
            for (i, l) in text.lines().enumerate() {
                let e: Value = serde_json::from_str(l).unwrap();
                ex.push(i, &e).unwrap();
            }
            ex.finish().unwrap().len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
