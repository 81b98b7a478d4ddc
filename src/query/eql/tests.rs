//! End-to-end unit tests of the public API.

use super::*;
use serde_json::{Value, json};

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

fn m(q: &str, ev: Value) -> bool {
    parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e:?}"))
        .compile(&Options::default())
        .unwrap()
        .matches(&ev)
}

fn kernel_event() -> Value {
    json!({
        "event": {"category": ["process"], "type": ["start"], "action": "exec"},
        "host": {"os": {"type": "linux"}},
        "process": {
            "name": "tar", "args": ["tar", "-xf", "/boot/initrd.img"],
            "parent": {"name": "bash", "executable": "/usr/bin/bash", "args": ["bash"],
                       "command_line": "bash -c x"}
        }
    })
}

#[test]
fn kernel_unpacking_rule() {
    let q = parse(KERNEL_UNPACK).unwrap();
    let c = q.compile(&Options::default()).unwrap();
    assert!(c.matches(&kernel_event()));
    let mut ev = kernel_event();
    ev["process"]["parent"]["command_line"] = json!("/usr/bin/ANSIBLE-playbook");
    assert!(!c.matches(&ev), "like~ is case-insensitive");
    let mut ev = kernel_event();
    ev["process"]["parent"]["name"] = json!("kdumpctl");
    assert!(!c.matches(&ev));
    let mut ev = kernel_event();
    ev["process"]["parent"]["executable"] = json!("/usr/libexec/platform-python3.6");
    assert!(!c.matches(&ev));
    let mut ev = kernel_event();
    ev["process"]["args"] = json!(["tar", "-xf", "/tmp/x"]);
    assert!(!c.matches(&ev));
    let mut ev = kernel_event();
    ev["process"]["parent"]["args"] = json!(["/boot/x"]);
    ev["process"]["args"] = json!(["x"]);
    assert!(c.matches(&ev), "either args field may match");
    let mut ev = kernel_event();
    ev["process"]["name"] = json!("lz4");
    assert!(!c.matches(&ev));
    ev["process"]["args"] = json!(["lz4", "-d", "/boot/x"]);
    assert!(c.matches(&ev));
    // Missing parent fields: `not in` and `not like` are must_not, true when missing.
    let mut ev = kernel_event();
    ev["process"]["parent"] = json!({"args": "/boot/y"});
    assert!(c.matches(&ev));
    // Category is a case-sensitive term.
    let mut ev = kernel_event();
    ev["event"]["category"] = json!("Process");
    assert!(!c.matches(&ev));
    assert!(
        q.fields()
            .contains(&"process.parent.command_line".to_string())
    );
    assert!(!q.is_sequence());
}

#[test]
fn flat_events_agree_with_tree_walks() {
    let c = parse(KERNEL_UNPACK)
        .unwrap()
        .compile(&Options::default())
        .unwrap();
    let mut spelled = kernel_event();
    spelled["process.parent.command_line"] = json!("x ansible y");
    for ev in [
        kernel_event(),
        spelled,
        json!({"process": [{"args": "/boot/x"}, null]}),
    ] {
        assert_eq!(
            c.matches(&ev),
            c.matches_event(&FlatEvent::new(&ev)),
            "{ev}"
        );
    }
    let flat_src = json!({"a": {"b": [1, null, {"c": 2}]}, "a.b": 3});
    let flat = FlatEvent::new(&flat_src);
    assert_eq!(flat.get("a.b"), [&json!(1), &json!(3)]);
    assert_eq!(flat.get("a.b.c"), [&json!(2)]);
}

