//! Streamed threshold / new_terms rules simulate their executions as a time-ordered recording
//! goes by and drop the events no later execution reads: what they hold stays bounded by the
//! rule windows while their alerts equal the whole-recording simulation; events that arrive
//! after an execution they belong to was simulated are a located error. Alerts are handed
//! over as they become final ([`RuleSet::run_to`]), not held for the whole run.

use ruleforge::replay::stream::{RuleSet, Source};
use ruleforge::rule::{self, Rule};
use std::fmt::Write as _;
use std::path::Path;

fn rule(dir: &Path, stem: &str, body: &str) -> Rule {
    let path = dir.join(format!("{stem}.toml"));
    let text = format!(
        "[metadata]\ncreation_date = \"2026/01/01\"\nmaturity = \"production\"\nupdated_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"t\"]\ndescription = \"d\"\nname = \"{stem}\"\nrisk_score = 21\nrule_id = \"{stem}\"\nseverity = \"low\"\nlanguage = \"kuery\"\nindex = [\"logs-*\"]\nfrom = \"now-6m\"\ninterval = \"5m\"\n{body}"
    );
    std::fs::write(&path, &text).unwrap();
    rule::load_file(&path, rule::placement_of(&path)).unwrap()
}

fn rules(dir: &Path) -> Vec<Rule> {
    vec![
        rule(
            dir,
            "burst",
            "type = \"threshold\"\nquery = 'event.category:process'\n\n[rule.threshold]\nfield = [\"host.id\"]\nvalue = 4\n",
        ),
        rule(
            dir,
            "fresh",
            "type = \"new_terms\"\nquery = 'event.category:process'\n\n[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"process.name\"]\n\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-1h\"\n",
        ),
    ]
}

/// `n` process events 3 s apart (about 120 per rule window), a few busy hosts and process
/// names that recur at different rates, so that both rules alert throughout.
fn events(n: usize) -> Vec<String> {
    let base = 1_767_225_600_000_i64; // 2026-01-01T00:00:00Z
    (0..n)
        .map(|i| {
            let ts = ruleforge::event::format_millis(base + i as i64 * 3_000);
            // Hosts: one busy, others rarely (bursts of one host cross the threshold).
            let host = if i % 40 < 6 { i / 400 % 7 } else { 99 };
            // Names: a few daily ones, others that come back after more than the history.
            let name = match i % 5 {
                0 | 1 => format!("daily{}", i % 3),
                _ => format!("rare{}", (i * 7919) % 1500),
            };
            format!(
                "{{\"@timestamp\":\"{ts}\",\"event\":{{\"category\":[\"process\"]}},\"host\":{{\"id\":\"h{host}\"}},\"process\":{{\"name\":\"{name}\"}}}}"
            )
        })
        .collect()
}

fn write(path: &Path, lines: &[String]) {
    let mut text = String::new();
    for l in lines {
        writeln!(text, "{l}").unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Streams `file` with the given flush size; per rule: alerts, errors and peak kept events.
fn stream(
    rules: &[&Rule],
    file: &Path,
    flush: usize,
) -> Vec<ruleforge::replay::stream::RuleResult> {
    let set = RuleSet::new(rules).with_kept_flush(flush);
    let mut res = set.empty_results();
    set.run(Source::open(file).unwrap(), &mut res, &|_| {})
        .unwrap();
    res
}

/// The whole-recording simulation (`ruleforge test`'s path: the recording in memory).
fn in_memory(rules: &[&Rule], file: &Path) -> Vec<Vec<ruleforge::replay::Alert>> {
    let events = ruleforge::event::read_file(file, "@timestamp").unwrap();
    RuleSet::new(rules)
        .run_events(&events, &[], None)
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn a_long_ordered_stream_keeps_a_bounded_window_and_raises_the_whole_recording_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let owned = rules(dir.path());
    let rules: Vec<&Rule> = owned.iter().collect();
    let n = 30_000;
    let f = dir.path().join("long.ndjson");
    write(&f, &events(n));
    let expected = in_memory(&rules, &f);
    let res = stream(&rules, &f, 256);
    for (k, (r, want)) in res.iter().zip(&expected).enumerate() {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(
            !want.is_empty(),
            "rule {k} raises alerts over the recording"
        );
        let got: Vec<_> = r.alerts.iter().map(|a| a.alert.clone()).collect();
        assert_eq!(got.len(), want.len(), "rule {k}");
        assert_eq!(&got, want, "rule {k}");
        // Every event matches both filters; a window holds about 120 of them.
        assert!(
            r.peak_kept <= 1024,
            "rule {k} held {} of {n} events",
            r.peak_kept
        );
    }
}

#[test]
fn the_flush_size_does_not_change_the_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let owned = rules(dir.path());
    let rules: Vec<&Rule> = owned.iter().collect();
    let f = dir.path().join("e.ndjson");
    write(&f, &events(5_000));
    let whole = stream(&rules, &f, usize::MAX);
    for flush in [1, 7, 100] {
        let res = stream(&rules, &f, flush);
        for (a, b) in res.iter().zip(&whole) {
            assert_eq!(a.alerts, b.alerts, "flush every {flush}");
        }
    }
    // Without flushing, every matching event is held to the end.
    assert_eq!(whole[0].peak_kept, 5_000);
}

#[test]
fn disorder_before_any_simulated_execution_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let owned = rules(dir.path());
    let rules: Vec<&Rule> = owned.iter().collect();
    let mut lines = events(3_000);
    lines.swap(0, 5);
    let f = dir.path().join("e.ndjson");
    write(&f, &lines);
    let expected = in_memory(&rules, &f);
    for (r, want) in stream(&rules, &f, 64).iter().zip(&expected) {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let got: Vec<_> = r.alerts.iter().map(|a| a.alert.clone()).collect();
        assert_eq!(&got, want);
    }
}

