//! The committed `data/ecs_allowed_values.tsv` is what `tools/gen_ecs_allowed_values.rs`
//! produces from `../shared` (regenerate with
//! `RULEFORGE_REGEN=1 cargo test --test ecs_allowed_values_table`).

#[path = "../tools/gen_ecs_allowed_values.rs"]
mod gen_ecs_allowed_values;

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
fn committed_allowed_values_match_generator() {
    let generated = match gen_ecs_allowed_values::generate(&shared_dir()) {
        Ok(g) => g,
        Err(e) => panic!("generator failed: {e}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ecs_allowed_values.tsv");
    if std::env::var("RULEFORGE_REGEN").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write table");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "data/ecs_allowed_values.tsv differs from the generator output; run RULEFORGE_REGEN=1 cargo test --test ecs_allowed_values_table"
    );
}

#[test]
fn builtin_allowed_values_know_the_categorization_fields() {
    // Independent of ../shared: the embedded table decodes into what the lint needs.
    let v = ruleforge::lint::schema::AllowedValues::builtin();
    for field in gen_ecs_allowed_values::FIELDS {
        assert!(v.restricts(field), "{field} has no allowed values");
    }
    assert!(v.allows("event.category", "process"));
    assert!(v.allows("event.type", "start"));
    assert!(!v.allows("event.type", "started"));
    assert!(!v.restricts("process.name"));
}
