//! Unit tests of the export module (no data outside the repository needed).

use serde_json::{Value, json};

use super::*;

fn rule_file(rule: Value) -> Value {
    json!({"metadata": {"creation_date": "2026/01/01", "updated_date": "2026/01/01", "maturity": "production"}, "rule": rule})
}

fn base_rule(rule_type: &str) -> Value {
    json!({
        "author": ["Test"],
        "description": "A test rule.",
        "name": "Test Rule",
        "risk_score": 21,
        "rule_id": "00000000-0000-4000-8000-000000000001",
        "severity": "low",
        "type": rule_type,
    })
}

fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in e {
            m.insert(k.clone(), val.clone());
        }
    }
    v
}

fn export(file: &Value) -> Value {
    match rule_to_api(file, None, &ExportContext::builtin()) {
        Ok(v) => v,
        Err(e) => panic!("export failed: {e}"),
    }
}

// ---- Python serialisation and hash ----

#[test]
fn python_json_hash_test_vector() {
    let v = json!({"b": 1, "a": "é"});
    let text = to_python_json(&v);
    assert_eq!(text, r#"{"a": "\u00e9", "b": 1}"#);
    assert_eq!(
        pyjson::base64_encode(text.as_bytes()),
        "eyJhIjogIlx1MDBlOSIsICJiIjogMX0="
    );
    assert_eq!(
        content_hash(&v),
        "372b2024e07d0a41116475ff38accfb6084a0728a80290e2cc1c5cd6050717d5"
    );
}

#[test]
fn python_json_escapes() {
    let v = json!({"s": "a/b \"q\" \\ \n\r\t\u{8}\u{c}\u{1}\u{7f} 😀 ü"});
    assert_eq!(
        to_python_json(&v),
        r#"{"s": "a/b \"q\" \\ \n\r\t\b\f\u0001\u007f \ud83d\ude00 \u00fc"}"#
    );
    let nested = json!({"z": [1, {"b": true, "a": null}], "a": {}, "m": []});
    assert_eq!(
        to_python_json(&nested),
        r#"{"a": {}, "m": [], "z": [1, {"a": null, "b": true}]}"#
    );
    assert_eq!(
        pyjson::dumps(&nested, Separators::Compact),
        r#"{"a":{},"m":[],"z":[1,{"a":null,"b":true}]}"#
    );
    assert_eq!(to_python_json(&json!(1.5)), "1.5");
    assert_eq!(to_python_json(&json!(2.0)), "2.0");
    assert_eq!(to_python_json(&json!(-7)), "-7");
}

#[test]
fn base64_padding() {
    assert_eq!(pyjson::base64_encode(b""), "");
    assert_eq!(pyjson::base64_encode(b"f"), "Zg==");
    assert_eq!(pyjson::base64_encode(b"fo"), "Zm8=");
    assert_eq!(pyjson::base64_encode(b"foo"), "Zm9v");
}

#[test]
fn ndjson_lines() {
    assert_eq!(to_ndjson(&[]), "");
    assert_eq!(
        to_ndjson(&[json!({"b": 1, "a": 2}), json!({"c": "x"})]),
        "{\"a\": 2, \"b\": 1}\n{\"c\": \"x\"}\n"
    );
}

// ---- Whitespace normalisation ----

#[test]
fn whitespace_normalisation_and_exemptions() {
    let rule = with(
        base_rule("query"),
        json!({
            "description": "  First line\n   second   line  \n\nthird\r\nfourth ",
            "language": "kuery",
            "query": "host.name:a and\n  process.name:b\n",
            "note": "## Guide\n\n  keep   this\n",
            "setup": "## Setup\n\n  also kept\n",
            "index": ["logs-*", " spaced\n value "],
            "false_positives": ["multi\n  line"],
            "filters": [{"meta": {"alias": " a\n b "}, "query": {"match_phrase": {"x": " keep\n me "}}}],
            "actions": [{"action_type_id": ".slack", "group": "default", "id": "x",
                          "params": {"message": "Alert\n  {{rule.name}}\n"}}],
        }),
    );
    let api = export(&rule_file(rule));
    assert_eq!(
        api["description"],
        json!("First line second   line  third fourth")
    );
    assert_eq!(api["query"], json!("host.name:a and\n  process.name:b\n"));
    assert_eq!(api["note"], json!("## Guide\n\n  keep   this\n"));
    assert_eq!(api["setup"], json!("## Setup\n\n  also kept\n"));
    assert_eq!(api["index"], json!(["logs-*", "spaced value"]));
    assert_eq!(api["false_positives"], json!(["multi line"]));
    assert_eq!(api["filters"][0]["meta"]["alias"], json!("a b"));
    assert_eq!(
        api["filters"][0]["query"]["match_phrase"]["x"],
        json!(" keep\n me ")
    );
    assert_eq!(
        api["actions"][0]["params"]["message"],
        json!("Alert\n  {{rule.name}}\n")
    );
}

#[test]
fn threat_query_is_normalised() {
    let rule = with(
        base_rule("threat_match"),
        json!({
            "language": "kuery",
            "query": "source.ip:*\n",
            "index": ["logs-*"],
            "threat_index": ["filebeat-*"],
            "threat_language": "kuery",
            "threat_query": "@timestamp >= \"now-30d/d\"\n and threat.indicator.ip:*",
            "threat_mapping": [{"entries": [{"field": "source.ip", "type": "mapping", "value": "threat.indicator.ip"}]}],
        }),
    );
    let api = export(&rule_file(rule));
    assert_eq!(
        api["threat_query"],
        json!("@timestamp >= \"now-30d/d\" and threat.indicator.ip:*")
    );
    assert_eq!(api["query"], json!("source.ip:*\n"));
}

#[test]
fn python_whitespace_semantics() {
    // Python's splitlines() also splits on \x0b, \x1c and U+2028; strip() removes \x1f.
    assert_eq!(
        cleanup_whitespace("a\u{b}b\u{1c}c\u{2028}d\u{1f}"),
        "a b c d"
    );
    assert_eq!(cleanup_whitespace("   "), "");
    assert_eq!(cleanup_whitespace("x\r\n\r\ny"), "x  y");
}

// ---- Transform placeholders ----

#[test]
fn transform_placeholders_substituted() {
    let rule = with(
        base_rule("eql"),
        json!({
            "language": "eql",
            "query": "process where true",
            "index": ["logs-*"],
            "note": "Check $osquery_0 then ${investigate_0}; cost $$5; keep $osquery_1 and $other_name and $ alone.",
        }),
    );
    let mut file = rule_file(rule);
    file["transform"] = json!({
        "osquery": [{"label": "Osquery - é", "query": "SELECT * FROM processes WHERE uid = {{user.id}}"}],
        "investigate": [{
            "label": "Alerts for the host",
            "description": "",
            "providers": [[{"excluded": false, "field": "host.id", "queryType": "phrase", "value": "{{host.id}}", "valueType": "string"}]],
            "relativeFrom": "now-48h",
            "relativeTo": "now"
        }]
    });
    let api = export(&file);
    let expected = concat!(
        "Check !{osquery{\"label\":\"Osquery - \\u00e9\",\"query\":\"SELECT * FROM processes WHERE uid = {{user.id}}\"}} then ",
        "!{investigate{\"description\":\"\",\"label\":\"Alerts for the host\",\"providers\":[[{\"excluded\":false,\"field\":\"host.id\",\"queryType\":\"phrase\",\"value\":\"{{host.id}}\",\"valueType\":\"string\"}]],\"relativeFrom\":\"now-48h\",\"relativeTo\":\"now\"}}",
        "; cost $5; keep $osquery_1 and $other_name and $ alone."
    );
    assert_eq!(api["note"], json!(expected));
}

#[test]
fn safe_substitute_edge_cases() {
    let mut m = std::collections::BTreeMap::new();
    m.insert("a_0".to_string(), "X".to_string());
    assert_eq!(safe_substitute("$a_0$a_0", &m), "XX");
    assert_eq!(safe_substitute("${a_0}b ${zz} ${", &m), "Xb ${zz} ${");
    assert_eq!(safe_substitute("$a_01 $9 $$a_0", &m), "$a_01 $9 $a_0");
    assert_eq!(safe_substitute("end $", &m), "end $");
}

// ---- Type-specific shapes ----

#[test]
fn new_terms_flattened() {
    let rule = with(
        base_rule("new_terms"),
        json!({
            "language": "kuery",
            "query": "event.category:process\n",
            "index": ["logs-*"],
            "new_terms": {
                "field": "new_terms_fields",
                "value": ["host.id", "user.name"],
                "history_window_start": [{"field": "history_window_start", "value": "now-7d"}]
            }
        }),
    );
    let api = export(&rule_file(rule));
    assert!(api.get("new_terms").is_none());
    assert_eq!(api["new_terms_fields"], json!(["host.id", "user.name"]));
    assert_eq!(api["history_window_start"], json!("now-7d"));
}

#[test]
fn threshold_kept_with_computed_fields() {
    let rule = with(
        base_rule("threshold"),
        json!({
            "language": "kuery",
            "query": "event.action:logon_failed\n",
            "index": ["logs-system.*"],
            "threshold": {"field": ["host.id", "user.name"], "value": 25,
                          "cardinality": [{"field": "source.ip", "value": 3}]}
        }),
    );
    let mut file = rule_file(rule);
    file["metadata"]["integration"] = json!(["system"]);
    let fields: Vec<String> = vec!["event.action".into(), "not.an.ecs.field".into()];
    let api = rule_to_api(&file, Some(&fields), &ExportContext::builtin()).expect("export");
    assert_eq!(
        api["threshold"],
        json!({"cardinality": [{"field": "source.ip", "value": 3}], "field": ["host.id", "user.name"], "value": 25})
    );
    assert_eq!(
        api["required_fields"],
        json!([
            {"ecs": true, "name": "event.action", "type": "keyword"},
            {"ecs": false, "name": "not.an.ecs.field", "type": "unknown"}
        ])
    );
    let ri = api["related_integrations"]
        .as_array()
        .expect("related_integrations");
    assert_eq!(ri.len(), 1);
    assert_eq!(ri[0]["package"], json!("system"));
    assert!(
        ri[0]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with(">="))
    );
    assert_eq!(api["version"], json!(1));
}

