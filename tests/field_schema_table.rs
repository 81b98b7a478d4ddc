//! The committed `data/field_schema.tsv` is what `tools/gen_field_schema.rs` produces from
//! `../shared` (regenerate with `RULEFORGE_REGEN=1 cargo test --test field_schema_table`).

#[path = "../tools/gen_field_schema.rs"]
mod gen_field_schema;

#[path = "common/generated.rs"]
mod generated;

use generated::{assert_committed, shared_dir};

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_field_schema_matches_generator() {
    let Some(generated) = assert_committed(
        "data/field_schema.tsv",
        gen_field_schema::generate(&shared_dir()),
        "field_schema_table",
    ) else {
        return;
    };
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
    let Some(generated) = assert_committed(
        "data/integration_only_fields.tsv",
        gen_field_schema::generate_integration_only(&shared_dir()),
        "field_schema_table",
    ) else {
        return;
    };
    assert!(
        generated.len() < 1_000_000,
        "data/integration_only_fields.tsv is over 1 MB"
    );
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_ecs_field_stacks_match_generator() {
    let Some(generated) = assert_committed(
        "data/ecs_field_stacks.tsv",
        gen_field_schema::generate_ecs_field_stacks(&shared_dir()),
        "field_schema_table",
    ) else {
        return;
    };
    // Every stack line names an ECS version the table lists.
    let versions: Vec<&str> = generated
        .lines()
        .filter_map(|l| l.strip_prefix('+'))
        .collect();
    let stacks: Vec<&str> = generated.lines().filter(|l| l.starts_with('=')).collect();
    assert!(!versions.is_empty() && !stacks.is_empty(), "{generated}");
    for s in stacks {
        let ecs = s.split('\t').nth(1).unwrap_or_default();
        assert!(versions.contains(&ecs), "{s}: ECS {ecs} is not listed");
    }
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

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_integration_field_versions_match_generator() {
    let Some(generated) = assert_committed(
        "data/integration_field_versions.tsv",
        gen_field_schema::generate_integration_field_versions(&shared_dir()),
        "field_schema_table",
    ) else {
        return;
    };
    assert!(
        generated.len() < 1_000_000,
        "data/integration_field_versions.tsv is over 1 MB"
    );
}
