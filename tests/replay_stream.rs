//! `replay::stream` fails closed: malformed lines and out-of-order recordings are located
//! errors, gzip recordings read like plain ones, rules that cannot be replayed are listed.

use ruleforge::replay::stream::{RuleSet, Source, StreamError};
use ruleforge::rule::{self, Rule};
use std::io::Write as _;
use std::path::Path;

fn rule(dir: &Path, stem: &str, body: &str) -> Rule {
    let path = dir.join(format!("{stem}.toml"));
    let text = format!(
        "[metadata]\ncreation_date = \"2026/01/01\"\nmaturity = \"production\"\nupdated_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"t\"]\ndescription = \"d\"\nname = \"{stem}\"\nrisk_score = 21\nrule_id = \"{stem}\"\nseverity = \"low\"\n{body}"
    );
    std::fs::write(&path, &text).unwrap();
    rule::load_file(&path, rule::placement_of(&path)).unwrap()
}

fn seq_rule(dir: &Path) -> Rule {
    rule(
        dir,
        "seq",
        "type = \"eql\"\nlanguage = \"eql\"\nindex = [\"logs-*\"]\nquery = '''\nsequence by host.id with maxspan=1m [process where process.name == \"a\"] [process where process.name == \"b\"]\n'''\n",
    )
}

fn ev(ts: &str, name: &str) -> String {
    format!(
        "{{\"@timestamp\":\"{ts}\",\"event\":{{\"category\":[\"process\"]}},\"host\":{{\"id\":\"h\"}},\"process\":{{\"name\":\"{name}\"}}}}\n"
    )
}

#[test]
fn a_malformed_line_is_an_error_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let r = seq_rule(dir.path());
    let f = dir.path().join("e.ndjson");
    std::fs::write(
        &f,
        format!("{}{{\"a\": oops}}\n", ev("2026-01-01T00:00:00Z", "a")),
    )
    .unwrap();
    let set = RuleSet::new(&[&r]);
    let mut res = set.empty_results();
    let err = set
        .run(Source::open(&f).unwrap(), &mut res, &|_| {})
        .unwrap_err();
    let StreamError::Event(ruleforge::event::EventError::Parse { line, column, .. }) = &err else {
        panic!("{err}");
    };
    assert_eq!((*line, *column), (2, 7), "{err}");
}

#[test]
fn an_out_of_order_event_is_a_located_error_of_the_sequence_rule() {
    let dir = tempfile::tempdir().unwrap();
    let r = seq_rule(dir.path());
    let f = dir.path().join("e.ndjson");
    let text = ev("2026-01-01T00:00:05Z", "a") + &ev("2026-01-01T00:00:01Z", "b");
    std::fs::write(&f, text).unwrap();
    let set = RuleSet::new(&[&r]);
    let mut res = set.empty_results();
    set.run(Source::open(&f).unwrap(), &mut res, &|_| {})
        .unwrap();
    assert!(res[0].alerts.is_empty());
    assert_eq!(res[0].errors.len(), 1);
    assert!(
        res[0].errors[0].contains("e.ndjson:2:"),
        "{}",
        res[0].errors[0]
    );
    assert!(
        res[0].errors[0].contains("timestamp order"),
        "{}",
        res[0].errors[0]
    );
}

#[test]
fn gzip_recordings_give_the_alerts_of_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let r = seq_rule(dir.path());
    let text = ev("2026-01-01T00:00:00Z", "a") + &ev("2026-01-01T00:00:10Z", "b");
    let plain = dir.path().join("e.ndjson");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("e.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let set = RuleSet::new(&[&r]);
    let mut a = set.empty_results();
    let mut b = set.empty_results();
    set.run(Source::open(&plain).unwrap(), &mut a, &|_| {})
        .unwrap();
    set.run(Source::open(&gz).unwrap(), &mut b, &|_| {})
        .unwrap();
    assert_eq!(a[0].alerts.len(), 1);
    let pos = |r: &ruleforge::replay::stream::RuleResult| {
        r.alerts[0]
            .alert
            .events
            .iter()
            .map(|e| e.as_ref().map(|e| e.position))
            .collect::<Vec<_>>()
    };
    assert_eq!(pos(&a[0]), vec![Some(1), Some(2)]);
    assert_eq!(pos(&a[0]), pos(&b[0]));
}

#[test]
fn rules_that_cannot_be_replayed_are_listed_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let ok = seq_rule(dir.path());
    // A machine_learning rule scores anomalies from a trained job: nothing to replay offline.
    let ml = rule(
        dir.path(),
        "ml",
        "type = \"machine_learning\"\nanomaly_threshold = 50\nmachine_learning_job_id = \"job\"\n",
    );
    let set = RuleSet::new(&[&ok, &ml]);
    assert_eq!(set.rules().len(), 1);
    let skipped: Vec<&str> = set.skipped().iter().map(|s| s.rule.name.as_str()).collect();
    assert_eq!(skipped, ["ml"]);
}
