//! The committed `data/attack.tsv` is what `tools/gen_attack_table.rs` produces from `../shared`
//! (regenerate with `RULEFORGE_REGEN=1 cargo test --test attack_table`).

#[path = "../tools/gen_attack_table.rs"]
mod gen_attack_table;

#[path = "common/generated.rs"]
mod generated;

use generated::{assert_committed, shared_dir};

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_attack_table_matches_generator() {
    assert_committed(
        "data/attack.tsv",
        gen_attack_table::generate(&shared_dir()),
        "attack_table",
    );
}

#[test]
fn builtin_attack_table_has_the_matrix() {
    // Independent of ../shared: the embedded table decodes into tactics and techniques.
    let a = ruleforge::lint::attack::Attack::builtin();
    assert_eq!(
        a.tactic_by_name("Discovery").map(|t| t.id.as_str()),
        Some("TA0007")
    );
    let t = a.technique("T1082").expect("T1082");
    assert_eq!(t.name, "System Information Discovery");
    assert!(t.tactics.iter().any(|s| s == "discovery"));
    let old = a.technique("T1066").expect("T1066 is kept as revoked");
    assert_eq!(old.status, "revoked");
    assert!(old.replacement.is_some());
}
