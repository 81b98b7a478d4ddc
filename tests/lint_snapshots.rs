//! Rendered lint diagnostics for rule files that each break a family of checks, reviewed as
//! insta snapshots (what a detection engineer sees is the product).

use std::path::PathBuf;
use std::process::Command;

/// A temporary copy of one file of `tests/data/lint`, alone in its folder: inside the project,
/// ruleforge would find the project's own repository root above it.
fn scratch(file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint");
    std::fs::copy(from.join(file), dir.path().join(file)).unwrap();
    dir
}

fn lint(file: &str) -> (i32, String) {
    let dir = scratch(file);
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", file])
        .output()
        .expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Drops the timing from the summary line so snapshots are stable.
fn stable(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" in ") {
            Some(i) if l.starts_with("lint: ") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! lint_snapshot {
    ($name:ident, $file:literal, $code:expr) => {
        #[test]
        fn $name() {
            let (code, out) = lint($file);
            assert_eq!(code, $code, "{out}");
            insta::assert_snapshot!(stable(&out));
        }
    };
}

lint_snapshot!(clean_rule_has_no_findings, "clean.toml", 0);
lint_snapshot!(schema_keys_types_and_required, "schema_keys.toml", 1);
lint_snapshot!(value_formats, "values.toml", 1);
lint_snapshot!(risk_score_disagrees_with_severity, "risk.toml", 1);
lint_snapshot!(investigation_guide_structure, "guide.toml", 1);
lint_snapshot!(threat_mapping_references, "threat.toml", 1);
lint_snapshot!(type_and_language_requirements, "types.toml", 1);
lint_snapshot!(toml_syntax_errors, "syntax.toml", 1);
lint_snapshot!(eql_error_points_into_the_file, "eql_error.toml", 1);
lint_snapshot!(
    unknown_eql_fields_with_suggestions,
    "unknown_field_eql.toml",
    1
);
lint_snapshot!(
    unknown_kql_fields_with_suggestions,
    "unknown_field_kql.toml",
    1
);
lint_snapshot!(
    unknown_esql_fields_followed_through_the_query,
    "unknown_field_esql.toml",
    0
);
lint_snapshot!(attack_ids_names_tactics_and_revocations, "attack.toml", 1);
lint_snapshot!(eql_values_outside_ecs_and_field_types, "values_eql.toml", 1);
lint_snapshot!(kql_values_outside_ecs_and_field_types, "values_kql.toml", 1);
lint_snapshot!(
    fields_of_another_integration,
    "field_other_integration.toml",
    0
);
lint_snapshot!(
    integration_metadata_against_index_and_datasets,
    "integration_tags.toml",
    1
);
lint_snapshot!(
    endpoint_index_without_integration,
    "index_without_integration.toml",
    1
);
lint_snapshot!(authored_required_fields_checked, "required_fields.toml", 0);

lint_snapshot!(
    field_newer_than_the_lowest_supported_stack,
    "field_stack.toml",
    1
);

lint_snapshot!(
    data_stream_outside_the_package_versions_allowed,
    "field_package_version.toml",
    1
);

lint_snapshot!(
    data_source_tags_against_integrations,
    "data_source_tag.toml",
    0
);

/// The same data stream is fine once the constraint allows the versions that have it, and a
/// constraint no version satisfies is reported at the constraint.
#[test]
fn package_version_constraint_decides_rf630() {
    let run = |from: &str, to: &str| {
        let dir = scratch("field_package_version.toml");
        let file = dir.path().join("field_package_version.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from));
        std::fs::write(&file, text.replace(from, to)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
            .current_dir(dir.path())
            .args(["lint", "--select", "RF630", "field_package_version.toml"])
            .output()
            .expect("run ruleforge");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run("version = \"^2.0.0\"", "version = \"^3.4.0\"");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
    let (code, text) = run("version = \"^2.0.0\"", "version = \"^99.0.0\"");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no version of `aws` satisfies `^99.0.0`"),
        "{text}"
    );
    // Without an authored constraint, the exporter's own (computed for stack 9.6) allows it.
    let (code, text) = run(
        "[[rule.related_integrations]]\npackage = \"aws\"\nversion = \"^2.0.0\"\n",
        "",
    );
    assert_eq!(code, Some(0), "{text}");
}

/// The same field is fine once `min_stack_version` excludes the stacks whose ECS lacks it.
#[test]
fn field_of_a_newer_ecs_is_fine_from_its_stack() {
    let dir = scratch("field_stack.toml");
    let file = dir.path().join("field_stack.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "maturity = \"production\"",
        "maturity = \"production\"\nmin_stack_comments = \"host.entity fields.\"\nmin_stack_version = \"9.3.0\"",
    );
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--select", "RF629", "field_stack.toml"])
        .output()
        .expect("run ruleforge");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
}

/// `--fail-on warning` turns a run with only warnings into a failure; the default does not.
#[test]
fn fail_on_warning_fails_a_run_with_only_warnings() {
    let dir = scratch("required_fields.toml");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
            .current_dir(dir.path())
            .arg("lint")
            .args(extra)
            .arg("required_fields.toml")
            .output()
            .expect("run ruleforge");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text)
    };
    let (code, text) = run(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("0 errors") && text.contains("warning[RF627]"),
        "{text}"
    );
    let (code, text) = run(&["--fail-on", "warning"]);
    assert_eq!(code, Some(1), "{text}");
    let (code, _) = run(&["--fail-on", "error"]);
    assert_eq!(code, Some(0));
    let (code, _) = run(&["--fail-on", "info"]);
    assert_eq!(code, Some(2), "an unknown severity is a usage error");
}

#[test]
fn json_format_gives_line_and_column() {
    let dir = scratch("risk.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--format", "json", "risk.toml"])
        .output()
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["code"], "RF210");
    assert_eq!(first["file"], "risk.toml");
    assert_eq!(first["line"], 33);
    assert_eq!(first["column"], 14);
}

