//! Tests that need the shared reference data (`../shared`: the Elastic corpus, Elasticsearch's
//! conformance specs) are marked `#[cfg_attr(shared_absent, ignore = "…")]`, so that on a machine
//! without it `cargo test` lists them as ignored, with the reason, instead of reporting an `ok`
//! that checked nothing.

use std::path::PathBuf;

fn main() {
    chromium();
    published_schemas();
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

/// The headless-browser test of the docs site needs Chromium: without it (and outside CI, where
/// its absence is a failure) the test is listed as ignored, with the reason.
fn chromium() {
    println!("cargo::rustc-check-cfg=cfg(chromium_absent)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=RULEFORGE_CHROMIUM");
    println!("cargo::rerun-if-env-changed=PATH");
    let found = std::env::var_os("RULEFORGE_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")])
                .collect::<Vec<_>>()
        }))
        .find(|p| p.is_file());
    // Installing the browser later changes /usr/bin: watch it so the cfg follows.
    println!("cargo::rerun-if-changed=/usr/bin");
    if found.is_none() && std::env::var_os("CI").is_none() {
        println!("cargo::rustc-cfg=chromium_absent");
    }
}

/// The report schema tests validate against the published SARIF and JUnit schemas, fetched by
/// `.ci/published-schemas.sh` (never committed), JUnit with `xmllint`: without them (and outside
/// CI, where their absence is a failure) those tests are listed as ignored, with the reason.
fn published_schemas() {
    println!("cargo::rustc-check-cfg=cfg(published_schemas_absent)");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join(".ci/published-schemas");
    println!("cargo::rerun-if-changed={}", dir.display());
    let schemas = ["sarif-schema-2.1.0.json", "junit-10.xsd"]
        .iter()
        .all(|f| dir.join(f).is_file());
    let xmllint = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("xmllint").is_file()));
    if !(schemas && xmllint) && std::env::var_os("CI").is_none() {
        println!("cargo::rustc-cfg=published_schemas_absent");
    }
}
