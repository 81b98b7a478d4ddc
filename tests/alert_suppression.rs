//! `alert_suppression` applied by the replay engine (`replay::stream::RuleSet`, what `ruleforge
//! test` and `ruleforge replay` run) to rule types other than indicator match: custom query, threshold and
//! EQL sequences, and invalid settings refused with their location.

use ruleforge::event;
use ruleforge::replay::stream::{RuleSet, Source};
use ruleforge::replay::{Alert, Detail, NotReplayable};
use ruleforge::rule::{self, Rule};
use std::path::Path;

fn rule_from(dir: &Path, body: &str) -> Rule {
    let text = format!(
        r#"[metadata]
creation_date = "2026/12/03"
maturity = "production"
updated_date = "2026/12/03"

[rule]
author = ["Ruleforge Tests"]
description = "A rule written for a test."
name = "Suppression Test Rule"
risk_score = 21
rule_id = "0b0c6f0e-4a43-4d5e-9d0b-5a2f7a1c9e01"
severity = "low"
index = ["logs-*"]
{body}"#
    );
    let path = dir.join("suppression_test_rule.toml");
    std::fs::write(&path, text).unwrap();
    let r = rule::load_file(&path, rule::placement_of(&path)).expect("rule loads");
    assert!(r.loaded_cleanly(), "{:?}", r.load_diagnostics);
    r
}

/// Events, one per line, at `minute` minutes past 10:00 with the given host and user.
fn recording(dir: &Path, rows: &[(i64, &str, Option<&str>)]) -> event::EventFile {
    let text: String = rows
        .iter()
        .map(|(m, host, user)| {
            let mut ev = serde_json::json!({
                "@timestamp": format!("2026-11-26T10:{m:02}:00.000Z"),
                "event": {"category": ["process"], "action": "exec"},
                "host": {"name": host},
                "process": {"name": "nc"},
            });
            if let Some(u) = user {
                ev["user"] = serde_json::json!({ "name": u });
            }
            format!("{ev}\n")
        })
        .collect();
    let path = dir.join("events.ndjson");
    std::fs::write(&path, text).unwrap();
    event::read_file(&path, "@timestamp").unwrap()
}

/// Why the engine does not replay `rule`, if it does not.
fn refused(rule: &Rule) -> Option<NotReplayable> {
    RuleSet::new(&[rule])
        .skipped()
        .first()
        .map(|s| s.reason.clone())
}

fn run(rule: &Rule, events: &event::EventFile) -> Vec<Alert> {
    if let Some(e) = refused(rule) {
        match e {
            NotReplayable::Invalid(d) => panic!("{d:?}"),
            NotReplayable::Unsupported(m) => panic!("{m}"),
        }
    }
    let set = RuleSet::new(&[rule]);
    let in_memory = set.run_events(events, &[], None).remove(0).unwrap();
    // `ruleforge replay` streams the same recording from its file: the same suppressed alerts.
    let mut streamed = set.empty_results();
    set.run(Source::open(&events.path).unwrap(), &mut streamed, &|_| {})
        .unwrap();
    assert!(streamed[0].errors.is_empty(), "{:?}", streamed[0].errors);
    let streamed: Vec<Alert> = streamed
        .remove(0)
        .alerts
        .into_iter()
        .map(|a| a.alert)
        .collect();
    assert_eq!(streamed, in_memory, "streamed and in-memory replays differ");
    in_memory
}

/// (line of the raised alert's first event, docs_count), or docs_count `None` when the alert
/// carries no suppression.
fn shape(alerts: &[Alert]) -> Vec<(usize, Option<usize>)> {
    alerts
        .iter()
        .map(|a| {
            let line = a.events.iter().flatten().next().unwrap().position;
            match &a.detail {
                Detail::Suppressed(s) => (line, Some(s.docs_count)),
                _ => (line, None),
            }
        })
        .collect()
}

const QUERY: &str = r#"type = "query"
language = "kuery"
query = "process.name:nc"
"#;

