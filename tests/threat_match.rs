//! Indicator match replay: every threat_match rule of the Elastic corpus is replayable (no
//! RT005) and alerts exactly when sample events meet sample indicators through one of its
//! `threat_mapping` groups; the project's own indicator match rule alerts as its fixtures say.

use ruleforge::event::EventFile;
use ruleforge::replay::stream::RuleSet;
use ruleforge::replay::threat_match::IndicatorSet;
use ruleforge::replay::{self, Detail, NotReplayable};
use ruleforge::rule::{Collection, Rule, RuleType};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Sets a dotted field in a JSON object, creating the objects on the way.
fn set(doc: &mut Value, dotted: &str, v: Value) {
    let mut cur = doc;
    let parts: Vec<&str> = dotted.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        cur = cur
            .as_object_mut()
            .unwrap()
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    cur.as_object_mut()
        .unwrap()
        .insert(parts[parts.len() - 1].to_string(), v);
}

/// The (event field, indicator field) pairs of each mapping group of a rule.
fn groups(rule: &Rule) -> Vec<Vec<(String, String)>> {
    let json = rule.to_json();
    json["rule"]["threat_mapping"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_string(),
                        e["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// A sample value of mapping group `g` for an indicator field: `salt` "" is the value events
/// of the group carry; other salts give values nothing else carries (an address for `.ip`).
fn sample(g: usize, field: &str, salt: &str) -> Value {
    if field.ends_with(".ip") {
        let net = match salt {
            "" => "198.51.100",
            "other-" => "203.0.113",
            _ => "192.0.2",
        };
        json!(format!("{net}.{}", g + 1))
    } else {
        json!(format!("{salt}sample-{g}-{field}"))
    }
}

/// Per mapping group, one event carrying every event field of the rule (so that it passes the
/// rule's query), with the group's values on that group's fields and unrelated values on the
/// others, and one indicator carrying every indicator field with the group's values (`salt`
/// changes the indicator values so that nothing can match).
fn sample_data(rule: &Rule, salt: &str) -> (EventFile, IndicatorSet) {
    let json = rule.to_json();
    let threat_query = json["rule"]["threat_query"].as_str().unwrap();
    // The integration the threat query asks for (`event.module:(threatintel or …)`).
    let module = threat_query
        .split("event.module:")
        .nth(1)
        .unwrap()
        .trim_start_matches([' ', '('])
        .split([' ', ')', '\n'])
        .next()
        .unwrap()
        .to_string();
    let index = json["rule"]["threat_index"][0]
        .as_str()
        .unwrap()
        .replace('*', "sample");
    let gs = groups(rule);
    let all: Vec<&(String, String)> = gs.iter().flatten().collect();
    let (mut events, mut indicators) = (Vec::new(), Vec::new());
    for (g, group) in gs.iter().enumerate() {
        let mut ev = json!({
            "@timestamp": "2026-11-26T10:00:00.000Z",
            "event": {"ingested": "2026-11-26T10:00:01.000Z", "kind": "event"},
        });
        for (field, value) in &all {
            set(&mut ev, field, sample(g, value, "unrelated-"));
        }
        for (field, value) in group {
            set(&mut ev, field, sample(g, value, ""));
        }
        events.push(ev);
        let mut ind = json!({
            "@timestamp": "2026-11-20T00:00:00.000Z",
            "event": {"module": module, "category": "threat", "kind": "enrichment", "type": "indicator"},
        });
        for (_, value) in &all {
            set(&mut ind, value, sample(g, value, salt));
        }
        indicators.push(ind);
    }
    let n = events.len();
    let file = |name: &str, values: Vec<Value>| {
        let ts = values
            .iter()
            .map(|v| ruleforge::event::parse_timestamp(&v["@timestamp"]))
            .collect();
        EventFile::from_parts(PathBuf::from(name), values, (1..=n).collect(), ts)
    };
    (
        file("sample.ndjson", events),
        IndicatorSet {
            index,
            docs: file("sample_indicators.ndjson", indicators),
        },
    )
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_threat_match_rule_replays_and_alerts_once_per_matching_group() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    let collection = Collection::load_dirs(&[corpus.join("rules")]).expect("corpus loads");
    let rules: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated() && r.rule_type == Some(RuleType::ThreatMatch))
        .collect();
    assert_eq!(
        rules.len(),
        6,
        "the corpus holds 6 active threat_match rules"
    );
    for rule in rules {
        // The replay engine, as `ruleforge test` runs it on a fixture.
        let set = RuleSet::new(&[rule]);
        if let Some(s) = set.skipped().first() {
            match &s.reason {
                NotReplayable::Unsupported(why) => panic!("{}: RT005 {why}", rule.name),
                NotReplayable::Invalid(d) => panic!("{}: {d:?}", rule.name),
            }
        }
        let run = |events: &EventFile, indicators: IndicatorSet| {
            set.run_events(events, &[indicators], None).remove(0)
        };
        let (events, indicators) = sample_data(rule, "");
        let alerts = run(&events, indicators).unwrap_or_else(|e| panic!("{}: {e}", rule.name));
        let n = groups(rule).len();
        assert_eq!(
            alerts.len(),
            n,
            "{}: one alert per mapping group",
            rule.name
        );
        for (i, a) in alerts.iter().enumerate() {
            assert_eq!(a.events[0].as_ref().unwrap().index, i);
            let Detail::ThreatMatch { enrichments } = &a.detail else {
                panic!("{}: not an indicator match alert", rule.name)
            };
            assert_eq!(enrichments[0].indicator.index, i, "{}", rule.name);
        }
        // Control: the same events against indicators with other values raise nothing.
        let (events, other) = sample_data(rule, "other-");
        let quiet = run(&events, other).unwrap();
        assert!(
            quiet.is_empty(),
            "{}: alerted without a matching indicator",
            rule.name
        );
        // And indicators in an index outside threat_index are not searched.
        let (events, mut elsewhere) = sample_data(rule, "");
        elsewhere.index = "unrelated-index".into();
        let quiet = run(&events, elsewhere).unwrap();
        assert!(
            quiet.is_empty(),
            "{}: searched an index outside threat_index",
            rule.name
        );
    }
}

#[path = "common/scratch.rs"]
mod scratch;

const TM_RULE: &str = "command_and_control_linux_indicator_match";
const NEAR: &str = "fixtures/indicator_match/curl_near_misses";

/// Runs `test` on the indicator match rule in a scratch copy after `edit` changed one file.
fn test_after(file: &str, from: &str, to: &str) -> (i32, String) {
    let dir = scratch::scratch_copy();
    scratch::edit(dir.path(), file, from, to);
    let out = scratch::run(dir.path(), &["test", "--rule", TM_RULE]);
    let text = scratch::text(&out.stdout) + &scratch::text(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn each_near_miss_alerts_once_its_one_difference_is_removed() {
    let indicators = format!("{NEAR}_indicators.ndjson");
    let cases = [
        // The controller's indicator on the port curl used: the (ip, port) mapping holds.
        (indicators.as_str(), "\"port\":8443", "\"port\":443", ":1 "),
        // The stale indicator republished within 30 days of the connection.
        (
            indicators.as_str(),
            "\"@timestamp\":\"2026-10-12T06:00:00.000Z\"",
            "\"@timestamp\":\"2026-11-12T06:00:00.000Z\"",
            ":2 ",
        ),
        // The late indicator published before the connection.
        (
            indicators.as_str(),
            "\"@timestamp\":\"2026-11-26T16:00:00.000Z\"",
            "\"@timestamp\":\"2026-11-26T13:00:00.000Z\"",
            ":3 ",
        ),
    ];
    for (file, from, to, line) in cases {
        let (code, out) = test_after(file, from, to);
        assert_eq!(code, 1, "{from} -> {to}: {out}");
        assert!(out.contains("error[RT003]"), "{from} -> {to}: {out}");
        assert!(
            out.contains(&format!("curl_near_misses.ndjson{line}")),
            "{from} -> {to}: the alert is on event line{line}: {out}"
        );
    }
    // The blocklist moved into an index that threat_index covers.
    let (code, out) = test_after(
        &format!("{NEAR}.toml"),
        "logs-custom.blocklist-default",
        "logs-ti_custom.blocklist-default",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("curl_near_misses.ndjson:4 "), "{out}");
}

#[test]
fn indicator_entries_in_manifests_fail_closed_with_locations() {
    let manifest = format!("{NEAR}.toml");
    let (code, out) = test_after(
        &manifest,
        "curl_near_misses_blocklist.ndjson",
        "no_such_feed.ndjson",
    );
    assert_eq!(
        code, 2,
        "an unreadable indicator recording is an I/O error: {out}"
    );
    assert!(out.contains("error[FX004]"), "{out}");
    assert!(
        out.contains("curl_near_misses.toml:11:10"),
        "located at the entry: {out}"
    );
    let (code, out) = test_after(
        &manifest,
        "index = \"logs-custom.blocklist-default\"",
        "index = \"logs-custom.blocklist-default\"\nfeed = \"x\"",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[FX002]"), "{out}");
    assert!(out.contains("`feed`"), "{out}");
    assert!(out.contains("curl_near_misses.toml:13:1"), "{out}");
}

#[test]
fn the_example_rule_suppresses_the_beacon_into_one_alert_per_host_and_address() {
    let root = scratch::project();
    let snap = std::fs::read_to_string(root.join(format!("snapshots/{TM_RULE}.snap"))).unwrap();
    assert!(snap.contains("alerts: 2\n"), "{snap}");
    assert!(
        snap.contains("destination.ip=198.51.100.23 (docs_count=9)"),
        "{snap}"
    );
    // Without suppression, every one of the ten connections is an alert of its own.
    let dir = scratch::scratch_copy();
    scratch::edit(
        dir.path(),
        &format!("rules/linux/{TM_RULE}.toml"),
        "[rule.alert_suppression]\ngroup_by = [\"host.id\", \"destination.ip\"]\nmissing_fields_strategy = \"doNotSuppress\"\n\n[rule.alert_suppression.duration]\nunit = \"h\"\nvalue = 1\n",
        "",
    );
    let out = scratch::run(dir.path(), &["test", "--rule", TM_RULE]);
    let text = scratch::text(&out.stdout);
    assert!(text.contains("raised 11 alerts"), "{text}");
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_alert_suppression_setting_is_accepted() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/elastic-detection-rules");
    let collection =
        Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
            .expect("corpus loads");
    let mut with = 0;
    for rule in collection.rules.iter().filter(|r| r.loaded_cleanly()) {
        let Ok(sup) = replay::suppression::of_rule(rule) else {
            panic!("{}: its alert_suppression was refused", rule.name)
        };
        if let Some(sup) = sup {
            with += 1;
            let threshold = rule.rule_type == Some(RuleType::Threshold);
            assert_eq!(sup.group_by.is_empty(), threshold, "{}", rule.name);
        }
    }
    assert!(with >= 20, "{with} corpus rules with alert_suppression");
}

#[test]
fn a_lucene_threat_query_selects_the_same_indicators() {
    let dir = scratch::scratch_copy();
    let rule = format!("rules/linux/{TM_RULE}.toml");
    scratch::edit(
        dir.path(),
        &rule,
        "threat_language = \"kuery\"",
        "threat_language = \"lucene\"",
    );
    scratch::edit(
        dir.path(),
        &rule,
        "@timestamp >= \"now-30d/d\" and event.category:threat and event.type:indicator and\nthreat.indicator.type:(\"ipv4-addr\" or \"file\")",
        "@timestamp:[now-30d/d TO *] AND event.category:threat AND event.type:indicator AND\nthreat.indicator.type:(\"ipv4-addr\" OR \"file\")",
    );
    let out = scratch::run(dir.path(), &["test", "--rule", TM_RULE]);
    let text = scratch::text(&out.stdout) + &scratch::text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // A Lucene query the indicators do not meet leaves the malicious fixture without alerts.
    scratch::edit(
        dir.path(),
        &rule,
        "event.type:indicator",
        "event.type:enrichment",
    );
    let out = scratch::run(dir.path(), &["test", "--rule", TM_RULE]);
    let text = scratch::text(&out.stdout);
    assert!(text.contains("raised 0 alerts"), "{text}");
}

/// The project's indicator match rule and its malicious fixture, loaded as `test` loads them.
fn project_beacon() -> (Collection, ruleforge::fixture::Fixture) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let collection = Collection::load_dirs(&[root.join("rules")]).expect("rules load");
    let canon = root.canonicalize().unwrap();
    let manifest = root.join("fixtures/indicator_match/attacker_beacon_to_c2.toml");
    let fixture = ruleforge::fixture::load(&manifest, "@timestamp", &canon).expect("fixture loads");
    (collection, fixture)
}

#[test]
fn streaming_with_indicators_raises_the_alerts_of_the_in_memory_fixture_replay() {
    let (collection, f) = project_beacon();
    let rule = collection.find(TM_RULE).expect("the indicator match rule");
    assert!(!f.indicators.is_empty());
    let set = RuleSet::new(&[rule]).with_indicators(f.indicators.clone());
    let in_memory = set
        .run_events(&f.events, &f.indicators, None)
        .remove(0)
        .unwrap();
    let mut streamed = set.empty_results();
    set.run(
        ruleforge::replay::stream::Source::open(&f.events.path).unwrap(),
        &mut streamed,
        &|_| {},
    )
    .unwrap();
    assert!(streamed[0].errors.is_empty(), "{:?}", streamed[0].errors);
    let streamed: Vec<replay::Alert> = streamed
        .remove(0)
        .alerts
        .into_iter()
        .map(|a| a.alert)
        .collect();
    assert_eq!(streamed, in_memory);
    // The fixture's expectation (2 alerts after suppression) holds on both paths.
    assert_eq!(in_memory.len(), 2);
    // The beacons are one suppressed indicator match; the dropper's run (no destination.ip,
    // `doNotSuppress`) is raised on its own.
    let suppressed = |a: &replay::Alert| matches!(&a.detail, Detail::Suppressed(s) if matches!(s.detail, Detail::ThreatMatch { .. }));
    let plain = |a: &replay::Alert| matches!(a.detail, Detail::ThreatMatch { .. });
    assert_eq!(
        in_memory.iter().filter(|a| suppressed(a)).count(),
        1,
        "{in_memory:?}"
    );
    assert_eq!(
        in_memory.iter().filter(|a| plain(a)).count(),
        1,
        "{in_memory:?}"
    );
    // Without indicators (an empty threat index), nothing matches.
    let bare = RuleSet::new(&[rule]);
    assert!(
        bare.run_events(&f.events, &[], None)
            .remove(0)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_buffered_rule_past_its_limit_fails_on_that_recording_instead_of_alerting_on_part() {
    let (collection, f) = project_beacon();
    let rule = collection.find(TM_RULE).expect("the indicator match rule");
    let unbounded = RuleSet::new(&[rule]);
    let selected = unbounded
        .run_events(&f.events, &f.indicators, None)
        .remove(0)
        .unwrap();
    assert!(!selected.is_empty());
    let set = RuleSet::new(&[rule]).with_buffer_limit(1);
    let err = set
        .run_events(&f.events, &f.indicators, None)
        .remove(0)
        .unwrap_err();
    assert!(
        matches!(err, replay::ReplayError::TooManyBuffered { limit: 1, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("attacker_beacon_to_c2.ndjson"), "{msg}");
    assert!(msg.contains("threat_match"), "{msg}");
}
