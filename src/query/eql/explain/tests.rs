use crate::query::eql::{self, Options};
use serde_json::{Value, json};

const Q: &str = r#"process where process.name in ("gunzip", "file") and
  (process.args like "/boot/*" or process.parent.args like "/boot/*") and
  process.parent.name not in ("mkinitramfs", "kdumpctl") and
  not process.parent.executable like ("/usr/lib/needrestart/*", "/usr/bin/kdumpctl")"#;

fn ev(name: &str, args: &[&str], parent: &str, parent_exe: &str) -> Value {
    json!({"@timestamp": 1, "event": {"category": "process"},
        "process": {"name": name, "args": args,
            "parent": {"name": parent, "executable": parent_exe, "args": [parent_exe]}}})
}

fn explain(q: &str, e: &Value) -> eql::explain::EventExplanation {
    eql::parse(q)
        .unwrap()
        .explain_event(&Options::default(), e)
        .unwrap()
}

#[test]
fn the_list_element_that_excluded_the_event_is_the_deciding_clause() {
    let e = ev(
        "file",
        &["file", "-L", "/boot/vmlinuz"],
        "mkinitramfs",
        "/usr/sbin/mkinitramfs",
    );
    let x = explain(Q, &e);
    assert!(!x.matched);
    assert_eq!(x.failing, 1);
    let d = x.deciding_clause().unwrap();
    assert_eq!(d.text, r#"process.parent.name == "mkinitramfs""#);
    assert!(d.holds);
    assert_eq!(
        d.reads,
        vec![(
            "process.parent.name".to_string(),
            vec![json!("mkinitramfs")]
        )]
    );
    let flip = x.flip.as_deref().unwrap();
    assert!(
        flip.contains(r#"`process.parent.name == "mkinitramfs"` were false"#),
        "{flip}"
    );
    let text = x.render();
    assert!(text.contains(r#"[true ] process.parent.name == "mkinitramfs"  <- process.parent.name = "mkinitramfs"  <== deciding"#), "{text}");
}

#[test]
fn a_matching_event_holds_every_clause_and_has_no_deciding_clause() {
    let e = ev(
        "gunzip",
        &["gunzip", "-c", "/boot/vmlinuz"],
        "bash",
        "/usr/bin/bash",
    );
    let x = explain(Q, &e);
    assert!(x.matched);
    assert_eq!(
        (x.failing, x.deciding.is_none(), x.flip.is_none()),
        (0, true, true)
    );
    assert!(x.render().contains("every clause held"));
}

#[test]
fn two_failing_clauses_are_no_near_miss() {
    let e = ev("ls", &["ls", "/tmp"], "bash", "/usr/bin/bash");
    let x = explain(Q, &e);
    assert_eq!(x.failing, 2);
    assert!(x.deciding.is_none() && x.flip.is_none());
}

#[test]
fn a_positive_miss_suggests_making_the_clause_true() {
    let e = ev("ls", &["ls", "/boot/x"], "bash", "/usr/bin/bash");
    let x = explain(Q, &e);
    let d = x.deciding_clause().unwrap();
    assert_eq!(d.text, r#"process.name in ("gunzip", "file")"#);
    assert!(x.flip.unwrap().contains("were true"));
}

#[test]
fn a_missing_field_fails_a_positive_test_and_passes_an_exclusion() {
    let e = json!({"@timestamp": 1, "event": {"category": "process"},
        "process": {"name": "file", "args": ["/boot/x"]}});
    let x = explain(Q, &e);
    assert!(x.matched, "{}", x.render());
    assert!(x.render().contains("process.parent.name missing"));
}

#[test]
fn the_category_is_a_clause() {
    let mut e = ev("file", &["/boot/x"], "bash", "/usr/bin/bash");
    e["event"]["category"] = json!("file");
    let x = explain(Q, &e);
    let d = x.deciding_clause().unwrap();
    assert!(
        d.text.starts_with("event.category == \"process\""),
        "{}",
        d.text
    );
}

#[test]
fn exclusions_are_each_negated_list_element_and_each_not_clause() {
    let q = eql::parse(&format!("{Q} and not process.parent.args == \"x\"")).unwrap();
    let texts: Vec<String> = q.exclusions().into_iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        [
            r#"process.parent.name == "mkinitramfs""#,
            r#"process.parent.name == "kdumpctl""#,
            r#"process.parent.executable like "/usr/lib/needrestart/*""#,
            r#"process.parent.executable like "/usr/bin/kdumpctl""#,
            r#"not process.parent.args == "x""#,
        ]
    );
    let branches: Vec<String> = q.branches().into_iter().map(|p| p.text).collect();
    assert_eq!(
        branches,
        [
            r#"process.args like "/boot/*""#,
            r#"process.parent.args like "/boot/*""#
        ]
    );
}

#[test]
fn list_values_are_the_elements_of_positive_lists_outside_negations() {
    let q = eql::parse(Q).unwrap();
    let texts: Vec<String> = q.list_values().into_iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        [r#"process.name == "gunzip""#, r#"process.name == "file""#]
    );
    let q = eql::parse(r#"any where x like~ ("a*", "b*") or not y in (1, 2) or z : ("p", "q")"#)
        .unwrap();
    let texts: Vec<String> = q.list_values().into_iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        [
            r#"x like~ "a*""#,
            r#"x like~ "b*""#,
            r#"z : "p""#,
            r#"z : "q""#
        ]
    );
}

#[test]
fn removing_one_exclusion_lets_exactly_the_events_it_excluded_through() {
    let q = eql::parse(Q).unwrap();
    let opts = Options::default();
    let mk = ev("file", &["/boot/x"], "mkinitramfs", "/usr/sbin/mkinitramfs");
    let kd = ev("file", &["/boot/x"], "kdumpctl", "/usr/sbin/kdumpctl");
    let excl = q.exclusions();
    let without_mk = q
        .without_exclusion(&excl[0].span)
        .unwrap()
        .compile(&opts)
        .unwrap();
    assert!(without_mk.matches(&mk));
    assert!(!without_mk.matches(&kd));
    assert!(!q.compile(&opts).unwrap().matches(&mk));
    // A `not (…)` clause is removed whole.
    let q2 = eql::parse("process where process.name == \"a\" and not process.pid == 1").unwrap();
    let one = json!({"event": {"category": "process"}, "process": {"name": "a", "pid": 1}});
    let x = q2.exclusions();
    assert_eq!(x.len(), 1);
    assert!(!q2.compile(&opts).unwrap().matches(&one));
    assert!(
        q2.without_exclusion(&x[0].span)
            .unwrap()
            .compile(&opts)
            .unwrap()
            .matches(&one)
    );
    assert!(q2.without_exclusion(&(0..1)).is_none());
}

const SEQ: &str = r#"sequence by host.id with maxspan=10s
  [process where process.name == "gunzip"]
  [process where process.name == "insmod"]
  until [process where process.name == "reboot"]"#;

fn at(ms: i64, name: &str, host: &str) -> Value {
    json!({"@timestamp": ms, "event": {"category": "process"},
        "host": {"id": host}, "process": {"name": name}})
}

fn verdicts(events: &[Value]) -> Vec<(Vec<Value>, eql::explain::Verdict)> {
    let q = eql::parse(SEQ).unwrap();
    let r = q.explain_sequence(&Options::default(), events).unwrap();
    r.keys.into_iter().map(|k| (k.key, k.verdict)).collect()
}

#[test]
fn sequence_verdicts_name_why_a_key_did_not_complete() {
    use eql::explain::Verdict;
    let events = [
        at(1_000, "gunzip", "a"),
        at(2_000, "insmod", "a"),
        at(1_000, "insmod", "b"),
        at(2_000, "gunzip", "b"),
        at(1_000, "gunzip", "c"),
        at(20_000, "insmod", "c"),
        at(1_000, "gunzip", "d"),
        at(2_000, "reboot", "d"),
        at(3_000, "insmod", "d"),
        at(1_000, "gunzip", "e"),
    ];
    let v = verdicts(&events);
    let of = |h: &str| {
        v.iter()
            .find(|(k, _)| k == &vec![json!(h)])
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(of("a"), Verdict::Complete { events: vec![0, 1] });
    assert_eq!(of("b"), Verdict::Order { stage: 1, after: 3 });
    assert_eq!(
        of("c"),
        Verdict::Maxspan {
            events: vec![4, 5],
            span_ms: 19_000,
            maxspan_ms: 10_000
        }
    );
    assert_eq!(
        of("d"),
        Verdict::Until {
            events: vec![6, 8],
            until: 7
        }
    );
    assert_eq!(of("e"), Verdict::StageNeverMatched { stage: 1 });
    // And the real engine agrees on which keys complete.
    let hits = eql::parse(SEQ)
        .unwrap()
        .compile(&Options::default())
        .unwrap()
        .execute(&events)
        .unwrap();
    assert_eq!(hits.len(), 1);
}

#[test]
fn explain_event_refuses_a_sequence() {
    let q = eql::parse(SEQ).unwrap();
    assert!(
        q.explain_event(&Options::default(), &at(1, "gunzip", "a"))
            .is_err()
    );
}
