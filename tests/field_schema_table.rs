//! The committed `data/field_schema.tsv` is what `tools/gen_field_schema.rs` produces from
//! `../shared` (regenerate with `RULEFORGE_REGEN=1 cargo test --test field_schema_table`).

#[path = "../tools/gen_field_schema.rs"]
mod gen_field_schema;

use std::path::{Path, PathBuf};

fn shared_dir() -> PathBuf {
    std::env::var_os("RULEFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_field_schema_matches_generator() {
    let shared = shared_dir();
    let generated = match gen_field_schema::generate(&shared) {
        Ok(g) => g,
        Err(e) => panic!("generator failed: {e}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/field_schema.tsv");
    if std::env::var("RULEFORGE_REGEN").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write table");
        println!(
            "regenerated data/field_schema.tsv ({} bytes)",
            generated.len()
        );
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "data/field_schema.tsv differs from the generator output; run RULEFORGE_REGEN=1 cargo test --test field_schema_table"
    );
    assert!(
        generated.len() < 4_000_000,
        "data/field_schema.tsv is over 4 MB"
    );
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_integration_only_fields_match_generator() {
    let generated = match gen_field_schema::generate_integration_only(&shared_dir()) {
        Ok(g) => g,
        Err(e) => panic!("generator failed: {e}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/integration_only_fields.tsv");
    if std::env::var("RULEFORGE_REGEN").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write table");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "data/integration_only_fields.tsv differs from the generator output; run RULEFORGE_REGEN=1 cargo test --test field_schema_table"
    );
    assert!(
        generated.len() < 1_000_000,
        "data/integration_only_fields.tsv is over 1 MB"
    );
}

#[test]
fn builtin_field_schema_knows_core_fields() {
    // Independent of ../shared: the embedded table decodes into the names the lint needs.
    let s = ruleforge::lint::schema::FieldSchema::builtin();
    for name in [
        "process.name",
        "process.name.text",
        "event.category",
        "winlog.event_data.TargetUserName",
    ] {
        assert!(
            s.contains(name),
            "{name} missing from the built-in field schema"
        );
    }
    assert!(!s.contains("process.nmae"));
}
