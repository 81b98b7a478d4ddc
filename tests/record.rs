//! `ruleforge record`: real process trees traced with ptrace, and strace logs, become Elastic
//! Defend events that the example rules replay. Needs root-free ptrace of own children (always
//! allowed), gzip and tar, and a writable /boot for the kernel-image scenario (a container or CI
//! runner as root); outside CI a missing prerequisite skips with a message, under CI it fails.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{KERNEL_UNPACKING, project, text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn ruleforge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .current_dir(project())
        .args(args)
        .output()
        .expect("run ruleforge")
}

/// A prerequisite is missing: under CI that is a failure, elsewhere the test says why it did
/// not run.
fn missing(what: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and {what}: the recording test cannot run");
    }
    eprintln!("SKIPPED: {what}");
    true
}

/// A gzip file standing in for a kernel image, under a fresh folder in /boot.
fn fake_boot_image() -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = match tempfile::Builder::new()
        .prefix("ruleforge-test-")
        .tempdir_in("/boot")
    {
        Ok(d) => d,
        Err(e) => {
            missing(&format!("/boot is not writable ({e})"));
            return None;
        }
    };
    let raw = dir.path().join("vmlinuz-6.1.0-test");
    std::fs::write(&raw, b"not a kernel, a stand-in for one\n").unwrap();
    let ok = Command::new("gzip")
        .arg("-n")
        .arg(&raw)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        missing("gzip is not installed");
        return None;
    }
    let gz = dir.path().join("vmlinuz-6.1.0-test.gz");
    Some((dir, gz))
}

fn record(out: &Path, command: &[&str]) -> String {
    let mut args = vec![
        "record",
        "--normalize",
        "--out",
        out.to_str().unwrap(),
        "--",
    ];
    args.extend_from_slice(command);
    let res = ruleforge(&args);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    std::fs::read_to_string(out.with_extension("ndjson")).unwrap()
}

