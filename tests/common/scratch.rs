//! Temporary copies of the project's rule repository for tests that change or write into it.
//! Included with `#[path]` by the test files that need it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
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
pub fn scratch_copy() -> tempfile::TempDir {
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

pub const KERNEL_UNPACKING: &str = "rules/linux/discovery_kernel_unpacking.toml";

/// Replaces the first `from` in the rule file `rel` with `to`.
pub fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "{rel} no longer contains {from:?}; update this test"
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Runs ruleforge with `-C root`.
pub fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleforge"))
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .expect("run ruleforge")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
