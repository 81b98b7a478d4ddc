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
