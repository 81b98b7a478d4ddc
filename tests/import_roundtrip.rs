//! `ruleforge import`: export → import → export gives identical NDJSON for every active corpus
//! rule, and a file shaped like Kibana's own `_export` (server fields, filled defaults,
//! exception lists, a connector, the summary line) imports into rule files whose export is
//! valid against Kibana's import schema (`../shared/data/kibana/rule_to_import.schema.json`).
//!
//! The imported files keep `version` (as a repository with `bypass_version_lock: true` does),
//! and are exported without a lock: the version in the file is the one Kibana had.

mod common;

use ruleforge::export::{ExportContext, rule_to_api, to_python_json};
use ruleforge::import::{self, Options};
use ruleforge::rule::{Collection, Placement, Rule, load_str};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn options() -> Options {
    Options {
        maturity: "production".into(),
        today: "2026/12/03".into(),
        keep_version: true,
    }
}

fn export(rule: &Rule, ctx: &ExportContext) -> Value {
    let fields = ruleforge::replay::export_fields(rule);
    rule_to_api(&rule.to_json(), fields.as_deref(), ctx)
        .unwrap_or_else(|e| panic!("{}: {e}", rule.path.display()))
}

/// Imports one exported object and loads the written TOML as ruleforge loads a rule file.
fn import_and_load(api: &Value, line: usize) -> Result<Rule, String> {
    let obj = api.as_object().ok_or("not an object")?;
    let imported = import::rule_file(line, obj, &options()).map_err(|e| e.to_string())?;
    let text = import::to_toml(&imported.file)?;
    let path = PathBuf::from(format!("rules/{}.toml", import::file_stem(&imported.name)));
    load_str(&path, text, Placement::Rules).map_err(|e| e.to_string())
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn export_import_export_is_identical_for_every_active_corpus_rule() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dirs = vec![corpus.join("rules"), corpus.join("rules_building_block")];
    let collection = Collection::load_dirs(&dirs).expect("load corpus");
    let with_lock = ExportContext::builtin()
        .with_etc_dir(&corpus.join("etc"))
        .expect("etc");
    let without_lock = ExportContext::builtin()
        .with_data_files(None, &corpus.join("etc/stack-schema-map.yaml"))
        .expect("stack schema map");
    let mut identical = 0;
    let mut differ = Vec::new();
    let active: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .collect();
    for (i, rule) in active.iter().enumerate() {
        let first = export(rule, &with_lock);
        let name = rule.path.strip_prefix(&corpus).unwrap_or(&rule.path);
        let again = match import_and_load(&first, i + 1) {
            Ok(imported) => export(&imported, &without_lock),
            Err(e) => {
                differ.push(format!("{}: import failed: {e}", name.display()));
                continue;
            }
        };
        if to_python_json(&first) == to_python_json(&again) {
            identical += 1;
        } else {
            let (a, b) = (first.as_object().unwrap(), again.as_object().unwrap());
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            let keys: Vec<&str> = keys
                .into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(String::as_str)
                .collect();
            differ.push(format!("{}: {}", name.display(), keys.join(", ")));
        }
    }
    println!(
        "round trip: {identical} of {} active corpus rules identical",
        active.len()
    );
    assert_eq!(active.len(), 2068, "active corpus rules");
    assert!(
        differ.is_empty(),
        "{} of {} rules differ after export → import → export:\n{}",
        differ.len(),
        active.len(),
        differ.join("\n")
    );
}

