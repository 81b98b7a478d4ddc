//! Nothing ruleforge writes is lost silently: a report that cannot reach standard output is an
//! I/O error (exit 2), not a clean run.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::*;
use std::process::{Command, Stdio};

/// Runs ruleforge with standard output sent to `/dev/full` (every write fails with ENOSPC).
#[cfg(target_os = "linux")]
fn run_into_dev_full(root: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(root)
        .args(args)
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (out.status.code(), text(&out.stderr))
}

#[cfg(target_os = "linux")]
#[test]
fn lint_report_to_a_full_device_exits_2() {
    let (code, stderr) = run_into_dev_full(&project(), &["lint"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("writing to standard output"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn json_findings_to_a_full_device_exit_2_not_1() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        KERNEL_UNPACKING,
        "severity = \"medium\"",
        "severity = \"hgih\"",
    );
    let (code, stderr) = run_into_dev_full(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("writing to standard output"), "{stderr}");
}

/// `ruleforge lint | head -1`: the reader leaving early is not an error.
#[test]
fn a_closed_pipe_still_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(project())
        .arg("lint")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// Every rule gets a new name, so `test --accept` rewrites every snapshot (the header names the
/// rule).
fn rename_every_rule(root: &std::path::Path) {
    for entry in std::fs::read_dir(root.join("rules/linux")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut done = false;
        let renamed: Vec<String> = text
            .lines()
            .map(|l| match l.strip_prefix("name = \"") {
                Some(rest) if !done && rest.ends_with('"') => {
                    done = true;
                    format!("name = \"{} (renamed)\"", &rest[..rest.len() - 1])
                }
                _ => l.to_string(),
            })
            .collect();
        assert!(
            done,
            "{} has no name line; update this test",
            path.display()
        );
        std::fs::write(&path, renamed.join("\n") + "\n").unwrap();
    }
}

/// The regular files of a directory by name (temporaries included).
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn is_temporary(name: &str) -> bool {
    name.starts_with(".ruleforge-") && name.ends_with(".tmp")
}

fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `test --accept` killed (SIGKILL, by strace's fault injection) at its 1st, 2nd, 3rd, …
/// `write` system call: every snapshot is, after each kill, either the accepted version from
/// before the run or the complete new one; a temporary left behind is never read as a snapshot.
#[cfg(unix)]
#[test]
fn accept_killed_at_every_write_keeps_each_snapshot_whole_needs_strace() {
    use std::os::unix::process::ExitStatusExt as _;
    if !strace_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace is required in CI (.ci/run installs it)"
        );
        eprintln!(
            "SKIPPED accept_killed_at_every_write_keeps_each_snapshot_whole_needs_strace: strace is not installed"
        );
        return;
    }
    // The expected new snapshots: an undisturbed run on a second copy.
    let reference = scratch_copy();
    rename_every_rule(reference.path());
    let res = run(reference.path(), &["test", "--accept"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stdout));
    let new = files(&reference.path().join("snapshots"));

    let dir = scratch_copy();
    rename_every_rule(dir.path());
    let snapshots = dir.path().join("snapshots");
    let old = files(&snapshots);
    let changed = old
        .iter()
        .filter(|(name, text)| new.get(*name) != Some(text));
    assert!(
        changed.count() >= 3,
        "the change must alter several snapshots"
    );

    let mut killed = 0;
    let mut leftovers = 0;
    for n in 1.. {
        assert!(n < 10_000, "the run never completed");
        // Each run starts from the accepted snapshots.
        std::fs::remove_dir_all(&snapshots).unwrap();
        copy_dir(&project().join("snapshots"), &snapshots);
        assert_eq!(files(&snapshots), old);
        let status = Command::new("strace")
            .args(["-f", "-o", "/dev/null", "-e"])
            .arg(format!("inject=write:signal=KILL:when={n}"))
            .arg(env!("CARGO_BIN_EXE_ruleforge"))
            .arg("-C")
            .arg(dir.path())
            // Quiet: each printed line is a write of its own, and a kill there tells nothing
            // about the snapshot files (it only makes the loop longer).
            .args(["test", "--accept", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        let after = files(&snapshots);
        for (name, bytes) in &after {
            if is_temporary(name) {
                leftovers += 1;
                continue;
            }
            assert!(
                old.get(name) == Some(bytes) || new.get(name) == Some(bytes),
                "killed at write {n}: snapshots/{name} is neither the accepted version nor the new one:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
        let snaps: Vec<&String> = after.keys().filter(|n| !is_temporary(n)).collect();
        assert_eq!(snaps, old.keys().collect::<Vec<_>>(), "killed at write {n}");
        if status.signal() != Some(SIGKILL) {
            // Not killed: the run went through all its writes and accepted everything.
            let snaps: std::collections::BTreeMap<_, _> = after
                .into_iter()
                .filter(|(n, _)| !is_temporary(n))
                .collect();
            assert_eq!(snaps, new, "the completed run (write {n} never came)");
            break;
        }
        killed += 1;
    }
    assert!(
        killed >= 3,
        "strace killed only {killed} runs: fault injection did not work"
    );
    eprintln!("{killed} killed runs, {leftovers} leftover temporaries seen");

    // A temporary left by a kill is no snapshot: planted beside the accepted ones, `test` is green.
    std::fs::write(snapshots.join(".ruleforge-abc123.tmp"), "partial").unwrap();
    let res = run(dir.path(), &["test"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stdout));
}

#[cfg(unix)]
const SIGKILL: i32 = 9;

/// The export replaces its output file as a whole: a symlink planted at `--out` is replaced, its
/// target left alone.
#[cfg(unix)]
#[test]
fn export_replaces_a_symlink_at_out_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious.ndjson");
    std::fs::write(&precious, "keep me\n").unwrap();
    let out = dir.path().join("rules.ndjson");
    std::os::unix::fs::symlink(&precious, &out).unwrap();
    let res = run(&project(), &["export", "--out", out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me\n");
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("\"rule_id\"")
    );
}

/// An export that cannot be written is an I/O error (exit 2), not findings.
#[test]
fn export_write_failure_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing-dir/rules.ndjson");
    let res = run(&project(), &["export", "--out", out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res.stderr));
    assert!(
        text(&res.stderr).contains("rules.ndjson"),
        "{}",
        text(&res.stderr)
    );
}

/// `--report json=DEVICE`: a device is written to, not replaced by a file (as root, a rename
/// used to turn the `/dev/full` node into a regular file and the run passed). A full device
/// is an I/O error, exit 2. The device nodes are made in a temporary folder (`mknod`, root).
#[cfg(target_os = "linux")]
#[test]
fn a_report_to_a_full_device_exits_2_and_the_device_stays_a_device() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = tempfile::tempdir().unwrap();
    let node = |name: &str, minor: &str| {
        let p = dir.path().join(name);
        let made = Command::new("mknod")
            .arg(&p)
            .args(["c", "1", minor])
            .status()
            .is_ok_and(|s| s.success());
        made.then_some(p)
    };
    let Some(full) = node("full", "7") else {
        assert!(std::env::var_os("CI").is_none(), "mknod failed under CI");
        eprintln!("SKIPPED: mknod is not permitted here (not root); this proof did not run");
        return;
    };
    let null = node("null", "3").unwrap();
    let report = format!("json={}", full.display());
    let res = run(&project(), &["lint", "--report", &report]);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res.stderr));
    assert!(
        text(&res.stderr).contains("writing the report"),
        "{}",
        text(&res.stderr)
    );
    let report = format!("json={}", null.display());
    let res = run(&project(), &["lint", "--report", &report]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    for p in [&full, &null] {
        let t = std::fs::symlink_metadata(p).unwrap().file_type();
        assert!(t.is_char_device(), "{} was replaced", p.display());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary left"
    );
}
