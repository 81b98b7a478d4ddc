//! The gate cannot pass when it should fail: each test here reproduces a way `ruleforge test`
//! or `check` used to pass, lose an accepted snapshot or read outside the repository, on a
//! temporary copy of the project.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{edit, project, scratch_copy};
use std::path::Path;
use std::process::Command;

fn ruleforge(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = scratch::run(root, args);
    (
        out.status.code().unwrap_or(-1),
        scratch::text(&out.stdout),
        scratch::text(&out.stderr),
    )
}

const RULE: &str = scratch::KERNEL_UNPACKING;
const SEQUENCE_RULE: &str = "rules/linux/persistence_kernel_unpack_then_module_load.toml";

/// Every snapshot file's bytes, by name.
fn snapshots(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(root.join("snapshots"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A change that alters the kernel-unpacking rule's snapshot (the mkinitramfs recording alerts).
fn add_false_positive(root: &Path) {
    edit(
        root,
        RULE,
        r#"process.parent.name not in ("mkinitramfs", "kdumpctl")"#,
        r#"process.parent.name not in ("kdumpctl")"#,
    );
}

fn write_fixture(root: &Path, name: &str, manifest: &str, events: Option<&str>) {
    std::fs::write(root.join(format!("fixtures/{name}.toml")), manifest).unwrap();
    if let Some(e) = events {
        std::fs::write(root.join(format!("fixtures/{name}.ndjson")), e).unwrap();
    }
}

const ONE_EVENT: &str = "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"true\"}}\n";

#[test]
fn accept_with_a_rule_that_no_longer_loads_writes_and_deletes_nothing() {
    let dir = scratch_copy();
    let before = snapshots(dir.path());
    add_false_positive(dir.path());
    // A second rule file is broken TOML: its snapshot must not be deleted as an orphan.
    let seq = dir.path().join(SEQUENCE_RULE);
    let text = std::fs::read_to_string(&seq).unwrap();
    std::fs::write(&seq, format!("{text}\n[rule\nbroken = \n")).unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[RF101]"),
        "the load failure is a test error:\n{stdout}"
    );
    assert!(
        stdout.contains("error[RT012]: --accept refused"),
        "{stdout}"
    );
    assert!(!stdout.contains("accepted snapshot"), "{stdout}");
    assert!(!stdout.contains("removed orphaned"), "{stdout}");
    assert!(
        !stdout.contains("error[RT004]"),
        "the fixtures naming the broken rule are not blamed for it:\n{stdout}"
    );
    assert_eq!(
        snapshots(dir.path()),
        before,
        "nothing written, nothing deleted"
    );
    // `test` alone reports the load failure too (it used to be reported by `lint` only).
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("error[RF101]"), "{stdout}");
}

#[test]
fn accept_with_a_broken_manifest_rewrites_nothing() {
    let dir = scratch_copy();
    let before = snapshots(dir.path());
    add_false_positive(dir.path());
    edit(
        dir.path(),
        "fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.toml",
        "verdict = \"malicious\"",
        "verdict = \"malicous\"",
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("error[FX002]"), "{stdout}");
    assert!(
        stdout.contains("error[RT012]: --accept refused"),
        "{stdout}"
    );
    assert_eq!(snapshots(dir.path()), before);
}

#[test]
fn a_sequence_over_events_without_a_timestamp_fails() {
    let dir = scratch_copy();
    // The benign near-miss recording: strip one event's timestamp.
    let path = dir
        .path()
        .join("fixtures/kernel_module_staging/module_load_before_unpack.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut v: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
    v.as_object_mut().unwrap().remove("@timestamp");
    lines[2] = v.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (code, stdout, _) = ruleforge(
        dir.path(),
        &[
            "test",
            "--rule",
            "persistence_kernel_unpack_then_module_load",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[RT011]")
            && stdout.contains("module_load_before_unpack.ndjson:3 has no usable timestamp"),
        "{stdout}"
    );
}

#[test]
fn a_recording_without_a_manifest_fails_and_can_be_made_a_warning() {
    let dir = scratch_copy();
    std::fs::write(dir.path().join("fixtures/stray.ndjson"), ONE_EVENT).unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[RT014]: recording without a manifest")
            && stdout.contains("fixtures/stray.ndjson"),
        "{stdout}"
    );
    let config = dir.path().join("ruleforge.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = if text.contains("[test]") {
        text.replace("[test]", "[test]\nunreferenced_recording = \"warning\"")
    } else {
        format!("{text}\n[test]\nunreferenced_recording = \"warning\"\n")
    };
    std::fs::write(&config, text).unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("warning[RT014]"), "{stdout}");
}

#[test]
fn a_malicious_manifest_without_expectations_fails() {
    let dir = scratch_copy();
    write_fixture(
        dir.path(),
        "nothing_expected",
        "description = \"x\"\nverdict = \"malicious\"\nrecorded = \"test\"\nevents = \"nothing_expected.ndjson\"\n",
        Some(ONE_EVENT),
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[RT015]") && stdout.contains("nothing_expected.toml"),
        "{stdout}"
    );
}

#[test]
fn two_rules_with_one_file_stem_are_an_error_and_block_accept() {
    let dir = scratch_copy();
    let before = snapshots(dir.path());
    add_false_positive(dir.path());
    std::fs::create_dir_all(dir.path().join("rules/other")).unwrap();
    let text = std::fs::read_to_string(dir.path().join(RULE)).unwrap();
    let copy = text
        .replace(
            "2eb35698-27b8-4f7a-9148-70e306f00c25",
            "2eb35698-27b8-4f7a-9148-70e306f00c99",
        )
        .replace(
            "name = \"Kernel Image Unpacking from Boot Directory\"",
            "name = \"Kernel Image Unpacking, Copy\"",
        );
    std::fs::write(
        dir.path()
            .join("rules/other/discovery_kernel_unpacking.toml"),
        copy,
    )
    .unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[RT013]: 2 rules share the file stem `discovery_kernel_unpacking`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error[RT012]: --accept refused"),
        "{stdout}"
    );
    assert_eq!(snapshots(dir.path()), before);
}

