//! `ruleforge export` does not hand Kibana rules that fail lint, unless told to.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::*;

fn export(root: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["export", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(root, &args)
}

#[test]
fn export_refuses_a_misspelt_severity_and_writes_nothing() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "severity = \"medium\"",
        "severity = \"hgih\"",
    );
    let out = dir.path().join("rules.ndjson");
    let res = export(dir.path(), &out, &[]);
    let stdout = text(&res.stdout);
    assert_eq!(res.status.code(), Some(1), "{stdout}{}", text(&res.stderr));
    assert!(!out.exists(), "nothing is written");
    assert!(stdout.contains("error[RF108]"), "{stdout}");
    assert!(
        stdout.contains("discovery_kernel_unpacking.toml:78:12"),
        "{stdout}"
    );
    assert!(
        text(&res.stderr).contains("--allow-invalid"),
        "{}",
        text(&res.stderr)
    );
}

#[test]
fn export_refuses_a_query_that_does_not_parse() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        r#"process.name in ("gunzip", "#,
        r#"process.name in (("gunzip", "#,
    );
    let out = dir.path().join("rules.ndjson");
    let res = export(dir.path(), &out, &[]);
    let stdout = text(&res.stdout);
    assert_eq!(res.status.code(), Some(1), "{stdout}{}", text(&res.stderr));
    assert!(!out.exists(), "nothing is written");
    assert!(
        stdout.contains("error[") && stdout.contains("discovery_kernel_unpacking.toml:"),
        "{stdout}"
    );
}

#[test]
fn allow_invalid_warns_and_exports_everything() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "severity = \"medium\"",
        "severity = \"hgih\"",
    );
    let out = dir.path().join("rules.ndjson");
    let res = export(dir.path(), &out, &["--allow-invalid"]);
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("--allow-invalid"),
        "{stderr}"
    );
    assert!(text(&res.stdout).contains("error[RF108]"));
    let written = std::fs::read_to_string(&out).unwrap();
    let rules = std::fs::read_dir(dir.path().join("rules/linux"))
        .unwrap()
        .count();
    assert_eq!(written.lines().count(), rules);
    assert!(
        written.contains(r#""severity": "hgih""#),
        "the invalid rule is exported as written"
    );
}

/// Lint errors in a rule that is not exported do not block `--rule` exports of valid ones.
#[test]
fn an_invalid_rule_outside_the_selection_does_not_block() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "severity = \"medium\"",
        "severity = \"hgih\"",
    );
    let out = dir.path().join("rules.ndjson");
    let res = export(
        dir.path(),
        &out,
        &["--rule", "credential_access_kallsyms_read"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1);
}
