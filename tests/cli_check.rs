//! `ruleforge check` on the project's own rules and fixtures, and on broken copies of them:
//! the kernel-unpacking rule's exclusions and detections are proven by their fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ruleforge(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary copy of the project's rule repository (rules, fixtures, snapshots, config).
fn scratch_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["rules", "fixtures", "snapshots"] {
        copy_dir(&project().join(d), &dir.path().join(d));
    }
    std::fs::copy(
        project().join("ruleforge.toml"),
        dir.path().join("ruleforge.toml"),
    )
    .unwrap();
    dir
}

const RULE: &str = "rules/linux/discovery_kernel_unpacking.toml";

fn edit_rule(root: &Path, from: &str, to: &str) {
    let path = root.join(RULE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "the rule no longer contains {from:?}; update this test"
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn check_is_green_on_the_project() {
    let (code, stdout, stderr) = ruleforge(&project(), &["check"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("check: ok."), "{summary}");
    assert!(
        summary.contains(" fixtures, ")
            && summary.contains(" events, ")
            && summary.contains(" alerts"),
        "{summary}"
    );
}

/// `check --fail-on warning` fails a run whose only findings are warnings; the default passes it.
#[test]
fn fail_on_warning_fails_a_check_with_only_warnings() {
    let dir = scratch_copy();
    // Medium severity accepts 22–47, but the house value is 47: RF211 (warning) only.
    edit_rule(dir.path(), "risk_score = 47", "risk_score = 46");
    let (code, stdout, stderr) = ruleforge(dir.path(), &["check"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("RF211"), "{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("check: ok.") && summary.contains("0 errors, 1 warning"),
        "{summary}"
    );
    let (code, stdout, stderr) = ruleforge(dir.path(), &["check", "--fail-on", "warning"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("check: FAILED."), "{summary}");
    let (code, _, _) = ruleforge(dir.path(), &["check", "--fail-on", "error"]);
    assert_eq!(code, 0);
    let (code, _, stderr) = ruleforge(dir.path(), &["check", "--fail-on", "info"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn removing_the_mkinitramfs_exclusion_fails_on_the_mkinitramfs_fixture() {
    let dir = scratch_copy();
    edit_rule(
        dir.path(),
        r#"process.parent.name not in ("mkinitramfs", "kdumpctl")"#,
        r#"process.parent.name not in ("kdumpctl")"#,
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stdout}");
    // The benign recording now alerts: reported as a false positive and as a snapshot diff
    // that names the fixture and the offending event line.
    assert!(stdout.contains("error[RT003]: false positive"), "{stdout}");
    assert!(stdout.contains("error[RT006]"), "{stdout}");
    let diff_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('+')).collect();
    assert!(
        diff_lines
            .iter()
            .any(|l| l.contains("fixture: fixtures/") && l.contains("mkinitramfs")),
        "the diff names the mkinitramfs fixture:\n{stdout}"
    );
    assert!(
        diff_lines
            .iter()
            .any(|l| l.contains("mkinitramfs") && l.contains(".ndjson:")),
        "the diff names the offending event:\n{stdout}"
    );
    assert!(
        diff_lines.iter().any(|l| l.contains("parent=mkinitramfs")),
        "{stdout}"
    );
}

#[test]
fn removing_gunzip_fails_on_the_attacker_fixture() {
    let dir = scratch_copy();
    edit_rule(dir.path(), r#"("gunzip", "#, "(");
    let (code, stdout, _) = ruleforge(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stdout}");
    let failure = stdout
        .lines()
        .find(|l| l.starts_with("error[RT001]") && l.contains("attacker_gunzip_interactive_tmp"))
        .unwrap_or_else(|| panic!("the attacker gunzip fixture's expectation fails:\n{stdout}"));
    assert!(
        failure.contains("raised 0 alerts") && failure.contains("expected exactly 1"),
        "{failure}"
    );
    // The snapshot diff shows the lost detection.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with('-') && l.contains("process=gunzip")),
        "{stdout}"
    );
}

#[test]
fn accepting_writes_snapshots_and_then_passes() {
    let dir = scratch_copy();
    edit_rule(
        dir.path(),
        r#"process.parent.name not in ("mkinitramfs", "kdumpctl")"#,
        r#"process.parent.name not in ("kdumpctl")"#,
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert_eq!(
        code, 1,
        "accepting snapshots does not hide the false positive:\n{stdout}"
    );
    assert!(
        stdout.contains("accepted snapshot snapshots/discovery_kernel_unpacking.snap"),
        "{stdout}"
    );
    let (_, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert!(!stdout.contains("RT006"), "snapshot now matches:\n{stdout}");
}

#[test]
fn orphan_snapshot_and_unknown_rule_in_manifest_fail() {
    let dir = scratch_copy();
    std::fs::write(
        dir.path().join("snapshots/deleted_rule.snap"),
        "# ruleforge alert snapshot: review changes like code.\nrule: gone\nrule_id: x\nalerts: 0\n",
    )
    .unwrap();
    let manifest = dir.path().join("fixtures/extra.toml");
    std::fs::write(
        &manifest,
        "description = \"x\"\nverdict = \"malicious\"\nrecorded = \"test\"\nevents = \"extra.ndjson\"\n\n[[expect]]\nrule = \"no_such_rule\"\nalerts = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fixtures/extra.ndjson"),
        "{\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("error[RT007]: orphaned snapshot"),
        "{stdout}"
    );
    assert!(stdout.contains("snapshots/deleted_rule.snap"), "{stdout}");
    assert!(
        stdout.contains("error[RT004]: manifest expects rule \"no_such_rule\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("fixtures/extra.toml:7:8"),
        "points at the rule reference:\n{stdout}"
    );
}

#[test]
fn broken_recordings_fail_closed() {
    let dir = scratch_copy();
    for (name, body) in [("empty", ""), ("broken", "{\"a\":1}\n{not json\n")] {
        std::fs::write(
            dir.path().join(format!("fixtures/{name}.toml")),
            format!("description = \"x\"\nverdict = \"benign\"\nrecorded = \"test\"\nevents = \"{name}.ndjson\"\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join(format!("fixtures/{name}.ndjson")), body).unwrap();
    }
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("error[FX005]: recording")
            && stdout.contains("empty.ndjson holds no events"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error[FX006]: invalid JSON") && stdout.contains("broken.ndjson:2:2"),
        "{stdout}"
    );
}

#[test]
fn missing_rule_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = ruleforge(dir.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no rule directories"), "{stderr}");
}