#[test]
fn an_event_older_than_a_simulated_execution_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let owned = rules(dir.path());
    let rules: Vec<&Rule> = owned.iter().collect();
    let mut lines = events(3_000);
    lines.reverse();
    let f = dir.path().join("rev.ndjson");
    write(&f, &lines);
    for r in stream(&rules, &f, 64) {
        assert!(r.alerts.is_empty(), "no alerts from part of a recording");
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        let e = &r.errors[0];
        // The first 64 events are simulated; the 65th is earlier than their runs.
        assert!(e.contains("rev.ndjson:65:"), "{e}");
        assert!(e.contains("time order"), "{e}");
    }
    // In memory the same recording replays in any order.
    assert!(in_memory(&rules, &f).iter().all(|a| !a.is_empty()));
}

#[test]
fn alerts_are_handed_over_as_they_become_final_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut owned = rules(dir.path());
    owned.push(rule(
        dir.path(),
        "daily",
        "type = \"query\"\nquery = 'process.name:daily0'\n",
    ));
    let rules: Vec<&Rule> = owned.iter().collect();
    let n = 3 * ruleforge::replay::stream::BATCH_LINES;
    let f = dir.path().join("e.ndjson");
    write(&f, &events(n));
    let kept = stream(&rules, &f, 256);
    let set = RuleSet::new(&rules).with_kept_flush(256);
    let mut res = set.empty_results();
    let read = std::sync::atomic::AtomicU64::new(0);
    // Per alert: its rule and how many events had been read when it was handed over.
    let mut got: Vec<(usize, ruleforge::replay::stream::StreamAlert, u64)> = Vec::new();
    let mut sink = |id: usize, a| got.push((id, a, read.load(std::sync::atomic::Ordering::SeqCst)));
    set.run_to(
        Source::open(&f).unwrap(),
        &mut res,
        &|c| read.store(c.events, std::sync::atomic::Ordering::SeqCst),
        Some(&mut sink),
    )
    .unwrap();
    assert!(res.iter().all(|r| r.alerts.is_empty()), "nothing is held");
    for (id, want) in kept.iter().enumerate() {
        let mine: Vec<_> = got
            .iter()
            .filter(|(i, _, _)| *i == id)
            .map(|(_, a, _)| a.clone())
            .collect();
        assert!(!want.alerts.is_empty());
        assert_eq!(
            mine, want.alerts,
            "rule {id}: same alerts in the same order"
        );
    }
    // Each rule's first alerts come before the recording ends (threshold and new_terms once
    // their executions are simulated, the event query after its batch).
    for id in 0..3 {
        let first = got.iter().find(|(i, _, _)| *i == id).unwrap();
        assert!(
            first.2 < n as u64,
            "rule {id}: after {} of {n} events",
            first.2
        );
    }
}