#[test]
fn orphan_cleanup_removes_only_ruleforge_snapshots_and_says_removed() {
    let dir = scratch_copy();
    let snaps = dir.path().join("snapshots");
    std::fs::write(
        snaps.join("deleted_rule.snap"),
        "# ruleforge alert snapshot: review changes like code.\nrule: gone\nrule_id: x\nalerts: 0\n",
    )
    .unwrap();
    std::fs::write(snaps.join("Button.test.js.snap"), "// Jest Snapshot v1\n").unwrap();
    std::fs::write(
        snaps.join("lint__case.snap"),
        "---\nsource: tests/x.rs\n---\n",
    )
    .unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("snapshots/deleted_rule.snap"), "{stdout}");
    assert!(!stdout.contains("Button.test.js.snap"), "{stdout}");
    assert!(!stdout.contains("lint__case.snap"), "{stdout}");
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("removed orphaned snapshot snapshots/deleted_rule.snap"),
        "{stdout}"
    );
    assert!(!stdout.contains("accepted snapshot"), "{stdout}");
    assert!(!snaps.join("deleted_rule.snap").exists());
    assert!(snaps.join("Button.test.js.snap").exists());
    assert!(snaps.join("lint__case.snap").exists());
}

#[test]
fn manifests_cannot_read_files_outside_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.ndjson");
    std::fs::write(&secret, ONE_EVENT).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("absolute", secret.display().to_string()),
        (
            "dotdot",
            "../../../../../../../../../../..".to_string() + &secret.display().to_string(),
        ),
        ("symlink", "link.ndjson".to_string()),
    ];
    for (name, events) in cases {
        let dir = scratch_copy();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&secret, dir.path().join("fixtures/link.ndjson")).unwrap();
        write_fixture(
            dir.path(),
            "leak",
            &format!(
                "description = \"x\"\nverdict = \"benign\"\nrecorded = \"test\"\nevents = {events:?}\n"
            ),
            None,
        );
        let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
        assert_eq!(code, 2, "{name}: {stdout}");
        assert!(
            stdout.contains("error[FX007]") && stdout.contains("outside the repository root"),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn configured_folders_outside_the_repository_are_refused() {
    let dir = scratch_copy();
    for (key, value) in [
        ("rule_dirs", "[\"/etc\"]"),
        ("fixture_dirs", "[\"..\"]"),
        ("snapshot_dir", "\"/tmp\""),
    ] {
        std::fs::write(
            dir.path().join("ruleforge.toml"),
            format!("{key} = {value}\n"),
        )
        .unwrap();
        for cmd in ["lint", "test"] {
            let (code, stdout, stderr) = ruleforge(dir.path(), &[cmd]);
            assert_eq!(code, 2, "{key} with {cmd}: {stdout}{stderr}");
            assert!(
                stderr.contains(&format!("`{key}`"))
                    && stderr.contains("outside the repository root"),
                "{stderr}"
            );
            assert!(
                stdout.is_empty(),
                "nothing from outside is printed: {stdout}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn symlinked_rule_files_and_fixture_folders_are_reported() {
    let dir = scratch_copy();
    std::os::unix::fs::symlink(
        dir.path().join(RULE),
        dir.path().join("rules/linux/linked_rule.toml"),
    )
    .unwrap();
    for args in [&["lint"][..], &["lint", "rules/linux"][..]] {
        let (code, stdout, _) = ruleforge(dir.path(), args);
        assert_eq!(code, 1, "{args:?}: {stdout}");
        assert!(
            stdout.contains("error[FX008]") && stdout.contains("linked_rule.toml"),
            "{args:?}: {stdout}"
        );
    }
    std::fs::remove_file(dir.path().join("rules/linux/linked_rule.toml")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("fixtures/kernel_unpacking"),
        dir.path().join("fixtures/linked_folder"),
    )
    .unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[FX008]") && stdout.contains("fixtures/linked_folder"),
        "{stdout}"
    );
}

#[cfg(unix)]
#[test]
fn a_recording_that_is_a_fifo_is_refused_without_hanging() {
    let dir = scratch_copy();
    let status = Command::new("mkfifo")
        .arg(dir.path().join("fixtures/pipe.ndjson"))
        .status()
        .unwrap();
    assert!(status.success());
    write_fixture(
        dir.path(),
        "pipe",
        "description = \"x\"\nverdict = \"benign\"\nrecorded = \"test\"\nevents = \"pipe.ndjson\"\n",
        None,
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("error[FX009]"), "{stdout}");
}

#[test]
fn control_characters_in_names_and_values_are_escaped() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        RULE,
        "name = \"Kernel Image Unpacking from Boot Directory\"",
        "name = \"Kernel Image Unpacking\\u001b[31m\\nfixture: forged (benign)\"",
    );
    // An event value with an escape sequence and a forged line.
    let path = dir
        .path()
        .join("fixtures/kernel_unpacking/attacker_gunzip_interactive_tmp.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let forged = text.replace(
        "\"command_line\":\"/bin/sh /usr/bin/gunzip",
        "\"command_line\":\"\\u001b[2K\\r\\nfixture: fixtures/x (benign)\\ngunzip",
    );
    assert!(
        forged != text,
        "the recording no longer has the gunzip command line"
    );
    std::fs::write(&path, forged).unwrap();
    let (_, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert!(
        !stdout.contains('\x1b'),
        "no raw escape reaches the terminal"
    );
    let snap =
        std::fs::read_to_string(dir.path().join("snapshots/discovery_kernel_unpacking.snap"))
            .unwrap();
    assert!(!snap.contains('\x1b') && !snap.contains('\r'), "{snap}");
    assert!(
        !snap
            .lines()
            .any(|l| l.starts_with("fixture: forged") || l.starts_with("fixture: fixtures/x")),
        "no forged line:\n{snap}"
    );
    assert!(
        snap.contains("\\u{1b}[2K\\r\\nfixture: fixtures/x (benign)\\ngunzip"),
        "{snap}"
    );
    assert!(
        snap.contains("rule: Kernel Image Unpacking\\u{1b}[31m\\nfixture: forged (benign)"),
        "{snap}"
    );
}

#[test]
fn a_query_syntax_error_is_reported_once() {
    let dir = scratch_copy();
    edit(dir.path(), RULE, "process where", "process wher");
    let (code, stdout, _) = ruleforge(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stdout}");
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error[")).collect();
    let query_errors = errors
        .iter()
        .filter(|l| l.starts_with("error[RF603]"))
        .count();
    assert_eq!(query_errors, 1, "{stdout}");
    assert!(
        !errors.iter().any(|l| l.starts_with("error[RT005]")),
        "{stdout}"
    );
}

#[test]
fn usage_and_io_problems_exit_2() {
    let dir = scratch_copy();
    let (code, stdout, _) = ruleforge(dir.path(), &["test", "--rule", "nosuch"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("--rule \"nosuch\" names no loaded rule"),
        "{stdout}"
    );
    std::fs::write(
        dir.path().join("ruleforge.toml"),
        "fixture_dirs = [\"recordings\"]\n",
    )
    .unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("fixture directory recordings does not exist"),
        "{stdout}"
    );
    // A file where a folder is configured is named as such, not as missing.
    std::fs::write(dir.path().join("recordings"), "notes\n").unwrap();
    let (code, stdout, _) = ruleforge(dir.path(), &["test"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("fixture directory recordings is not a directory"),
        "{stdout}"
    );
}

#[test]
fn verbose_shows_every_rule_on_every_fixture() {
    let (code, stdout, _) = ruleforge(&project(), &["test", "-v"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("Kernel Image Unpacking from Boot Directory")
                && l.contains("fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade (benign)")
                && l.contains("quiet: ok")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(
            |l| l.contains("attacker_gunzip_interactive_tmp (malicious)")
                && l.contains("expected exactly 1: ok")
        ),
        "{stdout}"
    );
    let (_, quiet, _) = ruleforge(&project(), &["test"]);
    assert!(!quiet.contains("quiet: ok"));
}

#[test]
fn leftover_temporaries_of_a_killed_run_are_removed_by_the_next_accept() {
    let dir = scratch_copy();
    let leftover = dir.path().join("snapshots/.ruleforge-Ab12Cd.tmp");
    std::fs::write(&leftover, "half a snapshot").unwrap();
    add_false_positive(dir.path());
    let (_, stdout, _) = ruleforge(dir.path(), &["test", "--accept"]);
    assert!(stdout.contains("accepted snapshot"), "{stdout}");
    assert!(!leftover.exists());
}