#[test]
fn machine_learning_has_no_query_keys() {
    let rule = with(
        base_rule("machine_learning"),
        json!({"anomaly_threshold": 75, "machine_learning_job_id": ["v3_linux_anomalous_network_activity"],
               "interval": "15m", "from": "now-45m"}),
    );
    let mut file = rule_file(rule);
    file["metadata"]["integration"] = json!(["auditd_manager", "endpoint"]);
    let fields: Vec<String> = vec!["process.name".into()];
    let api = rule_to_api(&file, Some(&fields), &ExportContext::builtin()).expect("export");
    for k in ["query", "language", "index", "required_fields"] {
        assert!(api.get(k).is_none(), "ML export has `{k}`");
    }
    let pkgs: Vec<&str> = api["related_integrations"]
        .as_array()
        .expect("related_integrations")
        .iter()
        .filter_map(|r| r["package"].as_str())
        .collect();
    assert_eq!(pkgs, ["auditd_manager", "endpoint"]);
    assert_eq!(api["anomaly_threshold"], json!(75));
}

#[test]
fn esql_has_no_required_fields() {
    let rule = with(
        base_rule("esql"),
        json!({"language": "esql",
               "query": "from logs-aws.cloudtrail-* metadata _id, _version, _index\n| where data_stream.dataset == \"aws.cloudtrail\"\n| keep *\n"}),
    );
    let mut file = rule_file(rule);
    file["metadata"]["integration"] = json!(["aws"]);
    let fields: Vec<String> = vec!["event.action".into()];
    let api = rule_to_api(&file, Some(&fields), &ExportContext::builtin()).expect("export");
    assert!(api.get("required_fields").is_none());
    assert!(api.get("index").is_none());
    assert_eq!(
        api["related_integrations"][0]["integration"],
        json!("cloudtrail")
    );
    // An authored required_fields list is kept, but not hashed when `keep *` is used.
    let mut with_rf = api.clone();
    with_rf["required_fields"] = json!([{"ecs": true, "name": "event.action", "type": "keyword"}]);
    assert_eq!(content_hash(&with_rf), content_hash(&api));
}

