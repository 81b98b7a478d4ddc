//! `ruleforge eval`: ad-hoc queries and rules over event files, human and JSON output.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::project;
use std::process::Command;

fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(project())
        .arg("eval")
        .args(args)
        .output()
        .expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GUNZIP: &str = "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson";

#[test]
fn rule_file_over_a_recording_reports_matching_lines_as_json() {
    let (code, stdout, stderr) = eval(&[
        "rules/linux/discovery_kernel_unpacking.toml",
        GUNZIP,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![serde_json::json!({"type": "event", "position": 16})]
    );
}

#[test]
fn query_over_a_recording_prints_lines_for_people() {
    let (code, stdout, stderr) = eval(&[r#"process where process.name == "gunzip""#, GUNZIP]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("{GUNZIP}:16")), "{stdout}");
    assert!(stderr.contains("1 result over "), "{stderr}");
}

#[test]
fn sequence_results_list_ordered_events_and_join_keys() {
    let (code, stdout, stderr) = eval(&[
        "rules/linux/persistence_kernel_unpack_then_module_load.toml",
        "fixtures/kernel_module_staging/attacker_unpack_then_insmod.ndjson",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["type"], "sequence");
    assert_eq!(v["events"], serde_json::json!([31, 42]));
    assert_eq!(v["join_keys"].as_array().unwrap().len(), 1);
}

#[test]
fn head_and_size_limit_results() {
    let (_, all, _) = eval(&["process where true", GUNZIP, "--format", "json"]);
    let (_, head, _) = eval(&[
        "process where true",
        GUNZIP,
        "--format",
        "json",
        "--head",
        "2",
    ]);
    let (_, size, _) = eval(&[
        "process where true",
        GUNZIP,
        "--format",
        "json",
        "--size",
        "3",
    ]);
    assert!(all.lines().count() > 3);
    assert_eq!(head.lines().count(), 2);
    assert_eq!(size.lines().count(), 3);
}

#[test]
fn json_array_input_with_comment_lines_uses_array_positions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    std::fs::write(
        &file,
        "// two events\n[\n{\"@timestamp\": 1, \"event\": {\"category\": \"process\"}, \"process\": {\"name\": \"a\"}},\n// the second\n{\"@timestamp\": 2, \"event\": {\"category\": \"process\"}, \"process\": {\"name\": \"b\"}}\n]\n",
    )
    .unwrap();
    let (code, stdout, stderr) = eval(&[
        r#"process where process.name == "b""#,
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"position":2,"type":"event"}"#);
}

#[test]
fn kql_query_with_language_flag() {
    let (code, stdout, stderr) = eval(&[
        "process.name:gunzip and event.action:exec",
        GUNZIP,
        "--language",
        "kuery",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

#[test]
fn a_query_elasticsearch_rejects_exits_2_with_the_column() {
    let (code, _, stderr) = eval(&[r#"process where process.name == "a" and (true"#, GUNZIP]);
    assert_eq!(code, 2);
    assert!(stderr.contains("column"), "{stderr}");
    let (code, _, stderr) = eval(&["process where process.name == process.executable", GUNZIP]);
    assert_eq!(code, 2, "field-to-field comparison is rejected: {stderr}");
}

#[test]
fn unreadable_events_are_an_error_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.ndjson");
    std::fs::write(&file, "{\"a\": 1}\nnot json\n").unwrap();
    let (code, _, stderr) = eval(&["any where true", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.ndjson:2:"), "{stderr}");
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn event_category_and_timestamp_fields_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(
        dir.path(),
        "e.ndjson",
        "{\"t\": 2, \"kind\": \"process\", \"n\": \"b\"}\n{\"t\": 1, \"kind\": \"process\", \"n\": \"a\"}\n{\"t\": 3, \"kind\": \"file\", \"n\": \"c\"}\n",
    );
    let (code, stdout, stderr) = eval(&[
        "process where true",
        &events,
        "--event-category-field",
        "kind",
        "--timestamp-field",
        "t",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Results come in timestamp order, not file order.
    let positions: Vec<i64> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["position"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(positions, vec![2, 1]);
}

#[test]
fn a_mapping_gives_field_types() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(
        dir.path(),
        "e.ndjson",
        "{\"@timestamp\": 1, \"event\": {\"category\": \"network\"}, \"source\": {\"ip\": \"10.1.2.3\"}}\n{\"@timestamp\": 2, \"event\": {\"category\": \"network\"}, \"source\": {\"ip\": \"192.168.1.1\"}}\n",
    );
    let mapping = write(
        dir.path(),
        "mapping.json",
        r#"{"mappings": {"properties": {"@timestamp": {"type": "date"}, "event": {"properties": {"category": {"type": "keyword"}}}, "source": {"properties": {"ip": {"type": "ip"}}}}}}"#,
    );
    let (code, stdout, stderr) = eval(&[
        r#"network where cidrMatch(source.ip, "10.0.0.0/8")"#,
        &events,
        "--mapping",
        &mapping,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"position":1,"type":"event"}"#);
    // A field the mapping does not know is an error, as in Elasticsearch.
    let (code, _, stderr) = eval(&[
        r#"network where destination.port == 22"#,
        &events,
        "--mapping",
        &mapping,
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn fields_the_mapping_leaves_out_are_mapped_from_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(
        dir.path(),
        "e.ndjson",
        "{\"@timestamp\": 1, \"event\": {\"category\": \"network\"}, \"destination\": {\"port\": 22}}\n{\"@timestamp\": 2, \"event\": {\"category\": \"network\"}, \"destination\": {\"port\": \"443\"}}\n",
    );
    let mapping = write(
        dir.path(),
        "mapping.json",
        r#"{"mappings": {"properties": {"@timestamp": {"type": "date"}, "event": {"properties": {"category": {"type": "keyword"}}}}}}"#,
    );
    // destination.port is mapped `long` from its first value, so "443" is coerced.
    let (code, stdout, stderr) = eval(&[
        "network where destination.port > 100",
        &events,
        "--mapping",
        &mapping,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"position":2,"type":"event"}"#);
    // Under `dynamic: strict` Elasticsearch would have rejected the documents: an error with
    // the event's line.
    let strict = write(
        dir.path(),
        "strict.json",
        r#"{"mappings": {"dynamic": "strict", "properties": {"@timestamp": {"type": "date"}, "event": {"properties": {"category": {"type": "keyword"}}}}}}"#,
    );
    let (code, _, stderr) = eval(&["network where true", &events, "--mapping", &strict]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("e.ndjson:1: field [destination] is not in the mapping"),
        "{stderr}"
    );
}

/// Regression: `ruleforge … | head` closed stdout early and the binary panicked on the write.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(project())
        .args(["eval", "any where true", GUNZIP])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn misspelt_fields_and_values_are_warned_about_and_the_query_still_runs() {
    let (code, _, stderr) = eval(&[
        r#"process where process.nme == "gunzip" and event.type == "started""#,
        GUNZIP,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning[RF604]: unknown field `process.nme`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `process.name`?"), "{stderr}");
    assert!(
        stderr.contains("warning[RF624]: `event.type` value `started`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `start`?"), "{stderr}");
    assert!(stderr.contains("0 results over "), "{stderr}");

    let (code, _, stderr) = eval(&[
        "destination.port:http* and process.nmae:gunzip",
        GUNZIP,
        "--language",
        "kuery",
    ]);
    // The warnings come before the engine's own refusal of a wildcard on a number field.
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("warning[RF625]: a wildcard value needs a string field"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning[RF604]: unknown field `process.nmae`"),
        "{stderr}"
    );

    let (_, _, stderr) = eval(&[r#"process where process.name == "gunzip""#, GUNZIP]);
    assert!(
        !stderr.contains("warning"),
        "a clean query warns about nothing: {stderr}"
    );
}

#[test]
fn esql_query_types_fields_from_the_mapping_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let events = write(
        dir.path(),
        "ev.ndjson",
        "{\"process\": {\"pid\": \"0042\"}}\n",
    );
    let keep = "FROM logs-* | KEEP process.pid";
    // Without a mapping, ECS says `process.pid` is a long.
    let (code, stdout, stderr) = eval(&["--language", "esql", "--format", "json", keep, &events]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"process.pid":42}"#);
    // An index that maps it as a keyword keeps the text, and refuses arithmetic on it.
    let mapping = write(
        dir.path(),
        "mapping.json",
        r#"{"mappings": {"properties": {"process": {"properties": {"pid": {"type": "keyword"}}}}}}"#,
    );
    let with = |q: &str| {
        eval(&[
            "--language",
            "esql",
            "--mapping",
            &mapping,
            "--format",
            "json",
            q,
            &events,
        ])
    };
    let (code, stdout, stderr) = with(keep);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"process.pid":"0042"}"#);
    let (code, _, stderr) = with("FROM logs-* | EVAL next = process.pid + 1");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("incompatible types [keyword]"), "{stderr}");
}

#[test]
fn esql_rule_file_reports_its_alerts_with_the_source_event() {
    let (code, stdout, stderr) = eval(&[
        "rules/linux/defense_evasion_boot_security_parameters_disabled.toml",
        "fixtures/boot_security_parameters/attacker_disables_selinux_and_lockdown.ndjson",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let alerts: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!alerts.is_empty(), "{stderr}");
    for a in &alerts {
        assert_eq!(a["type"], "esql");
        // The row keeps `_id`, so the alert is its source event, at its line.
        assert_eq!(a["row"]["_id"], a["position"].to_string().as_str());
        assert!(a["row"]["Esql.disabled_parameter"].is_string(), "{a}");
    }
}