#[test]
fn operators_case_rules() {
    let ev = json!({"event": {"category": "process"}, "a": "Foo.EXE", "n": 5, "s": "5"});
    assert!(m(r#"process where a == "Foo.EXE""#, ev.clone()));
    assert!(!m(r#"process where a == "foo.exe""#, ev.clone()));
    assert!(m(r#"process where a : "foo.exe""#, ev.clone()));
    assert!(m(r#"process where a : "f*.e?e""#, ev.clone()));
    assert!(!m(r#"process where a == "F*""#, ev.clone()));
    assert!(m(r#"process where a in~ ("foo.exe")"#, ev.clone()));
    assert!(!m(r#"process where a in~ ("foo*")"#, ev.clone()));
    assert!(!m(r#"process where a like "foo*""#, ev.clone()));
    assert!(m(r#"process where a like~ "foo*""#, ev.clone()));
    assert!(m(r#"process where a regex "F.*E""#, ev.clone()));
    assert!(m(r#"process where a regex~ "f.*e""#, ev.clone()));
    assert!(m(
        "process where n > 4 and n <= 5 and n in (1, 5)",
        ev.clone()
    ));
    assert!(m("process where 4 < n", ev.clone()));
    assert!(m("process where s == 5", ev.clone()));
    assert!(m(r#"process where n == "5""#, ev.clone()));
    assert!(
        m(r#"process where a < "a""#, ev.clone()),
        "byte order: 'F' < 'a'"
    );
    assert!(m(
        "any where n + 1 == 6 and n * 2 == 10 and n / 2 == 2 and n % 3 == 2",
        ev.clone()
    ));
}

#[test]
fn missing_fields_and_negation() {
    let ev = json!({"event": {"category": "process"}, "x": 1});
    assert!(m(r#"process where missing != "a""#, ev.clone()));
    assert!(m(r#"process where missing not in ("a")"#, ev.clone()));
    assert!(m(r#"process where not missing : "a""#, ev.clone()));
    assert!(m(r#"process where not (missing == "a")"#, ev.clone()));
    assert!(!m(r#"process where missing == "a""#, ev.clone()));
    assert!(
        !m("process where not (missing > 5)", ev.clone()),
        "rewritten to <="
    );
    assert!(m("process where missing == null", ev.clone()));
    assert!(!m("process where missing != null", ev.clone()));
    assert!(m("process where x != null", ev.clone()));
    assert!(m("process where null == (missing > -1)", ev.clone()));
    assert!(!m("process where null == (x > -1)", ev.clone()));
    assert!(!m("process where length(missing) > 0", ev.clone()));
    assert!(m(
        r#"process where not startsWith~(missing, "x")"#,
        ev.clone()
    ));
    assert!(!m("process where not (length(missing) > 3)", ev.clone()));
    assert!(!m("process where not (missing > 5 or x > 5)", ev.clone()));
}

#[test]
fn multi_valued_fields() {
    let ev = json!({"event": {"category": ["process", "network"]}, "a": ["x", "y"]});
    assert!(m(r#"network where a == "y""#, ev.clone()));
    assert!(m(r#"process where a != "z""#, ev.clone()));
    assert!(
        !m(r#"process where a != "x""#, ev.clone()),
        "!= is true only if no value equals"
    );
    assert!(!m(r#"process where a not in ("x")"#, ev.clone()));
    assert!(m(r#"process where a like "?""#, ev.clone()));
}

#[test]
fn functions_in_conditions() {
    let ev =
        json!({"event": {"category": "process"}, "p": "C:\\Windows\\cmd.exe", "ip": "10.1.2.3"});
    assert!(m(r#"process where endsWith~(p, "CMD.EXE")"#, ev.clone()));
    assert!(!m(r#"process where endsWith(p, "CMD.EXE")"#, ev.clone()));
    assert!(m(
        r#"process where cidrmatch(ip, "10.0.0.0/8", "192.168.0.0/16")"#,
        ev.clone()
    ));
    assert!(m(
        r#"process where cidrMatch(ip, "11.0.0.0/8") == false"#,
        ev.clone()
    ));
    assert!(m("process where length(p) == 18", ev.clone()));
    assert!(m(r#"process where SubString(p, 0, 2) == "C:""#, ev.clone()));
    assert!(m(r#"process where CONCAT(p, "x") : "*exex""#, ev.clone()));
    assert!(m(r#"process where p : """C:\Windows\*""""#, ev.clone()));
    assert!(m(r#"process where p : "C:\\Windows\\*""#, ev.clone()));
}

#[test]
fn verifier_errors_have_spans() {
    let e = parse(r#"process where a == b"#).unwrap_err();
    assert_eq!(e.kind, EqlErrorKind::Verification);
    assert_eq!(e.span, 14..20);
    let e = parse(r#"process where arrayContains(a, "x")"#).unwrap_err();
    assert_eq!(e.kind, EqlErrorKind::Verification);
    assert_eq!(e.span, 14..27);
    for bad in [
        "process where number()",
        "process where number(1) == 1",
        "process where number(true) == 1",
        "process where startsWith()",
        r#"process where startsWith(1, "FOO")"#,
        r#"process where startsWith("FOO", 123)"#,
        r#"process where a in (1, "x")"#,
        r#"process where a in (b, "x")"#,
        "process where 1 + \"a\" == 2",
    ] {
        assert_eq!(
            parse(bad).unwrap_err().kind,
            EqlErrorKind::Verification,
            "{bad}"
        );
    }
}

#[test]
fn hostile_nesting_is_rejected() {
    let q = format!(
        "process where {}true{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_eq!(parse(&q).unwrap_err().kind, EqlErrorKind::NestingLimit);
    let q = format!("process where {}true", "not ".repeat(10_000));
    assert_eq!(parse(&q).unwrap_err().kind, EqlErrorKind::NestingLimit);
}

fn ts_events(specs: &[(&str, i64, &str)]) -> Vec<Value> {
    specs
        .iter()
        .map(|(cat, ts, key)| json!({"event": {"category": cat}, "@timestamp": ts, "k": key}))
        .collect()
}

#[test]
fn execute_orders_by_timestamp_and_applies_pipes() {
    let evs = ts_events(&[
        ("process", 30, "a"),
        ("process", 10, "b"),
        ("file", 20, "c"),
    ]);
    let c = parse("process where true | tail 5")
        .unwrap()
        .compile(&Options::default())
        .unwrap();
    assert_eq!(
        c.execute(&evs).unwrap(),
        vec![Hit::Event { index: 1 }, Hit::Event { index: 0 }]
    );
    let c = parse("any where true | head 2 | tail 1")
        .unwrap()
        .compile(&Options::default())
        .unwrap();
    assert_eq!(c.execute(&evs).unwrap(), vec![Hit::Event { index: 2 }]);
}

#[test]
fn sequences_by_key_with_maxspan_and_until() {
    let evs = ts_events(&[
        ("process", 1, "a"),
        ("process", 2, "b"),
        ("file", 3, "a"),
        ("file", 10_000, "b"),
    ]);
    let q = parse("sequence by k with maxspan=5s [process where true] [file where true]").unwrap();
    assert!(q.is_sequence());
    let c = q.compile(&Options::default()).unwrap();
    assert_eq!(
        c.execute(&evs).unwrap(),
        vec![Hit::Sequence {
            events: vec![Some(0), Some(2)],
            join_keys: vec![json!("a")]
        }]
    );
    let q =
        parse("sequence by k [process where true] [file where true] until [network where true]")
            .unwrap();
    let mut evs2 = evs.clone();
    evs2.push(json!({"event": {"category": "network"}, "@timestamp": 5, "k": "b"}));
    let hits = q
        .compile(&Options::default())
        .unwrap()
        .execute(&evs2)
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    // Missing event: a process not followed by a file within 5s.
    let q = parse("sequence by k with maxspan=5s [process where true] ![file where true]").unwrap();
    let hits = q
        .compile(&Options::default())
        .unwrap()
        .execute(&evs)
        .unwrap();
    assert_eq!(
        hits,
        vec![Hit::Sequence {
            events: vec![Some(1), None],
            join_keys: vec![json!("b")]
        }]
    );
}

#[test]
fn fields_include_join_keys_functions_and_optional_fields() {
    let q = parse(
        "sequence by host.id [process where startsWith(process.name, \"a\")] by ?user.id \
         [file where length(file.path) > 1] by user.name until [process where z == 1] by ?user.id",
    )
    .unwrap();
    assert_eq!(
        q.fields(),
        [
            "file.path",
            "host.id",
            "process.name",
            "user.id",
            "user.name",
            "z"
        ]
    );
    assert!(q.is_sequence());
}

#[test]
fn executor_streams_in_timestamp_order() {
    let evs = ts_events(&[
        ("process", 1, "a"),
        ("process", 2, "b"),
        ("file", 3, "a"),
        ("file", 10_000, "b"),
        ("process", 20_000, "c"),
    ]);
    for q in [
        "sequence by k with maxspan=5s [process where true] [file where true]",
        "sequence by k with maxspan=5s [process where true] ![file where true]",
        "process where true | tail 2",
        "sample by k [process where true] [file where true]",
    ] {
        let c = parse(q).unwrap().compile(&Options::default()).unwrap();
        let mut ex = c.executor();
        for (i, e) in evs.iter().enumerate() {
            ex.push(i, e).unwrap();
        }
        assert_eq!(ex.finish().unwrap(), c.execute(&evs).unwrap(), "{q}");
    }
    let c = parse("any where true")
        .unwrap()
        .compile(&Options::default())
        .unwrap();
    let mut ex = c.executor();
    ex.push(0, &evs[1]).unwrap();
    assert_eq!(ex.push(1, &evs[0]).unwrap_err().kind, EqlErrorKind::Runtime);
}

#[test]
fn executor_keeps_sequence_state_bounded_over_many_events() {
    let c = parse("sequence by k with maxspan=10ms [process where true] ![file where true]")
        .unwrap()
        .compile(&Options::default())
        .unwrap();
    let mut ex = c.executor();
    for i in 0..30_000usize {
        let cat = if i % 3 == 2 { "file" } else { "process" };
        let ev = json!({"@timestamp": i, "event": {"category": cat}, "k": i % 7});
        ex.push(i, &ev).unwrap();
    }
    let hits = ex.finish().unwrap();
    // The only file event with process i's key within 10ms is i + 7, a file when i % 3 == 1:
    // those are rejected, except the last ones, whose i + 7 is past the end.
    let expected = (0..30_000)
        .filter(|i| i % 3 == 0 || (i % 3 == 1 && i + 7 >= 30_000))
        .count();
    assert_eq!(hits.len(), expected);
}

#[test]
fn compiled_queries_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Query>();
    assert_send_sync::<Compiled>();
    assert_send_sync::<EqlError>();
}