#[test]
fn explain_prints_the_lint_documentation() {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .args(["lint", "--explain", "RF407"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("RF407 investigating-name (error)"),
        "{text}"
    );
    assert!(text.contains("### Investigating <rule name>"), "{text}");
}

#[test]
fn statistics_count_findings_per_code() {
    let dir = scratch("attack.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--statistics", "attack.toml"])
        .output()
        .expect("run ruleforge");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let table: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("lint: "))
        .collect();
    assert_eq!(
        table,
        [
            "1  RF502  error   technique-current",
            "1  RF503  error   technique-in-tactic",
            "1  RF504  error   tactic-id-name",
            "1  RF505  error   technique-id-name",
        ],
        "{text}"
    );
    assert!(
        !text.contains("-->"),
        "statistics replace the findings: {text}"
    );
}

/// A scratch repository with `rules/` and `etc/version.lock.json`: the lock lints (RF71x).
#[test]
fn version_lock_disagreements() {
    let dir = tempfile::tempdir().unwrap();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint");
    let clean = std::fs::read_to_string(data.join("clean.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    // A: demoted to development, min stack raised to 9.3 without a lock update.
    let a = clean
        .replace(
            "maturity = \"production\"",
            "maturity = \"development\"\nmin_stack_comments = \"New fields.\"\nmin_stack_version = \"9.3.0\"",
        );
    std::fs::write(dir.path().join("rules/a.toml"), a).unwrap();
    // B: released as a KQL query, now EQL.
    let b = clean
        .replace(
            "5d7f2a8e-3c1b-4e5f-9a6d-0b1c2d3e4f50",
            "5d7f2a8e-3c1b-4e5f-9a6d-0b1c2d3e4f51",
        )
        .replace("Test Utility Execution", "Other Utility Execution");
    std::fs::write(dir.path().join("rules/b.toml"), b).unwrap();
    let hash = "0".repeat(64);
    let lock = serde_json::json!({
        "5d7f2a8e-3c1b-4e5f-9a6d-0b1c2d3e4f50": {
            "rule_name": "Test Utility Execution", "sha256": hash, "type": "eql", "version": 3,
            "min_stack_version": "9.2",
            "stack_emit": {"9.2": {"sha256": hash, "transforms": [], "version": 4}}
        },
        "5d7f2a8e-3c1b-4e5f-9a6d-0b1c2d3e4f51": {
            "rule_name": "Other Utility Execution", "sha256": hash, "type": "query", "version": 7
        },
        "00000000-0000-4000-8000-000000000000": {
            "rule_name": "Deleted Rule", "sha256": hash, "type": "query", "version": 2
        }
    });
    std::fs::write(dir.path().join("etc/version.lock.json"), lock.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--select", "RF71"])
        .output()
        .expect("run ruleforge");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    insta::assert_snapshot!(stable(&text));

    // RF712 (a changed rule whose version will bump) runs when selected by name.
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--select", "RF712"])
        .output()
        .expect("run ruleforge");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning[RF712]: the rule changed since version 7 was locked: the release will ship version 8")
            && text.contains("rules/b.toml")
            && !text.contains("rules/a.toml"),
        "{text}"
    );

    // Linting one file is not the whole repository: no orphan finding.
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(dir.path())
        .args(["lint", "--select", "RF715", "rules/b.toml"])
        .output()
        .expect("run ruleforge");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("RF715"), "{text}");
}
