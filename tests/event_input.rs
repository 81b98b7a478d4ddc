//! Bounded, well-formed event input: recordings that Elasticsearch would reject, that are not
//! files, or that would not fit in memory are errors the user sees, never a hang or a pass.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::scratch_copy;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ruleforge(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ruleforge"));
    cmd.arg("-C").arg(root).args(args);
    cmd.env_remove("RULEFORGE_MAX_EVENT_BYTES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run ruleforge");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn add_fixture(root: &Path, name: &str, events: &str) {
    std::fs::write(
        root.join(format!("fixtures/{name}.toml")),
        format!(
            "description = \"x\"\nverdict = \"benign\"\nrecorded = \"test\"\nevents = \"{name}.ndjson\"\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join(format!("fixtures/{name}.ndjson")), events).unwrap();
}

fn eval(dir: &Path, events: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    ruleforge(dir, &["eval", "any where true", events], env)
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = eval(dir.path(), "/dev/zero", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("/dev/zero") && stderr.contains("not a regular file (a device)"),
        "{stderr}"
    );
    let fifo = dir.path().join("events.ndjson");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
    );
    let (code, _, stderr) = eval(dir.path(), fifo.to_str().unwrap(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file (a FIFO)"), "{stderr}");
}

#[test]
fn a_file_over_the_byte_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.ndjson");
    let line = "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"process\":{\"name\":\"x\"}}\n";
    std::fs::write(&path, line.repeat(20)).unwrap();
    let p = path.to_str().unwrap();
    let (code, stdout, stderr) = eval(dir.path(), p, &[("RULEFORGE_MAX_EVENT_BYTES", "1000")]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    for part in [
        "1.2 KB would take about 24.4 KB in memory",
        "limit of 1.0 KB",
        "split the recording",
        "RULEFORGE_MAX_EVENT_BYTES",
    ] {
        assert!(stderr.contains(part), "{part:?} in {stderr}");
    }
    let (code, stdout, stderr) = eval(dir.path(), p, &[("RULEFORGE_MAX_EVENT_BYTES", "2000")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = eval(dir.path(), p, &[("RULEFORGE_MAX_EVENT_BYTES", "lots")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a number of bytes"), "{stderr}");
}

#[test]
fn the_limit_bounds_all_recordings_of_a_run_together() {
    let dir = scratch_copy();
    let sizes: Vec<u64> = walk(&dir.path().join("fixtures"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    let largest = *sizes.iter().max().unwrap();
    let total: u64 = sizes.iter().sum();
    assert!(total > largest + 1, "the project has several recordings");
    // Every recording fits alone; not all of them together. Running out of the memory budget
    // is a resource (I/O) error: exit 2.
    let limit = (largest + 1).to_string();
    let (code, stdout, _) = ruleforge(
        dir.path(),
        &["test"],
        &[("RULEFORGE_MAX_EVENT_BYTES", &limit)],
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("error[FX004]") && stdout.contains("already loaded in this run"),
        "{stdout}"
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test"], &[]);
    assert_eq!(code, 0, "{stdout}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn duplicate_keys_and_impossible_timestamps_fail_the_fixture_with_a_location() {
    let dir = scratch_copy();
    let good = "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"process\":{\"name\":\"ls\"}}\n";
    add_fixture(
        dir.path(),
        "dup",
        &format!(
            "{good}{{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"process\":{{\"name\":\"ls\",\"name\":\"gunzip\"}}}}\n"
        ),
    );
    add_fixture(
        dir.path(),
        "feb31",
        &format!("{good}{good}{{\"@timestamp\":\"2026-02-31T00:00:00Z\"}}\n"),
    );
    let (code, stdout, _) = ruleforge(dir.path(), &["test"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[FX006]")
            && stdout.contains("duplicate key \"name\"")
            && stdout.contains("fixtures/dup.ndjson:2:66")
            && !stdout.contains("at line 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"2026-02-31T00:00:00Z\", not a date")
            && stdout.contains("fixtures/feb31.ndjson:3:2"),
        "{stdout}"
    );
}
