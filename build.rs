//! Tests that need the shared reference data (`../shared`: the Elastic corpus, Elasticsearch's
//! conformance specs) are marked `#[cfg_attr(shared_absent, ignore = "…")]`, so that on a machine
//! without it `cargo test` lists them as ignored, with the reason, instead of reporting an `ok`
//! that checked nothing.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_absent)");
    println!("cargo::rerun-if-env-changed=RULEFORGE_SHARED");
    let shared = std::env::var_os("RULEFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../shared")
        });
    // Watching the folder's specification file makes Cargo re-run this script when the folder
    // appears or disappears, without scanning the whole folder on every build.
    println!(
        "cargo::rerun-if-changed={}",
        shared.join("SPEC.md").display()
    );
    if !shared.is_dir() {
        println!("cargo::rustc-cfg=shared_absent");
    }
}