#[test]
fn actions_throttle_rule() {
    let rule = with(
        base_rule("query"),
        json!({
            "language": "kuery",
            "query": "x:1",
            "index": ["logs-*"],
            "actions": [
                {"action_type_id": ".slack", "group": "default", "id": "a", "params": {"message": "m"}},
                {"action_type_id": ".email", "group": "default", "id": "b", "params": {},
                 "frequency": {"summary": true, "notifyWhen": "onActiveAlert"}},
                {"action_type_id": ".webhook", "group": "default", "id": "c", "params": {},
                 "frequency": {"summary": false, "notifyWhen": "onThrottleInterval", "throttle": "1h"}},
                {"action_type_id": ".cases", "group": "default", "id": "d", "params": {}},
                {"action_type_id": ".workflows", "group": "default", "id": "e", "params": {}}
            ]
        }),
    );
    let api = export(&rule_file(rule));
    let actions = api["actions"].as_array().expect("actions");
    assert_eq!(actions[0]["frequency"], json!({"throttle": null}));
    assert_eq!(
        actions[1]["frequency"],
        json!({"summary": true, "notifyWhen": "onActiveAlert", "throttle": null})
    );
    assert_eq!(actions[2]["frequency"]["throttle"], json!("1h"));
    assert!(actions[3].get("frequency").is_none());
    assert!(actions[4].get("frequency").is_none());
}

