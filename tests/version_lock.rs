//! `ruleforge version-lock [--check]` on a copy of the corpus: the lock is stale for the
//! package stack's emit epoch (no ATT&CK v19 data, so every emitted payload differs from the
//! locked `stack_emit` hash, as in Elastic's own export), `version-lock` brings it up to date
//! without changing any exported version, a second `--check` passes, and a changed rule is
//! reported with its new version.

mod common;

#[path = "common/scratch.rs"]
mod scratch;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn versions(root: &Path) -> BTreeMap<String, u64> {
    let out = scratch::run(root, &["export", "--allow-invalid", "--out", "all.ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::read_to_string(root.join("all.ndjson"))
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

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn updating_the_lock_keeps_every_exported_version_and_is_idempotent() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["rules", "rules_building_block", "etc"] {
        scratch::copy_dir(&corpus.join(d), &root.join(d));
    }
    let lock = root.join("etc/version.lock.json");
    let mut perms = std::fs::metadata(&lock).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&lock, perms).unwrap();
    let before = versions(root);

    let out = scratch::run(root, &["version-lock", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(report.contains("stack_emit 9.5"), "{}", text(&out));
    // Rules whose content changed since they were locked get a new version; all others keep
    // the version the export gave before the update.
    let changed: std::collections::BTreeSet<&str> = report
        .lines()
        .filter(|l| l.contains(": changed: version") || l.contains("minimum stack raised"))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let original = std::fs::read_to_string(&lock).unwrap();
    let out = scratch::run(root, &["version-lock"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let updated = std::fs::read_to_string(&lock).unwrap();
    assert_ne!(original, updated);
    assert!(
        !updated.ends_with('\n'),
        "written like detection-rules: no trailing newline"
    );
    let out = scratch::run(root, &["version-lock", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = versions(root);
    let moved: Vec<String> = before
        .iter()
        .filter(|(id, v)| after.get(*id) != Some(v) && !changed.contains(id.as_str()))
        .map(|(id, v)| format!("{id}: {v} -> {:?}", after.get(id)))
        .collect();
    assert!(
        moved.is_empty(),
        "locking changed the version of {} unchanged rules:\n{}",
        moved.len(),
        moved.join("\n")
    );
    println!(
        "version-lock: {} changed rules re-versioned, {} versions kept",
        changed.len(),
        before.len() - changed.len()
    );

    // A content change: the rule is dirty, --check names it with its new version.
    scratch::edit(
        root,
        scratch::KERNEL_UNPACKING,
        "severity = \"",
        "false_positives = [\"A packaging script.\"]\nseverity = \"",
    );
    let out = scratch::run(root, &["version-lock", "--check"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(
            "4f725dc5-ae44-46c1-9ac5-99f6f7a70d8a Kernel Unpacking Activity: changed: version 8"
        ),
        "{shown}"
    );
}