#[test]
fn a_query_rule_suppresses_per_execution_or_for_a_duration() {
    let dir = tempfile::tempdir().unwrap();
    // Runs every 5 minutes from 10:00: {10:00}, {10:01, 10:02, 10:03 (b)}, …, {10:31}.
    let events = recording(
        dir.path(),
        &[
            (0, "a", Some("u")),
            (1, "a", Some("u")),
            (2, "a", Some("u")),
            (3, "b", Some("u")),
            (7, "a", Some("u")),
            (31, "a", Some("u")),
        ],
    );
    let plain = rule_from(dir.path(), QUERY);
    assert_eq!(run(&plain, &events).len(), 6);
    let per_run = rule_from(
        dir.path(),
        &format!(
            "{QUERY}[rule.alert_suppression]\ngroup_by = [\"host.name\"]\nmissing_fields_strategy = \"suppress\"\n"
        ),
    );
    assert_eq!(
        shape(&run(&per_run, &events)),
        vec![
            (1, Some(0)),
            (2, Some(1)),
            (4, Some(0)),
            (5, Some(0)),
            (6, Some(0))
        ]
    );
    let hourly = rule_from(
        dir.path(),
        &format!(
            "{QUERY}[rule.alert_suppression]\ngroup_by = [\"host.name\"]\nmissing_fields_strategy = \"suppress\"\n[rule.alert_suppression.duration]\nunit = \"m\"\nvalue = 30\n"
        ),
    );
    // a: raised at 10:00, absorbs 10:05 and 10:10 runs; 10:35 is past 10:00 + 30m.
    assert_eq!(
        shape(&run(&hourly, &events)),
        vec![(1, Some(3)), (4, Some(0)), (6, Some(0))]
    );
}

#[test]
fn missing_group_fields_follow_the_strategy() {
    let dir = tempfile::tempdir().unwrap();
    // Runs from 10:00 every 5 minutes: {c}, then {a, b}, which both lack user.name.
    let events = recording(
        dir.path(),
        &[(0, "c", Some("u")), (1, "a", None), (2, "b", None)],
    );
    let with = |strategy: &str| {
        rule_from(
            dir.path(),
            &format!(
                "{QUERY}[rule.alert_suppression]\ngroup_by = [\"user.name\"]\nmissing_fields_strategy = \"{strategy}\"\n"
            ),
        )
    };
    assert_eq!(
        shape(&run(&with("suppress"), &events)),
        vec![(1, Some(0)), (2, Some(1))]
    );
    assert_eq!(
        shape(&run(&with("doNotSuppress"), &events)),
        vec![(1, Some(0)), (2, None), (3, None)]
    );
}

#[test]
fn a_threshold_rule_suppresses_its_bucket_for_the_duration() {
    let dir = tempfile::tempdir().unwrap();
    // Two events of host a in each of the first three runs' windows.
    let events = recording(
        dir.path(),
        &[
            (0, "a", None),
            (0, "a", None),
            (6, "a", None),
            (6, "a", None),
            (11, "a", None),
            (11, "a", None),
        ],
    );
    let body = "type = \"threshold\"\nlanguage = \"kuery\"\nquery = \"process.name:nc\"\nfrom = \"now-5m\"\n[rule.threshold]\nfield = [\"host.name\"]\nvalue = 2\n";
    let plain = rule_from(dir.path(), body);
    assert_eq!(run(&plain, &events).len(), 3);
    let suppressed = rule_from(
        dir.path(),
        &format!("{body}[rule.alert_suppression.duration]\nunit = \"h\"\nvalue = 1\n"),
    );
    let alerts = run(&suppressed, &events);
    assert_eq!(shape(&alerts), vec![(1, Some(2))]);
    let Detail::Suppressed(s) = &alerts[0].detail else {
        unreachable!()
    };
    assert_eq!(
        s.terms,
        vec![("host.name".to_string(), Some(serde_json::json!("a")))]
    );
    assert!(matches!(s.detail, Detail::Threshold { count: 2, .. }));
}