/// What Kibana's `_export` adds to a rule (`kibana-export.md` §8.3).
fn kibana_shaped(api: &Value, n: usize) -> Value {
    let mut v = api.clone();
    let m = v.as_object_mut().unwrap();
    m.insert(
        "id".into(),
        json!(format!("00000000-0000-4000-8000-{n:012}")),
    );
    m.insert("created_at".into(), json!("2025-08-14T12:42:04.522Z"));
    m.insert("updated_at".into(), json!("2026-01-02T08:00:00.000Z"));
    m.insert("created_by".into(), json!("elastic"));
    m.insert("updated_by".into(), json!("elastic"));
    m.insert("revision".into(), json!(3));
    m.insert("immutable".into(), json!(false));
    m.insert("rule_source".into(), json!({"type": "internal"}));
    m.insert("output_index".into(), json!(""));
    m.insert(
        "meta".into(),
        json!({"kibana_siem_app_url": "https://kibana.example/app/security"}),
    );
    for (k, d) in [
        ("enabled", json!(true)),
        ("interval", json!("5m")),
        ("to", json!("now")),
        ("max_signals", json!(100)),
        ("exceptions_list", json!([])),
        ("actions", json!([])),
        ("false_positives", json!([])),
        ("references", json!([])),
        ("risk_score_mapping", json!([])),
        ("severity_mapping", json!([])),
        ("timeline_id", Value::Null),
    ] {
        m.entry(k).or_insert(d);
    }
    m.entry("required_fields").or_insert(json!([]));
    m.entry("related_integrations").or_insert(json!([]));
    m.entry("setup").or_insert(json!(""));
    v
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn a_kibana_shaped_export_imports_into_schema_valid_rules() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus/elastic-detection-rules");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("data/kibana/rule_to_import.schema.json"))
            .expect("schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("compile schema");
    // One rule of each type from the corpus.
    let dirs = vec![corpus.join("rules")];
    let collection = Collection::load_dirs(&dirs).expect("load corpus");
    let ctx = ExportContext::builtin()
        .with_etc_dir(&corpus.join("etc"))
        .expect("etc");
    let mut lines = Vec::new();
    for t in ruleforge::export::RULE_TYPES {
        let rule = collection
            .rules
            .iter()
            .find(|r| !r.is_deprecated() && r.rule_type.map(|rt| rt.as_str()) == Some(*t))
            .unwrap_or_else(|| panic!("no corpus rule of type {t}"));
        lines.push(kibana_shaped(&export(rule, &ctx), lines.len()));
    }
    let mut text: String = lines
        .iter()
        .map(|l| format!("{}\n", serde_json::to_string(l).unwrap()))
        .collect();
    text.push_str("{\"list_id\": \"l1\", \"name\": \"Exceptions\", \"type\": \"detection\", \"namespace_type\": \"single\", \"description\": \"d\", \"tags\": []}\n");
    text.push_str("{\"item_id\": \"i1\", \"list_id\": \"l1\", \"entries\": [], \"name\": \"i\", \"type\": \"simple\"}\n");
    text.push_str("{\"id\": \"c1\", \"type\": \"action\", \"attributes\": {\"actionTypeId\": \".slack\", \"name\": \"s\"}, \"references\": []}\n");
    text.push_str("{\"exported_count\": 10, \"exported_rules_count\": 7, \"missing_rules\": []}\n");

    let parsed = import::parse_ndjson(&text).expect("parse");
    assert_eq!(parsed.rules.len(), 7);
    assert_eq!(parsed.exception_objects, 2);
    assert_eq!(parsed.action_connectors, 1);
    assert_eq!(parsed.summary_lines, 1);
    let without_lock = ExportContext::builtin();
    let mut invalid = Vec::new();
    for (line, obj) in &parsed.rules {
        let rule = import_and_load(&Value::Object(obj.clone()), *line).expect("import");
        let api = export(&rule, &without_lock);
        for server in ["id", "created_at", "revision", "immutable", "rule_source"] {
            assert!(
                api.get(server).is_none(),
                "line {line}: `{server}` exported"
            );
        }
        assert_eq!(api["version"], obj["version"], "line {line}: version kept");
        let errors: Vec<String> = validator
            .iter_errors(&api)
            .take(3)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            invalid.push(format!("line {line}: {}", errors.join("; ")));
        }
    }
    assert!(invalid.is_empty(), "schema errors:\n{}", invalid.join("\n"));
}

