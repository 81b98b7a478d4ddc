//! Rendered documentation and Kibana export of the project's rules: snapshots of what a user
//! reads or imports, plus the facts Elastic's own exporter produces for the same query.

use std::path::{Path, PathBuf};
use std::process::Command;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ruleforge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(project())
        .args(args)
        .output()
        .expect("run ruleforge")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn markdown_docs_render_every_rule_and_an_index() {
    let out = tempfile::tempdir().unwrap();
    let res = ruleforge(&["docs", "--out", out.path().to_str().unwrap()]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let rules = std::fs::read_dir(project().join("rules/linux"))
        .unwrap()
        .count();
    let pages = std::fs::read_dir(out.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != ".ruleforge-docs")
        .count();
    assert_eq!(pages, rules + 1, "a page per rule plus index.md");
    insta::assert_snapshot!(
        "docs_kernel_unpacking_page",
        read(&out.path().join("discovery_kernel_unpacking.md"))
    );
    insta::assert_snapshot!("docs_index", read(&out.path().join("index.md")));
}

#[test]
fn export_writes_kibana_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.ndjson");
    let res = ruleforge(&[
        "export",
        "--out",
        file.to_str().unwrap(),
        "--rule",
        "discovery_kernel_unpacking",
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let text = read(&file);
    assert!(text.ends_with('\n') && text.lines().count() == 1);
    let obj: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    // What Elastic's exporter emits for this query (reference/kibana-export.md §2): the key set,
    // related_integrations at package 9.6, and the nine typed required fields.
    let keys: Vec<&str> = obj
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "author",
            "description",
            "from",
            "index",
            "investigation_fields",
            "language",
            "license",
            "name",
            "note",
            "query",
            "references",
            "related_integrations",
            "required_fields",
            "risk_score",
            "rule_id",
            "setup",
            "severity",
            "tags",
            "threat",
            "timestamp_override",
            "type",
            "version"
        ]
    );
    assert_eq!(
        obj["related_integrations"],
        serde_json::json!([{"package": "endpoint", "version": ">=9.0.0"}])
    );
    let required: Vec<(String, String)> = obj["required_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let wildcard: Vec<_> = required
        .iter()
        .filter(|(_, t)| t == "wildcard")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(required.len(), 9);
    assert_eq!(wildcard, ["process.parent.command_line"]);
    assert_eq!(obj["version"], 1, "not in any version lock");
    // One line per rule in Python's json.dumps layout; snapshot it pretty for review.
    assert!(text.starts_with("{\"author\": [\"Ruleforge Examples\"], \"description\": "));
    insta::assert_snapshot!(
        "export_kernel_unpacking",
        serde_json::to_string_pretty(&obj).unwrap()
    );
}

#[test]
fn export_refuses_other_extensions() {
    let res = ruleforge(&["export", "--out", "/tmp/rules.json"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("only .ndjson"));
}