#[test]
fn threat_technique_default_and_mappings_removed() {
    let threat = json!([{"framework": "MITRE ATT&CK",
        "tactic": {"id": "TA0007", "name": "Discovery", "reference": "https://attack.mitre.org/tactics/TA0007/"}}]);
    let v19 = json!([{"framework": "MITRE ATT&CK",
        "tactic": {"id": "TA0005", "name": "Defense Evasion", "reference": "https://attack.mitre.org/tactics/TA0005/"},
        "technique": []}]);
    let rule = with(
        base_rule("query"),
        json!({"language": "kuery", "query": "x:1", "index": ["logs-*"],
               "tags": ["Domain: Endpoint", "Tactic: Discovery"],
               "threat": threat,
               "threat_mappings": [{"framework": "MITRE ATT&CK", "version": "19", "threat": v19}]}),
    );
    let file = rule_file(rule);
    let api = export(&file);
    assert!(api.get("threat_mappings").is_none());
    // Stack 9.6: the explicit v19 block is emitted and the tactic tags follow it.
    assert_eq!(api["threat"], v19);
    assert_eq!(
        api["tags"],
        json!(["Domain: Endpoint", "Tactic: Defense Evasion"])
    );
    // Stack 9.4 ships the baseline, with `technique` defaulted.
    let ctx94 = ExportContext::builtin()
        .with_package_stack("9.4")
        .expect("stack");
    let api94 = rule_to_api(&file, None, &ctx94).expect("export");
    assert_eq!(api94["threat"][0]["technique"], json!([]));
    assert_eq!(
        api94["tags"],
        json!(["Domain: Endpoint", "Tactic: Discovery"])
    );
}

#[test]
fn related_integrations_operator_by_stack() {
    let rule = with(
        base_rule("query"),
        json!({"language": "kuery", "query": "event.dataset:aws.cloudtrail and event.action:Foo",
               "index": ["logs-aws.cloudtrail-*"]}),
    );
    let mut file = rule_file(rule);
    file["metadata"]["integration"] = json!(["aws"]);
    let api = export(&file);
    let row = &api["related_integrations"][0];
    assert_eq!(row["package"], json!("aws"));
    assert_eq!(row["integration"], json!("cloudtrail"));
    let v96 = row["version"].as_str().expect("version").to_string();
    assert!(v96.starts_with(">="), "{v96}");
    let ctx = ExportContext::builtin()
        .with_package_stack("9.4")
        .expect("stack");
    let api94 = rule_to_api(&file, None, &ctx).expect("export");
    let v94 = api94["related_integrations"][0]["version"]
        .as_str()
        .expect("version");
    assert!(v94.starts_with('^'), "{v94}");
}

#[test]
fn unknown_metadata_package_is_an_error() {
    let rule = with(
        base_rule("query"),
        json!({"language": "kuery", "query": "x:1", "index": ["logs-*"]}),
    );
    let mut file = rule_file(rule);
    file["metadata"]["integration"] = json!(["endpoint", "no_such_package"]);
    // Only non-dataset packages turn into rows; make it one via an ML rule.
    file["rule"]["type"] = json!("machine_learning");
    file["rule"]["anomaly_threshold"] = json!(50);
    file["rule"]["machine_learning_job_id"] = json!("job");
    match rule_to_api(&file, None, &ExportContext::builtin()) {
        Err(ExportError::UnknownPackage { rule, package }) => {
            assert_eq!(rule, "00000000-0000-4000-8000-000000000001");
            assert_eq!(package, "no_such_package");
        }
        other => panic!("expected UnknownPackage, got {other:?}"),
    }
}

