//! Helpers shared by integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the project (present for developers and CI, absent on a user's machine).
/// Tests that need it print why they return early when it is missing.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "../shared is absent: this test needs the shared corpus and did not run its checks"
        );
        None
    }
}

pub fn corpus() -> Option<PathBuf> {
    shared().map(|s| s.join("corpus/elastic-detection-rules"))
}
