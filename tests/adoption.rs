//! Adopting ruleforge on an existing detection-rules repository: the corpus arranged as a
//! detection-rules checkout (`detection_rules/etc/`) and as a custom rules directory
//! (`_config.yaml`, found through `CUSTOM_RULES_DIR`) needs no ruleforge.toml; `ruleforge
//! config` says what was found; exported versions are the lock's; and a baseline taken on the
//! first run lets `check` pass until a change adds a new problem.

mod common;

use std::path::Path;
use std::process::{Command, Output};

#[path = "common/scratch.rs"]
mod scratch;

fn run(root: Option<&Path>, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ruleforge"));
    if let Some(root) = root {
        cmd.arg("-C").arg(root);
    }
    cmd.env_remove("CUSTOM_RULES_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run ruleforge")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The corpus's rules at the root and its `etc/` where a checkout keeps it.
fn checkout(corpus: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["rules", "rules_building_block"] {
        scratch::copy_dir(&corpus.join(d), &dir.path().join(d));
    }
    scratch::copy_dir(&corpus.join("etc"), &dir.path().join("detection_rules/etc"));
    dir
}

/// A custom rules directory: `_config.yaml` at the root naming `etc/` files.
fn custom_rules(corpus: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["rules", "rules_building_block"] {
        scratch::copy_dir(&corpus.join(d), &dir.path().join(d));
    }
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    for f in [
        "version.lock.json",
        "packages.yaml",
        "stack-schema-map.yaml",
        "deprecated_rules.json",
    ] {
        std::fs::copy(corpus.join("etc").join(f), etc.join(f)).unwrap();
    }
    // The Beats field schemas the stack schema map names (types of `required_fields`).
    scratch::copy_dir(
        &corpus.join("etc/beats_schemas"),
        &etc.join("beats_schemas"),
    );
    std::fs::write(
        dir.path().join("_config.yaml"),
        "rule_dirs:\n  - rules\nbbr_rules_dirs:\n  - rules_building_block\nfiles:\n  deprecated_rules: etc/deprecated_rules.json\n  packages: etc/packages.yaml\n  stack_schema_map: etc/stack-schema-map.yaml\n  version_lock: etc/version.lock.json\n",
    )
    .unwrap();
    dir
}

/// rule_id → version of every line of an NDJSON export.
fn versions(path: &Path) -> std::collections::BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule_id"].as_str().unwrap().to_string(),
                v["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The versions the lock gives (the library export with the corpus `etc/`).
fn locked_versions(corpus: &Path) -> std::collections::BTreeMap<String, u64> {
    let dirs = vec![corpus.join("rules"), corpus.join("rules_building_block")];
    let collection = ruleforge::rule::Collection::load_dirs(&dirs).unwrap();
    let ctx = ruleforge::export::ExportContext::builtin()
        .with_etc_dir(&corpus.join("etc"))
        .unwrap();
    collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .map(|r| {
            let fields = ruleforge::replay::export_fields(r);
            let api =
                ruleforge::export::rule_to_api(&r.to_json(), fields.as_deref(), &ctx).unwrap();
            (r.rule_id.clone(), api["version"].as_u64().unwrap())
        })
        .collect()
}

fn assert_layout_exports_locked_versions(root: &Path, env: &[(&str, &Path)], corpus: &Path) {
    let cli_root = if env.is_empty() { Some(root) } else { None };
    let out = run(
        cli_root,
        env,
        &["export", "--allow-invalid", "--out", "all.ndjson"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("no version lock"),
        "{}",
        text(&out)
    );
    let got = versions(&root.join("all.ndjson"));
    let want = locked_versions(corpus);
    assert_eq!(got.len(), want.len(), "every active rule exported");
    let differ: Vec<String> = want
        .iter()
        .filter(|(id, v)| got.get(*id) != Some(v))
        .map(|(id, v)| format!("{id}: lock gives {v}, export {:?}", got.get(id)))
        .collect();
    assert!(differ.is_empty(), "versions differ:\n{}", differ.join("\n"));
    // The kernel-unpacking rule: lock version 7, stack_emit 9.5 → 8, emitted payload changed → 9.
    assert_eq!(got["4f725dc5-ae44-46c1-9ac5-99f6f7a70d8a"], 9);
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn a_checkout_needs_no_config_and_exports_the_locked_versions() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = checkout(&corpus);
    let root = dir.path();
    let out = run(Some(root), &[], &["config"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("ruleforge.toml") && shown.contains("none (zero configuration)"),
        "{shown}"
    );
    assert!(shown.contains("detection-rules checkout"), "{shown}");
    assert!(
        shown.contains("version_lock")
            && shown.contains("detection_rules/etc/version.lock.json")
            && shown.contains("_config.yaml: files.version_lock"),
        "{shown}"
    );
    assert!(shown.contains("rules_building_block"), "{shown}");
    let out = run(Some(root), &[], &["lint", "--quiet"]);
    assert_ne!(out.status.code(), Some(2), "lint ran:\n{}", text(&out));
    assert_layout_exports_locked_versions(root, &[], &corpus);
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn a_custom_rules_directory_is_found_through_custom_rules_dir() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = custom_rules(&corpus);
    let root = dir.path();
    let env = [("CUSTOM_RULES_DIR", root)];
    let out = run(None, &env, &["config"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("custom rules directory"), "{shown}");
    assert!(shown.contains("_config.yaml: files.packages"), "{shown}");
    assert_layout_exports_locked_versions(root, &env, &corpus);
    // A misspelt key in _config.yaml is an error with its place, not a silent default.
    let config = root.join("_config.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, yaml.replace("bbr_rules_dirs", "bbr_rule_dirs")).unwrap();
    let out = run(None, &env, &["config"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("_config.yaml:3:1") && err.contains("bbr_rule_dirs"),
        "{err}"
    );
}

/// The project's benign fixture of an administrator listing /boot, in the adopting
/// repository.
fn add_benign_fixture(root: &Path) {
    let from = scratch::project().join("fixtures/boot_enumeration");
    let to = root.join("fixtures/admin");
    std::fs::create_dir_all(&to).unwrap();
    for f in [
        "admin_kernel_upgrade_check.toml",
        "admin_kernel_upgrade_check.ndjson",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn with_a_baseline_check_passes_until_a_change_adds_a_false_positive() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = checkout(&corpus);
    let root = dir.path();
    add_benign_fixture(root);
    // Without a baseline, the adopting team's first check fails on what the corpus already has.
    let out = run(Some(root), &[], &["check", "--quiet"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = run(
        Some(root),
        &[],
        &["check", "--write-baseline", "ruleforge-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(root.join("ruleforge-baseline.json").is_file());
    let out = run(
        Some(root),
        &[],
        &["check", "--baseline", "ruleforge-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !root.join("snapshots").exists(),
        "no snapshot is written without --accept"
    );
    // One rule change: the kernel-unpacking rule now also matches `ls` on /boot, which the
    // administrator's benign fixture does.
    scratch::edit(
        root,
        scratch::KERNEL_UNPACKING,
        r#"(process.name in ("file", "unlzma","#,
        r#"(process.name in ("ls", "file", "unlzma","#,
    );
    let out = run(
        Some(root),
        &[],
        &["check", "--baseline", "ruleforge-baseline.json"],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("RT003") && shown.contains("false positive"),
        "{shown}"
    );
    // Only the new problem is reported: the changed rule's false positive on that fixture, and
    // its alerts shown as the snapshot diff a reviewer would accept or reject.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors,
        vec![
            "error[RT003]: false positive: \"Kernel Unpacking Activity\" raised 1 alert on benign fixture fixtures/admin/admin_kernel_upgrade_check.toml",
            "error[RT006]: alerts of \"Kernel Unpacking Activity\" is new (no accepted snapshot)",
        ],
        "only the new false positive is reported:\n{shown}"
    );
    assert!(
        stdout.contains("+      command_line: ls --color=auto -l /boot/efi"),
        "{shown}"
    );
}

/// A production rule that no manifest names and that alerts on no fixture: one missing-coverage
/// finding (RT008, at the configured level), no snapshot error, no snapshot file.
#[test]
fn a_rule_without_fixtures_gets_one_finding_and_no_snapshot() {
    let dir = scratch::scratch_copy();
    let root = dir.path();
    let original = std::fs::read_to_string(root.join(scratch::KERNEL_UNPACKING)).unwrap();
    let copy = original
        .replace(
            "2eb35698-27b8-4f7a-9148-70e306f00c25",
            "7d1b2c3e-0f4a-4b5c-8d6e-9f0a1b2c3d4e",
        )
        .replace(
            "Kernel Image Unpacking from Boot Directory",
            "Unfixtured Copy of the Unpacking Rule",
        )
        .replacen(
            "event.action in (\"exec\", \"exec_event\")",
            "event.action == \"never-recorded\"",
            1,
        );
    assert_ne!(copy, original);
    std::fs::write(
        root.join("rules/linux/discovery_unfixtured_copy.toml"),
        copy,
    )
    .unwrap();
    let before: Vec<_> = std::fs::read_dir(root.join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let out = run(Some(root), &[], &["test", "--accept"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let findings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .collect();
    assert_eq!(
        findings,
        vec![
            "error[RT008]: rule \"Unfixtured Copy of the Unpacking Rule\" has no malicious fixture that expects it to alert"
        ],
        "{stdout}"
    );
    assert!(
        !root
            .join("snapshots/discovery_unfixtured_copy.snap")
            .exists()
    );
    let after: Vec<_> = std::fs::read_dir(root.join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before.len(), after.len(), "no snapshot added");
    // The level is configurable: as a warning, the run passes.
    let config = std::fs::read_to_string(root.join("ruleforge.toml")).unwrap();
    std::fs::write(
        root.join("ruleforge.toml"),
        config.replace(
            "missing_fixture = \"error\"",
            "missing_fixture = \"warning\"",
        ),
    )
    .unwrap();
    let out = run(Some(root), &[], &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning[RT008]"));
}