fn alerts(rule: &str, events: &Path) -> Vec<serde_json::Value> {
    let res = ruleforge(&["eval", rule, events.to_str().unwrap(), "--format", "json"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    text(&res.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_recorded_gunzip_of_a_boot_image_triggers_the_unpacking_rule_deterministically() {
    let Some((_boot, image)) = fake_boot_image() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let script = format!("gunzip -c {} > /dev/null; true", image.display());
    let out = tmp.path().join("gunzip_boot");
    let first = record(&out, &["sh", "-c", &script]);
    let ndjson = out.with_extension("ndjson");
    let lines: Vec<serde_json::Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // sh, the fork for gunzip, the gunzip script's exec and its gzip re-exec, ends.
    let actions: Vec<&str> = lines
        .iter()
        .map(|e| e["event"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["exec", "fork", "exec", "exec", "end", "end"],
        "{first}"
    );
    let gunzip = &lines[2]["process"];
    assert_eq!(gunzip["name"], "gunzip");
    assert_eq!(gunzip["args"][2], "-c");
    assert_eq!(gunzip["parent"]["name"], "sh");
    assert_eq!(gunzip["pid"], 1001);
    assert_eq!(gunzip["parent"]["pid"], 1000);
    assert_eq!(lines[2]["@timestamp"], "2026-01-01T00:00:00.002000Z");
    assert_eq!(lines[4]["process"]["exit_code"], 0);
    let hits = alerts(KERNEL_UNPACKING, &ndjson);
    assert_eq!(
        hits,
        vec![serde_json::json!({"type": "event", "position": 3})]
    );
    // The manifest stub names the host, the kernel and the command, and is not a valid verdict.
    let stub = std::fs::read_to_string(out.with_extension("toml")).unwrap();
    assert!(stub.contains("verdict = \"TODO\""), "{stub}");
    assert!(
        stub.contains("recorded by ruleforge record (ptrace) on host "),
        "{stub}"
    );
    assert!(stub.contains(&format!("command: sh -c {script}")), "{stub}");
    // Recording the same run again gives the same bytes.
    let again = record(&tmp.path().join("again"), &["sh", "-c", &script]);
    assert_eq!(first, again);
}

#[test]
fn a_recorded_backup_of_a_boot_copy_does_not_alert() {
    let Some((boot, _)) = fake_boot_image() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().display();
    let script = format!(
        "cp -a {} {t}/boot-copy && tar -cf {t}/boot.tar -C {t} boot-copy",
        boot.path().display()
    );
    let out = tmp.path().join("backup");
    let events = record(&out, &["sh", "-c", &script]);
    assert!(events.contains("\"name\":\"tar\""), "{events}");
    assert!(alerts(KERNEL_UNPACKING, &out.with_extension("ndjson")).is_empty());
}

#[test]
fn a_real_strace_log_becomes_the_same_kind_of_recording() {
    if Command::new("strace").arg("-V").output().is_err() {
        missing("strace is not installed (apt-get install strace)");
        return;
    }
    let Some((_boot, image)) = fake_boot_image() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("run.log");
    let script = format!("gunzip -c {} > /dev/null; true", image.display());
    let st = Command::new("strace")
        .args(["-f", "-tt", "-e", "trace=process", "-o"])
        .arg(&log)
        .args(["sh", "-c", &script])
        .status()
        .unwrap();
    assert!(st.success());
    let out = tmp.path().join("from_log");
    let res = ruleforge(&[
        "record",
        "--normalize",
        "--out",
        out.to_str().unwrap(),
        "--from-strace",
        log.to_str().unwrap(),
    ]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let hits = alerts(KERNEL_UNPACKING, &out.with_extension("ndjson"));
    assert_eq!(
        hits.len(),
        1,
        "{}",
        std::fs::read_to_string(out.with_extension("ndjson")).unwrap()
    );
}

#[test]
fn a_log_that_is_not_strace_output_is_an_error_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("bad.log");
    std::fs::write(
        &log,
        "1234 10:00:00.000001 execve(\"/bin/true\", [\"true\"], 0x1) = 0\nnot strace\n",
    )
    .unwrap();
    let out = tmp.path().join("x");
    let res = ruleforge(&[
        "record",
        "--out",
        out.to_str().unwrap(),
        "--from-strace",
        log.to_str().unwrap(),
    ]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        text(&res.stderr).contains("bad.log:2:1: expected"),
        "{}",
        text(&res.stderr)
    );
    assert!(!out.with_extension("ndjson").exists());
}

/// Removes the stand-in kernel's module folder and configuration when the test ends.
struct FakeKernel(String);

impl Drop for FakeKernel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(format!("/lib/modules/{}", self.0));
        let _ = std::fs::remove_file(format!("/boot/config-{}", self.0));
    }
}

#[test]
fn a_recorded_real_mkinitramfs_run_does_not_alert() {
    if Command::new("mkinitramfs").arg("--help").output().is_err() {
        missing("mkinitramfs is not installed (apt-get install initramfs-tools)");
        return;
    }
    // A kernel version that exists only for this run: an empty module tree and a configuration
    // that allows a gzip initramfs.
    let version = format!("6.1.0-ruleforge-{}", std::process::id());
    let fake = FakeKernel(version.clone());
    let modules = format!("/lib/modules/{version}");
    if let Err(e) = std::fs::create_dir_all(&modules)
        .and_then(|()| std::fs::write(format!("{modules}/modules.order"), ""))
        .and_then(|()| std::fs::write(format!("{modules}/modules.builtin"), ""))
        .and_then(|()| {
            std::fs::write(
                format!("/boot/config-{version}"),
                "CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n",
            )
        })
    {
        missing(&format!(
            "cannot create a stand-in kernel under /lib/modules and /boot ({e})"
        ));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("initrd.img");
    let out = tmp.path().join("mkinitramfs");
    let events = record(
        &out,
        &["mkinitramfs", "-o", image.to_str().unwrap(), &version],
    );
    drop(fake);
    let execs: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"]["action"] == "exec")
        .collect();
    assert!(
        execs.len() > 100,
        "a real mkinitramfs runs hundreds of programs: {}",
        execs.len()
    );
    assert_eq!(execs[0]["process"]["name"], "mkinitramfs");
    assert!(
        execs
            .iter()
            .any(|e| e["process"]["parent"]["name"] == "mkinitramfs"),
        "children of mkinitramfs are recorded"
    );
    assert!(
        image.metadata().is_ok_and(|m| m.len() > 0),
        "mkinitramfs wrote no image"
    );
    assert!(alerts(KERNEL_UNPACKING, &out.with_extension("ndjson")).is_empty());
}

#[test]
fn the_committed_mkinitramfs_recording_is_a_real_run_the_unpacking_rule_stays_quiet_on() {
    let events = project().join("fixtures/recorded/mkinitramfs_rebuild.ndjson");
    let manifest =
        std::fs::read_to_string(events.with_extension("toml")).expect("the manifest is committed");
    assert!(manifest.contains("verdict = \"benign\""), "{manifest}");
    assert!(
        manifest.contains("recorded by ruleforge record (ptrace)"),
        "{manifest}"
    );
    let execs: Vec<serde_json::Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"]["action"] == "exec")
        .collect();
    assert_eq!(execs[0]["process"]["name"], "mkinitramfs");
    let first_args = execs[0]["process"]["args"].to_string();
    assert!(
        first_args.contains("\"-o\",\"/boot/initrd.img-"),
        "{first_args}"
    );
    // Normalised: pids count from 1000 and time from 2026-01-01, one millisecond apart.
    assert_eq!(execs[0]["process"]["pid"], 1000);
    assert_eq!(execs[0]["@timestamp"], "2026-01-01T00:00:00.000000Z");
    assert!(
        execs
            .iter()
            .filter(|e| e["process"]["parent"]["name"] == "mkinitramfs")
            .count()
            > 10,
        "mkinitramfs's own children are in the recording"
    );
    assert!(alerts(KERNEL_UNPACKING, &events).is_empty());
}

#[test]
fn a_daemonised_grandchild_is_recorded_until_it_exits() {
    // The command returns at once; its grandchild leaves the session (setsid) after its parent
    // exited, then runs two programs. Recording ends when the last traced process does.
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("daemon-ran");
    let out = tmp.path().join("daemon");
    let script = format!(
        "(setsid sh -c 'sleep 0.2; touch {}' &); exit 0",
        marker.display()
    );
    let events = record(&out, &["sh", "-c", &script]);
    assert!(
        marker.exists(),
        "record returned before the daemon finished"
    );
    let all: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exec_of = |name: &str| {
        all.iter()
            .find(|e| e["event"]["action"] == "exec" && e["process"]["name"] == name)
            .unwrap_or_else(|| panic!("no exec of {name}:\n{events}"))
    };
    let touch = exec_of("touch");
    let root = &all[0];
    assert_ne!(
        touch["process"]["session_leader"]["pid"], root["process"]["session_leader"]["pid"],
        "the daemon runs in its own session"
    );
    // The root's end comes before the daemon's programs: the recorder outlived it.
    let position = |pred: &dyn Fn(&serde_json::Value) -> bool| all.iter().position(pred).unwrap();
    let root_end = position(&|e| {
        e["event"]["action"] == "end" && e["process"]["pid"] == root["process"]["pid"]
    });
    let touch_at = position(&|e| e == touch);
    assert!(root_end < touch_at, "{events}");
    assert!(
        all.iter().any(|e| e["event"]["action"] == "end"
            && e["process"]["name"] == "touch"
            && e["process"]["exit_code"] == 0),
        "{events}"
    );
}