#[test]
fn typed_errors_name_rule_and_field() {
    let mut rule = base_rule("eql");
    rule["language"] = json!("eql");
    match rule_to_api(&rule_file(rule.clone()), None, &ExportContext::builtin()) {
        Err(ExportError::MissingField { rule, field }) => {
            assert_eq!(rule, "00000000-0000-4000-8000-000000000001");
            assert_eq!(field, "query");
        }
        other => panic!("expected MissingField, got {other:?}"),
    }
    rule["type"] = json!("sigma");
    assert!(matches!(
        rule_to_api(&rule_file(rule), None, &ExportContext::builtin()),
        Err(ExportError::UnknownRuleType { .. })
    ));
    assert!(matches!(
        rule_to_api(&json!([1, 2]), None, &ExportContext::builtin()),
        Err(ExportError::NotARuleFile)
    ));
    let mut bad = base_rule("query");
    bad["risk_score"] = json!("high");
    assert!(matches!(
        rule_to_api(&rule_file(bad), None, &ExportContext::builtin()),
        Err(ExportError::InvalidField { .. })
    ));
}

#[test]
fn setup_moved_out_of_note() {
    let rule = with(
        base_rule("query"),
        json!({"language": "kuery", "query": "x:1", "index": ["logs-*"],
               "note": "## Triage and analysis\n\nLook.\n\n## Setup\n\nThe Okta Fleet integration is required."}),
    );
    let api = export(&rule_file(rule));
    assert_eq!(api["note"], json!("## Triage and analysis\n\nLook."));
    assert_eq!(
        api["setup"],
        json!("The Okta Fleet integration is required.")
    );
}

// ---- Datasets ----

#[test]
fn dataset_scan_per_language() {
    assert_eq!(
        scan_datasets(
            "event.dataset:aws.cloudtrail and data_stream.dataset : (\"gcp.audit\" or okta.system) and event.dataset:azure.*",
            "kuery"
        ),
        ["aws.cloudtrail", "gcp.audit", "okta.system"]
    );
    assert_eq!(
        scan_datasets(
            "any where event.dataset == \"a.b\" and data_stream.dataset in~ (\"c.d\", \"e.f\") and event.dataset : \"x.y\" and process.name == \"event.dataset\"",
            "eql"
        ),
        ["a.b", "c.d", "e.f"]
    );
    assert_eq!(
        scan_datasets(
            "from x | where data_stream.dataset in (\"o365.audit\", \"azure.signinlogs\") or event.dataset == \"a.b.c\" or event.dataset IN (\"x.y\")",
            "esql"
        ),
        ["azure.signinlogs", "o365.audit"]
    );
    assert!(scan_datasets("event.dataset:x", "lucene").is_empty());
}

// ---- Versions ----

fn lock_entry(
    top: (&str, u64),
    previous: &[(&str, &str, u64)],
    emit: &[(&str, &str, u64)],
) -> LockEntry {
    LockEntry {
        rule_name: "r".into(),
        rule_type: "query".into(),
        top: Locked {
            sha256: top.0.into(),
            version: top.1,
        },
        min_stack_version: None,
        previous: previous
            .iter()
            .map(|(k, s, v)| {
                (
                    k.to_string(),
                    Locked {
                        sha256: s.to_string(),
                        version: *v,
                    },
                )
            })
            .collect(),
        stack_emit: emit
            .iter()
            .map(|(k, s, v)| {
                (
                    k.to_string(),
                    Locked {
                        sha256: s.to_string(),
                        version: *v,
                    },
                )
            })
            .collect(),
    }
}

