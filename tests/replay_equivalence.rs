//! The replay engine (`replay::stream::RuleSet`, what `ruleforge replay` and `ruleforge test`
//! run) raises exactly the alerts of the reference per-rule replay (`replay::reference`): same
//! rules, same events (file, position, index), same details, same errors; streamed from files
//! and, as `test` runs fixtures, over recordings in memory with their indicators, baselines and
//! alert suppression.

use ruleforge::event;
use ruleforge::replay::stream::{RuleSet, Source};
use ruleforge::replay::{self, Alert, Detail};
use ruleforge::rule::{Collection, Rule};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Per rule (by position in `rules`): the per-rule path's alerts after the rule's
/// `alert_suppression` (as the engine raises them), or `None` when it failed.
fn per_rule(rules: &[&Rule], file: &Path) -> Vec<Option<Vec<Alert>>> {
    use rayon::prelude::*;
    let events = event::read_file(file, "@timestamp").expect("recording loads");
    rules
        .par_iter()
        .map(|r| {
            let p = replay::reference::prepare_fixture(r).ok()?;
            replay::reference::run_fixture(&p, &events, &[], None).ok()
        })
        .collect()
}

/// Asserts both paths agree on every replayable rule over `files`; returns how many rules
/// alerted at least once.
fn assert_equivalent(rules: &[&Rule], files: &[PathBuf]) -> usize {
    let set = RuleSet::new(rules);
    let replayed = set.rules();
    let skipped: Vec<&str> = set.skipped().iter().map(|s| s.rule.name.as_str()).collect();
    // Every rule is either replayed or listed as skipped, never dropped.
    assert_eq!(replayed.len() + skipped.len(), rules.len());
    let mut fired = vec![false; replayed.len()];
    for file in files {
        let mut results = set.empty_results();
        set.run(Source::open(file).expect("opens"), &mut results, &|_| {})
            .expect("streams");
        let expected = per_rule(&replayed, file);
        for (i, (rule, want)) in replayed.iter().zip(expected).enumerate() {
            let got = &results[i];
            match want {
                Some(want) => {
                    assert!(
                        got.errors.is_empty(),
                        "{}: streaming failed where the per-rule replay did not: {:?}",
                        rule.name,
                        got.errors
                    );
                    let got: Vec<&Alert> = got.alerts.iter().map(|a| &a.alert).collect();
                    let want: Vec<&Alert> = want.iter().collect();
                    assert_eq!(got, want, "{} on {}", rule.name, file.display());
                    fired[i] |= !want.is_empty();
                }
                None => assert!(
                    !got.errors.is_empty(),
                    "{}: the per-rule replay failed on {} but streaming did not",
                    rule.name,
                    file.display()
                ),
            }
        }
    }
    fired.iter().filter(|&&f| f).count()
}

/// Events compared on the corpus: 3,000 by default (CI); `RULEFORGE_EQUIVALENCE_EVENTS=100000`
/// with `--release` is the 100k-sample proof `benches/replay.sh equivalence` runs.
fn sample_size() -> usize {
    std::env::var("RULEFORGE_EQUIVALENCE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_rule_raises_the_same_alerts_streaming_and_per_rule() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    let collection =
        Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
            .expect("corpus loads");
    let rules: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| matches!(r.language.as_deref(), Some("eql" | "kuery")))
        .collect();
    assert!(rules.len() > 1500, "{} EQL/KQL rules", rules.len());
    let seeds = replay::synth::seeds_from_rules(&rules);
    let mut g = replay::synth::Generator::new(42, seeds, 1_500);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let n = sample_size();
    for _ in 0..n {
        writeln!(f, "{}", g.next_event()).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let fired = assert_equivalent(&rules, &[path]);
    // The comparison means something only if many rules alert.
    assert!(
        fired >= 50,
        "only {fired} rules alerted on the generated events"
    );
    eprintln!(
        "{} rules compared over {n} events, {fired} of them alerted",
        rules.len()
    );
}

#[test]
fn project_rules_raise_the_same_alerts_on_every_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let collection = Collection::load_dirs(&[root.join("rules")]).expect("rules load");
    // threat_match rules need a fixture's indicators, which these streamed recordings come
    // without (an empty threat index: they would raise nothing); the in-memory comparison below
    // runs them with their fixtures' indicators.
    let rules: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| r.rule_type != Some(ruleforge::rule::RuleType::ThreatMatch))
        .collect();
    // Every event recording a manifest names (indicator recordings are not event streams).
    let mut files = Vec::new();
    let mut stack = vec![root.join("fixtures")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let (m, _) = ruleforge::fixture::parse_manifest(&p, &text).expect("manifest");
                files.push(p.parent().unwrap().join(m.events));
            }
        }
    }
    files.sort();
    assert!(files.len() >= 20, "{} fixtures", files.len());
    let fired = assert_equivalent(&rules, &files);
    assert_eq!(
        fired,
        rules.len(),
        "every project rule alerts on some fixture"
    );
}

/// As `ruleforge test` runs them: every project rule (indicator match included) over every
/// fixture in memory, with the fixture's indicators, baseline and each rule's suppression,
/// through the engine's `run_events`, against the reference's `run_fixture`. The fixtures are
/// also replayed out of time order (reversed), which the engine must sort for sequences as the
/// reference does.
#[test]
fn project_fixtures_in_memory_raise_the_reference_alerts_with_indicators_and_suppression() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = ruleforge::config::Config::load(root).expect("config");
    let collection = Collection::load_dirs(&config.rule_dirs).expect("rules load");
    let rules: Vec<&Rule> = collection.rules.iter().collect();
    let (fixtures, findings) = ruleforge::suite::fixtures(&config);
    assert!(findings.is_empty(), "{:?}", findings[0].diagnostic);
    assert!(!fixtures.is_empty());
    let set = RuleSet::new(&rules);
    assert!(set.skipped().is_empty(), "every project rule is replayed");
    let mut compared = 0;
    let mut suppressed = 0;
    let mut indicator_alerts = 0;
    for f in &fixtures {
        let mut reversed = f.events.clone();
        reversed.values.reverse();
        reversed.positions.reverse();
        reversed.timestamps.reverse();
        for events in [&f.events, &reversed] {
            let got = set.run_events(events, &f.indicators, f.baseline);
            for (rule, got) in set.rules().iter().zip(got) {
                let p = replay::reference::prepare_fixture(rule).expect("prepares");
                let want = replay::reference::run_fixture(&p, events, &f.indicators, f.baseline);
                let shown = format!("{} on {}", rule.name, events.path.display());
                match (got, want) {
                    (Ok(got), Ok(want)) => {
                        assert_eq!(got, want, "{shown}");
                        for a in &got {
                            suppressed += usize::from(matches!(a.detail, Detail::Suppressed(_)));
                            indicator_alerts += usize::from(
                                matches!(
                                    &a.detail,
                                    Detail::Suppressed(s) if matches!(s.detail, Detail::ThreatMatch { .. })
                                ) || matches!(a.detail, Detail::ThreatMatch { .. }),
                            );
                        }
                    }
                    (Err(got), Err(want)) => {
                        assert_eq!(got.to_string(), want.to_string(), "{shown}")
                    }
                    (got, want) => panic!("{shown}: engine {got:?}, reference {want:?}"),
                }
                compared += 1;
            }
        }
    }
    // The comparison covers what it names: suppressed and indicator match alerts occur.
    assert!(
        suppressed > 0,
        "no suppressed alert among {compared} comparisons"
    );
    assert!(indicator_alerts > 0, "no indicator match alert");
}
