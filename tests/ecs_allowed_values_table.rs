//! The committed `data/ecs_allowed_values.tsv` is what `tools/gen_ecs_allowed_values.rs`
//! produces from `../shared` (regenerate with
//! `RULEFORGE_REGEN=1 cargo test --test ecs_allowed_values_table`).

#[path = "../tools/gen_ecs_allowed_values.rs"]
mod gen_ecs_allowed_values;

#[path = "common/generated.rs"]
mod generated;

use generated::{assert_committed, shared_dir};

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_allowed_values_match_generator() {
    assert_committed(
        "data/ecs_allowed_values.tsv",
        gen_ecs_allowed_values::generate(&shared_dir()),
        "ecs_allowed_values_table",
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
