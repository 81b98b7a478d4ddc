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