#[test]
fn version_rules() {
    let stack = semver::Version::new(9, 6, 0);
    let hashes = RuleHashes {
        baseline: "B".into(),
        baseline_with_integrations: "BI".into(),
        emitted: "E".into(),
    };
    let v = |e: Option<&LockEntry>, supported: &str| {
        version::compute_version(e, supported, &hashes, &stack)
    };
    assert_eq!(v(None, "8.19"), (1, VersionSource::New));
    // Clean, either hash form accepted.
    assert_eq!(v(Some(&lock_entry(("B", 4), &[], &[])), "8.19").0, 4 + 1); // emitted differs from baseline
    let same = RuleHashes {
        emitted: "BI".into(),
        ..hashes.clone()
    };
    let vs = |e: &LockEntry| version::compute_version(Some(e), "8.19", &same, &stack);
    assert_eq!(
        vs(&lock_entry(("B", 4), &[], &[])),
        (4, VersionSource::Locked)
    );
    assert_eq!(
        vs(&lock_entry(("BI", 4), &[], &[])),
        (4, VersionSource::Locked)
    );
    // Dirty.
    assert_eq!(
        vs(&lock_entry(("X", 4), &[], &[])),
        (5, VersionSource::Dirty)
    );
    // Stack emit epoch: same emitted hash → its version; changed → + 1; epochs above the stack ignored.
    assert_eq!(
        version::compute_version(
            Some(&lock_entry(("B", 7), &[], &[("9.5", "E", 8)])),
            "8.19",
            &hashes,
            &stack
        ),
        (8, VersionSource::StackEmit)
    );
    assert_eq!(
        version::compute_version(
            Some(&lock_entry(("B", 7), &[], &[("9.5", "Z", 8)])),
            "8.19",
            &hashes,
            &stack
        ),
        (9, VersionSource::StackEmit)
    );
    assert_eq!(
        version::compute_version(
            Some(&lock_entry(("B", 7), &[], &[("9.7", "E", 8)])),
            "8.19",
            &same,
            &stack
        ),
        (7, VersionSource::Locked)
    );
    // Fork: the rule's supported stack selects the `previous` entry.
    let forked = lock_entry(("Y", 102), &[("8.19", "B", 2)], &[]);
    assert_eq!(vs(&forked), (2, VersionSource::Locked));
    assert_eq!(
        version::compute_version(Some(&forked), "9.4", &same, &stack),
        (103, VersionSource::Dirty)
    );
}

#[test]
fn supported_stack_for_lock() {
    let lowest = semver::Version::new(8, 19, 0);
    assert_eq!(version::supported_stack(None, &lowest), "8.19");
    assert_eq!(version::supported_stack(Some("8.15.0"), &lowest), "8.19");
    assert_eq!(version::supported_stack(Some("9.4.0"), &lowest), "9.4");
    assert_eq!(version::supported_stack(Some("9.3"), &lowest), "9.3");
}

#[test]
fn no_lock_uses_toml_version_else_one() {
    let mut rule = with(
        base_rule("query"),
        json!({"language": "kuery", "query": "x:1", "index": ["logs-*"]}),
    );
    assert_eq!(export(&rule_file(rule.clone()))["version"], json!(1));
    rule["version"] = json!(3);
    assert_eq!(export(&rule_file(rule))["version"], json!(3));
}

// ---- Semver and manifests ----

#[test]
fn semver_ranges() {
    let v = |s: &str| semver::Version::parse(s).expect("version");
    assert!(v("9.0.0-preview-1738343125") < v("9.0.0"));
    assert!(v("9.0.0-rc1") < v("9.0.0"));
    assert!(v("1.10.0") > v("1.9.9"));
    assert_eq!(v("9.6"), semver::Version::new(9, 6, 0));
    let stack = v("9.6.0");
    assert!(semver::range_satisfied("^8.13.0 || ^9.0.0", &stack));
    assert!(!semver::range_satisfied("^8.13.0", &stack));
    assert!(!semver::range_satisfied("~9.1.10", &stack));
    assert!(semver::range_satisfied(
        "~8.19.10 || ~9.1.10 || ^9.2.4",
        &stack
    ));
    assert!(semver::range_satisfied(">=9.0.0 <10.0.0", &stack));
    assert!(!semver::range_satisfied("^9.7.0", &stack));
    assert!(semver::Version::parse("x.y").is_none());
}

#[test]
fn least_compatible_version_picks_lowest_in_highest_major() {
    let tables = Tables::parse(
        "",
        "p\t1.0.0\t^8.0.0\tp\t-\np\t2.0.0\t^8.10.0 || ^9.0.0\tp\ta,b\np\t2.1.0\t^9.1.0\tp\t=\np\t2.2.0\t^9.2.0\tp\ta,b,c\np\t3.0.0\t^9.7.0\tp\t=\n",
        "",
    );
    let rows = &tables.manifests["p"];
    let stack = semver::Version::new(9, 6, 0);
    assert_eq!(
        least_compatible_version(rows, None, &stack).map(|r| r.version.as_str()),
        Some("2.0.0")
    );
    assert_eq!(
        least_compatible_version(rows, Some("c"), &stack).map(|r| r.version.as_str()),
        Some("2.2.0")
    );
    assert_eq!(
        least_compatible_version(rows, Some("Unknown"), &stack).map(|r| r.version.as_str()),
        Some("2.0.0")
    );
    // Upstream's field-type version choice: newest whose named major matches the stack.
    assert_eq!(
        latest_compatible_version(rows, &stack).map(|r| r.version.as_str()),
        Some("3.0.0")
    );
}