/// Where `ruleforge import` files each active corpus rule (exported, then imported), against
/// the folder Elastic keeps it in. detection-rules' placement is partly editorial (a rule about
/// several data sources sits where its authors put it), so the count is reported with the
/// disagreements by kind, and held to a floor.
#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn imported_corpus_rules_are_filed_in_their_corpus_folders() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dirs = vec![corpus.join("rules"), corpus.join("rules_building_block")];
    let collection = Collection::load_dirs(&dirs).expect("load corpus");
    let ctx = ExportContext::builtin()
        .with_etc_dir(&corpus.join("etc"))
        .expect("etc");
    let has = |p: &str| corpus.join("rules/integrations").join(p).is_dir();
    let mut same = 0;
    let mut total = 0;
    let mut kinds = std::collections::BTreeMap::<(PathBuf, PathBuf), usize>::new();
    for (i, rule) in collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .enumerate()
    {
        let api = export(rule, &ctx);
        let imported =
            import::rule_file(i + 1, api.as_object().unwrap(), &options()).expect("import");
        let filed = match import::placement(&imported.file, &has) {
            import::Placement::BuildingBlock => PathBuf::from("rules_building_block"),
            import::Placement::Rules(sub) => Path::new("rules").join(sub),
        };
        let actual = rule
            .path
            .strip_prefix(&corpus)
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        total += 1;
        if filed == actual {
            same += 1;
        } else {
            *kinds.entry((actual, filed)).or_default() += 1;
        }
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    println!("placement: {same} of {total} imported corpus rules filed in their corpus folder");
    for ((actual, filed), n) in &kinds {
        println!(
            "  {n:4} in {} filed in {}",
            actual.display(),
            filed.display()
        );
    }
    // Floor: 95% (measured 2026-12-03: see the printed count).
    assert!(same * 100 >= total * 95, "{same} of {total}");
}

fn ruleforge(root: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env_remove("CUSTOM_RULES_DIR")
        .output()
        .expect("run ruleforge")
}

#[test]
fn the_import_command_writes_rule_files_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["rules/integrations/aws", "rules_building_block"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let line = json!({
        "rule_id": "5b2c3e4f-1111-4a2b-9c3d-000000000001", "name": "Curl to a Raw IP",
        "type": "query", "language": "kuery", "query": "process.name : \"curl\"\n",
        "description": "Finds curl.", "risk_score": 21, "severity": "low", "author": ["Team"],
        "index": ["logs-*"], "version": 2, "id": "x", "created_at": "2025-01-02T03:04:05.000Z",
        "threat": [{"framework": "MITRE ATT&CK",
                    "tactic": {"id": "TA0011", "name": "Command and Control", "reference": "https://attack.mitre.org/tactics/TA0011/"},
                    "technique": []}]
    });
    // Filed by the detection-rules layout: an integration with its folder, a building block.
    let mut aws = line.clone();
    aws["rule_id"] = json!("5b2c3e4f-1111-4a2b-9c3d-000000000002");
    aws["name"] = json!("AWS Console Login");
    aws["tags"] = json!(["OS: Linux"]);
    aws["related_integrations"] = json!([{"package": "aws", "version": ">=4.0.0"}]);
    let mut bbr = line.clone();
    bbr["rule_id"] = json!("5b2c3e4f-1111-4a2b-9c3d-000000000003");
    bbr["name"] = json!("Curl Building Block");
    bbr["building_block_type"] = json!("default");
    bbr["tags"] = json!(["OS: Linux"]);
    let file = root.join("export.ndjson");
    std::fs::write(
        &file,
        format!("{line}\n{aws}\n{bbr}\n{{\"exported_count\": 3, \"missing_rules\": []}}\n"),
    )
    .unwrap();
    let out = ruleforge(root, &["import", "export.ndjson"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for filed in [
        "rules/integrations/aws/command_and_control_aws_console_login.toml",
        "rules_building_block/command_and_control_curl_building_block.toml",
    ] {
        assert!(root.join(filed).is_file(), "{filed} not written:\n{stdout}");
    }
    // No OS tag, no integration folder: cross-platform.
    let written = root.join("rules/cross-platform/command_and_control_curl_to_a_raw_ip.toml");
    let text = std::fs::read_to_string(&written).expect("rule file written");
    assert!(
        text.starts_with("[metadata]\ncreation_date = \"2025/01/02\""),
        "{text}"
    );
    assert!(
        text.contains("query = '''\nprocess.name : \"curl\"\n'''"),
        "{text}"
    );
    assert!(
        !text.contains("version"),
        "a locked repository keeps no version:\n{text}"
    );
    assert!(
        stdout.contains("skipped (not imported): the export summary line"),
        "{stdout}"
    );
    // The same rule_id again is refused, and nothing is written.
    let out = ruleforge(root, &["import", "export.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in"), "{err}");
    // A line that is not JSON is an error at its line.
    std::fs::write(&file, "{\"rule_id\": \n").unwrap();
    let out = ruleforge(root, &["import", "export.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}