#[test]
fn settings_kibana_refuses_are_errors_at_their_value() {
    let dir = tempfile::tempdir().unwrap();
    for (setting, at) in [
        (
            "group_by = [\"host.name\"]\nmissing_fields_strategy = \"sometimes\"\n",
            "\"sometimes\"",
        ),
        (
            "group_by = [\"a\", \"b\", \"c\", \"d\"]\nmissing_fields_strategy = \"suppress\"\n",
            "[\"a\", \"b\", \"c\", \"d\"]",
        ),
        (
            "group_by = [\"host.name\"]\nmissing_fields_strategy = \"suppress\"\n[rule.alert_suppression.duration]\nunit = \"d\"\nvalue = 1\n",
            "\"d\"",
        ),
        (
            "group_by = [\"host.name\"]\n[rule.alert_suppression.duration]\nunit = \"m\"\nvalue = 0\n",
            "0",
        ),
    ] {
        let r = rule_from(
            dir.path(),
            &format!("{QUERY}[rule.alert_suppression]\n{setting}"),
        );
        let Some(NotReplayable::Invalid(d)) = refused(&r) else {
            panic!("{setting}: accepted")
        };
        assert_eq!(d[0].code, "RT016", "{setting}");
        let span = d[0].span.clone().unwrap();
        let located = &r.text[span];
        assert!(located.starts_with(at.trim_end()), "{setting}: {located:?}");
    }
}

#[test]
fn an_eql_sequence_is_grouped_by_the_values_its_events_agree_on() {
    let dir = tempfile::tempdir().unwrap();
    // Sequences a→b per host: h1 (user u, twice), h2 (users u then v: they disagree).
    let rows = [
        (r#"{"@timestamp":"2026-11-26T10:00:00.000Z","event":{"category":["process"]},"host":{"name":"h1"},"user":{"name":"u"},"process":{"name":"a"}}"#),
        (r#"{"@timestamp":"2026-11-26T10:00:10.000Z","event":{"category":["process"]},"host":{"name":"h1"},"user":{"name":"u"},"process":{"name":"b"}}"#),
        (r#"{"@timestamp":"2026-11-26T10:00:20.000Z","event":{"category":["process"]},"host":{"name":"h2"},"user":{"name":"u"},"process":{"name":"a"}}"#),
        (r#"{"@timestamp":"2026-11-26T10:00:30.000Z","event":{"category":["process"]},"host":{"name":"h2"},"user":{"name":"v"},"process":{"name":"b"}}"#),
        (r#"{"@timestamp":"2026-11-26T10:00:40.000Z","event":{"category":["process"]},"host":{"name":"h1"},"user":{"name":"u"},"process":{"name":"a"}}"#),
        (r#"{"@timestamp":"2026-11-26T10:00:50.000Z","event":{"category":["process"]},"host":{"name":"h1"},"user":{"name":"u"},"process":{"name":"b"}}"#),
    ];
    let path = dir.path().join("events.ndjson");
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    let events = event::read_file(&path, "@timestamp").unwrap();
    let body = "type = \"eql\"\nlanguage = \"eql\"\nquery = '''\nsequence by host.name [process where process.name == \"a\"] [process where process.name == \"b\"]\n'''\n";
    let plain = rule_from(dir.path(), body);
    assert_eq!(run(&plain, &events).len(), 3);
    let grouped = rule_from(
        dir.path(),
        &format!(
            "{body}[rule.alert_suppression]\ngroup_by = [\"user.name\"]\nmissing_fields_strategy = \"doNotSuppress\"\n"
        ),
    );
    let alerts = run(&grouped, &events);
    // h1's two sequences (user u) fall in one execution: one alert absorbing the other; h2's
    // sequence has no agreed user.name and is raised on its own.
    let mut got: Vec<(usize, Option<usize>)> = shape(&alerts);
    got.sort();
    assert_eq!(got, vec![(1, Some(1)), (3, None)]);
}
