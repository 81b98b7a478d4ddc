//! Committed tables generated from `../shared` (by a generator under `tools/`) are checked against
//! the generator's output; `RULEFORGE_REGEN=1` rewrites them instead.

use std::path::{Path, PathBuf};

/// `../shared`, or `RULEFORGE_SHARED` when set.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("RULEFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// Asserts that the committed `rel` (relative to the project) equals `generated`, naming
/// `test_target` in the regeneration hint. With `RULEFORGE_REGEN=1` the file is rewritten and
/// `None` returned; otherwise the generated text, for further checks.
pub fn assert_committed<E: std::fmt::Display>(
    rel: &str,
    generated: Result<String, E>,
    test_target: &str,
) -> Option<String> {
    let generated = generated.unwrap_or_else(|e| panic!("generator failed: {e}"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var("RULEFORGE_REGEN").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write table");
        println!("regenerated {rel} ({} bytes)", generated.len());
        return None;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{rel} differs from the generator output; run RULEFORGE_REGEN=1 cargo test --test {test_target}"
    );
    Some(generated)
}
