//! Writes deterministic synthetic Elastic Defend events (NDJSON) for replay benchmarks:
//! `ruleforge-gen-events --events N [--seed S] [--rules DIR]... [--rate PER_10K] > events.ndjson`.
//! With rule directories, the literal values of their queries are seeded into a few events so
//! that rules fire (see `ruleforge::replay::synth`).
//! `ruleforge-gen-events --parse-only FILE` instead parses FILE as `ruleforge replay` reads it
//! (bounded batches of lines, serde_json, both cores) and does nothing else: the benchmark's
//! limit. `--scan-only FILE` reads it the same way but only checks each line's JSON syntax
//! (serde's `IgnoredAny`: no tree built), the floor under any parse of the whole text.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut events: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut rate: u64 = 20;
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--events" => events = value()?.parse().map_err(|e| format!("--events: {e}"))?,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--rate" => rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--rules" => dirs.push(PathBuf::from(value()?)),
            "--parse-only" => return parse_only(&PathBuf::from(value()?), true),
            "--scan-only" => return parse_only(&PathBuf::from(value()?), false),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    let collection = if dirs.is_empty() {
        ruleforge::rule::Collection::default()
    } else {
        ruleforge::rule::Collection::load_dirs(&dirs).map_err(|e| e.to_string())?
    };
    let rules: Vec<&ruleforge::rule::Rule> = collection.rules.iter().collect();
    let seeds = ruleforge::replay::synth::seeds_from_rules(&rules);
    let mut g = ruleforge::replay::synth::Generator::new(seed, seeds, rate);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    for _ in 0..events {
        writeln!(out, "{}", g.next_event()).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn parse_only(path: &std::path::Path, tree: bool) -> Result<(), String> {
    use rayon::prelude::*;
    use std::io::BufRead as _;
    let start = std::time::Instant::now();
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    let mut events = 0usize;
    loop {
        let batch: Vec<String> = lines
            .by_ref()
            .take(ruleforge::replay::stream::BATCH_LINES)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        if batch.is_empty() {
            break;
        }
        let parsed: Result<usize, _> = batch
            .par_iter()
            .map(|l| {
                if tree {
                    serde_json::from_str::<serde_json::Value>(l).map(|_| 1)
                } else {
                    serde_json::from_str::<serde::de::IgnoredAny>(l).map(|_| 1)
                }
            })
            .sum();
        events += parsed.map_err(|e| e.to_string())?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "parse: {events} events in {secs:.2}s ({:.0} events/s)",
        events as f64 / secs
    );
    Ok(())
}
