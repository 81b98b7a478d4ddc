//! Every file of the Elastic corpus loads without a panic; clean loads are counted and every
//! schema finding is listed by file so that a regression (or a real corpus problem) is visible.

mod common;

use ruleforge::rule::Collection;
use std::collections::BTreeMap;

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn whole_corpus_loads() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dirs = vec![corpus.join("rules"), corpus.join("rules_building_block")];
    let c = Collection::load_dirs(&dirs).expect("corpus directories readable");
    let total = c.rules.len() + c.failed.len();
    let clean = c.rules.iter().filter(|r| r.loaded_cleanly()).count();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in c.rules.iter().filter(|r| !r.loaded_cleanly()) {
        for d in &r.load_diagnostics {
            println!("{}: {} {}", r.path.display(), d.code, d.message);
            *reasons
                .entry(format!("{} {}", d.code, d.message))
                .or_default() += 1;
        }
    }
    for f in &c.failed {
        println!("{}: {f}", f.path().display());
    }
    println!(
        "corpus: {total} files, {clean} loaded cleanly, {} with schema findings, {} unparseable",
        c.rules.len() - clean,
        c.failed.len()
    );
    assert_eq!(total, 2192, "the corpus snapshot has 2,192 rule files");
    assert!(c.failed.is_empty(), "every corpus file is valid TOML");
    // Upstream loads every one of these files; a schema finding here is our bug.
    assert_eq!(clean, total, "schema findings: {reasons:#?}");
}

/// A long `lint` run (the corpus has thousands of warnings) ends with the findings counted per
/// code, and the counts add up to the summary's totals.
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn long_lint_run_ends_with_counts_per_code() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(&corpus)
        .arg("lint")
        .output()
        .expect("run ruleforge");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| *l == "findings per code:")
        .unwrap_or_else(|| panic!("no per-code section at the end: {:?}", lines.last()));
    let summary = lines.last().copied().unwrap_or_default();
    let (mut errors, mut warnings) = (0, 0);
    for row in &lines[start + 1..lines.len() - 1] {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n: usize = cols[0].parse().unwrap_or_else(|_| panic!("{row}"));
        match cols[2] {
            "error" => errors += n,
            "warning" => warnings += n,
            other => panic!("severity {other} in {row}"),
        }
    }
    assert!(warnings > 0, "{summary}");
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    assert!(
        summary.contains(&format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )),
        "per-code counts {errors} errors / {warnings} warnings disagree with: {summary}"
    );
}