// ---- Robustness: odd inputs give results or typed errors, never panics ----

#[test]
fn odd_inputs_do_not_panic() {
    let queries = [
        "",
        "\"",
        "event.dataset",
        "event.dataset:",
        "event.dataset:(",
        "event.dataset : (\"a.b\" or",
        "event.dataset == \"é.ü",
        "event.dataset in (",
        "event.dataset in~ (\"x.y\", 3, foo",
        "/* unterminated event.dataset == \"a.b\"",
        "event.dataset:\\",
        "data_stream.dataset in (\"😀.x\")",
        "| keep",
        "|keep *",
    ];
    for q in queries {
        for lang in ["kuery", "eql", "esql", "lucene"] {
            let _ = scan_datasets(q, lang);
        }
    }
    let notes = [
        "",
        "## Setup",
        "## Setup\n",
        "## Setup\n\n- ",
        "## Setup\n\n```\nunterminated",
        "## Setup\n\n[x](y\n**a\n`b\n<c\n\\",
        "## Setup\n\n> q\n>\n1) a\n   b\n\n  c\n---\n",
        "## Setup\n\né **ü** _😀_ [ä](x) ![i](j) <http://x> \\* x  \ny",
        "Setup\n=====\n## Setup\n\n* a\n  * b\n+ c\n\n    code\n",
    ];
    for n in notes {
        let _ = split_setup(n);
        let rule = with(
            base_rule("query"),
            json!({"language": "kuery", "query": "x:1", "index": ["logs-*"], "note": n}),
        );
        let _ = rule_to_api(&rule_file(rule), None, &ExportContext::builtin());
    }
    let odd_rules = [
        json!({"rule": {}}),
        json!({"rule": null}),
        json!({"metadata": 3, "rule": {"type": 5}}),
        json!({"metadata": {"integration": 7}, "transform": [1], "rule": with(base_rule("new_terms"),
            json!({"language": "kuery", "query": "x", "new_terms": {"field": "f", "value": [], "history_window_start": []}}))}),
        json!({"metadata": {"integration": "endpoint", "min_stack_version": "garbage"},
               "transform": {"osquery": "x", "investigate": [null, 1]},
               "rule": with(base_rule("eql"), json!({"language": "eql", "query": "any where true",
                   "note": "$osquery_0 ${investigate_1}", "actions": [1, {"frequency": 3}],
                   "threat": [1, {"tactic": 2}], "threat_mappings": 5, "setup": 4}))}),
    ];
    let ctx = ExportContext::builtin();
    for r in odd_rules {
        let _ = rule_to_api(&r, Some(&["a".to_string()]), &ctx);
        let _ = deprecated_stub(&r, &ctx);
    }
}

#[test]
fn random_markdown_and_queries_do_not_panic() {
    // Deterministic pseudo-random strings over the characters the scanners treat specially.
    let alphabet: Vec<char> =
        "#*_`[]()<>!\\\"~-+=>: \n\t\r.1aé😀/|,event.dataset data_stream in== keep"
            .chars()
            .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let len = (next() % 60) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = split_setup(&format!("## Setup\n\n{s}"));
        let _ = split_setup(&s);
        for lang in ["kuery", "eql", "esql"] {
            let _ = scan_datasets(&s, lang);
        }
        let _ = cleanup_whitespace(&s);
        let _ = content_hash(&json!({"type": "esql", "query": s}));
    }
}

#[test]
fn etc_yaml_facts() {
    let packages = "package:\n  filter:\n    maturity:\n    - production\n  name: '9.6'\n  registry_data:\n    name: security_detection_engine\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("packages.yaml");
    std::fs::write(&path, packages).unwrap();
    assert_eq!(crate::layout::package_stack(&path).as_deref(), Some("9.6"));
    let map = "## Supported\n#\"8.18.0\":\n\"8.19.0\":\n  beats: \"8.18.3\"\n\"9.3.0\":\n  ecs: \"9.3.0\"\n";
    let keys = yaml_stack_keys(map);
    assert_eq!(keys.iter().min(), Some(&semver::Version::new(8, 19, 0)));
    assert_eq!(keys.len(), 2);
}
